"""Shape answers: `x.shape`, `Shape_i` and reduction sizes read from static shapes or from the
producing op's infer_shape, so a graph that only asks for x's shape does not compute x.

May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import call_infer_shape
from labsym.core.ops import math as m
from labsym.core.ops.reduce import ReductionSize
from labsym.core.ops.shape import MakeVector, Shape, Shape_i
from labsym.core.ops.subtensor import Subtensor
from labsym.core.variable import constant
from labsym.optim.patterns import Rule

PHASE = ("canonicalize", "specialize")
SHAPE_READERS = (Shape, Shape_i, ReductionSize)

# a length as the rules see it: a static int, an int scalar expression, or (var, axis) for
# "read axis `axis` of var at run time"
Length = int | Variable | tuple[Variable, int]


def _reads_only_shape(fgraph: Any, var: Variable) -> bool:
    """Whether nothing needs var's values, only its shape (so var need not be computed)."""
    return all(
        c != "output" and isinstance(c.op, SHAPE_READERS) for c, _ in fgraph.clients.get(var, ())
    )


def _inferred_length(fgraph: Any, var: Variable, axis: int) -> tuple[Any, dict] | None:
    """(axis `axis` of var by its op's infer_shape, {placeholder: (input, axis)}), or None.

    Unknown input lengths are passed as Shape_i placeholders, so an answer that is just an
    input's length can be recognised and followed further up the graph.
    """
    node = var.owner
    shapes, back = [], {}
    for inp in node.inputs:
        static = getattr(inp.type, "shape", None)
        if static is None:
            return None
        entries: list[Any] = []
        for j, length in enumerate(static):
            if length is None:
                placeholder = Shape_i(j)(inp)
                back[placeholder] = (inp, j)
                length = placeholder
            entries.append(length)
        shapes.append(tuple(entries))
    try:
        inferred = call_infer_shape(node.op, fgraph, node, shapes)[var.index]
    except Exception:  # an op without (or with a failing) infer_shape: x must be computed
        return None
    if len(inferred) != var.ndim:
        return None
    return inferred[axis], back


def _as_length(entry: Any) -> int | Variable | None:
    """An infer_shape entry as a Python int or an int scalar variable, or None if it is neither."""
    if isinstance(entry, (int, np.integer)) and not isinstance(entry, (bool, np.bool_)):
        return int(entry)
    if isinstance(entry, Variable) and entry.ndim == 0 and dtypes.is_integer(entry.dtype):
        return entry
    return None


def _resolve(fgraph: Any, var: Variable, axis: int) -> Length:
    """Axis `axis` of var, read as close to the graph inputs as costs nothing.

    Follows infer_shape while it answers with an input's length; an arithmetic answer is
    taken only where var's values are not needed otherwise.
    """
    while True:
        static = var.type.shape[axis]
        if static is not None:
            return int(static)
        found = _inferred_length(fgraph, var, axis) if var.owner is not None else None
        entry = None if found is None else _as_length(found[0])
        if entry is None:
            return (var, axis)
        if isinstance(entry, int):
            return entry
        if entry in found[1]:
            var, axis = found[1][entry]
            continue
        return entry if _reads_only_shape(fgraph, var) else (var, axis)


def _length_variable(length: Length) -> Variable:
    """A Length as an int64 scalar variable."""
    if isinstance(length, int):
        return constant(length, dtype="int64")
    if isinstance(length, tuple):
        return Shape_i(length[1])(length[0])
    return m.cast(length, "int64")


def _unchanged(length: Length, var: Variable, axis: int) -> bool:
    return isinstance(length, tuple) and length[0] is var and length[1] == axis


# ---------------------------------------------------------------------------- node rules
def shape_i_from_known(fgraph: Any, node: Apply) -> list | None:
    """Shape_i(i)(x) -> a constant, or the length it was computed from (e.g. an input's)."""
    if not isinstance(node.op, Shape_i):
        return None
    x, axis = node.inputs[0], node.op.i
    length = _resolve(fgraph, x, axis)
    return None if _unchanged(length, x, axis) else [_length_variable(length)]


