"""Products: Dot (1-d/2-d), TensorDot, MatMul ops and dot, matmul, tensordot, outer, batched_dot.

May import core.graph, core.op, core.type, core.dtypes, core.variable and core.ops.elemwise/math.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops.elemwise import broadcast_static_shape
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

TensorLike = typing.Any  # a tensor variable, or anything as_tensor_variable accepts


def _check_aligned(op_name: str, a: typing.Any, b: typing.Any, pairs: Sequence[tuple[int, int]]):
    """Raise ValueError when statically known contracted lengths differ."""
    for i, j in pairs:
        la, lb = a.type.shape[i], b.type.shape[j]
        if la is not None and lb is not None and la != lb:
            raise ValueError(
                f"{op_name}: shapes {_shape_text(a)} and {_shape_text(b)} are not aligned: "
                f"dim {i} of the first ({la}) != dim {j} of the second ({lb})"
            )


def _shape_text(var: typing.Any) -> str:
    dims = ["?" if d is None else str(d) for d in var.type.shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _transpose(x: typing.Any) -> typing.Any:
    """A matrix's transpose, or a batch of matrices with the last two axes swapped."""
    order = list(range(x.ndim))
    order[-2], order[-1] = order[-1], order[-2]
    return x.dimshuffle(order)


def _as_dtype(g: typing.Any, x: typing.Any) -> typing.Any:
    """The gradient `g` for input `x`: None for discrete inputs, else cast to x's dtype."""
    if not dtypes.is_float(x.dtype):
        return None
    return m.cast(g, x.dtype)


