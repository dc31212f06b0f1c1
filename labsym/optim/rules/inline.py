"""Inlining: an OpFromGraph built with inline=True is replaced by a copy of its inner graph.

May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.ops.opfromgraph import OpFromGraph
from labsym.optim.patterns import Rule


def inline_opfromgraph(fgraph: Any, node: Apply) -> list | None:
    """OpFromGraph{inline}(a, b) -> its inner graph with a and b in place of its inputs."""
    if not isinstance(node.op, OpFromGraph) or not node.op.inline:
        return None
    return node.op.inline_expansion(node.inputs)


RULES = [
    Rule(
        "inline_opfromgraph",
        ("canonicalize",),
        node_rule=inline_opfromgraph,
        tracks=(OpFromGraph,),
        math="OpFromGraph{inline}[f](x) -> f(x)",
    ),
]
