"""Reductions: Sum, Prod, Max, Min, All, Any (CAReduce), Argmax/Argmin, and mean/var/std.

May import core.graph, core.op, core.type, core.dtypes, core.variable and core.ops.elemwise/math.
"""

from __future__ import annotations

import builtins
import functools
import typing
from collections.abc import Sequence

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops.elemwise import DimShuffle
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

AxisArg = int | Sequence[int] | None
TensorLike = typing.Any  # a tensor variable, or anything as_tensor_variable accepts


def normalize_axis(op_name: str, axis: AxisArg, ndim: int) -> tuple[int, ...] | None:
    """Sorted non-negative axes, or None when every axis is reduced; raises on a bad axis."""
    if axis is None:
        return None
    items = [axis] if isinstance(axis, (int, np.integer)) else axis
    if isinstance(items, np.ndarray) and items.ndim == 1:
        items = items.tolist()
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{op_name}: axis must be None, an int or a sequence of ints, got {axis!r}")
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{op_name}: axis must be None, an int or a sequence of ints, got {axis!r}"
            )
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op_name}: axis {int(a)} is out of range for an input with {ndim} dimensions "
                f"(valid: {-ndim} to {ndim - 1})"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis!r}")
    if len(out) == ndim and ndim > 0:
        return None
    return tuple(sorted(out))


def _reduced(axis: tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else axis


def _keepdims_order(axes: tuple[int, ...], ndim: int) -> tuple[int | str, ...]:
    """The DimShuffle order that puts reduced `axes` back as length 1 (keepdims=True)."""
    order: list[int | str] = []
    kept = 0
    for i in range(ndim):
        if i in axes:
            order.append("x")
        else:
            order.append(kept)
            kept += 1
    return tuple(order)


def _keep_dims(var: typing.Any, axis: tuple[int, ...] | None, ndim: int) -> typing.Any:
    """`var`, a reduction over `axis` of an ndim input, with the reduced axes back as length 1."""
    reduced = _reduced(axis, ndim)
    if not reduced:
        return var
    return DimShuffle(var.ndim, _keepdims_order(reduced, ndim))(var)


def _describe(name: str, parts: list[str]) -> str:
    return f"{name}{{{', '.join(parts)}}}" if parts else name


# ------------------------------------------------------------------------------ ops
class _AxisOp(Op):
    """An op that collapses `axis` (a sorted tuple; None = every axis) of its one input."""

    __props__ = ("axis",)

    def __init__(self, axis: Sequence[int] | None = None) -> None:
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self) -> str:
        return _describe(type(self).__name__, self._shown_props())

    def _shown_props(self) -> list[str]:
        return [f"axis={self.axis}"] if self.axis is not None else []

    def _kept(self, shape: Sequence[typing.Any]) -> tuple:
        reduced = _reduced(self.axis, len(shape))
        return tuple(d for i, d in enumerate(shape) if i not in reduced)

    def _output_type(self, x: typing.Any, dtype: str) -> TensorType:
        if builtins.any(not 0 <= a < x.ndim for a in self.axis or ()):
            raise ValueError(f"{self}: axis {self.axis} out of range for an input of {x.ndim} dims")
        return TensorType(dtype, self._kept(x.type.shape))

    def perform(self, node, inputs, output_storage):
        out = self.numpy_callable(node)(inputs[0])
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._kept(input_shapes[0])]

    def _expand(self, var: typing.Any, ndim: int) -> typing.Any:
        return _keep_dims(var, self.axis, ndim)


class CAReduce(_AxisOp):
    """Reduce over `axis` with a commutative, associative ufunc (Sum, Prod, Max, Min, All, Any).

    keepdims is a DimShuffle of the result, as in Theano, so the op always drops the axes.
    """

    ufunc: np.ufunc = np.add

    def output_dtype(self, input_dtype: str) -> str:
        return input_dtype

    def accumulate_dtype(self, input_dtype: str) -> str | None:
        """The dtype handed to `ufunc.reduce` (None: NumPy's own choice)."""
        return None

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [self._output_type(x, self.output_dtype(x.dtype))()])

    def numpy_callable(self, node: Apply):
        reduce, axis = self.ufunc.reduce, self.axis
        out_dtype = np.dtype(node.outputs[0].dtype)
        acc = self.accumulate_dtype(node.inputs[0].dtype)

        def careduce(x):
            return np.asarray(reduce(x, axis=axis, dtype=acc), dtype=out_dtype)

        return careduce