def shape_from_known(fgraph: Any, node: Apply) -> list | None:
    """Shape(x) -> a constant, Shape(v) of the input v it equals, or a vector of lengths."""
    if not isinstance(node.op, Shape):
        return None
    x = node.inputs[0]
    lengths = [_resolve(fgraph, x, axis) for axis in range(x.ndim)]
    if all(isinstance(n, int) for n in lengths):
        return [constant(np.asarray(lengths, dtype="int64").reshape(len(lengths)))]
    if all(isinstance(n, int) or _unchanged(n, x, a) for a, n in enumerate(lengths)):
        return None  # nothing beyond the static lengths, which Shape's type already shows
    if all(isinstance(n, tuple) for n in lengths):
        source = lengths[0][0]
        if all(n == (source, a) for a, n in enumerate(lengths)) and source.ndim == x.ndim:
            return [Shape()(source)]
    return [MakeVector("int64")(*[_length_variable(n) for n in lengths])]


def shape_to_shape_i(fgraph: Any, node: Apply) -> list | None:
    """Shape(x) -> MakeVector(Shape_i{0}(x), Shape_i{1}(x), ...): Theano's optimized graphs
    read each length on its own (local_shape_to_shape_i), static lengths as constants."""
    if not isinstance(node.op, Shape) or node.inputs[0].ndim == 0:
        return None
    x = node.inputs[0]
    lengths = [(x, a) if n is None else int(n) for a, n in enumerate(x.type.shape)]
    return [MakeVector("int64")(*[_length_variable(n) for n in lengths])]


def reduction_size_from_shape(fgraph: Any, node: Apply) -> list | None:
    """ReductionSize(x) -> the product of the reduced lengths (a constant when they are static)."""
    if not isinstance(node.op, ReductionSize):
        return None
    x = node.inputs[0]
    axes = range(x.ndim) if node.op.axis is None else node.op.axis
    lengths = [_resolve(fgraph, x, a) for a in axes]
    static = int(np.prod([n for n in lengths if isinstance(n, int)], dtype="int64"))
    symbolic = [_length_variable(n) for n in lengths if not isinstance(n, int)]
    if not symbolic:
        return [constant(static, dtype="int64")]
    if len(symbolic) == 1 and static == 1:
        return [symbolic[0]]
    if not _reads_only_shape(fgraph, x):
        return None  # x is computed anyway: one ReductionSize beats a product of lengths
    return [m.mul(*symbolic, constant(static, dtype="int64"))]


def shape_entry(fgraph: Any, node: Apply) -> list | None:
    """Shape(x)[i] -> Shape_i(i)(x); MakeVector(a, b, ...)[i] -> the i-th scalar (constant i)."""
    if type(node.op) is not Subtensor or len(node.op.idx_list) != 1:
        return None
    vector, index = node.inputs[0], node.inputs[1:]
    if (
        not isinstance(node.op.idx_list[0], str)
        or len(index) != 1
        or not isinstance(index[0], Constant)
    ):
        return None
    source = vector.owner
    length = vector.type.shape[0]
    i = int(index[0].data)
    if source is None or length is None or not -length <= i < length:
        return None
    if isinstance(source.op, Shape):
        return [Shape_i(i % length)(source.inputs[0])]
    if isinstance(source.op, MakeVector):
        return [source.inputs[i % length]]
    return None


RULES = [
    Rule(
        "shape_i_from_known",
        PHASE,
        node_rule=shape_i_from_known,
        tracks=(Shape_i,),
        math="Shape_i(i)(f(a)) -> static length, or the length of a that infer_shape gives",
    ),
    Rule(
        "shape_from_known",
        PHASE,
        node_rule=shape_from_known,
        tracks=(Shape,),
        math="shape(f(a)) -> constant, shape(a), or make_vector of lengths by infer_shape",
    ),
    Rule(
        "shape_to_shape_i",
        ("specialize",),
        node_rule=shape_to_shape_i,
        tracks=(Shape,),
        math="shape(x) -> make_vector(Shape_i{0}(x), Shape_i{1}(x), ...)",
    ),
    Rule(
        "reduction_size_from_shape",
        PHASE,
        node_rule=reduction_size_from_shape,
        tracks=(ReductionSize,),
        math="ReductionSize{axes}(x) -> prod(x.shape[axes])",
    ),
    Rule(
        "shape_entry",
        PHASE,
        node_rule=shape_entry,
        tracks=(Subtensor,),
        math="shape(x)[i] -> Shape_i(i)(x); make_vector(a, b, ...)[i] -> i-th entry",
    ),
]
