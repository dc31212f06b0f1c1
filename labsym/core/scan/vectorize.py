"""A Scan that only maps (no recurrent or shared state) as the batched form of its inner graph.

Each inner value either does not depend on the sequences (computed once, outside any loop) or
is "batched": it gains a leading axis with one entry per step. Every inner node with a batched
input is rebuilt by a batching rule of its op (Elemwise, DimShuffle, Dot, reductions, basic
indexing, Alloc, Reshape, Split, Join, shapes); a node no rule covers leaves the Scan as it is.
This is how `jacobian`/`hessian` lose their loop over rows (PyTensor's vectorized jacobian).

May import core.graph, core.ops, core.scan.op, core.type, core.variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from labsym.core.graph import Apply, Constant, Variable, io_toposort
from labsym.core.ops import basic, blas, reduce, shape, subtensor
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.math import cast
from labsym.core.scan.op import Scan
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

# a batching rule: (node, its new inputs, which are batched, the step count) -> new outputs
# (each batched) or None when it cannot batch this node
BatchRule = Callable[[Apply, list[Variable], list[bool], Variable], list[Variable] | None]
_RULES: dict[type, BatchRule] = {}


def _rule(*ops: type) -> Callable[[BatchRule], BatchRule]:
    def register(fn: BatchRule) -> BatchRule:
        for op in ops:
            _RULES[op] = fn
        return fn

    return register


def is_map(op: Any) -> bool:
    """Whether `op` is a Scan whose steps are independent: sequences and non-sequences only."""
    if not isinstance(op, Scan):
        return False
    info = op.info
    return not (info.n_states or info.n_shared or info.as_while) and info.n_nit_sot > 0


def vectorize_map(node: Apply) -> list[Variable] | None:
    """The outputs of the map Scan `node` computed without a loop, or None if an inner op has no
    batching rule. Results equal the loop's up to the summation order a batched BLAS call uses."""
    op = node.op
    if not is_map(op):
        return None
    info = op.info
    n_steps = node.inputs[0]
    seqs, _, _, nonseqs = info.outer_groups(node.inputs[1:])
    in_seqs, _, _, in_nonseqs = info.inner_groups(op.fgraph.inputs)
    # a batched value: its leading axis has the steps; unbatched values are loop invariants
    new: dict[Variable, Variable] = dict(zip(in_nonseqs, nonseqs, strict=True))
    batched: set[Variable] = set()
    for inner, seq in zip(in_seqs, seqs, strict=True):
        new[inner] = seq[:n_steps]
        batched.add(inner)
    if not batch_nodes(io_toposort(op.fgraph.inputs, op.fgraph.outputs), new, batched, n_steps):
        return None
    results = []
    for inner, outer in zip(op.fgraph.outputs, node.outputs, strict=True):
        value = _input(new, inner)
        if inner not in batched:  # the same row at every step
            value = _broadcast(value, n_steps)
        if value.dtype != outer.dtype:
            value = cast(value, outer.dtype)
        results.append(value)
    return results


def batch_nodes(
    nodes: Sequence[Apply], new: dict[Variable, Variable], batched: set[Variable], n: Variable
) -> bool:
    """Rebuild `nodes` (in order) on the values `new` maps their inputs to, batching those with
    an input in `batched` (whose new values have a leading axis of n steps); fills `new` and
    `batched`. False if some node cannot be batched (then `new` is partly filled)."""
    try:
        for apply in nodes:
            outs = _batch_node(apply, new, batched, n)
            if outs is None:
                return False
            for old, out in zip(apply.outputs, outs, strict=True):
                new[old] = out
    except (TypeError, ValueError, NotImplementedError):
        return False  # a rule met types it does not handle
    return True


def _input(new: dict[Variable, Variable], var: Variable) -> Variable:
    if var in new:
        return new[var]
    if isinstance(var, Constant):
        return var
    raise ValueError(f"vectorize: {var} is neither an inner input nor computed")


def _batch_node(
    node: Apply, new: dict[Variable, Variable], batched: set[Variable], n: Variable
) -> list[Variable] | None:
    """node's outputs in the batched graph (marking the batched ones), or None."""
    if not movable(node):
        return None
    inputs = [_input(new, v) for v in node.inputs]
    flags = [v in batched for v in node.inputs]
    if not any(flags):
        return list(node.op.make_node(*inputs).outputs)
    rule = _RULES.get(type(node.op))
    if rule is None:
        return None
    outs = rule(node, inputs, flags, n)
    if outs is None:
        return None
    for old, out in zip(node.outputs, outs, strict=True):
        if out.ndim == old.ndim + 1:
            batched.add(old)
        elif out.ndim != old.ndim:
            raise ValueError(f"vectorize: {node.op} gave {out.type} for {old.type}")
    return outs


def movable(node: Apply) -> bool:
    """Whether node may run once for all steps: it overwrites no input and reads and makes
    only tensors (a random draw's generator input/output keeps it in its loop)."""
    if getattr(node.op, "destroy_map", None):
        return False
    return all(isinstance(v.type, TensorType) for v in (*node.inputs, *node.outputs))


def _lift(var: Variable) -> Variable:
    """An unbatched value with a length-1 leading axis, so it broadcasts over the steps."""
    return var.dimshuffle("x", *range(var.ndim))


def _broadcast(var: Variable, n: Variable) -> Variable:
    """An unbatched value repeated on a new leading axis of length n."""
    lengths = [shape.shape_i(var, a) for a in range(var.ndim)]
    return basic.alloc(var, n, *lengths)


