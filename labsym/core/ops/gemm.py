"""BLAS-style fused products: Gemm (b*Z + a*dot(X, Y)), Gemv (b*y + a*dot(A, x)), Ger (outer).

The specialize phase builds them from dot-and-elemwise graphs. May import core.graph, core.op,
core.type, core.dtypes, core.variable, core.ops.math/blas.
"""

from __future__ import annotations

import typing

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot, outer
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

TensorLike = typing.Any  # a tensor variable, or anything as_tensor_variable accepts
BLAS_DTYPES = ("float32", "float64")


# ---------------------------------------------------------------------------- input checks
def _operands(op: Op, names: tuple, values: tuple, ndims: tuple) -> list:
    """The tensor operands, checked: one BLAS dtype and the expected number of dims each."""
    tensors = [as_tensor_variable(v) for v in values]
    for name, var, ndim in zip(names, tensors, ndims, strict=True):
        if var.ndim != ndim:
            raise TypeError(f"{op}: {name} must have {ndim} dims, got {var} ({var.type})")
    dtype = tensors[0].dtype
    if dtype not in BLAS_DTYPES or any(v.dtype != dtype for v in tensors):
        shown = ", ".join(f"{n}: {v.dtype}" for n, v in zip(names, tensors, strict=True))
        raise TypeError(
            f"{op}: operands must all be float32 or all float64 ({shown}); other dtypes stay "
            "dot and elementwise ops"
        )
    return tensors


def _scalar(op: Op, name: str, value: TensorLike, dtype: str) -> typing.Any:
    """A scale factor as a 0-d tensor of `dtype` (Python numbers adapt; others cast safely)."""
    var = as_tensor_variable(value)
    if getattr(var, "weak", False):
        return constant(var.data.item(), dtype=dtype)
    if var.ndim != 0:
        raise TypeError(f"{op}: {name} must be a scalar (0 dims), got {var} ({var.type})")
    if var.dtype != dtype and not dtypes.can_cast_safely(var.dtype, dtype):
        raise TypeError(f"{op}: {name} has dtype {var.dtype}, which {dtype} cannot hold exactly")
    return m.cast(var, dtype)


def _join_lengths(op: Op, what: str, *lengths: int | None) -> int | None:
    """The static length several operands must share, or None; raises when they disagree."""
    known = {n for n in lengths if n is not None}
    if len(known) > 1:
        raise ValueError(f"{op}: {what} have different static lengths {sorted(known)}")
    return known.pop() if known else None


def _scale_accumulate(out: np.ndarray, a: float, base: np.ndarray, b: float) -> np.ndarray:
    """b*base + a*out, computed in place in `out` (a fresh product); b == 0 leaves base unread.

    Scales arrive as Python floats: comparing them is cheap and they keep out's dtype (NEP 50).
    """
    if a != 1:
        np.multiply(out, a, out=out)
    if b == 1:
        np.add(out, base, out=out)
    elif b:
        out += base * b
    return out


def _mismatch(op: Op, shapes: str) -> ValueError:
    return ValueError(f"{op}: shapes do not match: {shapes}")


