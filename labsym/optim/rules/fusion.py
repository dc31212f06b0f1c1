"""Fusion: connected elementwise nodes become one Composite node (one loop, few temporaries).

May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.fgraph import OUTPUT
from labsym.core.graph import Apply, Constant, Variable, io_toposort
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.optim.patterns import Rule

PHASE = ("fusion",)


def _inlined(var: Variable) -> bool:
    """Size-1 constants become literals of the program rather than inputs."""
    return isinstance(var, Constant) and np.size(var.data) == 1


def _fusable(node: Apply | None) -> bool:
    """A single-output elementwise node reading at least one non-literal value."""
    if node is None:
        return False
    op = node.op
    if not isinstance(op, (Elemwise, Composite)) or op.inplace_pattern:
        return False  # an inplace node overwrites a buffer: it stays where the inplace phase put it
    if len(node.outputs) != 1:
        return False
    return not all(_inlined(v) for v in node.inputs)


def _absorbed_downstream(fgraph: Any, var: Variable) -> bool:
    """Whether every use of `var` is one fusable node, whose group will then take var's node."""
    clients = fgraph.clients.get(var, [])
    if not clients or any(client == OUTPUT for client, _ in clients):
        return False
    first = clients[0][0]
    return all(client is first for client, _ in clients) and _fusable(first)


def fusion_group(fgraph: Any, root: Apply) -> set[Apply]:
    """The fusable nodes feeding `root` whose results are used only inside the group.

    A node joins once all uses of its output are group members, so an intermediate with an
    outside client (another node, or a function output) stays one computation, read as an input.
    """
    group = {root}
    uses_inside: dict[Variable, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for var in node.inputs:
            producer = var.owner
            if producer is None or producer in group or not _fusable(producer):
                continue
            uses_inside[var] = uses_inside.get(var, 0) + 1
            if uses_inside[var] == len(fgraph.clients[var]):
                group.add(producer)
                stack.append(producer)
    return group


def _group_inputs(group: set[Apply], root: Apply) -> list[Variable]:
    """The values the group reads from outside, in a deterministic (schedule) order."""
    outside = {v for node in group for v in node.inputs if v.owner not in group and not _inlined(v)}
    inputs: list[Variable] = []
    for node in io_toposort(list(outside), root.outputs):
        for var in node.inputs:
            if var in outside and var not in inputs:
                inputs.append(var)
    return inputs


def fuse_elemwise(fgraph: Any, node: Apply) -> list | None:
    """Replace a maximal group of elementwise nodes ending at `node` by one Composite node."""
    if not _fusable(node) or _absorbed_downstream(fgraph, node.outputs[0]):
        return None
    group = fusion_group(fgraph, node)
    if len(group) < 2:
        return None
    inputs = _group_inputs(group, node)
    return [Composite.from_graph(inputs, node.outputs)(*inputs)]


RULES = [
    Rule(
        "fuse_elemwise",
        PHASE,
        node_rule=fuse_elemwise,
        tracks=(Elemwise, Composite),
        math="f(g(x), h(y)) -> Composite{f(g(i0), h(i1))}(x, y)",
    ),
]
