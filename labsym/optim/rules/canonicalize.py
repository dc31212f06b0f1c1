"""Canonical forms: identities removed, fills and casts dropped, powers named.

Each declarative rule states its math in `math=`. May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.reduce import Sum
from labsym.optim.patterns import Rule

# canonical forms are re-established after every phase that may break them
PHASE = ("canonicalize", "stabilize", "specialize")


def remove_useless_fill(fgraph: Any, node: Apply) -> list | None:
    """second(a, b) -> b when b already has the output's shape (e.g. fill(scalar, 1) -> 1)."""
    if not (isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second"):
        return None
    a, b = node.inputs
    out = node.outputs[0]
    if b.type.shape == out.type.shape and all(d is not None for d in b.type.shape):
        return [b]
    if a.type.shape == out.type.shape and b.type.shape == a.type.shape and b.ndim == 0:
        return [b]
    return None


def merge_dimshuffles(fgraph: Any, node: Apply) -> list | None:
    """dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p o q); identity dimshuffle -> x."""
    op = node.op
    if not isinstance(op, DimShuffle):
        return None
    x = node.inputs[0]
    if op.new_order == tuple(range(op.input_ndim)):
        return [x]
    inner = x.owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    composed = tuple("x" if o == "x" else inner.op.new_order[o] for o in op.new_order)
    return [DimShuffle(inner.op.input_ndim, composed)(inner.inputs[0])]


def _is_fill(var: Any) -> bool:
    node = var.owner
    return node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second"


def _covers(v: Any, a: Any) -> bool:
    """Whether v is non-broadcastable wherever a is (so v alone fixes those lengths)."""
    return v.ndim == a.ndim and all(ad == 1 or vd != 1 for ad, vd in zip(a.type.shape, v.type.shape))


def _within(v: Any, a: Any) -> bool:
    """Whether v is broadcastable wherever a is not (so v never widens a's shape)."""
    return v.ndim == a.ndim and all(ad != 1 or vd == 1 for ad, vd in zip(a.type.shape, v.type.shape))


def sink_fill(fgraph: Any, node: Apply) -> list | None:
    """f(fill(a, b), c) -> f(b, c) when c fixes the shape; else fill(a, f(b, c)) when c fits in a."""
    op = node.op
    if not isinstance(op, Elemwise) or op.scalar_op.name == "second" or op.inplace_pattern:
        return None
    for i, inp in enumerate(node.inputs):
        if not _is_fill(inp):
            continue
        a, b = inp.owner.inputs
        others = node.inputs[:i] + node.inputs[i + 1 :]
        new_inputs = node.inputs[:i] + [b] + node.inputs[i + 1 :]
        if any(_covers(v, a) and not _is_fill(v) for v in others):
            return [op(*new_inputs)]
        if all(_within(v, a) for v in others):
            from labsym.core.ops.math import second

            return [second(a, op(*new_inputs))]
    return None


def sum_over_length_one_axes(fgraph: Any, node: Apply) -> list | None:
    """sum(x, axes) -> x without those axes, when every summed axis has static length 1."""
    op = node.op
    if type(op) is not Sum or node.outputs[0].dtype != node.inputs[0].dtype:
        return None
    x = node.inputs[0]
    axes = range(x.ndim) if op.axis is None else op.axis
    if any(x.type.shape[a] != 1 for a in axes):
        return None
    kept = [a for a in range(x.ndim) if a not in set(axes)]
    return [DimShuffle(x.ndim, kept)(x)]


RULES = [
    Rule("mul_by_one", PHASE, ("mul", "x", 1), "x", math="x * 1 -> x"),
    Rule("add_zero", PHASE, ("add", "x", 0), "x", math="x + 0 -> x"),
    Rule("sub_zero", PHASE, ("sub", "x", 0), "x", math="x - 0 -> x"),
    Rule("div_by_one", PHASE, ("true_div", "x", 1), "x", math="x / 1 -> x"),
    Rule("double_neg", PHASE, ("neg", ("neg", "x")), "x", math="--x -> x"),
    Rule("div_self", PHASE, ("true_div", "x", "x"), ("second", "x", 1), math="x / x -> 1"),
    Rule("sub_self", PHASE, ("sub", "x", "x"), ("second", "x", 0), math="x - x -> 0"),
    Rule("add_sub_cancel", PHASE, ("sub", ("add", "x", "y"), "x"), "y", math="x + y - x -> y"),
    Rule("mul_div_cancel", PHASE, ("true_div", ("mul", "x", "y"), "x"), "y", math="x * y / x -> y"),
    Rule("pow_two", PHASE, ("pow", "x", 2), ("sqr", "x"), math="x ** 2 -> sqr(x)"),
    Rule("pow_one", PHASE, ("pow", "x", 1), "x", math="x ** 1 -> x"),
    Rule("mul_minus_one", PHASE, ("mul", "x", -1), ("neg", "x"), math="x * -1 -> -x"),
    Rule("neg_of_sub", PHASE, ("neg", ("sub", "x", "y")), ("sub", "y", "x"), math="-(x - y) -> y - x"),
    Rule("sub_neg", PHASE, ("sub", "x", ("neg", "y")), ("add", "x", "y"), math="x - -y -> x + y"),
    # signs float outwards so that pairs cancel: -x * y -> -(x * y), then --z -> z
    Rule("neg_out_of_mul", PHASE, ("mul", ("neg", "x"), "y"), ("neg", ("mul", "x", "y")), math="-x * y -> -(x * y)"),
    Rule("neg_out_of_div_num", PHASE, ("true_div", ("neg", "x"), "y"), ("neg", ("true_div", "x", "y")),
         math="-x / y -> -(x / y)"),
    Rule("neg_out_of_div_den", PHASE, ("true_div", "x", ("neg", "y")), ("neg", ("true_div", "x", "y")),
         math="x / -y -> -(x / y)"),
    Rule("add_neg", PHASE, ("add", "x", ("neg", "y")), ("sub", "x", "y"), math="x + -y -> x - y"),
    Rule("neg_sub_first", PHASE, ("sub", ("neg", "x"), "y"), ("neg", ("add", "x", "y")), math="-x - y -> -(x + y)"),
    Rule("useless_fill", PHASE, node_rule=remove_useless_fill, tracks=("second",),
         math="fill(a, b) -> b when b has the output's shape"),
    Rule("merge_dimshuffles", PHASE, node_rule=merge_dimshuffles, tracks=(DimShuffle,),
         math="dimshuffle(dimshuffle(x)) -> dimshuffle(x); identity -> x"),
    Rule("sink_fill", PHASE, node_rule=sink_fill, tracks=(Elemwise,),
         math="f(fill(a, b), c) -> f(b, c) when c fixes the shape, else fill(a, f(b, c))"),
    Rule("sum_over_length_one_axes", PHASE, node_rule=sum_over_length_one_axes, tracks=(Sum,),
         math="sum of x over axes of length 1 -> x without those axes"),
]
