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


def _accumulate(out: np.ndarray, base: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out += b * base, in place (out is a fresh product); b == 0 leaves base unread."""
    if b == 1:
        np.add(out, base, out=out)
    elif b:
        out += base * b
    return out


def _mismatch(op: Op, shapes: str) -> ValueError:
    return ValueError(f"{op}: shapes do not match: {shapes}")


# ---------------------------------------------------------------------------- Gemm
class Gemm(Op):
    """Z' = b*Z + a*dot(X, Y) for matrices, one BLAS gemm call; Z itself is never modified.

    Saves the temporaries of dot-then-scale-then-add. As in BLAS, b == 0 means Z is not read.
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
        gemm = _blas("gemm", node.outputs[0].dtype)
        op = self

        def gemm_call(z, a, x, y, b):
            if z.shape != (x.shape[0], y.shape[1]) or x.shape[1] != y.shape[0]:
                raise _mismatch(op, f"z {z.shape}, x {x.shape}, y {y.shape}")
            if z.size == 0 or x.shape[1] == 0:
                return (b * z if b else np.zeros_like(z)) + a * np.dot(x, y)
            if z.flags.f_contiguous:
                c, left, right, transposed = z, x, y, False
            else:  # Z' = b*Z + a*X.Y  <=>  Z'.T = b*Z.T + a*Y.T.X.T, with Z.T Fortran-ordered
                c, left, right, transposed = z.T, y.T, x.T, True
            (lf, lt), (rf, rt) = _fortran(left), _fortran(right)
            out = gemm(a, lf, rf, b, c, trans_a=lt, trans_b=rt, overwrite_c=False)
            return out.T if transposed else out

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
    """y' = b*y + a*dot(A, x) for a matrix A and vectors x, y, one BLAS gemv call.

    Used for updates such as `w - lr * dot(X.T, g)`. As in BLAS, b == 0 means y is not read.
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
        gemv = _blas("gemv", node.outputs[0].dtype)
        op = self

        def gemv_call(y, a, A, x, b):  # noqa: N803
            if y.shape[0] != A.shape[0] or A.shape[1] != x.shape[0]:
                raise _mismatch(op, f"y {y.shape}, A {A.shape}, x {x.shape}")
            if A.size == 0:
                return (b * y if b else np.zeros_like(y)) + a * np.dot(A, x)
            af, trans = _fortran(A)
            return gemv(a, af, x, b, y, trans=trans, overwrite_y=False)

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
    """A' = b*A + a*outer(x, y), one BLAS ger call (b defaults to 1, Theano's 4-input form).

    The rank-1 update of dot's gradient. As in BLAS, b == 0 means A is not read.
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
        ger = _blas("ger", node.outputs[0].dtype)
        op = self

        def ger_call(A, a, x, y, b):  # noqa: N803
            if A.shape != (x.shape[0], y.shape[0]):
                raise _mismatch(op, f"A {A.shape}, x {x.shape}, y {y.shape}")
            scale = float(b)  # a Python float keeps A's dtype (NEP 50)
            base = A * scale if scale else np.zeros_like(A)  # a fresh array ger may overwrite
            if A.size == 0:
                return base
            if base.flags.f_contiguous:
                return ger(a, x, y, a=base, overwrite_a=True)
            return ger(a, y, x, a=base.T, overwrite_a=True).T  # A'.T = A.T + a*outer(y, x)

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