# Theano's defaults: small ints accumulate in 64 bits, float16 in float32, float32 in float64
# and complex64 in complex128 (the output keeps the input's dtype)
_ACC_DEFAULTS = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64"}
_ACC_DEFAULTS.update({"uint8": "uint64", "uint16": "uint64", "uint32": "uint64"})
_ACC_DEFAULTS.update({"float16": "float32", "float32": "float64", "complex64": "complex128"})


class CAReduceDtype(CAReduce):
    """A CAReduce with an output `dtype` and an accumulator `acc_dtype` (Sum, Prod).

    Defaults follow Theano: small ints output int64 (unsigned: uint64), bool int64; floats keep
    their dtype (float16 accumulates in float32, float32 in float64, complex64 in complex128).
    Defaults are resolved in make_node.
    """

    __props__ = ("axis", "dtype", "acc_dtype")

    def __init__(self, axis=None, dtype: typing.Any = None, acc_dtype: typing.Any = None) -> None:
        super().__init__(axis)
        self.dtype = None if dtype is None else dtypes.canonical_dtype(dtype)
        self.acc_dtype = None if acc_dtype is None else dtypes.canonical_dtype(acc_dtype)

    def _shown_props(self) -> list[str]:
        # Theano's CAReduceDtype names: Sum{axis=[0, 1], acc_dtype=float64}
        axis = [] if self.axis is None else [f"axis=[{', '.join(map(str, self.axis))}]"]
        acc = [f"acc_dtype={self.acc_dtype}"] if self.acc_dtype is not None else []
        return axis + acc

    def output_dtype(self, input_dtype: str) -> str:
        if self.dtype is not None or dtypes.is_float(input_dtype):
            return self.dtype or input_dtype
        return _ACC_DEFAULTS.get(input_dtype, input_dtype)

    def accumulate_dtype(self, input_dtype: str) -> str:
        return self.acc_dtype or _ACC_DEFAULTS.get(input_dtype, input_dtype)

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        if self.dtype is None or self.acc_dtype is None:
            # one op per resolved (dtype, acc_dtype), so equal computations merge
            resolved = type(self)(
                self.axis, self.output_dtype(x.dtype), self.accumulate_dtype(x.dtype)
            )
            return resolved.make_node(x)
        acc_ok = self.acc_dtype == dtypes.upcast(x.dtype, self.acc_dtype) or (
            dtypes.is_integer(x.dtype) and self.acc_dtype in dtypes.CONTINUOUS_DTYPES
        )
        if not acc_ok:
            raise TypeError(
                f"Cannot build {type(self).__name__} node with input dtype {x.dtype} and acc_dtype "
                f"{self.acc_dtype}, as precision would be lost; give a wider acc_dtype or cast "
                "the input first"
            )
        return super().make_node(x)


