"""Reductions: Sum, Prod, Max, Min, All, Any (CAReduce), Argmax/Argmin, and mean/var/std.

May import core.graph, core.op, core.type, core.dtypes, core.variable, core.autodiff and
core.ops.elemwise/math.
"""

from __future__ import annotations

import builtins
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


def normalize_axis(op_name: str, axis: AxisArg, ndim: int) -> tuple[int, ...] | None:
    """Sorted non-negative axes, or None when every axis is reduced; raises on a bad axis."""
    if axis is None:
        return None
    items = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
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


def _keep_dims(var: typing.Any, axis: tuple[int, ...] | None, ndim: int) -> typing.Any:
    """`var` (a reduction over `axis` of an ndim input) with the reduced axes put back as length 1."""
    reduced = _reduced(axis, ndim)
    if not reduced:
        return var
    order: list[int | str] = []
    kept = 0
    for i in range(ndim):
        if i in reduced:
            order.append("x")
        else:
            order.append(kept)
            kept += 1
    return DimShuffle(var.ndim, order)(var)


def _describe(name: str, parts: list[str]) -> str:
    return f"{name}{{{', '.join(parts)}}}" if parts else name


# ------------------------------------------------------------------------------ CAReduce
class CAReduce(Op):
    """Reduce over `axis` (sorted tuple; None = every axis) with a commutative, associative ufunc.

    Subclasses pick the ufunc, the output dtype and the gradient; keepdims is a DimShuffle
    of the result, as in Theano, so the op itself always drops the reduced axes.
    """

    __props__ = ("axis",)
    ufunc: np.ufunc = np.add

    def __init__(self, axis: Sequence[int] | None = None) -> None:
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self) -> str:
        return _describe(
            type(self).__name__, [f"axis={self.axis}"] if self.axis is not None else []
        )

    def output_dtype(self, input_dtype: str) -> str:
        return input_dtype

    def accumulate_dtype(self, input_dtype: str) -> str | None:
        """The dtype handed to `ufunc.reduce` (None: NumPy's own choice)."""
        return None

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        if self.axis is not None:
            bad = [a for a in self.axis if not 0 <= a < x.ndim]
            if bad:
                raise ValueError(
                    f"{self}: axis {bad[0]} is out of range for an input with {x.ndim} dimensions"
                )
        reduced = _reduced(self.axis, x.ndim)
        shape = tuple(d for i, d in enumerate(x.type.shape) if i not in reduced)
        return Apply(self, [x], [TensorType(self.output_dtype(x.dtype), shape)()])

    def numpy_callable(self, node: Apply):
        reduce = self.ufunc.reduce
        axis = self.axis
        out_dtype = np.dtype(node.outputs[0].dtype)
        acc = self.accumulate_dtype(node.inputs[0].dtype)
        to_array = node.outputs[0].ndim == 0
        if acc is not None and np.dtype(acc) != out_dtype:

            def reduce_cast(x):
                return np.asarray(reduce(x, axis=axis, dtype=acc)).astype(out_dtype)

            return reduce_cast
        if acc is not None:

            def reduce_in(x):
                out = reduce(x, axis=axis, dtype=acc)
                return np.asarray(out) if to_array else out

            return reduce_in

        def reduce_plain(x):
            out = reduce(x, axis=axis)
            return np.asarray(out) if to_array else out

        return reduce_plain

    def perform(self, node, inputs, output_storage):
        out = self.numpy_callable(node)(inputs[0])
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        reduced = _reduced(self.axis, node.inputs[0].ndim)
        return [tuple(d for i, d in enumerate(input_shapes[0]) if i not in reduced)]

    def _expand(self, var: typing.Any, ndim: int) -> typing.Any:
        return _keep_dims(var, self.axis, ndim)


_ACC_DEFAULTS = {
    "bool": "int64",
    "int8": "int64",
    "int16": "int64",
    "int32": "int64",
    "uint8": "uint64",
    "uint16": "uint64",
    "uint32": "uint64",
    "float16": "float32",
}


