"""Shape ops: Shape, Shape_i, MakeVector, Reshape, SpecifyShape, Rebroadcast, and the axis helpers.

Also the static-length helpers the op modules share (static_int, shape_vector, ...). May import
core.graph, core.op, core.type, core.dtypes, core.variable, core.ops.elemwise/math and, inside
functions, the sibling op modules (basic for Split, subtensor for vector indexing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops import math as m
from labsym.core.ops.base import NumpyOp, ShapeEntry, prod_lengths
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

# ops whose perform is a pure NumPy function, so a node of static inputs can be folded at build time
_FOLDABLE_MODULES = frozenset(
    {
        "labsym.core.ops.elemwise",
        "labsym.core.ops.shape",
        "labsym.core.ops.basic",
        "labsym.core.ops.repeat",
        "labsym.core.ops.subtensor",
    }
)
# ops that only select entries: `x.shape[0]` is static when the entry it selects is
_SELECTIONS = frozenset({"Subtensor", "AdvancedSubtensor", "AdvancedSubtensor1"})


# ---------------------------------------------------------------------------------- static facts
def static_value(var: Any, depth: int = 6) -> np.ndarray | None:
    """The value of a small int expression when it is known while building (shapes, constants)."""
    if isinstance(var, Constant):
        return var.data
    node = getattr(var, "owner", None)
    if node is None or depth == 0 or var.ndim > 1:
        return None
    if isinstance(node.op, Shape):
        static = node.inputs[0].type.shape
        return None if None in static else np.asarray(static, dtype="int64").reshape(len(static))
    if isinstance(node.op, Shape_i):
        length = node.inputs[0].type.shape[node.op.i]
        return None if length is None else np.asarray(length, dtype="int64")
    if not node.inputs or type(node.op).__module__ not in _FOLDABLE_MODULES:
        return None
    source = node.inputs[0].owner
    if type(node.op).__name__ in _SELECTIONS and source and isinstance(source.op, Shape):
        # select positions instead of lengths, then look the chosen positions up
        static = source.inputs[0].type.shape
        picked = _perform_static(var, [np.arange(len(static))] + node.inputs[1:], depth)
        if picked is None or any(static[p] is None for p in picked.reshape(-1)):
            return None
        return np.asarray([static[p] for p in picked.reshape(-1)], "int64").reshape(picked.shape)
    return _perform_static(var, node.inputs, depth)


def _perform_static(var: Any, inputs: list, depth: int) -> np.ndarray | None:
    """Run var's op on the static values of `inputs` (arrays are taken as they are)."""
    values = [v if isinstance(v, np.ndarray) else static_value(v, depth - 1) for v in inputs]
    if any(v is None for v in values):
        return None
    storage: list[list[Any]] = [[None] for _ in var.owner.outputs]
    try:
        var.owner.op.perform(var.owner, values, storage)
    except Exception:  # an expression that fails on its static values is just not static
        return None
    return np.asarray(storage[var.index][0])


def static_int(entry: Any) -> int | None:
    """An int length from a Python int or a symbolic scalar whose value is known statically."""
    if isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
        return int(entry)
    if getattr(entry, "ndim", None) != 0 or not dtypes.is_integer(entry.dtype):
        return None
    value = static_value(entry)
    return None if value is None else int(value)


def as_length(entry: Any, who: str) -> Variable:
    """A shape entry (int or symbolic int scalar) as an int64 scalar variable."""
    if isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
        return constant(int(entry), dtype="int64")
    var = as_tensor_variable(entry)
    if var.ndim != 0 or not dtypes.is_integer(var.dtype) or var.dtype == "bool":
        raise TypeError(
            f"{who}: a shape entry must be an int or an integer scalar, got {var} ({var.type})"
        )
    return m.cast(var, "int64")


def static_entries(vec: Variable, n: int) -> list[int | None]:
    """The statically known entries of an int vector of length n (None where unknown)."""
    value = static_value(vec)
    if value is not None:
        return [int(v) for v in value]
    node = vec.owner
    if node is not None and isinstance(node.op, MakeVector):
        return [static_int(v) for v in node.inputs]
    if node is not None and isinstance(node.op, Shape):
        return list(node.inputs[0].type.shape)
    return [None] * n