class Sum(CAReduceDtype):
    """Sum over axes; the gradient broadcasts the output gradient back over the reduced axes."""

    ufunc = np.add

    def grad(self, inputs, output_grads):
        (x,) = inputs
        if not dtypes.is_float(x.dtype):
            return [None]
        # d(sum x)/dx_i = 1: every element receives the gradient of its group
        return [m.cast(m.second(x, self._expand(output_grads[0], x.ndim)), x.dtype)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


class Prod(CAReduceDtype):
    """Product over axes; the gradient is exact with zeros in the input, as in Theano."""

    ufunc = np.multiply

    def grad(self, inputs, output_grads):
        (x,) = inputs
        if not dtypes.is_float(x.dtype):
            return [None]
        gz = self._expand(output_grads[0], x.ndim)
        is_zero = m.eq(x, 0)
        n_zeros = self._expand(Sum(self.axis, "int64", "int64")(is_zero), x.ndim)
        # no zero in the group: d(prod)/dx_i = prod / x_i
        safe_x = m.switch(is_zero, constant(1, dtype=x.dtype), x)
        no_zero_grad = gz * self._expand(self(x), x.ndim) / safe_x
        # exactly one zero: only that element has a gradient, the product of the others
        others = self._expand(ProdWithoutZeros(self.axis, self.dtype, self.acc_dtype)(x), x.ndim)
        one_zero_grad = m.switch(m.and_(is_zero, m.eq(n_zeros, 1)), gz * others, 0)
        return [m.cast(m.switch(m.eq(n_zeros, 0), no_zero_grad, one_zero_grad), x.dtype)]

    def R_op(self, inputs, eval_points):
        (x,), (v,) = inputs, eval_points
        if v is None or not dtypes.is_float(x.dtype):
            return [None]
        # each x_i feeds one product: d(prod) = sum_i v_i d(prod)/dx_i (exact with zeros)
        (partials,) = self.grad([x], [m.ones_like(self(x))])
        return [m.cast(Sum(self.axis)(v * partials), self(x).dtype)]


class ProdWithoutZeros(CAReduceDtype):
    """Product of the non-zero elements (used by Prod's gradient)."""

    def numpy_callable(self, node: Apply):
        prod = Prod(self.axis, self.dtype, self.acc_dtype).numpy_callable(node)

        def prod_without_zeros(x):
            return prod(np.where(x == 0, np.ones((), x.dtype), x))

        return prod_without_zeros

    def grad(self, inputs, output_grads):
        raise NotImplementedError("the gradient of ProdWithoutZeros (second derivative of prod)")


class Max(CAReduce):
    """Maximum over axes; the gradient goes to every element equal to the maximum."""

    ufunc = np.maximum

    def grad(self, inputs, output_grads):
        return _extremum_grad(self, inputs[0], output_grads[0])

    def R_op(self, inputs, eval_points):
        return _extremum_rop(self, inputs[0], eval_points[0])


class Min(CAReduce):
    """Minimum over axes; the gradient goes to every element equal to the minimum."""

    ufunc = np.minimum

    def grad(self, inputs, output_grads):
        return _extremum_grad(self, inputs[0], output_grads[0])

    def R_op(self, inputs, eval_points):
        return _extremum_rop(self, inputs[0], eval_points[0])


def _extremum_grad(op: CAReduce, x: typing.Any, gz: typing.Any) -> list:
    if not dtypes.is_float(x.dtype):
        return [None]
    # d(max x)/dx_i = [x_i == max x] (Theano's rule: ties all receive the gradient)
    picked = m.eq(x, op._expand(op(x), x.ndim))
    return [m.cast(op._expand(gz, x.ndim) * picked, x.dtype)]


def _extremum_rop(op: CAReduce, x: typing.Any, v: typing.Any) -> list:
    if v is None or not dtypes.is_float(x.dtype):
        return [None]
    # d(max x) = v at the maximum (summed over ties: the transpose of the gradient above)
    picked = m.eq(x, op._expand(op(x), x.ndim))
    return [m.cast(Sum(op.axis)(v * picked), x.dtype)]


class _Discrete:
    """Mixin: the output does not depend differentiably on the input."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def grad(self, inputs, output_grads):
        return [None]


class _LogicalReduce(_Discrete, CAReduce):
    """A reduction with a bool result."""

    def output_dtype(self, input_dtype: str) -> str:
        return "bool"

    def accumulate_dtype(self, input_dtype: str) -> str:
        return "bool"


class All(_LogicalReduce):
    """Whether every element along the axes is true (non-zero); bool."""

    ufunc = np.logical_and


class Any(_LogicalReduce):
    """Whether some element along the axes is true (non-zero); bool."""

    ufunc = np.logical_or


class Argmax(_Discrete, _AxisOp):
    """Index (int64) of the maximum over `axis`; None indexes the flattened input.

    Several axes are searched together, as if they were flattened into one (C order).
    """

    search = staticmethod(np.argmax)

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [self._output_type(x, "int64")()])

    def numpy_callable(self, node: Apply):
        return self.index

    def index(self, x: np.ndarray) -> np.ndarray:
        """The int64 index array of `x`'s extreme over `axis` (several axes as if flattened)."""
        axis = self.axis
        if axis is None or len(axis) == 1:
            single = None if axis is None else axis[0]
            return np.asarray(self.search(x, axis=single), dtype=np.int64)
        kept = tuple(i for i in range(x.ndim) if i not in axis)
        moved = x.transpose(kept + axis)
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        return np.asarray(self.search(flat, axis=-1), dtype=np.int64)


class MaxAndArgmax(_AxisOp):
    """Theano's pair op: the maximum over `axis` and its int64 index, from one node.

    The index follows Argmax (several axes searched as if flattened); the gradient flows
    through the maximum only, to every element equal to it (Theano's rule), none through
    the index.
    """

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        outputs = [self._output_type(x, x.dtype)(), self._output_type(x, "int64")()]
        return Apply(self, [x], outputs)

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        output_storage[0][0] = np.asarray(np.max(x, axis=self.axis), dtype=x.dtype)
        output_storage[1][0] = self._argmax.index(x)

    @functools.cached_property
    def _argmax(self) -> Argmax:
        """The Argmax that perform's index comes from, built once per op."""
        return Argmax(self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        kept = self._kept(input_shapes[0])
        return [kept, kept]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, False]]

    def grad(self, inputs, output_grads):
        return _extremum_grad(Max(self.axis), inputs[0], output_grads[0])

    def R_op(self, inputs, eval_points):
        return [*_extremum_rop(Max(self.axis), inputs[0], eval_points[0]), None]