class CAReduceDtype(CAReduce):
    """A CAReduce with an output `dtype` and an accumulator `acc_dtype` (Sum, Prod).

    Defaults follow Theano: small ints accumulate and output in int64 (unsigned in uint64),
    bool in int64; floats keep their dtype (float16 accumulates in float32).
    """

    __props__ = ("axis", "dtype", "acc_dtype")

    def __init__(self, axis=None, dtype: typing.Any = None, acc_dtype: typing.Any = None) -> None:
        super().__init__(axis)
        self.dtype = None if dtype is None else dtypes.canonical_dtype(dtype)
        self.acc_dtype = None if acc_dtype is None else dtypes.canonical_dtype(acc_dtype)

    def __str__(self) -> str:
        parts = [f"axis={self.axis}"] if self.axis is not None else []
        if self.acc_dtype is not None:
            parts.append(f"acc_dtype={self.acc_dtype}")
        return _describe(type(self).__name__, parts)

    def output_dtype(self, input_dtype: str) -> str:
        if self.dtype is not None:
            return self.dtype
        return (
            input_dtype
            if dtypes.is_float(input_dtype)
            else _ACC_DEFAULTS.get(input_dtype, input_dtype)
        )

    def accumulate_dtype(self, input_dtype: str) -> str:
        return self.acc_dtype or self._default_acc(input_dtype)

    def _default_acc(self, input_dtype: str) -> str:
        return _ACC_DEFAULTS.get(input_dtype, input_dtype)

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        if self.dtype is None or self.acc_dtype is None:
            # resolve the defaults for this input, so equal computations have equal ops
            out_dtype = self.dtype or self.output_dtype(x.dtype)
            acc = self.acc_dtype or self._default_acc(x.dtype)
            return type(self)(self.axis, out_dtype, acc).make_node(x)
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
        (gz,) = output_grads
        if not dtypes.is_float(x.dtype):
            return [None]
        # d(sum x)/dx_i = 1: every element receives the gradient of its group
        g = m.second(x, self._expand(gz, x.ndim))
        return [m.cast(g, x.dtype)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


class Prod(CAReduceDtype):
    """Product over axes; the gradient handles zeros in the input as Theano does."""

    ufunc = np.multiply

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if not dtypes.is_float(x.dtype):
            return [None]
        gz_full = self._expand(gz, x.ndim)
        is_zero = m.eq(x, 0)
        n_zeros = self._expand(Sum(self.axis, "int64", "int64")(is_zero), x.ndim)
        # no zero in the group: d(prod)/dx_i = prod / x_i
        safe_x = m.switch(is_zero, constant(1, dtype=x.dtype), x)
        no_zero_grad = gz_full * self._expand(self(x), x.ndim) / safe_x
        # exactly one zero: only that element has a gradient, the product of the others
        others = self._expand(ProdWithoutZeros(self.axis, self.dtype, self.acc_dtype)(x), x.ndim)
        one_zero_grad = m.switch(m.and_(is_zero, m.eq(n_zeros, 1)), gz_full * others, 0)
        g = m.switch(m.eq(n_zeros, 0), no_zero_grad, one_zero_grad)
        return [m.cast(g, x.dtype)]


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
        return _extremum_grad(self, inputs, output_grads)


class Min(CAReduce):
    """Minimum over axes; the gradient goes to every element equal to the minimum."""

    ufunc = np.minimum

    def grad(self, inputs, output_grads):
        return _extremum_grad(self, inputs, output_grads)


def _extremum_grad(op: CAReduce, inputs, output_grads) -> list:
    (x,) = inputs
    (gz,) = output_grads
    if not dtypes.is_float(x.dtype):
        return [None]
    # d(max x)/dx_i = [x_i == max x] (Theano's rule: ties all receive the gradient)
    picked = m.eq(x, op._expand(op(x), x.ndim))
    return [m.cast(op._expand(gz, x.ndim) * picked, x.dtype)]


class _LogicalReduce(CAReduce):
    """A reduction with a boolean result; its input is not differentiable."""

    def output_dtype(self, input_dtype: str) -> str:
        return "bool"

    def accumulate_dtype(self, input_dtype: str) -> str:
        return "bool"

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def grad(self, inputs, output_grads):
        return [None]


class All(_LogicalReduce):
    """Whether every element along the axes is true (non-zero)."""

    ufunc = np.logical_and


class Any(_LogicalReduce):
    """Whether some element along the axes is true (non-zero)."""

    ufunc = np.logical_or


# ------------------------------------------------------------------------------ arg reductions
class Argmax(Op):
    """Index of the maximum over `axis` (None: index into the flattened input); int64.

    Several axes are searched together, as if they were flattened into one (C order).
    """

    __props__ = ("axis",)
    search = staticmethod(np.argmax)

    def __init__(self, axis: Sequence[int] | None = None) -> None:
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self) -> str:
        return _describe(
            type(self).__name__, [f"axis={self.axis}"] if self.axis is not None else []
        )

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        reduced = _reduced(self.axis, x.ndim)
        if builtins.any(not 0 <= a < x.ndim for a in reduced):
            raise ValueError(f"{self}: axis out of range for an input with {x.ndim} dimensions")
        shape = tuple(d for i, d in enumerate(x.type.shape) if i not in reduced)
        return Apply(self, [x], [TensorType("int64", shape)()])

    def numpy_callable(self, node: Apply):
        search, axis = self.search, self.axis
        ndim = node.inputs[0].ndim
        if axis is None or len(axis) == 1:
            single = None if axis is None else axis[0]

            def arg_search(x):
                return np.asarray(search(x, axis=single), dtype=np.int64)

            return arg_search
        kept = tuple(i for i in range(ndim) if i not in axis)

        def arg_search_axes(x):
            moved = x.transpose(kept + axis)
            flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
            return np.asarray(search(flat, axis=-1), dtype=np.int64)

        return arg_search_axes

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(inputs[0])

    def infer_shape(self, fgraph, node, input_shapes):
        reduced = _reduced(self.axis, node.inputs[0].ndim)
        return [tuple(d for i, d in enumerate(input_shapes[0]) if i not in reduced)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def grad(self, inputs, output_grads):
        return [None]


class Argmin(Argmax):
    """Index of the minimum over `axis` (None: index into the flattened input); int64."""

    search = staticmethod(np.argmin)


class ReductionSize(Op):
    """The number of elements a reduction over `axis` combines (int64 scalar), read from the shape.

    Lets mean and var divide by a symbolic count when the static shape is unknown.
    """

    __props__ = ("axis",)

    def __init__(self, axis: Sequence[int] | None = None) -> None:
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self) -> str:
        return _describe("ReductionSize", [f"axis={self.axis}"] if self.axis is not None else [])

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", ())()])

    def numpy_callable(self, node: Apply):
        reduced = _reduced(self.axis, node.inputs[0].ndim)

        def reduction_size(x):
            size = 1
            for a in reduced:
                size *= x.shape[a]
            return np.asarray(size, dtype=np.int64)

        return reduction_size

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(inputs[0])

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def grad(self, inputs, output_grads):
        return [None]