def shape_entries(vec: Variable, n: int) -> list[ShapeEntry]:
    """The entries of an int vector of length n, as ints where static, else symbolic scalars."""
    static = static_entries(vec, n)
    node = vec.owner
    out: list[ShapeEntry] = []
    for i, known in enumerate(static):
        if known is not None:
            out.append(known)
        elif node is not None and isinstance(node.op, MakeVector):
            out.append(node.inputs[i])
        elif node is not None and isinstance(node.op, Shape):
            out.append(shape_i(node.inputs[0], i))
        else:
            out.append(vec[i])
    return out


def shape_vector(entries: Sequence[Any], who: str) -> Variable:
    """An int64 vector from ints and symbolic scalars: a constant when all are ints."""
    if all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in entries):
        return constant(np.asarray(entries, dtype="int64").reshape(len(entries)))
    return MakeVector("int64")(*[as_length(e, who) for e in entries])


def axis_length(x: Variable, axis: int) -> ShapeEntry:
    """The length of an axis of `x`: its static int, or a Shape_i node."""
    static = x.type.shape[axis]
    return static if static is not None else shape_i(x, axis)


def lengths_of(x: Variable) -> list[ShapeEntry]:
    return [axis_length(x, k) for k in range(x.ndim)]


# ---------------------------------------------------------------------------------- Shape, Shape_i
class Shape(NumpyOp):
    """The shape of a tensor, as an int64 vector (`x.shape`)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))()])

    def numpy_callable(self, node: Apply):
        def shape_of(x):
            return np.asarray(x.shape, dtype="int64")

        return shape_of

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0].ndim,)]

    def connection_pattern(self, node):
        return [[False]]  # the values of x do not influence its shape

    def grad(self, inputs, output_grads):
        return [None]

    def R_op(self, inputs, eval_points):
        return [None]


class Shape_i(NumpyOp):  # noqa: N801 - Theano's name
    """The length of one axis of a tensor, as an int64 scalar (`Shape_i{0}(x)`)."""

    __props__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = int(i)

    def __str__(self) -> str:
        return f"Shape_i{{{self.i}}}"  # Theano's name

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"{self}: axis {self.i} is out of range for {x} ({x.type})")
        return Apply(self, [x], [TensorType("int64", ())()])

    def numpy_callable(self, node: Apply):
        i = self.i

        def shape_i_of(x):
            return np.asarray(x.shape[i], dtype="int64")

        return shape_i_of

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]

    def grad(self, inputs, output_grads):
        return [None]

    def R_op(self, inputs, eval_points):
        return [None]  # a shape does not change with the input's values


def shape(x: Any) -> Variable:
    """The symbolic shape of `x`: an int64 vector of length x.ndim.

    Theano's `x.shape`; index it (`x.shape[0]`) for one length.

    Examples
    --------
    >>> x = dmatrix('x'); shape(x).eval({x: np.zeros((2, 3))})
    array([2, 3])
    """
    return Shape()(x)


def shape_i(x: Any, i: int) -> Variable:
    """The length of axis `i` of `x` (negative counts from the end), as an int64 scalar.

    Cheaper to reason about than `x.shape[i]`: it does not go through indexing.

    Examples
    --------
    >>> shape_i(x, -1).eval({x: np.zeros((2, 3))})
    array(3)
    """
    x = as_tensor_variable(x)
    if not -x.ndim <= i < x.ndim:
        raise ValueError(f"shape_i: axis {i} is out of range for {x} ({x.type})")
    return Shape_i(i % x.ndim)(x)


# ---------------------------------------------------------------------------------- MakeVector
def _settle_weak(var: Variable, dtype: str) -> Variable:
    """A Python-scalar constant takes `dtype` (NEP 50), as it would next to a typed tensor."""
    if not getattr(var, "weak", False):
        return var
    return constant(var.data.item(), dtype=dtypes.weak_scalar_dtype(var.data.item(), dtype))


class MakeVector(NumpyOp):
    """A vector from scalars of one dtype (how shapes like `(n, 3)` become one symbolic input)."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64") -> None:
        self.dtype = dtypes.canonical_dtype(dtype)

    def make_node(self, *scalars: Any) -> Apply:
        variables = [_settle_weak(as_tensor_variable(s), self.dtype) for s in scalars]
        for i, v in enumerate(variables):
            if v.ndim != 0:
                raise TypeError(f"{self}: input {i} ({v}, {v.type}) is not a scalar")
            if v.dtype != self.dtype and not dtypes.can_cast_safely(v.dtype, self.dtype):
                raise TypeError(
                    f"{self}: input {i} has dtype {v.dtype}, which {self.dtype} cannot hold"
                )
        variables = [m.cast(v, self.dtype) for v in variables]
        return Apply(self, variables, [TensorType(self.dtype, (len(variables),))()])

    def numpy_callable(self, node: Apply):
        dtype = self.dtype

        def make_vector(*scalars):
            return np.asarray(scalars, dtype=dtype).reshape(len(scalars))

        return make_vector

    def infer_shape(self, fgraph, node, input_shapes):
        return [(len(node.inputs),)]

    def grad(self, inputs, output_grads):
        from labsym.core.ops.basic import split

        (gz,) = output_grads
        if not dtypes.is_float(self.dtype) or not inputs:
            return [None] * len(inputs)
        n = len(inputs)
        parts = split(gz, [1] * n, n) if n > 1 else [gz]
        return [m.cast(p.dimshuffle(()), x.dtype) for p, x in zip(parts, inputs, strict=True)]

    def R_op(self, inputs, eval_points):
        if any(e is None for e in eval_points):
            return [None]
        return [self(*eval_points)]