class Argmin(Argmax):
    """Index (int64) of the minimum over `axis`; None indexes the flattened input."""

    search = staticmethod(np.argmin)


class ReductionSize(_Discrete, _AxisOp):
    """How many elements a reduction over `axis` combines (int64 scalar), read from the shape.

    Lets mean and var divide by a symbolic count when the static shape is unknown.
    """

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        self._output_type(x, "int64")
        return Apply(self, [x], [TensorType("int64", ())()])

    def numpy_callable(self, node: Apply):
        reduced = _reduced(self.axis, node.inputs[0].ndim)

        def size(x):
            n = 1
            for a in reduced:
                n *= x.shape[a]
            return np.asarray(n, dtype=np.int64)

        return size

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]


def _count(x: typing.Any, axis: tuple[int, ...] | None, dtype: str) -> typing.Any:
    """How many elements each group of a reduction holds, as a `dtype` scalar."""
    lengths = [x.type.shape[a] for a in _reduced(axis, x.ndim)]
    if None not in lengths:
        return constant(int(np.prod(lengths, dtype=np.int64)), dtype=dtype)
    return m.cast(ReductionSize(axis)(x), dtype)


# ------------------------------------------------------------------------------ user functions
def _reduce(name: str, make_op: typing.Any, x: TensorLike, axis: AxisArg, keepdims: bool):
    x = as_tensor_variable(x)
    ax = normalize_axis(name, axis, x.ndim)
    out = make_op(ax)(x)
    return _keep_dims(out, ax, x.ndim) if keepdims else out


