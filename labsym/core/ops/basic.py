"""Array construction and assembly: Alloc, Eye, ARange, tile, Join, Split, TensorCopy, and stack.

May import labsym.config (user-facing dtype defaults only), core.graph, core.op, core.type,
core.dtypes, core.variable and the sibling modules elemwise, math, reduce and shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op
from labsym.core.ops import base
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.repeat import repeat as repeat  # re-export: x.repeat() calls basic.repeat
from labsym.core.ops.shape import axis_length, lengths_of
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant


def _shape_args(shape: Any, who: str) -> list[Any]:
    """A shape argument (int, tuple/list of lengths, or int vector of known length) as entries."""
    if isinstance(shape, (list, tuple)):
        return list(shape)
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            return [shape]
        if shape.ndim != 1 or shape.type.shape[0] is None:
            raise ValueError(
                f"{who}: the shape {shape} ({shape.type}) must be a vector of known length"
            )
        return sh.shape_entries(shape, shape.type.shape[0])
    if isinstance(shape, np.ndarray):
        return [int(v) for v in shape.reshape(-1)]
    return [shape]


# ---------------------------------------------------------------------------------- Alloc
class Alloc(base.NumpyOp):
    """`value` broadcast to a new array of the given shape (Theano's `alloc`).

    Inputs are the value and one int64 scalar per output axis; only axes the value's type marks
    as length 1 are broadcast, the others must match at run time.
    """

    __props__ = ()

    def make_node(self, value: Any, *shape: Any) -> Apply:
        v = as_tensor_variable(value)
        lengths = [sh.as_length(s, "alloc") for s in shape]
        if v.ndim > len(lengths):
            raise TypeError(
                f"Alloc: the value {v} ({v.type}) has {v.ndim} dims, more than the "
                f"{len(lengths)} of the requested shape"
            )
        static = [sh.static_int(n) for n in lengths]
        offset = len(lengths) - v.ndim
        for axis, vdim in enumerate(v.type.shape):
            out = static[axis + offset]
            if vdim in (None, 1):
                continue
            if out is not None and out != vdim:
                raise ValueError(
                    f"Alloc: cannot broadcast the value {v} of static shape {v.type.shape} to "
                    f"shape {tuple(static)}"
                )
            static[axis + offset] = vdim
        return Apply(self, [v, *lengths], [TensorType(v.dtype, static)()])

    def numpy_callable(self, node: Apply):
        value_type = node.inputs[0].type
        offset = len(node.inputs) - 1 - value_type.ndim
        strict = [a for a, d in enumerate(value_type.shape) if d != 1]
        dtype = node.outputs[0].dtype

        def alloc_array(value, *shape):
            for a in strict:
                if value.shape[a] != shape[a + offset]:
                    raise ValueError(
                        f"Alloc: the value of shape {value.shape} does not fit shape "
                        f"{tuple(int(s) for s in shape)} on axis {a + offset} (a length-1 axis "
                        "is only broadcast when its type is broadcastable)"
                    )
            out = np.empty(tuple(int(s) for s in shape), dtype=dtype)
            out[...] = value
            return out

        return alloc_array

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape
        return [
            tuple(s if s is not None else n for s, n in zip(static, node.inputs[1:], strict=True))
        ]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def grad(self, inputs, output_grads):
        value, *shape = inputs
        (gz,) = output_grads
        offset = len(shape) - value.ndim
        summed = list(range(offset)) + [
            a + offset
            for a, d in enumerate(value.type.shape)
            if d == 1 and gz.type.shape[a + offset] != 1
        ]
        g = gz.sum(axis=summed, keepdims=True) if summed else gz
        if offset:
            g = g.dimshuffle(list(range(offset, len(shape))))
        return [base.float_grad(g, value)] + [None] * len(shape)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def alloc(value: Any, *shape: Any) -> Variable:
    """A new array of `shape` filled with `value` (broadcast along its length-1 axes).

    Lengths are ints or symbolic int scalars; this is what `zeros`/`ones` are made of.

    Examples
    --------
    >>> alloc(1.5, 2, 3).eval()
    array([[1.5, 1.5, 1.5],
           [1.5, 1.5, 1.5]])
    """
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, np.ndarray, Variable)):
        shape = tuple(_shape_args(shape[0], "alloc"))
    return Alloc()(value, *shape)


def zeros(shape: Any, dtype: Any = None) -> Variable:
    """An array of zeros of `shape` (an int, a tuple of lengths or an int vector); floatX default.

    Examples
    --------
    >>> zeros((2, 3)).type.shape
    (2, 3)
    """
    dtype = config.floatX if dtype is None else dtype
    return alloc(constant(0, dtype=dtype), *_shape_args(shape, "zeros"))


def ones(shape: Any, dtype: Any = None) -> Variable:
    """An array of ones of `shape` (an int, a tuple of lengths or an int vector); floatX default.

    Examples
    --------
    >>> ones(3, dtype='int32').eval()
    array([1, 1, 1], dtype=int32)
    """
    dtype = config.floatX if dtype is None else dtype
    return alloc(constant(1, dtype=dtype), *_shape_args(shape, "ones"))


# ---------------------------------------------------------------------------------- Eye, ARange
class Eye(base.NumpyOp):
    """An n x m matrix with ones on diagonal k (inputs n, m, k as int64 scalars)."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtypes.canonical_dtype(dtype)

    def make_node(self, n: Any, m_: Any, k: Any) -> Apply:
        n, m_, k = (sh.as_length(v, "eye") for v in (n, m_, k))
        static = (sh.static_int(n), sh.static_int(m_))
        return Apply(self, [n, m_, k], [TensorType(self.dtype, static)()])

    def numpy_callable(self, node: Apply):
        dtype = self.dtype

        def eye_matrix(n, m_, k):
            return np.eye(int(n), int(m_), int(k), dtype=dtype)

        return eye_matrix

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape
        return [
            tuple(s if s is not None else v for s, v in zip(static, node.inputs[:2], strict=True))
        ]

    def grad(self, inputs, output_grads):
        return [None, None, None]  # integer inputs


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = None) -> Variable:
    """An n x m matrix with ones on the k-th diagonal (NumPy's `eye`); dtype floatX by default.

    Examples
    --------
    >>> eye(2, 3, k=1).eval()
    array([[0., 1., 0.],
           [0., 0., 1.]])
    """
    dtype = config.floatX if dtype is None else dtype
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x: Any) -> Variable:
    """An identity-like matrix with the shape and dtype of the matrix `x`.

    Examples
    --------
    >>> x = dmatrix('x'); identity_like(x).eval({x: np.zeros((2, 3))})
    array([[1., 0., 0.],
           [0., 1., 0.]])
    """
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like: {x} must be a matrix, got {x.type}")
    rows, cols = lengths_of(x)
    return eye(rows, cols, 0, dtype=x.dtype)