# ---------------------------------------------------------------------------------- Reshape
def _reshape_static_shape(who: str, in_shape: Sequence, entries: Sequence) -> tuple:
    """Static output shape of a reshape; raises when the static sizes cannot match."""
    if sum(e == -1 for e in entries) > 1:
        raise ValueError(
            f"{who}: can only specify one unknown dimension (-1), got {tuple(entries)}"
        )
    if any(e is not None and e < -1 for e in entries):
        raise ValueError(f"{who}: negative length in the new shape {tuple(entries)}")
    out = [None if e is None or e == -1 else e for e in entries]
    if None in in_shape or any(e is None for e in entries):
        return tuple(out)
    size = int(np.prod(in_shape, dtype="int64"))
    known = int(np.prod([e for e in entries if e != -1], dtype="int64"))
    problem = (
        f"{who}: cannot reshape an array of size {size} (static shape {tuple(in_shape)}) "
        f"into shape {tuple(entries)}"
    )
    if -1 in entries:
        if known == 0 or size % known:
            raise ValueError(problem)
        out[list(entries).index(-1)] = size // known
    elif known != size:
        raise ValueError(problem)
    return tuple(out)


class Reshape(NumpyOp):
    """`x` with a new shape of `ndim` entries (one may be -1); NumPy may return a view."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int) -> None:
        self.ndim = int(ndim)

    def __str__(self) -> str:
        return f"Reshape{{{self.ndim}}}"  # Theano's name

    def make_node(self, x: Any, shp: Any) -> Apply:
        x = as_tensor_variable(x)
        shp = as_tensor_variable(shp)
        if shp.ndim != 1 or not dtypes.is_integer(shp.dtype) or shp.dtype == "bool":
            raise TypeError(
                f"{self}: the new shape must be an integer vector, got {shp} ({shp.type})"
            )
        if shp.type.shape[0] not in (None, self.ndim):
            raise ValueError(
                f"{self}: the new shape has {shp.type.shape[0]} entries, expected {self.ndim}"
            )
        shp = m.cast(shp, "int64")
        static = _reshape_static_shape(str(self), x.type.shape, static_entries(shp, self.ndim))
        return Apply(self, [x, shp], [TensorType(x.dtype, static)()])

    def numpy_callable(self, node: Apply):
        ndim = self.ndim
        name = str(self)

        def reshape_checked(x, shp):
            if len(shp) != ndim:
                raise ValueError(
                    f"{name}: the shape vector {shp.tolist()} has {len(shp)} entries, "
                    f"expected {ndim}"
                )
            return np.reshape(x, shp)

        # a shape vector of static length needs no check: its type already guarantees it
        return np.reshape if node.inputs[1].type.shape[0] == ndim else reshape_checked

    def infer_shape(self, fgraph, node, input_shapes):
        x_shape = input_shapes[0]
        entries = shape_entries(node.inputs[1], self.ndim)
        static = node.outputs[0].type.shape
        if all(s is not None for s in static):
            return [tuple(static)]
        # one entry may be -1: it stands for size(x) / |product of the entries|
        rest = m.int_div(prod_lengths(x_shape), m.maximum(m.abs(prod_lengths(entries)), 1))
        out: list[ShapeEntry] = []
        for known, entry in zip(static, entries, strict=True):
            if known is not None:
                out.append(known)
            elif isinstance(entry, int):
                out.append(rest)  # the static -1
            else:
                out.append(m.switch(m.eq(entry, -1), rest, entry))
        return [tuple(out)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, _ = inputs
        (gz,) = output_grads
        return [reshape(gz, shape(x), ndim=x.ndim), None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


def reshape(x: Any, newshape: Any, ndim: int | None = None) -> Variable:
    """`x` with shape `newshape`: ints, one -1 and symbolic int scalars, or an int vector.

    The static output shape keeps every constant entry, so later ops see known lengths.

    Examples
    --------
    >>> x = dmatrix('x'); y = reshape(x, (shape_i(x, 0), -1, 2))
    >>> y.eval({x: np.zeros((2, 6))}).shape
    (2, 3, 2)
    """
    x = as_tensor_variable(x)
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    if isinstance(newshape, (list, tuple)):
        vec = shape_vector(list(newshape), "reshape")
    else:
        vec = as_tensor_variable(newshape)
        if vec.ndim == 0:
            vec = vec.dimshuffle("x")
    if vec.ndim != 1:
        raise TypeError(
            f"reshape: the new shape must be a tuple of lengths or an int vector, got {vec.type}"
        )
    length = vec.type.shape[0]
    if ndim is None:
        if length is None:
            raise ValueError(
                f"reshape: the new shape {vec} is a symbolic vector of unknown length; pass ndim="
            )
        ndim = length
    elif length is not None and length != ndim:
        raise ValueError(f"reshape: ndim={ndim} but the new shape has {length} entries")
    return Reshape(ndim)(x, vec)


def flatten(x: Any, ndim: int | None = None, outdim: int | None = None) -> Variable:
    """`x` with its first ndim-1 axes kept and the rest flattened into one (Theano's `flatten`).

    `outdim` is Theano's older name for `ndim` (default 1: a vector of every element).

    Examples
    --------
    >>> flatten(tensor3('x'), 2).type.ndim
    2
    """
    x = as_tensor_variable(x)
    ndim = outdim if ndim is None else ndim
    ndim = 1 if ndim is None else int(ndim)
    if ndim < 1 or (ndim > 1 and ndim > x.ndim):
        raise ValueError(f"flatten: ndim={ndim} is out of range [1, {x.ndim}] for {x} ({x.type})")
    lengths = [d if d is not None else shape_i(x, k) for k, d in enumerate(x.type.shape)]
    return reshape(x, lengths[: ndim - 1] + [prod_lengths(lengths[ndim - 1 :])])


# ---------------------------------------------------------------------------------- SpecifyShape
class SpecifyShape(NumpyOp):
    """`x` itself, after checking the lengths of `axes` at run time; refines the static shape.

    Inputs are x and one int64 scalar per checked axis.
    """

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: Sequence[int]) -> None:
        self.axes = tuple(int(a) for a in axes)

    def __str__(self) -> str:
        return "SpecifyShape"

    def make_node(self, x: Any, *lengths: Any) -> Apply:
        x = as_tensor_variable(x)
        if len(lengths) != len(self.axes) or any(not 0 <= a < x.ndim for a in self.axes):
            raise TypeError(f"SpecifyShape{self.axes}: {len(lengths)} lengths for {x} ({x.type})")
        lengths_ = [as_length(n, "specify_shape") for n in lengths]
        static = list(x.type.shape)
        for axis, n in zip(self.axes, lengths_, strict=True):
            known = static_int(n)
            if known is not None and static[axis] not in (None, known):
                raise ValueError(
                    f"specify_shape: {x} has static shape {x.type.shape}, which contradicts "
                    f"length {known} on axis {axis}"
                )
            static[axis] = known if known is not None else static[axis]
        return Apply(self, [x, *lengths_], [TensorType(x.dtype, static)()])

    def numpy_callable(self, node: Apply):
        axes = self.axes
        ndim = node.inputs[0].ndim

        def specify_shape_check(x, *lengths):
            for axis, n in zip(axes, lengths, strict=True):
                if x.shape[axis] != n:
                    expected = [None] * ndim
                    for a, k in zip(axes, lengths, strict=True):
                        expected[a] = int(k)
                    raise ValueError(
                        f"SpecifyShape: expected shape {tuple(expected)}, got {x.shape}"
                    )
            return x

        return specify_shape_check

    def infer_shape(self, fgraph, node, input_shapes):
        out = list(input_shapes[0])
        for axis, n in zip(self.axes, node.inputs[1:], strict=True):
            known = static_int(n)
            out[axis] = n if known is None else known
        return [tuple(out)]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * len(self.axes)

    def grad(self, inputs, output_grads):
        return [self(output_grads[0], *inputs[1:])] + [None] * len(self.axes)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def specify_shape(x: Any, shape: Any) -> Variable:
    """`x`, checked at run time to have `shape` (ints, None for "any", or symbolic lengths).

    Tells the compiler lengths it cannot infer; a wrong value raises a ValueError when run.

    Examples
    --------
    >>> y = specify_shape(dmatrix('x'), (None, 3)); y.type.shape
    (None, 3)
    """
    x = as_tensor_variable(x)
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            shape = [shape]
        elif shape.ndim != 1 or shape.type.shape[0] not in (None, x.ndim):
            raise ValueError(
                f"specify_shape: the shape {shape} ({shape.type}) does not fit {x.ndim} dims"
            )
        else:
            shape = shape_entries(shape, x.ndim)
    elif isinstance(shape, (int, np.integer)):
        shape = [shape]
    shape = list(np.asarray(shape).tolist()) if isinstance(shape, np.ndarray) else list(shape)
    if len(shape) != x.ndim:
        raise ValueError(
            f"specify_shape: {x} has {x.ndim} dimensions ({x.type}) but the shape "
            f"{tuple(shape)} has {len(shape)} entries"
        )
    axes, lengths = [], []
    for axis, entry in enumerate(shape):
        known = static_int(entry) if entry is not None else None
        if known is not None and known < 0:
            raise ValueError(f"specify_shape: negative length {known} in {tuple(shape)}")
        if entry is None or (known is not None and known == x.type.shape[axis]):
            continue  # nothing to check: no constraint, or already known statically
        axes.append(axis)
        lengths.append(entry)
    return SpecifyShape(axes)(x, *lengths) if axes else x


# ---------------------------------------------------------------------------------- broadcastable
class Rebroadcast(NumpyOp):
    """`x` itself with the broadcastable flag of some axes set: Theano's Rebroadcast((0, True)).

    A True axis must have length 1 (checked at run time), a False one forgets its static 1.
    """

    __props__ = ("axis",)
    view_map = {0: [0]}

    def __init__(self, *axis: tuple[int, bool]) -> None:
        for a, b in axis:
            if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
                raise TypeError(f"Rebroadcast needs integer axes. Got {a}")
            if not isinstance(b, (bool, np.bool_)):
                raise TypeError(f"Rebroadcast needs bool for new broadcast pattern. Got {b}")
        self.axis = tuple(sorted((int(a), bool(b)) for a, b in dict(axis).items()))

    def __str__(self) -> str:
        pattern = ["?"] * (1 + max((a for a, _ in self.axis), default=-1))
        for a, b in self.axis:
            pattern[a] = str(int(b))
        return f"Rebroadcast{{{','.join(pattern)}}}"

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if self.axis and x.ndim <= self.axis[-1][0]:
            raise ValueError("Trying to rebroadcast non-existent dimension")
        flags = dict(self.axis)
        static = [
            (1 if flags[a] else None) if a in flags else d for a, d in enumerate(x.type.shape)
        ]
        return Apply(self, [x], [TensorType(x.dtype, tuple(static))()])

    def numpy_callable(self, node: Apply):
        ones = [a for a, b in self.axis if b]

        def rebroadcast_view(x):
            for a in ones:
                if x.shape[a] != 1:
                    raise ValueError(
                        f"Dimension {a} in Rebroadcast's input was supposed to be 1 "
                        f"(got {x.shape[a]} instead)"
                    )
            return x

        return rebroadcast_view

    def infer_shape(self, fgraph, node, input_shapes):
        flags = dict(self.axis)
        return [tuple(1 if flags.get(a) else d for a, d in enumerate(input_shapes[0]))]

    def grad(self, inputs, output_grads):
        (x,) = inputs  # restore the input's broadcastable pattern on the gradient
        return [rebroadcast(output_grads[0], [(a, x.broadcastable[a]) for a, _ in self.axis])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def rebroadcast(x: Any, pairs: Sequence[tuple[int, bool]]) -> Variable:
    """Rebroadcast(*pairs)(x) without the entries x already satisfies (Theano's useless-
    rebroadcast rewrite, applied as it builds); consecutive Rebroadcasts become one."""
    x = as_tensor_variable(x)
    flags = {a: b for a, b in dict(pairs).items() if x.broadcastable[a] != b}
    if not flags:
        return x
    if x.owner is not None and isinstance(x.owner.op, Rebroadcast):
        flags = {**dict(x.owner.op.axis), **flags}
        x = x.owner.inputs[0]
    kept = [(a, b) for a, b in sorted(flags.items()) if x.broadcastable[a] != b]
    return Rebroadcast(*kept)(x) if kept else x


def _normalize_axes(who: str, axes: Sequence[int], ndim: int) -> list[int]:
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of range for a tensor of {ndim} dimensions")
        out.append(int(a) % ndim)
    return out


def unbroadcast(x: Any, *axes: int) -> Variable:
    """`x` with the given axes made non-broadcastable (a Rebroadcast node, as in Theano).

    Needed when a broadcastable value must take the type of a non-broadcastable one (scan, updates).

    Examples
    --------
    >>> unbroadcast(row('r'), 0).type.shape
    (None, None)
    """
    x = as_tensor_variable(x)
    return rebroadcast(x, [(a, False) for a in _normalize_axes("unbroadcast", axes, x.ndim)])


def addbroadcast(x: Any, *axes: int) -> Variable:
    """`x` with the given axes declared of length 1 (checked at run time), so they broadcast.

    Examples
    --------
    >>> addbroadcast(dmatrix('x'), 0).type.shape
    (1, None)
    """
    x = as_tensor_variable(x)
    return rebroadcast(x, [(a, True) for a in _normalize_axes("addbroadcast", axes, x.ndim)])


def patternbroadcast(x: Any, broadcastable: Sequence[bool]) -> Variable:
    """`x` with exactly the given broadcastable pattern (adding 1s is checked at run time).

    Examples
    --------
    >>> patternbroadcast(row('r'), (False, False)).broadcastable
    (False, False)
    """
    x = as_tensor_variable(x)
    if len(broadcastable) != x.ndim:
        raise ValueError(
            f"patternbroadcast: pattern {tuple(broadcastable)} does not fit {x} ({x.type})"
        )
    return rebroadcast(x, [(a, bool(b)) for a, b in enumerate(broadcastable)])


# ---------------------------------------------------------------------------- DimShuffle helpers
def shape_padleft(x: Any, n_ones: int = 1) -> Variable:
    """`x` with `n_ones` broadcastable axes added on the left.

    Examples
    --------
    >>> shape_padleft(dvector('v'), 2).type.shape
    (1, 1, None)
    """
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x: Any, n_ones: int = 1) -> Variable:
    """`x` with `n_ones` broadcastable axes added on the right.

    Examples
    --------
    >>> shape_padright(dvector('v')).type.shape
    (None, 1)
    """
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x: Any, axis: int) -> Variable:
    """`x` with one broadcastable axis inserted at position `axis` (NumPy's `expand_dims`).

    Examples
    --------
    >>> shape_padaxis(dmatrix('x'), -1).type.shape
    (None, None, 1)
    """
    x = as_tensor_variable(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(
            f"shape_padaxis: axis {axis} is out of range [{-x.ndim - 1}, {x.ndim}] for {x.type}"
        )
    axis = axis % (x.ndim + 1)
    order: list[int | str] = list(range(x.ndim))
    order.insert(axis, "x")
    return x.dimshuffle(order)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Variable:
    """`x` with its axes permuted (reversed by default), as a DimShuffle view.

    Examples
    --------
    >>> str(transpose(dmatrix('x')).owner.op)
    'InplaceDimShuffle{1,0}'
    """
    x = as_tensor_variable(x)
    if axes is None:
        out = x.dimshuffle(list(reversed(range(x.ndim))))
        if x.name:
            out.name = x.name + ".T"  # Theano's name, shown by debugprint: 'W.T'
        return out
    order = _normalize_axes("transpose", list(axes), x.ndim)
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of {x}"
        )
    return x.dimshuffle(order)


def broadcast_shape_symbolic(types: Sequence[TensorType], shapes: Sequence[Sequence[Any]]) -> tuple:
    """The output shape of an elementwise op from its inputs' types and symbolic shapes.

    Per axis: a static length when one is known, else the first non-broadcastable input's entry.
    """
    out: list[Any] = []
    for axis in range(types[0].ndim):
        static = [t.shape[axis] for t in types if t.shape[axis] not in (1, None)]
        if static:
            out.append(static[0])
            continue
        entries = [s[axis] for t, s in zip(types, shapes, strict=True) if t.shape[axis] != 1]
        out.append(entries[0] if entries else 1)
    return tuple(out)