# ---------------------------------------------------------------------------- Gemm
class Gemm(Op):
    """Z' = b*Z + a*dot(X, Y) for matrices; Z itself is never modified.

    One node instead of dot, scale and add, and fewer temporaries: NumPy's BLAS writes the product
    into the result, which is then scaled and accumulated in place. As in BLAS, b == 0 means Z
    is not read.
    """

    __props__ = ()

    def __str__(self) -> str:
        return "Gemm{no_inplace}"

    def make_node(
        self, z: TensorLike, a: TensorLike, x: TensorLike, y: TensorLike, b: TensorLike
    ) -> Apply:
        z, x, y = _operands(self, ("z", "x", "y"), (z, x, y), (2, 2, 2))
        a, b = _scalar(self, "a", a, z.dtype), _scalar(self, "b", b, z.dtype)
        (zr, zc), (xr, xc), (yr, yc) = z.type.shape, x.type.shape, y.type.shape
        _join_lengths(self, "x's columns and y's rows", xc, yr)
        shape = (
            _join_lengths(self, "z's and x's rows", zr, xr),
            _join_lengths(self, "z's and y's columns", zc, yc),
        )
        return Apply(self, [z, a, x, y, b], [TensorType(z.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        op, dot_ = self, np.dot

        def gemm_call(z, a, x, y, b):
            out = dot_(x, y)  # a fresh array, so scaling and accumulating happen in place
            if out.shape != z.shape:
                raise _mismatch(op, f"z {z.shape}, x {x.shape}, y {y.shape}")
            return _scale_accumulate(out, float(a), z, float(b))

        return gemm_call

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, inputs, output_grads):
        z, a, x, y, b = inputs
        (g,) = output_grads
        # d/dz = b g; d/da = <g, x.y>; d/dx = a g.y^T; d/dy = a x^T.g; d/db = <g, z>
        return [
            g * b,
            (g * dot(x, y)).sum(),
            dot(g, y.T) * a,
            dot(x.T, g) * a,
            (g * z).sum(),
        ]


# ---------------------------------------------------------------------------- Gemv
class Gemv(Op):
    """y' = b*y + a*dot(A, x) for a matrix A and vectors x, y (computed as Gemm is).

    One node for updates such as `w - lr * dot(X.T, g)`. As in BLAS, b == 0 means y is not read.
    """

    __props__ = ()

    def __str__(self) -> str:
        return "Gemv{no_inplace}"

    def make_node(  # noqa: N803 - BLAS's names
        self, y: TensorLike, a: TensorLike, A: TensorLike, x: TensorLike, b: TensorLike
    ) -> Apply:
        y, A, x = _operands(self, ("y", "A", "x"), (y, A, x), (1, 2, 1))
        a, b = _scalar(self, "a", a, y.dtype), _scalar(self, "b", b, y.dtype)
        _join_lengths(self, "A's columns and x", A.type.shape[1], x.type.shape[0])
        length = _join_lengths(self, "y and A's rows", y.type.shape[0], A.type.shape[0])
        return Apply(self, [y, a, A, x, b], [TensorType(y.dtype, (length,))()])

    def numpy_callable(self, node: Apply):
        op, dot_ = self, np.dot

        def gemv_call(y, a, A, x, b):  # noqa: N803
            out = dot_(A, x)
            if out.shape != y.shape:
                raise _mismatch(op, f"y {y.shape}, A {A.shape}, x {x.shape}")
            return _scale_accumulate(out, float(a), y, float(b))

        return gemv_call

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, inputs, output_grads):
        y, a, A, x, b = inputs  # noqa: N806
        (g,) = output_grads
        # d/dy = b g; d/da = <g, A.x>; d/dA = a outer(g, x); d/dx = a A^T.g; d/db = <g, y>
        return [g * b, dot(g, dot(A, x)), outer(g, x) * a, dot(A.T, g) * a, dot(g, y)]


# ---------------------------------------------------------------------------- Ger
class Ger(Op):
    """A' = b*A + a*outer(x, y), the rank-1 update of dot's gradient (b defaults to 1, Theano's
    4-input form). The outer product is written once and A accumulated into it in place; as in
    BLAS, b == 0 means A is not read.
    """

    __props__ = ()

    def __str__(self) -> str:
        return "Ger{non-destructive}"

    def make_node(  # noqa: N803 - BLAS's names
        self, A: TensorLike, a: TensorLike, x: TensorLike, y: TensorLike, b: TensorLike = 1.0
    ) -> Apply:
        A, x, y = _operands(self, ("A", "x", "y"), (A, x, y), (2, 1, 1))  # noqa: N806
        a, b = _scalar(self, "a", a, A.dtype), _scalar(self, "b", b, A.dtype)
        shape = (
            _join_lengths(self, "A's rows and x", A.type.shape[0], x.type.shape[0]),
            _join_lengths(self, "A's columns and y", A.type.shape[1], y.type.shape[0]),
        )
        return Apply(self, [A, a, x, y, b], [TensorType(A.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        op, outer_ = self, np.multiply.outer

        def ger_call(A, a, x, y, b):  # noqa: N803
            scale = float(a)
            out = outer_(x * scale if scale != 1 else x, y)  # scaling x costs less than out
            if out.shape != A.shape:
                raise _mismatch(op, f"A {A.shape}, x {x.shape}, y {y.shape}")
            return _scale_accumulate(out, 1.0, A, float(b))

        return ger_call

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, inputs, output_grads):
        A, a, x, y, b = inputs  # noqa: N806
        (g,) = output_grads
        # d/dA = b g; d/da = x^T.g.y; d/dx = a g.y; d/dy = a g^T.x; d/db = <g, A>
        return [g * b, dot(x, dot(g, y)), dot(g, y) * a, dot(x, g) * a, (g * A).sum()]


gemm_no_inplace = Gemm()
gemv_no_inplace = Gemv()
ger = Ger()