class ARange(base.NumpyOp):
    """NumPy's `arange(start, stop, step)` with scalar inputs and a fixed output dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtypes.canonical_dtype(dtype)

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        inputs = [as_tensor_variable(v) for v in (start, stop, step)]
        for name, v in zip(("start", "stop", "step"), inputs, strict=True):
            if v.ndim != 0 or v.dtype in dtypes.COMPLEX_DTYPES:
                raise TypeError(f"{self}: {name} must be a real scalar, got {v} ({v.type})")
        values = [v.data.item() if isinstance(v, Constant) else sh.static_int(v) for v in inputs]
        if values[2] is not None and values[2] == 0:
            raise ValueError(f"{self}: step must not be zero")
        length = None
        if all(v is not None for v in values):
            length = len(np.arange(*values, dtype=self.dtype))
        return Apply(self, inputs, [TensorType(self.dtype, (length,))()])

    def numpy_callable(self, node: Apply):
        dtype = self.dtype

        def arange_vector(start, stop, step):
            return np.arange(start, stop, step, dtype=dtype)

        return arange_vector

    def infer_shape(self, fgraph, node, input_shapes):
        (length,) = node.outputs[0].type.shape
        if length is not None:
            return [(length,)]
        start, stop, step = node.inputs
        # len = max(ceil((stop - start) / step), 0)
        steps = m.ceil(m.true_div(m.cast(m.sub(stop, start), "float64"), step))
        return [(m.maximum(m.cast(steps, "int64"), 0),)]

    def L_op(self, inputs, outputs, output_grads):
        start, stop, step = inputs
        (gz,) = output_grads
        if not dtypes.is_float(self.dtype):
            return [None, None, None]
        # out[i] = start + i * step: stop only decides the length
        index = ARange(self.dtype)(0, sh.shape_i(outputs[0], 0), 1)
        return [
            base.float_grad(gz.sum(), start),
            base.float_grad(m.zeros_like(stop), stop),
            base.float_grad((gz * index).sum(), step),
        ]


def _arange_dtype(inputs: list[Variable]) -> str:
    """NumPy's promotion of the bounds (Python scalars are weak); ints widen to int64."""
    strong = [v.dtype for v in inputs if not getattr(v, "weak", False)]
    if strong:
        target = dtypes.upcast(*strong)
        inputs = [sh._settle_weak(v, target) for v in inputs]
    dtype = dtypes.upcast(*[v.dtype for v in inputs])
    if dtype == "uint64":
        return dtype
    return "int64" if dtypes.is_integer(dtype) else dtype


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Variable:
    """Evenly spaced values in [start, stop) (NumPy's `arange`); bounds may be symbolic.

    The dtype promotes the bounds' dtypes (ints give int64; float32 bounds stay float32).

    Examples
    --------
    >>> arange(1, 7, 2).eval()
    array([1, 3, 5])
    """
    if stop is None:
        start, stop = 0, start
    inputs = [as_tensor_variable(v) for v in (start, stop, step)]
    dtype = _arange_dtype(inputs) if dtype is None else dtypes.canonical_dtype(dtype)
    return ARange(dtype)(*inputs)


