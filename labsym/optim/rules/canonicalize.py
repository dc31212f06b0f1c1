"""Canonical forms: identities removed, fills and casts dropped, powers named.

Each declarative rule states its math in `math=`. May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.optim.patterns import Rule

PHASE = ("canonicalize",)


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
    Rule("useless_fill", PHASE, node_rule=remove_useless_fill, tracks=("second",),
         math="fill(a, b) -> b when b has the output's shape"),
    Rule("merge_dimshuffles", PHASE, node_rule=merge_dimshuffles, tracks=(DimShuffle,),
         math="dimshuffle(dimshuffle(x)) -> dimshuffle(x); identity -> x"),
]
