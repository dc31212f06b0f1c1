"""Fusion of an elementwise group into the reduction that is its only use: `sum(exp(x - m))`
becomes one FusedReduce node, which a native backend runs in one pass with no temporary.
Opt-in (`mode.including("fuse_reduce_elemwise")`): FAST_RUN keeps Theano's Composite + Sum.

May import core and optim (patterns, rules.fusion).
"""

from __future__ import annotations

from typing import Any

from labsym.core.fgraph import OUTPUT
from labsym.core.graph import Apply, Variable, io_toposort
from labsym.core.ops import reduce as red
from labsym.core.ops.composite import Composite
from labsym.core.ops.fused_reduce import FusedReduce
from labsym.optim.patterns import Rule
from labsym.optim.rules.fusion import _fusable, _inlined, fusion_group

PHASE = ("fusion",)
# the reductions a FusedReduce takes (ProdWithoutZeros and others keep their own node)
REDUCTIONS = (red.Sum, red.Prod, red.Max, red.Min, red.All, red.Any)


def _outside_inputs(group: set[Apply], root: Apply) -> list[Variable]:
    """The values the group reads from outside, in schedule order (size-1 constants inlined)."""
    outside = {v for n in group for v in n.inputs if v.owner not in group and not _inlined(v)}
    inputs: list[Variable] = []
    for n in io_toposort(list(outside), root.outputs):
        for var in n.inputs:
            if var in outside and var not in inputs:
                inputs.append(var)
    return inputs


def fuse_reduce(fgraph: Any, node: Apply) -> list | None:
    """reduce(f(...)) -> FusedReduce{reduce, f}(...) when the reduction is f's only client."""
    if type(node.op) not in REDUCTIONS:
        return None
    var = node.inputs[0]
    producer = var.owner
    if producer is None or not _fusable(producer):
        return None
    clients = fgraph.clients.get(var, [])
    if len(clients) != 1 or clients[0][0] == OUTPUT or clients[0][0] is not node:
        return None
    group = fusion_group(fgraph, producer)
    inputs = _outside_inputs(group, producer)
    if not inputs:
        return None
    composite = Composite.from_graph(inputs, producer.outputs)
    return [FusedReduce(node.op, composite)(*inputs)]


RULES = [
    Rule(
        "fuse_reduce_elemwise",
        PHASE,
        node_rule=fuse_reduce,
        tracks=REDUCTIONS,
        math="sum(f(x, y)) -> FusedReduce{sum, Composite{f(i0, i1)}}(x, y)",
        # opt-in: it changes the graphs Theano's FAST_RUN printed; native linkers include it
        extra={"opt_in": True},
    ),
]