# ---------------------------------------------------------------------------------- tile
def tile(x: Any, reps: Any, ndim: int | None = None) -> Variable:
    """`x` repeated `reps[i]` times along each axis i (NumPy's `tile`).

    Built from alloc, dimshuffle and reshape, so its gradient comes for free.

    Examples
    --------
    >>> v = dvector('v'); tile(v, (2, 2)).eval({v: np.array([1., 2.])})
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    """
    x = as_tensor_variable(x)
    if isinstance(reps, Variable) and reps.ndim == 1 and reps.type.shape[0] is None:
        if ndim is None:
            raise ValueError("tile: reps is a symbolic vector of unknown length; pass ndim=")
        reps = [reps[i] for i in range(ndim)]
    reps = _shape_args(reps, "tile")
    ndim = max(len(reps), x.ndim) if ndim is None else ndim
    if ndim < x.ndim or ndim < len(reps):
        raise ValueError(f"tile: ndim={ndim} is less than x.ndim={x.ndim} or len(reps)={len(reps)}")
    reps = [1] * (ndim - len(reps)) + reps
    lengths = [1] * (ndim - x.ndim) + lengths_of(x)
    y = alloc(sh.shape_padleft(x, ndim - x.ndim), *reps, *lengths)
    # axes (r0, .., rn, s0, .., sn) -> (r0, s0, r1, s1, ..): then each (ri, si) pair merges
    y = y.dimshuffle([k for i in range(ndim) for k in (i, ndim + i)])
    return sh.reshape(y, [base.prod_lengths([r, n]) for r, n in zip(reps, lengths, strict=True)])