def _spread(var: Variable, ndim: int) -> Variable:
    """A batched value padded with length-1 axes after the batch axis up to ndim + 1 dims."""
    pad = ndim + 1 - var.ndim
    return var.dimshuffle(0, *(["x"] * pad), *range(1, var.ndim))


def _shift(axes: Sequence[int], ndim: int) -> tuple[int, ...]:
    """Inner axes (negative ones counted from the end of ndim dims) as batched axes."""
    return tuple((a % ndim) + 1 for a in axes)


# ---------------------------------------------------------------- rules
@_rule(Elemwise)
def _elemwise(node, inputs, flags, n):
    ndim = node.outputs[0].ndim
    args = [
        _spread(v, ndim) if b else _lift(v) if v.ndim == ndim else v
        for v, b in zip(inputs, flags, strict=True)
    ]
    return list(Elemwise(node.op.scalar_op).make_node(*args).outputs)


@_rule(DimShuffle)
def _dimshuffle(node, inputs, flags, n):
    order = [o if o == "x" else o + 1 for o in node.op.new_order]
    return [inputs[0].dimshuffle(0, *order)]


@_rule(blas.Dot)
def _dot(node, inputs, flags, n):
    (a, b), (ba, bb) = inputs, flags
    na, nb = a.ndim - ba, b.ndim - bb  # inner ranks
    if ba and bb:
        if na == nb == 1:
            return [(a * b).sum(axis=1)]
        return [blas.batched_dot(a, b)]
    if ba:  # A: (n, [p,] k) . b: (k[, m])
        if na == 1:
            return [blas.dot(a, b)]
        return [blas.tensordot(a, b, [[2], [0]])]
    # a: ([p,] k) . B: (n, k[, m])
    if na == 1:
        return [blas.dot(b, a)] if nb == 1 else [blas.tensordot(a, b, [[0], [1]])]
    if nb == 1:
        return [blas.dot(b, a.T)]
    return [blas.tensordot(a, b, [[1], [1]]).dimshuffle(1, 0, 2)]


@_rule(reduce.Sum, reduce.Prod, reduce.ProdWithoutZeros, reduce.Max, reduce.Min)
@_rule(reduce.All, reduce.Any)
def _careduce(node, inputs, flags, n):
    op, ndim = node.op, node.inputs[0].ndim
    axis = tuple(range(ndim)) if op.axis is None else op.axis
    props = {p: getattr(op, p) for p in op.__props__}
    props["axis"] = _shift(axis, ndim)
    return list(type(op)(**props).make_node(inputs[0]).outputs)


@_rule(subtensor.Subtensor)
def _subtensor(node, inputs, flags, n):
    if any(flags[1:]):
        return None  # an index that changes per step: a gather, not batched here
    op = subtensor.Subtensor((slice(None), *node.op.idx_list))
    return list(op.make_node(*inputs).outputs)


@_rule(subtensor.IncSubtensor)
def _inc_subtensor(node, inputs, flags, n):
    if any(flags[2:]):
        return None
    x, y = inputs[:2]
    region = node.op.getter()(node.inputs[0], *node.inputs[2:]).ndim
    x = x if flags[0] else _broadcast(x, n)
    y = _spread(y, region) if flags[1] else y
    op = type(node.op)((slice(None), *node.op.idx_list), node.op.set_instead_of_inc)
    return list(op.make_node(x, y, *inputs[2:]).outputs)


@_rule(basic.Alloc)
def _alloc(node, inputs, flags, n):
    if any(flags[1:]):
        return None  # a shape that changes per step
    value, lengths = inputs[0], inputs[1:]
    return [basic.alloc(_spread(value, len(lengths)), n, *lengths)]


@_rule(shape.SpecifyShape)
def _specify_shape(node, inputs, flags, n):
    if any(flags[1:]):
        return None
    op = shape.SpecifyShape(_shift(node.op.axes, node.inputs[0].ndim))
    return list(op.make_node(*inputs).outputs)


@_rule(shape.Reshape)
def _reshape(node, inputs, flags, n):
    if flags[1]:
        return None
    x, shp = inputs
    lengths = basic.join(0, shape.MakeVector("int64")(n), cast(shp, "int64"))
    return [shape.Reshape(node.op.ndim + 1)(x, lengths)]


def _static_axis(var: Variable, ndim: int) -> int | None:
    """A constant axis input as a batched axis, or None if it is symbolic."""
    if not isinstance(var, Constant):
        return None
    return int(var.data) % ndim + 1


@_rule(basic.Split)
def _split(node, inputs, flags, n):
    axis = _static_axis(node.inputs[1], node.inputs[0].ndim)
    if axis is None or any(flags[1:]):
        return None
    return _as_list(node.op(inputs[0], axis, inputs[2]))


@_rule(basic.Join)
def _join(node, inputs, flags, n):
    axis = _static_axis(node.inputs[0], node.outputs[0].ndim)
    if axis is None or flags[0]:
        return None
    parts = [v if b else _broadcast(v, n) for v, b in zip(inputs[1:], flags[1:], strict=True)]
    return [basic.join(axis, *parts)]


@_rule(shape.Shape_i)
def _shape_i(node, inputs, flags, n):
    return [shape.shape_i(inputs[0], node.op.i + 1)]


@_rule(shape.Shape)
def _shape(node, inputs, flags, n):
    return [inputs[0].shape[1:]]


def _as_list(outs: Any) -> list[Variable]:
    return [as_tensor_variable(o) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]