def sum(  # noqa: A001 - Theano's name
    x: TensorLike,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> TensorLike:
    """Sum over `axis` (None: all; negative and tuples allowed), Theano's dtypes (int32 -> int64).

    The workhorse of costs and gradients.

    Examples
    --------
    >>> x = dmatrix('x')
    >>> sum(x, axis=0).eval({x: np.ones((2, 3))})
    array([2., 2., 2.])
    """
    return _reduce("sum", lambda ax: Sum(ax, dtype, acc_dtype), x, axis, keepdims)


def prod(
    x: TensorLike,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> TensorLike:
    """Product over `axis`; its gradient is exact even with zeros in the input.

    Examples
    --------
    >>> prod(x, axis=1).eval({x: np.array([[1., 2.], [3., 4.]])})
    array([ 2., 12.])
    """
    return _reduce("prod", lambda ax: Prod(ax, dtype, acc_dtype), x, axis, keepdims)


def mean(
    x: TensorLike,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> TensorLike:
    """Mean over `axis`: sum / count (ints give float64, float32 stays float32).

    Built from sum and a division, so its gradient comes from theirs.

    Examples
    --------
    >>> mean(x, axis=0).eval({x: np.array([[1., 2.], [3., 4.]])})
    array([2., 3.])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("mean", axis, x.ndim)
    sum_dtype = dtype if dtype is not None else ("float32" if x.dtype == "float16" else None)
    total = sum(x, ax, dtype=sum_dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    small = total.dtype in ("float16", "float32", "complex64")
    out = m.true_div(total, _count(x, ax, "float32" if small else "float64"))
    final = dtype if dtype is not None else ("float16" if x.dtype == "float16" else None)
    return m.cast(out, final) if final is not None else out


def var(
    x: TensorLike,
    axis: AxisArg = None,
    ddof: int = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> TensorLike:
    """Variance over `axis`: sum((x - mean(x))**2) / (n - ddof).

    `corrected=True` subtracts the error term of the corrected two-pass algorithm.

    Examples
    --------
    >>> var(x, ddof=1).eval({x: np.array([[1., 2.], [3., 4.]])})
    array(1.66666667)
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("var", axis, x.ndim)
    centered = x - mean(x, ax, keepdims=True)
    if ddof == 0:
        v = mean(m.sqr(centered), ax, keepdims=keepdims)
    else:
        v = sum(m.sqr(centered), ax, keepdims=keepdims) / (_count(x, ax, centered.dtype) - ddof)
    if corrected:
        n = _count(x, ax, centered.dtype)
        v = v - m.sqr(sum(centered, ax, keepdims=keepdims)) / (n * (n - ddof))
    return v


def std(
    x: TensorLike,
    axis: AxisArg = None,
    ddof: int = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> TensorLike:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof, keepdims, corrected)).

    Examples
    --------
    >>> std(x).eval({x: np.array([[1., 2.], [3., 4.]])})
    array(1.11803399)
    """
    return m.sqrt(var(x, axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


def max(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:  # noqa: A001
    """Maximum over `axis`, in the input's dtype; the gradient goes to the maximal elements.

    Examples
    --------
    >>> max(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([5., 4.])
    """
    return _reduce("max", Max, x, axis, keepdims)


def min(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:  # noqa: A001
    """Minimum over `axis`, in the input's dtype; the gradient goes to the minimal elements.

    Examples
    --------
    >>> min(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([1., 3.])
    """
    return _reduce("min", Min, x, axis, keepdims)


def _arg_reduce(name: str, op_class: type, x: TensorLike, axis: AxisArg, keepdims: bool):
    if axis is not None and not isinstance(axis, (int, np.integer)) and len(axis) == 0:
        raise ValueError(f"{name}: axis must name at least one axis, got {axis!r}")
    return _reduce(name, op_class, x, axis, keepdims)


def argmax(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:
    """Index (int64) of the maximum over `axis`; None indexes the flattened input.

    Examples
    --------
    >>> argmax(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([1, 1])
    """
    return _arg_reduce("argmax", Argmax, x, axis, keepdims)


def argmin(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:
    """Index (int64) of the minimum over `axis`; None indexes the flattened input.

    Examples
    --------
    >>> argmin(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([0, 0])
    """
    return _arg_reduce("argmin", Argmin, x, axis, keepdims)


def max_and_argmax(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> list:
    """[max(x, axis), argmax(x, axis)], Theano's pair.

    Examples
    --------
    >>> top, where = max_and_argmax(x, axis=0)
    """
    x = as_tensor_variable(x)
    if axis is not None and not isinstance(axis, (int, np.integer)) and len(axis) == 0:
        raise ValueError(f"max_and_argmax: axis must name at least one axis, got {axis!r}")
    axes = normalize_axis("max_and_argmax", axis, x.ndim)
    op = MaxAndArgmax(axes)
    top, where = op(x)
    if keepdims:
        return [op._expand(top, x.ndim), op._expand(where, x.ndim)]
    return [top, where]


def all(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:  # noqa: A001
    """Whether every element over `axis` is non-zero (bool).

    Examples
    --------
    >>> all(x, axis=0).eval({x: np.array([[1., 0.], [3., 4.]])})
    array([ True, False])
    """
    return _reduce("all", All, x, axis, keepdims)


def any(x: TensorLike, axis: AxisArg = None, keepdims: bool = False) -> TensorLike:  # noqa: A001
    """Whether some element over `axis` is non-zero (bool).

    Examples
    --------
    >>> any(x, axis=0).eval({x: np.array([[1., 0.], [3., 0.]])})
    array([ True, False])
    """
    return _reduce("any", Any, x, axis, keepdims)