# ---------------------------------------------------------------------------------- Join, Split
def _axis_input(axis: Any, ndim: int, who: str) -> Variable:
    """The axis as an int64 scalar; a static axis is checked and made non-negative."""
    static = sh.static_int(axis)
    if static is None:
        return sh.as_length(axis, who)
    if not -ndim <= static < ndim:
        raise ValueError(f"{who}: axis {static} is out of range for tensors of {ndim} dimensions")
    return constant(static % ndim, dtype="int64")


def _along_axis(axis: Variable, ndim: int, on_axis: Any, off_axis: list) -> tuple:
    """Per dimension d: `on_axis[d]` where d is the (maybe symbolic) axis, else `off_axis[d]`."""
    static = sh.static_int(axis)
    if static is not None:
        return tuple(on_axis[d] if d == static else off_axis[d] for d in range(ndim))
    axis = m.switch(m.lt(axis, 0), axis + ndim, axis)
    return tuple(m.switch(m.eq(axis, d), on_axis[d], off_axis[d]) for d in range(ndim))


class Join(base.NumpyOp):
    """Tensors concatenated along an axis (input 0, an int scalar); dtypes are upcast."""

    __props__ = ()

    def make_node(self, axis: Any, *tensors: Any) -> Apply:
        if not tensors:
            raise ValueError("Join: nothing to join")
        tensors_ = [as_tensor_variable(t) for t in tensors]
        ndims = [t.ndim for t in tensors_]
        if len(set(ndims)) > 1:
            kinds = ", ".join(str(t.type) for t in tensors_)
            raise TypeError(
                f"Join: all tensors must have the same number of dimensions, got {kinds}"
            )
        ndim = ndims[0]
        if ndim == 0:
            raise TypeError("Join: cannot join scalars (0-d tensors); use stack")
        axis = _axis_input(axis, ndim, "Join")
        a = sh.static_int(axis)
        static: list[int | None] = [None] * ndim
        if a is not None:
            for d in range(ndim):
                lengths = [t.type.shape[d] for t in tensors_]
                if d == a:
                    static[d] = None if None in lengths else int(sum(lengths))
                else:
                    static[d] = _common_length(lengths, d)
        out_dtype = dtypes.upcast(*[t.dtype for t in tensors_])
        return Apply(self, [axis, *tensors_], [TensorType(out_dtype, static)()])

    def numpy_callable(self, node: Apply):
        dtype = node.outputs[0].dtype

        def join_arrays(axis, *tensors):
            return np.concatenate(tensors, axis=int(axis), dtype=dtype)

        return join_arrays

    def infer_shape(self, fgraph, node, input_shapes):
        axis = node.inputs[0]
        ndim = node.outputs[0].ndim
        static = node.outputs[0].type.shape
        a = sh.static_int(axis)
        axes = range(ndim) if a is None else [a]
        summed = {d: _sum_lengths([s[d] for s in input_shapes[1:]]) for d in axes}
        out = _along_axis(axis, ndim, summed, list(input_shapes[1]))
        return [tuple(s if s is not None else o for s, o in zip(static, out, strict=True))]

    def connection_pattern(self, node):
        return [[False]] + [[True]] * (len(node.inputs) - 1)

    def grad(self, inputs, output_grads):
        axis, *tensors = inputs
        (gz,) = output_grads
        static = sh.static_int(axis)
        sizes = [t.shape[axis] if static is None else axis_length(t, static) for t in tensors]
        parts = split(gz, sizes, len(tensors), axis)
        return [None] + [base.float_grad(p, t) for p, t in zip(parts, tensors, strict=True)]

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points[1:]):
            return [None]
        points = [m.zeros_like(t) if e is None else e for t, e in zip(inputs[1:], eval_points[1:])]
        return [self(inputs[0], *points)]


def _common_length(lengths: list, axis: int) -> int | None:
    known = {n for n in lengths if n is not None}
    if len(known) > 1:
        raise ValueError(
            f"Join: static lengths {sorted(known)} differ on axis {axis}, which is not joined"
        )
    return known.pop() if known else None