def _count(x: typing.Any, axis: tuple[int, ...] | None, dtype: str) -> typing.Any:
    """How many elements each group of a reduction holds, as a `dtype` scalar."""
    lengths = [x.type.shape[a] for a in _reduced(axis, x.ndim)]
    if None not in lengths:
        return constant(int(np.prod(lengths, dtype=np.int64)), dtype=dtype)
    return m.cast(ReductionSize(axis)(x), dtype)


# ------------------------------------------------------------------------------ user functions
def _reduce(op: Op, x: typing.Any, axis: tuple[int, ...] | None, keepdims: bool) -> typing.Any:
    out = op(x)
    return _keep_dims(out, axis, x.ndim) if keepdims else out


def sum(  # noqa: A001 - Theano's name
    x: typing.Any,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> typing.Any:
    """Sum of the elements over `axis` (None: all), Theano's dtype rules (int32 -> int64).

    The workhorse of costs and gradients (broadcast axes are summed back).

    Examples
    --------
    >>> x = dmatrix('x'); s = sum(x, axis=0)          # shape (n_columns,)
    >>> s.eval({x: np.ones((2, 3))})
    array([2., 2., 2.])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("sum", axis, x.ndim)
    return _reduce(Sum(ax, dtype, acc_dtype), x, ax, keepdims)


def prod(
    x: typing.Any,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> typing.Any:
    """Product of the elements over `axis`; its gradient is exact even with zeros in the input.

    Examples
    --------
    >>> prod(x, axis=1).eval({x: np.array([[1., 2.], [3., 4.]])})
    array([ 2., 12.])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("prod", axis, x.ndim)
    return _reduce(Prod(ax, dtype, acc_dtype), x, ax, keepdims)


def mean(
    x: typing.Any,
    axis: AxisArg = None,
    dtype: typing.Any = None,
    keepdims: bool = False,
    acc_dtype: typing.Any = None,
) -> typing.Any:
    """Arithmetic mean over `axis`: sum / count (ints give float64, float32 stays float32).

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
    x: typing.Any,
    axis: AxisArg = None,
    ddof: int = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> typing.Any:
    """Variance over `axis`: mean((x - mean(x))**2) with `ddof` degrees of freedom removed.

    `corrected=True` subtracts the rounding error term of the corrected two-pass algorithm.

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
    x: typing.Any,
    axis: AxisArg = None,
    ddof: int = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> typing.Any:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof, keepdims, corrected)).

    Examples
    --------
    >>> std(x).eval({x: np.array([[1., 2.], [3., 4.]])})
    array(1.11803399)
    """
    return m.sqrt(var(x, axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


def max(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:  # noqa: A001
    """Maximum over `axis`, in the input's dtype; the gradient goes to the maximal elements.

    Examples
    --------
    >>> max(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([5., 4.])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("max", axis, x.ndim)
    return _reduce(Max(ax), x, ax, keepdims)


def min(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:  # noqa: A001
    """Minimum over `axis`, in the input's dtype; the gradient goes to the minimal elements.

    Examples
    --------
    >>> min(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([1., 3.])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("min", axis, x.ndim)
    return _reduce(Min(ax), x, ax, keepdims)


def _arg_reduce(
    name: str, op_class: type, x: typing.Any, axis: AxisArg, keepdims: bool
) -> typing.Any:
    x = as_tensor_variable(x)
    ax = normalize_axis(name, axis, x.ndim)
    if ax == ():
        raise ValueError(f"{name}: axis must name at least one axis, got {axis!r}")
    return _reduce(op_class(ax), x, ax, keepdims)


def argmax(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:
    """Index (int64) of the maximum over `axis`; None indexes the flattened input.

    Examples
    --------
    >>> argmax(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([1, 1])
    """
    return _arg_reduce("argmax", Argmax, x, axis, keepdims)


def argmin(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:
    """Index (int64) of the minimum over `axis`; None indexes the flattened input.

    Examples
    --------
    >>> argmin(x, axis=1).eval({x: np.array([[1., 5.], [3., 4.]])})
    array([0, 0])
    """
    return _arg_reduce("argmin", Argmin, x, axis, keepdims)


def max_and_argmax(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> list:
    """[max(x, axis), argmax(x, axis)] (Theano's MaxAndArgmax pair).

    Examples
    --------
    >>> mx, idx = max_and_argmax(x, axis=0)
    """
    return [max(x, axis, keepdims), argmax(x, axis, keepdims)]


def all(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:  # noqa: A001
    """Whether every element over `axis` is non-zero (bool).

    Examples
    --------
    >>> all(x, axis=0).eval({x: np.array([[1., 0.], [3., 4.]])})
    array([ True, False])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("all", axis, x.ndim)
    return _reduce(All(ax), x, ax, keepdims)


def any(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> typing.Any:  # noqa: A001
    """Whether some element over `axis` is non-zero (bool).

    Examples
    --------
    >>> any(x, axis=0).eval({x: np.array([[1., 0.], [3., 0.]])})
    array([ True, False])
    """
    x = as_tensor_variable(x)
    ax = normalize_axis("any", axis, x.ndim)
    return _reduce(Any(ax), x, ax, keepdims)
