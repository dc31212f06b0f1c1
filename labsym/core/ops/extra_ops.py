"""Theano's extra_ops: cumsum/cumprod, diff, bincount, searchsorted, unique, sort, fill_diagonal.

Also the index helpers (ravel/unravel_index, to_one_hot) and view expressions (squeeze, roll,
flip). May import core.graph, core.op, core.type, core.dtypes, core.variable and sibling op modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import base, basic, subtensor
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.elemwise import broadcast_static_shape
from labsym.core.ops.recurrence import cumprod_grad, cumprod_r_op
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant


# ---------------------------------------------------------------------------------- helpers
def _axis(x: Variable, axis: int, who: str) -> int:
    """`axis` made non-negative, or a ValueError naming the op and x's type."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{who}: axis must be an int, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{who}: axis {axis} is out of range for {x} ({x.type})")
    return int(axis) % x.ndim


def _along(ndim: int, axis: int, entry: Any) -> tuple:
    """An index tuple applying `entry` on `axis` and taking everything on the other axes."""
    return (slice(None),) * axis + (entry,) + (slice(None),) * (ndim - axis - 1)


def _reverse(x: Variable, axis: int) -> Variable:
    return x[_along(x.ndim, axis, slice(None, None, -1))]


def _int_tensor(x: Any, who: str, what: str) -> Variable:
    x = as_tensor_variable(x)
    if not dtypes.is_integer(x.dtype) or x.dtype == "bool":
        raise TypeError(f"{who}: {what} must be integers, got {x} ({x.type})")
    return x