def _sum_lengths(lengths: list) -> Any:
    static = int(sum(n for n in lengths if isinstance(n, (int, np.integer))))
    symbolic = [n for n in lengths if not isinstance(n, (int, np.integer))]
    if not symbolic:
        return static
    total = symbolic[0] if len(symbolic) == 1 else m.add(*symbolic)
    return total if static == 0 else m.add(total, static)


def join(axis: Any, *tensors: Any) -> Variable:
    """The tensors concatenated along `axis` (Theano's argument order); one tensor comes back as is.

    Examples
    --------
    >>> join(0, dmatrix('a'), dmatrix('b')).type.shape
    (None, None)
    """
    if not tensors:
        raise ValueError("join: nothing to join")
    if len(tensors) == 1:
        return as_tensor_variable(tensors[0])
    return Join()(axis, *tensors)


def concatenate(tensor_list: Sequence[Any], axis: Any = 0) -> Variable:
    """The tensors of a list concatenated along `axis` (NumPy's argument order).

    Examples
    --------
    >>> concatenate([ones((2, 3)), zeros((1, 3))]).type.shape
    (3, 3)
    """
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError(
            "concatenate: the tensors must be given as a list or a tuple; did you forget the [] "
            "around them?"
        )
    return join(axis, *tensor_list)