# ------------------------------------------------------------------------------ Dot
class Dot(Op):
    """Inner product of vectors and matrices: vector.vector -> scalar, matrix.vector, vector.matrix,
    matrix.matrix. The BLAS-backed core of every product here.
    """

    __props__ = ()

    def __str__(self) -> str:
        return "dot"

    def make_node(self, a: TensorLike, b: TensorLike) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"dot: Dot takes 1-d or 2-d inputs, got {a.type} and {b.type}")
        _check_aligned("dot", a, b, [(a.ndim - 1, 0)])
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dtypes.upcast(a.dtype, b.dtype), shape)()])

    def numpy_callable(self, node: Apply):
        out_dtype = np.dtype(node.outputs[0].dtype)
        if node.outputs[0].ndim == 0:
            return lambda a, b: np.asarray(np.dot(a, b), dtype=out_dtype)
        return np.dot

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.dot(*inputs), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]

    def grad(self, inputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        if a.ndim == 1 and b.ndim == 1:  # d(a.b) = gz * b, gz * a
            ga, gb = gz * b, gz * a
        elif a.ndim == 2 and b.ndim == 1:  # out_i = sum_k a_ik b_k
            ga, gb = outer(gz, b), dot(_transpose(a), gz)
        elif a.ndim == 1:  # out_j = sum_k a_k b_kj
            ga, gb = dot(b, gz), outer(a, gz)
        else:
            ga, gb = dot(gz, _transpose(b)), dot(_transpose(a), gz)
        return [_as_dtype(ga, a), _as_dtype(gb, b)]

    def R_op(self, inputs, eval_points):
        return bilinear_rop(dot, inputs, eval_points)


def bilinear_rop(product: typing.Callable, inputs: Sequence, eval_points: Sequence) -> list:
    """R_op of a product bilinear in its two inputs: d(a.b) = da.b + a.db."""
    (a, b), (ea, eb) = inputs, eval_points
    terms = [product(ea, b) if ea is not None else None, product(a, eb) if eb is not None else None]
    terms = [t for t in terms if t is not None]
    if not terms:
        return [None]
    return [terms[0] if len(terms) == 1 else m.add(*terms)]


_dot = Dot()


# ------------------------------------------------------------------------------ TensorDot
class TensorDot(Op):
    """Sum of products over paired axes (`numpy.tensordot`); output axes: a's free, then b's free.

    Used where a product does not fit Dot: inputs with more than two dims.
    """

    __props__ = ("axes",)

    def __init__(self, axes: tuple[Sequence[int], Sequence[int]]) -> None:
        self.axes = (tuple(int(i) for i in axes[0]), tuple(int(i) for i in axes[1]))

    def __str__(self) -> str:
        return f"TensorDot{{axes={self.axes}}}"

    def make_node(self, a: TensorLike, b: TensorLike) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        a_axes, b_axes = self.axes
        for var, axes, which in ((a, a_axes, "first"), (b, b_axes, "second")):
            if any(not 0 <= i < var.ndim for i in axes) or len(set(axes)) != len(axes):
                raise ValueError(f"{self}: invalid axes {axes} for the {which} input {var.type}")
        if len(a_axes) != len(b_axes):
            raise ValueError(f"{self}: pairs {len(a_axes)} axes with {len(b_axes)}")
        _check_aligned("tensordot", a, b, list(zip(a_axes, b_axes, strict=True)))
        shape = tuple(d for i, d in enumerate(a.type.shape) if i not in a_axes)
        shape += tuple(d for i, d in enumerate(b.type.shape) if i not in b_axes)
        return Apply(self, [a, b], [TensorType(dtypes.upcast(a.dtype, b.dtype), shape)()])

    def numpy_callable(self, node: Apply):
        axes = [list(self.axes[0]), list(self.axes[1])]
        out_dtype = np.dtype(node.outputs[0].dtype)
        return lambda a, b: np.asarray(np.tensordot(a, b, axes=axes), dtype=out_dtype)

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        (a_axes, b_axes), (sa, sb) = self.axes, input_shapes
        free_a = tuple(d for i, d in enumerate(sa) if i not in a_axes)
        return [free_a + tuple(d for i, d in enumerate(sb) if i not in b_axes)]

    def grad(self, inputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        a_axes, b_axes = self.axes
        a_free = [i for i in range(a.ndim) if i not in a_axes]
        b_free = [i for i in range(b.ndim) if i not in b_axes]
        n_af = len(a_free)
        # ga[a_free, a_axes] = sum_{b_free} gz[a_free, b_free] * b[b_axes, b_free]
        ga = tensordot(gz, b, [list(range(n_af, gz.ndim)), b_free])
        ga_labels = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
        # gb[b_axes, b_free] = sum_{a_free} a[a_free, a_axes] * gz[a_free, b_free]
        gb = tensordot(a, gz, [a_free, list(range(n_af))])
        gb_labels = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
        ga = ga.dimshuffle([ga_labels.index(i) for i in range(a.ndim)])
        gb = gb.dimshuffle([gb_labels.index(j) for j in range(b.ndim)])
        return [_as_dtype(ga, a), _as_dtype(gb, b)]

    def R_op(self, inputs, eval_points):
        return bilinear_rop(self, inputs, eval_points)


# ------------------------------------------------------------------------------ MatMul
class MatMul(Op):
    """Batched matrix product (`numpy.matmul`) of inputs with 3 or more dims and equal ndim.

    Batch axes broadcast only where a type says length 1, as for elementwise ops.
    """

    __props__ = ()

    def make_node(self, a: TensorLike, b: TensorLike) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim != b.ndim or a.ndim < 3:
            raise TypeError(f"MatMul: inputs need the same ndim >= 3, got {a.type} and {b.type}")
        _check_aligned("matmul", a, b, [(a.ndim - 1, b.ndim - 2)])
        dtype = dtypes.upcast(a.dtype, b.dtype)
        batch_types = [TensorType(dtype, v.type.shape[:-2]) for v in (a, b)]
        batch = broadcast_static_shape("matmul", batch_types)
        shape = batch + (a.type.shape[-2], b.type.shape[-1])
        return Apply(self, [a, b], [TensorType(dtype, shape)()])

    def numpy_callable(self, node: Apply):
        a_type, b_type = node.inputs[0].type, node.inputs[1].type
        strict = [i for i in range(a_type.ndim - 2) if 1 not in (a_type.shape[i], b_type.shape[i])]
        out_dtype = np.dtype(node.outputs[0].dtype)

        def matmul_checked(a, b):
            for i in strict:
                if a.shape[i] != b.shape[i]:
                    raise ValueError(
                        f"matmul: batch axis {i} has lengths {a.shape[i]} and {b.shape[i]} "
                        f"(input shapes {a.shape} and {b.shape}); a length-1 batch axis is only "
                        "broadcast when its type is broadcastable"
                    )
            return np.asarray(np.matmul(a, b), dtype=out_dtype)

        return matmul_checked

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        batch = tuple(sb[i] if a.type.shape[i] == 1 else sa[i] for i in range(a.ndim - 2))
        return [batch + (sa[-2], sb[-1])]

    def grad(self, inputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        ga = _sum_batch_broadcast(self(gz, _transpose(b)), a)
        gb = _sum_batch_broadcast(self(_transpose(a), gz), b)
        return [_as_dtype(ga, a), _as_dtype(gb, b)]

    def R_op(self, inputs, eval_points):
        return bilinear_rop(self, inputs, eval_points)


def _sum_batch_broadcast(g: typing.Any, x: typing.Any) -> typing.Any:
    """`g` summed over the batch axes along which `x` was broadcast (kept as length 1)."""
    axes = [i for i in range(x.ndim - 2) if x.type.shape[i] == 1 and g.type.shape[i] != 1]
    return g.sum(axis=axes, keepdims=True) if axes else g


# ------------------------------------------------------------------------------ user functions
def dot(a: TensorLike, b: TensorLike) -> TensorLike:
    """`numpy.dot`: scalars multiply, vectors and matrices use Dot, N-d contracts a's last axis
    with b's second-to-last (its only axis for a vector).

    Examples
    --------
    >>> x, w = dmatrix('x'), dvector('w')
    >>> dot(x, w).eval({x: np.eye(2), w: np.array([1., 2.])})
    array([1., 2.])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return m.mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(0, b.ndim - 2)]])


def _normalize_axes(a: typing.Any, b: typing.Any, axes: typing.Any) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={n} needs inputs of at least {n} dims, got {a.type} and {b.type}"
            )
        return list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
    a_axes, b_axes = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: axes {axes!r} pair {len(a_axes)} axes with {len(b_axes)}")
    for var, ax in ((a, a_axes), (b, b_axes)):
        if any(not -var.ndim <= i < var.ndim for i in ax):
            raise ValueError(f"tensordot: axes {ax} out of range for an input of {var.ndim} dims")
    return [int(i) % a.ndim for i in a_axes], [int(i) % b.ndim for i in b_axes]


def tensordot(a: TensorLike, b: TensorLike, axes: typing.Any = 2) -> TensorLike:
    """`numpy.tensordot`: sum products over `axes` (an int n: a's last n with b's first n; or a
    pair of axis lists). Output axes are a's remaining axes followed by b's.

    Examples
    --------
    >>> tensordot(x3, y3, [[1, 2], [0, 1]])   # (i, j, k) x (j, k, l) -> (i, l)
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    a_axes, b_axes = _normalize_axes(a, b, axes)
    if not a_axes:  # no contraction: the outer product
        left = a.dimshuffle(list(range(a.ndim)) + ["x"] * b.ndim)
        return left * b.dimshuffle(["x"] * a.ndim + list(range(b.ndim)))
    standard = a_axes == [a.ndim - 1] and b_axes == [0]
    if standard and a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return TensorDot((a_axes, b_axes))(a, b)


def matmul(a: TensorLike, b: TensorLike) -> TensorLike:
    """`numpy.matmul` (the `@` operator): matrix products broadcast over leading batch axes;
    a vector operand gets a length-1 axis that is removed from the result.

    Examples
    --------
    >>> (x @ w).eval({x: np.eye(2), w: np.array([1., 2.])})
    array([1., 2.])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: scalar operands are not allowed ({a.type}, {b.type}); use *")
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    a2 = a.dimshuffle("x", 0) if a.ndim == 1 else a
    b2 = b.dimshuffle(0, "x") if b.ndim == 1 else b
    ndim = max(a2.ndim, b2.ndim)
    a2, b2 = (_pad_batch(v, ndim) for v in (a2, b2))
    out = MatMul()(a2, b2)
    drop = {ndim - 2} if a.ndim == 1 else set()
    drop |= {ndim - 1} if b.ndim == 1 else set()
    return out.dimshuffle([i for i in range(ndim) if i not in drop]) if drop else out


def _pad_batch(x: typing.Any, ndim: int) -> typing.Any:
    if x.ndim == ndim:
        return x
    return x.dimshuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))


def outer(x: TensorLike, y: TensorLike) -> TensorLike:
    """`numpy.outer`: out[i, j] = x[i] * y[j], inputs flattened first.

    Examples
    --------
    >>> outer(u, v).eval({u: np.array([1., 2.]), v: np.array([3., 4.])})
    array([[3., 4.],
           [6., 8.]])
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    x = x if x.ndim == 1 else x.flatten()
    y = y if y.ndim == 1 else y.flatten()
    return x.dimshuffle(0, "x") * y.dimshuffle("x", 0)


def batched_dot(a: TensorLike, b: TensorLike) -> TensorLike:
    """dot over a shared first (batch) axis: (B, n, m).(B, m, p) -> (B, n, p), (B, n).(B, n) ->
    (B,), (B, n, m).(B, m) -> (B, n); higher ranks contract a's last axis with b's axis
    max(1, b.ndim - 2), as in Theano.

    Examples
    --------
    >>> batched_dot(xs, ys)     # xs: (B, n, m), ys: (B, m, p)
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: inputs need a batch axis, got {a.type} and {b.type}")
    if a.ndim == 1:
        return a.dimshuffle([0] + ["x"] * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.dimshuffle([0] + ["x"] * (a.ndim - 1))
    k = max(1, b.ndim - 2)
    _check_aligned("batched_dot", a, b, [(0, 0), (a.ndim - 1, k)])
    a_free = list(range(1, a.ndim - 1))
    b_free = [j for j in range(1, b.ndim) if j != k]
    # matmul over rows a_free[-1] and columns b_free[-1]; the other free axes become batch
    # axes where the other operand has a broadcast length-1 axis
    rows, cols = a_free[-1:] or ["x"], b_free[-1:] or ["x"]
    a_pat = [0] + a_free[:-1] + ["x"] * len(b_free[:-1]) + rows + [a.ndim - 1]
    b_pat = [0] + ["x"] * len(a_free[:-1]) + b_free[:-1] + [k] + cols
    out = MatMul()(a.dimshuffle(a_pat), b.dimshuffle(b_pat))
    # out axes: batch, a_free[:-1], b_free[:-1], row, col -> batch, a_free, b_free
    n_a, n_b = len(a_free[:-1]), len(b_free[:-1])
    order = [0] + list(range(1, 1 + n_a))
    row_axis, col_axis = 1 + n_a + n_b, 2 + n_a + n_b
    order += [row_axis] if a_free else []
    order += list(range(1 + n_a, 1 + n_a + n_b)) + ([col_axis] if b_free else [])
    return out.dimshuffle(order)