class _NoGrad:
    """Mixin: integer or piecewise-constant outputs, so no input is differentiably connected."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False] * len(node.outputs) for _ in node.inputs]

    def grad(self, inputs, output_grads):
        return [None] * len(inputs)


def _take_along_axis(x: Variable, idx: Variable, axis: int) -> Variable:
    """np.take_along_axis by advanced indexing: arange grids on the other axes."""
    index = []
    for d in range(x.ndim):
        if d == axis:
            index.append(idx)
            continue
        grid = basic.arange(sh.axis_length(x, d))
        index.append(grid.dimshuffle(["x" if k != d else 0 for k in range(x.ndim)]))
    return x[tuple(index)] if x.ndim > 1 else x[idx]


# ---------------------------------------------------------------------------------- cumsum, cumprod
class CumOp(base.NumpyOp):
    """Cumulative sum (mode 'add') or product ('mul') along an axis."""

    __props__ = ("axis", "mode")

    def __init__(self, axis: int = 0, mode: str = "add") -> None:
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis, self.mode = int(axis), mode

    def __str__(self) -> str:
        return f"CumOp{{{self.axis}, {self.mode}}}"  # Theano's name

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} ({x.type})")
        dtype = "int64" if x.dtype == "bool" else x.dtype
        return Apply(self, [x], [TensorType(dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        return partial(fn, axis=self.axis, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (out,), (gz,) = inputs, outputs, output_grads
        axis = self.axis
        if self.mode == "add":
            # each x[i] appears in every out[j >= i]: a reversed cumulative sum of gz
            return [base.float_grad(_reverse(CumOp(axis)(_reverse(gz, axis)), axis), x)]
        # d out[j] / d x[i] = prod of x[:j+1] but x[i]: a recurrence, exact where x has zeros
        return [base.float_grad(cumprod_grad(x, out, gz, axis), x)]

    def R_op(self, inputs, eval_points):
        (x,), (v,) = inputs, eval_points
        if v is None:
            return [None]
        if self.mode == "add":
            return [self(v)]  # cumsum is linear
        # d out[j] = x[j] d out[j-1] + v[j] prod(x[:j]), exact where x has zeros
        return [cumprod_r_op(x, self(x), v, self.axis)]


def _cumulate(x: Any, axis: int | None, mode: str) -> Variable:
    x = as_tensor_variable(x)
    if axis is None:
        return CumOp(0, mode)(sh.flatten(x))
    return CumOp(_axis(x, axis, "cumsum" if mode == "add" else "cumprod"), mode)(x)


def cumsum(x: Any, axis: int | None = None) -> Variable:
    """Cumulative sum along `axis` (of the flattened x when None); differentiable.

    Examples
    --------
    >>> v = dvector('v'); cumsum(v).eval({v: np.array([1., 2., 3.])})
    array([1., 3., 6.])
    """
    return _cumulate(x, axis, "add")


def cumprod(x: Any, axis: int | None = None) -> Variable:
    """Cumulative product along `axis` (of the flattened x when None); differentiable.

    Examples
    --------
    >>> v = dvector('v'); cumprod(v).eval({v: np.array([1., 2., 3.])})
    array([1., 2., 6.])
    """
    return _cumulate(x, axis, "mul")


# ---------------------------------------------------------------------------------- diff
class DiffOp(base.NumpyOp):
    """n-th discrete difference along an axis (numpy.diff)."""

    __props__ = ("n", "axis")

    def __init__(self, n: int = 1, axis: int = -1) -> None:
        if int(n) < 0:
            raise ValueError(f"DiffOp: the order n must be non-negative, got {n}")
        self.n, self.axis = int(n), int(axis)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} ({x.type})")
        shape = list(x.type.shape)
        if shape[self.axis] is not None:
            shape[self.axis] = max(shape[self.axis] - self.n, 0)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        if self.n == 0:
            return np.copy  # numpy.diff(x, 0) is x itself; the output must not alias the input
        return partial(np.diff, n=self.n, axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        shape = list(input_shapes[0])
        length = shape[self.axis]
        shape[self.axis] = (
            max(length - self.n, 0) if isinstance(length, int) else m.maximum(length - self.n, 0)
        )
        return [tuple(shape)]

    def grad(self, inputs, output_grads):
        (x,), (z,) = inputs, output_grads
        axis = self.axis
        for _ in range(self.n):
            # y[i] = x[i+1] - x[i]  ->  gx[j] = gy[j-1] - gy[j], gy zero outside its range
            lengths = sh.lengths_of(z)
            lengths[axis] = 1
            pad = basic.alloc(constant(0, dtype=z.dtype), *lengths)
            z = basic.concatenate([pad, z], axis) - basic.concatenate([z, pad], axis)
        length = x.type.shape[axis]
        if length is None or length < self.n:  # an empty diff: keep only x's length of zeros
            z = z[_along(x.ndim, axis, slice(None, sh.axis_length(x, axis)))]
        return [base.float_grad(z, x)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]  # linear


def diff(x: Any, n: int = 1, axis: int = -1) -> Variable:
    """n-th discrete difference along `axis` (numpy.diff); differentiable.

    Examples
    --------
    >>> v = dvector('v'); diff(v).eval({v: np.array([1., 4., 9.])})
    array([3., 5.])
    """
    x = as_tensor_variable(x)
    return DiffOp(n, _axis(x, axis, "diff"))(x)


# ---------------------------------------------------------------------------------- bincount
class BinCountOp(base.NumpyOp):
    """Counts of each non-negative int (numpy.bincount), or sums of `weights` per value."""

    __props__ = ("minlength",)

    def __init__(self, minlength: int | None = None) -> None:
        self.minlength = None if minlength is None else int(minlength)

    def make_node(self, x: Any, weights: Any = None) -> Apply:
        x = _int_tensor(x, "bincount", "x")
        if x.ndim != 1:
            raise TypeError(f"bincount: x must be a vector, got {x} ({x.type})")
        inputs, dtype = [x], "int64"
        if weights is not None:
            weights = as_tensor_variable(weights)
            if weights.ndim != 1:
                raise TypeError(f"bincount: weights must be a vector, got {weights.type}")
            dtype = weights.dtype if dtypes.is_float(weights.dtype) else "float64"
            inputs.append(weights)
        return Apply(self, inputs, [TensorType(dtype, (None,))()])

    def numpy_callable(self, node: Apply):
        minlength, dtype = self.minlength or 0, node.outputs[0].dtype

        def bincount(x, weights=None):
            return np.bincount(x, weights, minlength).astype(dtype, copy=False)

        return bincount

    def infer_shape(self, fgraph, node, input_shapes):
        return [(sh.shape_i(node.outputs[0], 0),)]  # data-dependent: max(x) + 1

    def connection_pattern(self, node):
        return [[False], [True]][: len(node.inputs)]

    def grad(self, inputs, output_grads):
        if len(inputs) == 1:
            return [None]
        x, weights = inputs
        return [None, base.float_grad(output_grads[0][x], weights)]


def bincount(x: Any, weights: Any = None, minlength: int | None = None) -> Variable:
    """Number of occurrences of each value of the int vector x (weighted sums with weights).

    Examples
    --------
    >>> v = lvector('v'); bincount(v).eval({v: np.array([0, 2, 2])})
    array([1, 0, 2])
    """
    return BinCountOp(minlength)(x, weights)


# ---------------------------------------------------------------------------------- searchsorted
class SearchsortedOp(_NoGrad, base.NumpyOp):
    """Insertion indices of v into the sorted vector x (numpy.searchsorted)."""

    __props__ = ("side",)

    def __init__(self, side: str = "left") -> None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        self.side = side

    def make_node(self, x: Any, v: Any, sorter: Any = None) -> Apply:
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        if x.ndim != 1:
            raise TypeError(f"searchsorted: x must be a sorted vector, got {x} ({x.type})")
        inputs = [x, v]
        if sorter is not None:
            sorter = _int_tensor(sorter, "searchsorted", "sorter")
            if sorter.ndim != 1:
                raise TypeError(f"searchsorted: sorter must be a vector, got {sorter.type}")
            inputs.append(sorter)
        return Apply(self, inputs, [TensorType("int64", v.type.shape)()])

    def numpy_callable(self, node: Apply):
        side = self.side

        def searchsorted(x, v, sorter=None):
            return np.asarray(np.searchsorted(x, v, side, sorter), dtype="int64")

        return searchsorted

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]


def searchsorted(x: Any, v: Any, side: str = "left", sorter: Any = None) -> Variable:
    """Indices where v's elements would be inserted into sorted x to keep it sorted.

    Examples
    --------
    >>> x, v = dvector('x'), dvector('v')
    >>> searchsorted(x, v).eval({x: np.array([1., 2., 3.]), v: np.array([2.5, 0.])})
    array([2, 0])
    """
    return SearchsortedOp(side)(x, v, sorter)


# ---------------------------------------------------------------------------------- unique
class Unique(_NoGrad, Op):
    """Sorted unique values of the flattened input, with optional indices, inverse and counts."""

    __props__ = ("return_index", "return_inverse", "return_counts")

    def __init__(
        self, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False
    ) -> None:
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        outs = [TensorType(x.dtype, (None,))()]
        flags = (self.return_index, self.return_inverse, self.return_counts)
        outs += [TensorType("int64", (None,))() for flag in flags if flag]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage):
        out = np.unique(inputs[0], self.return_index, self.return_inverse, self.return_counts)
        values = out if len(node.outputs) > 1 else [out]
        for store, value, var in zip(output_storage, values, node.outputs, strict=True):
            store[0] = np.asarray(value, dtype=var.dtype).reshape(-1)

    def infer_shape(self, fgraph, node, input_shapes):
        n_unique = sh.shape_i(node.outputs[0], 0)  # data-dependent
        shapes = [(n_unique,)]
        if self.return_index:
            shapes.append((n_unique,))
        if self.return_inverse:
            shapes.append((base.prod_lengths(list(input_shapes[0])),))
        if self.return_counts:
            shapes.append((n_unique,))
        return shapes


def unique(
    ar: Any, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False
) -> Any:
    """Sorted unique values of ar (flattened), plus the optional int64 vectors numpy.unique gives.

    Examples
    --------
    >>> v = dvector('v'); unique(v).eval({v: np.array([3., 1., 3.])})
    array([1., 3.])
    """
    return Unique(return_index, return_inverse, return_counts)(ar)


# ---------------------------------------------------------------------------------- sort, argsort
_SORT_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


class _SortBase(base.NumpyOp):
    __props__ = ("axis", "kind")

    def __init__(self, axis: int = -1, kind: str = "quicksort") -> None:
        if kind not in _SORT_KINDS:
            raise ValueError(
                f"{type(self).__name__}: kind must be one of {_SORT_KINDS}, got {kind!r}"
            )
        self.axis, self.kind = int(axis), kind

    def _checked(self, x: Any) -> Variable:
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} ({x.type})")
        return x

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class SortOp(_SortBase):
    """x sorted along an axis (numpy.sort); the gradient routes gz back through the permutation."""

    def make_node(self, x: Any) -> Apply:
        x = self._checked(x)
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        return partial(np.sort, axis=self.axis, kind=self.kind)

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        # y = x[p] with p = argsort(x): gx = gz[p^-1], and p^-1 = argsort(p)
        perm = ArgSortOp(self.axis, self.kind)(x)
        inverse = ArgSortOp(self.axis, "stable")(perm)
        return [base.float_grad(_take_along_axis(gz, inverse, self.axis), x)]

    def R_op(self, inputs, eval_points):
        (x,), (v,) = inputs, eval_points
        if v is None:
            return [None]
        # y = x[p] with p = argsort(x), so dy = v[p]
        return [_take_along_axis(v, ArgSortOp(self.axis, self.kind)(x), self.axis)]


class ArgSortOp(_NoGrad, _SortBase):
    """Indices that sort x along an axis (numpy.argsort), as int64."""

    def make_node(self, x: Any) -> Apply:
        x = self._checked(x)
        return Apply(self, [x], [TensorType("int64", x.type.shape)()])

    def numpy_callable(self, node: Apply):
        axis, kind = self.axis, self.kind

        def argsort(x):
            return np.argsort(x, axis=axis, kind=kind).astype("int64", copy=False)

        return argsort


def _sort_input(a: Any, axis: int | None, order: Any, who: str) -> tuple[Variable, int]:
    if order is not None:
        raise ValueError(f"{who}: order (structured arrays) is not supported")
    a = as_tensor_variable(a)
    if axis is None:
        return sh.flatten(a), 0
    return a, _axis(a, axis, who)


def sort(a: Any, axis: int | None = -1, kind: str = "quicksort", order: Any = None) -> Variable:
    """a sorted along `axis` (the flattened a when None); differentiable.

    Examples
    --------
    >>> v = dvector('v'); sort(v).eval({v: np.array([3., 1., 2.])})
    array([1., 2., 3.])
    """
    a, axis = _sort_input(a, axis, order, "sort")
    return SortOp(axis, kind)(a)


def argsort(a: Any, axis: int | None = -1, kind: str = "quicksort", order: Any = None) -> Variable:
    """int64 indices that sort a along `axis` (the flattened a when None).

    Examples
    --------
    >>> v = dvector('v'); argsort(v).eval({v: np.array([3., 1., 2.])})
    array([1, 2, 0])
    """
    a, axis = _sort_input(a, axis, order, "argsort")
    return ArgSortOp(axis, kind)(a)


# ---------------------------------------------------------------------------------- fill_diagonal
class FillDiagonal(base.NumpyOp):
    """A copy of `a` (2+ dims, all equal beyond 2) with `val` on its main diagonal."""

    __props__ = ()

    def make_node(self, a: Any, val: Any) -> Apply:
        a, val = as_tensor_variable(a), as_tensor_variable(val)
        if a.ndim < 2:
            raise TypeError(f"fill_diagonal: a must have 2 or more dims, got {a} ({a.type})")
        if val.ndim != 0:
            raise TypeError(f"fill_diagonal: val must be a scalar, got {val} ({val.type})")
        known = {d for d in a.type.shape if d is not None}
        if a.ndim > 2 and len(known) > 1:
            raise ValueError(f"fill_diagonal: a tensor of 3+ dims must be a cube, got {a.type}")
        if not (getattr(val, "weak", False) or dtypes.can_cast_safely(val.dtype, a.dtype)):
            raise TypeError(
                f"fill_diagonal: val of dtype {val.dtype} does not fit a's dtype {a.dtype}; "
                "cast one of them"
            )
        return Apply(self, [a, m.cast(val, a.dtype)], [TensorType(a.dtype, a.type.shape)()])

    def numpy_callable(self, node: Apply):
        def fill_diagonal(a, val):
            out = a.copy()
            np.fill_diagonal(out, val)
            return out

        return fill_diagonal

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        (a, val), (gz,) = inputs, output_grads
        off_diagonal = self(gz, 0)
        return [
            base.float_grad(off_diagonal, a),
            base.float_grad((gz - off_diagonal).sum(), val),
        ]


def fill_diagonal(a: Any, val: Any) -> Variable:
    """A copy of `a` with `val` written on its main diagonal; differentiable in a and val.

    Examples
    --------
    >>> a = dmatrix('a'); fill_diagonal(a, 5.).eval({a: np.zeros((2, 2))})
    array([[5., 0.],
           [0., 5.]])
    """
    return FillDiagonal()(a, val)


def to_one_hot(y: Any, nb_class: Any, dtype: Any = None) -> Variable:
    """One row per label of the int vector y, with a 1 in column y[i] (floatX by default).

    Examples
    --------
    >>> y = lvector('y'); to_one_hot(y, 3, dtype='int8').eval({y: np.array([2, 0])})
    array([[0, 0, 1],
           [1, 0, 0]], dtype=int8)
    """
    y = _int_tensor(y, "to_one_hot", "labels")
    if y.ndim != 1:
        raise TypeError(f"to_one_hot: y must be a vector of labels, got {y} ({y.type})")
    n = sh.axis_length(y, 0)
    out = basic.zeros((n, nb_class), dtype=dtype)
    return subtensor.set_subtensor(out[basic.arange(n), y], 1)


# ---------------------------------------------------------------------------------- ravel/unravel
def _dims_vector(dims: Any, who: str) -> Variable:
    """A shape given as ints or an int vector, as an int64 vector of static length."""
    if isinstance(dims, (list, tuple)):
        dims = sh.shape_vector(list(dims), who)
    dims = _int_tensor(dims, who, "dims")
    if dims.ndim != 1 or dims.type.shape[0] is None:
        raise TypeError(f"{who}: dims must be a vector of known length, got {dims.type}")
    return m.cast(dims, "int64")


class RavelMultiIndex(_NoGrad, base.NumpyOp):
    """Flat indices from a tuple of coordinate arrays (numpy.ravel_multi_index)."""

    __props__ = ("mode", "order")

    def __init__(self, mode: str = "raise", order: str = "C") -> None:
        if mode not in ("raise", "wrap", "clip") or order not in ("C", "F"):
            raise ValueError(f"RavelMultiIndex: bad mode {mode!r} or order {order!r}")
        self.mode, self.order = mode, order

    def make_node(self, *inputs: Any) -> Apply:
        *indices, dims = inputs
        indices = [_int_tensor(i, "ravel_multi_index", "multi_index") for i in indices]
        dims = _dims_vector(dims, "ravel_multi_index")
        if len(indices) != dims.type.shape[0]:
            raise ValueError(
                f"ravel_multi_index: {len(indices)} index arrays for {dims.type.shape[0]} dims"
            )
        if len({i.ndim for i in indices}) != 1:
            raise TypeError("ravel_multi_index: the index arrays must have the same ndim")
        shape = broadcast_static_shape("ravel_multi_index", [i.type for i in indices])
        return Apply(self, [*indices, dims], [TensorType("int64", shape)()])

    def numpy_callable(self, node: Apply):
        mode, order = self.mode, self.order

        def ravel(*arrays):
            *indices, dims = arrays
            flat = np.ravel_multi_index(tuple(indices), tuple(dims), mode=mode, order=order)
            return np.asarray(flat, dtype="int64")

        return ravel

    def infer_shape(self, fgraph, node, input_shapes):
        types = [v.type for v in node.inputs[:-1]]
        return [sh.broadcast_shape_symbolic(types, input_shapes[:-1])]


class UnravelIndex(_NoGrad, Op):
    """Coordinate arrays, one per dim, from flat indices (numpy.unravel_index)."""

    __props__ = ("order",)

    def __init__(self, order: str = "C") -> None:
        if order not in ("C", "F"):
            raise ValueError(f"UnravelIndex: order must be 'C' or 'F', got {order!r}")
        self.order = order

    def make_node(self, indices: Any, dims: Any) -> Apply:
        indices = _int_tensor(indices, "unravel_index", "indices")
        dims = _dims_vector(dims, "unravel_index")
        outs = [TensorType("int64", indices.type.shape)() for _ in range(dims.type.shape[0])]
        return Apply(self, [indices, dims], outs)

    def perform(self, node, inputs, output_storage):
        coords = np.unravel_index(inputs[0], tuple(inputs[1]), order=self.order)
        for store, value in zip(output_storage, coords, strict=True):
            store[0] = np.asarray(value, dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]] * len(node.outputs)


def ravel_multi_index(multi_index: Sequence[Any], dims: Any, mode: str = "raise", order: str = "C"):
    """Flat int64 indices of the coordinates `multi_index` in an array of shape `dims`.

    Examples
    --------
    >>> i, j = lvector('i'), lvector('j')
    >>> ravel_multi_index((i, j), (2, 3)).eval({i: np.array([1]), j: np.array([2])})
    array([5])
    """
    return RavelMultiIndex(mode, order)(*multi_index, dims)


def unravel_index(indices: Any, dims: Any, order: str = "C") -> tuple:
    """A tuple of int64 coordinate arrays, one per entry of `dims`, for the flat `indices`.

    Examples
    --------
    >>> k = lvector('k'); unravel_index(k, (2, 3))[0].eval({k: np.array([5])})
    array([1])
    """
    out = UnravelIndex(order)(indices, dims)
    return tuple(out) if isinstance(out, list) else (out,)


# ------------------------------------------------------------------------------ view expressions
def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """x without length-1 axes: the broadcastable ones (None) or those named (checked at run time).

    Examples
    --------
    >>> squeeze(TensorType('float64', (1, None))('r')).type.shape
    (None,)
    """
    x = as_tensor_variable(x)
    if axis is None:
        axes = [i for i, d in enumerate(x.type.shape) if d == 1]
    else:
        axes = [
            _axis(x, a, "squeeze") for a in (axis if isinstance(axis, (list, tuple)) else [axis])
        ]
    for a in axes:
        if x.type.shape[a] not in (1, None):
            raise ValueError(f"squeeze: axis {a} of {x} has length {x.type.shape[a]}, not 1")
    unknown = [a for a in axes if x.type.shape[a] is None]
    if unknown:
        x = sh.specify_shape(x, [1 if a in unknown else None for a in range(x.ndim)])
    return x.dimshuffle([i for i in range(x.ndim) if i not in axes])


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """x with the order of its elements reversed along `axis` (all axes when None); a view.

    Examples
    --------
    >>> v = dvector('v'); flip(v).eval({v: np.array([1., 2.])})
    array([2., 1.])
    """
    x = as_tensor_variable(x)
    if axis is None:
        axes = list(range(x.ndim))
    else:
        axes = [_axis(x, a, "flip") for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))
    return x[index] if axes else x


def roll(x: Any, shift: Any, axis: int | None = None) -> Variable:
    """x shifted circularly by `shift` (int or int scalar) along `axis` (flattened when None).

    Examples
    --------
    >>> v = dvector('v'); roll(v, 1).eval({v: np.array([1., 2., 3.])})
    array([3., 1., 2.])
    """
    x = as_tensor_variable(x)
    if axis is None:
        return sh.reshape(roll(sh.flatten(x), shift, 0), sh.lengths_of(x))
    axis = _axis(x, axis, "roll")
    length = sh.axis_length(x, axis)
    shift = _int_tensor(shift, "roll", "shift")
    if shift.ndim != 0:
        raise TypeError(f"roll: shift must be an int scalar, got {shift} ({shift.type})")
    static = sh.static_int(shift)
    if static is not None and isinstance(length, int):
        shift = static % length if length else 0
    else:
        shift = m.mod(shift, length)
    front = x[_along(x.ndim, axis, slice(-shift, None))]
    back = x[_along(x.ndim, axis, slice(None, -shift))]
    return basic.concatenate([front, back], axis)