class Split(Op):
    """`x` cut along an axis into `len_splits` pieces of the given sizes (views of x).

    Inputs are x, the axis and an int vector of sizes summing to x.shape[axis].
    """

    __props__ = ("len_splits",)

    def __init__(self, len_splits: int) -> None:
        self.len_splits = int(len_splits)
        self.view_map = {i: [0] for i in range(self.len_splits)}

    def __str__(self) -> str:
        return f"Split{{{self.len_splits}}}"  # Theano's name

    def make_node(self, x: Any, axis: Any, splits: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot split a scalar")
        axis = _axis_input(axis, x.ndim, str(self))
        splits = as_tensor_variable(splits)
        if splits.ndim != 1 or not dtypes.is_integer(splits.dtype) or splits.dtype == "bool":
            raise TypeError(f"{self}: the split sizes must be an int vector, got {splits.type}")
        if splits.type.shape[0] not in (None, self.len_splits):
            raise ValueError(
                f"{self}: {splits.type.shape[0]} split sizes for {self.len_splits} outputs"
            )
        splits = m.cast(splits, "int64")
        a = sh.static_int(axis)
        sizes = sh.static_entries(splits, self.len_splits)
        if a is not None and None not in sizes and x.type.shape[a] not in (None, sum(sizes)):
            raise ValueError(
                f"{self}: split sizes {sizes} do not sum to the length {x.type.shape[a]} "
                f"of axis {a}"
            )
        outputs = []
        for size in sizes:
            static = [d if a is not None else None for d in x.type.shape]
            if a is not None:
                static[a] = size
            outputs.append(TensorType(x.dtype, static)())
        return Apply(self, [x, axis, splits], outputs)

    def perform(self, node, inputs, output_storage):
        x, axis, splits = inputs
        axis = int(axis)
        if len(splits) != self.len_splits or np.any(splits < 0) or splits.sum() != x.shape[axis]:
            raise ValueError(
                f"{self}: split sizes {splits.tolist()} do not cut axis {axis} of length "
                f"{x.shape[axis]} into {self.len_splits} pieces"
            )
        pieces = np.split(x, np.cumsum(splits)[:-1], axis)
        for store, piece in zip(output_storage, pieces, strict=True):
            store[0] = piece

    def infer_shape(self, fgraph, node, input_shapes):
        x, axis, splits = node.inputs
        sizes = sh.shape_entries(splits, self.len_splits)
        shape = list(input_shapes[0])
        return [
            _along_axis(axis, x.ndim, {d: size for d in range(x.ndim)}, shape) for size in sizes
        ]

    def connection_pattern(self, node):
        return [[True] * self.len_splits, [False] * self.len_splits, [False] * self.len_splits]

    def grad(self, inputs, output_grads):
        x, axis, _ = inputs
        return [base.float_grad(join(axis, *output_grads), x), None, None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None] * self.len_splits
        return self.make_node(eval_points[0], *inputs[1:]).outputs


def split(x: Any, splits_size: Any, n_splits: int, axis: Any = 0) -> list[Variable]:
    """`x` cut along `axis` into `n_splits` pieces of sizes `splits_size` (a list of pieces).

    Examples
    --------
    >>> a, b = split(dvector('v'), [2, 3], 2)
    """
    if isinstance(splits_size, (list, tuple)):
        splits_size = sh.shape_vector(list(splits_size), "split")
    outs = Split(n_splits)(x, axis, splits_size)
    return list(outs) if isinstance(outs, list) else [outs]


# ---------------------------------------------------------------------------------- stack, copy
def _common_dtype(items: Sequence[Any]) -> list[Variable]:
    """The items as tensors of one dtype (NumPy promotion; Python scalars are weak)."""
    variables = [as_tensor_variable(i) for i in items]
    strong = [v.dtype for v in variables if not getattr(v, "weak", False)]
    if strong:
        target = dtypes.upcast(*strong)
        variables = [sh._settle_weak(v, target) for v in variables]
    dtype = dtypes.upcast(*[v.dtype for v in variables])
    return [m.cast(v, dtype) for v in variables]


def stack(*tensors: Any, axis: int = 0) -> Variable:
    """The tensors stacked along a new axis: `stack([a, b], axis=0)`, or Theano's `stack(a, b, c)`.

    Examples
    --------
    >>> stack([dscalar('a'), dscalar('b')]).type.shape
    (2,)
    """
    if not tensors:
        raise ValueError("stack: nothing to stack")
    if isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise TypeError("stack: give a list of tensors and an optional axis")
        axis = tensors[1] if len(tensors) == 2 else axis
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("stack: nothing to stack")
    variables = _common_dtype(tensors)
    if len({v.ndim for v in variables}) > 1:
        kinds = ", ".join(str(v.type) for v in variables)
        raise TypeError(f"stack: all tensors must have the same number of dimensions, got {kinds}")
    if variables[0].ndim == 0 and axis in (0, -1):
        return sh.MakeVector(variables[0].dtype)(*variables)
    return join(axis, *[sh.shape_padaxis(v, axis) for v in variables])


def stack_nested(items: Sequence[Any]) -> Variable:
    """A (nested) list of scalars, tensors and numbers stacked into one tensor of a common dtype.

    `as_tensor_variable([a, b])` lands here when the list holds symbolic variables.

    Examples
    --------
    >>> stack_nested([[dscalar('a'), 1.0], [2.0, 3.0]]).type.shape
    (2, 2)
    """
    converted = iter(_common_dtype(_leaves(items)))

    def build(item: Any) -> Variable:
        if isinstance(item, (list, tuple)):
            return stack([build(child) for child in item])
        return next(converted)

    return build(items)


def _leaves(item: Any) -> list[Any]:
    if not isinstance(item, (list, tuple)):
        return [item]
    if not item:
        raise ValueError("stack_nested: cannot stack an empty list")
    return [leaf for child in item for leaf in _leaves(child)]


class TensorCopy(base.NumpyOp):
    """A copy of `x` in new memory (never a view)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def numpy_callable(self, node: Apply):
        return np.copy

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, inputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def tensor_copy(x: Any) -> Variable:
    """A copy of `x` that shares no memory with it (what `x.copy()` builds).

    Examples
    --------
    >>> tensor_copy(dvector('v')).owner.op
    TensorCopy
    """
    return TensorCopy()(x)
