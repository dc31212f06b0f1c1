"""The destroy/view analysis: which input buffers an op may overwrite without anyone noticing.

A buffer may be overwritten only if the function allocated it during this call and nothing
else ever reads it. May import core.
"""

from __future__ import annotations

from typing import Any

from labsym.core.aliasing import alias_map, aliased_inputs
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.shared import SharedVariable

# alias_map and aliased_inputs live in core.aliasing; re-exported for this module's users
__all__ = ["DestroyHandler", "alias_map", "aliased_inputs", "destroy_handler", "destroyed_inputs"]


def destroyed_inputs(node: Apply) -> list[int]:
    """Indices of the inputs `node` overwrites (its op's destroy_map), sorted."""
    return sorted(
        {i for ins in (getattr(node.op, "destroy_map", None) or {}).values() for i in ins}
    )


class DestroyHandler:
    """Decides, for the inplace rules, whether a node may overwrite one of its inputs.

    The rule is deliberately strict, so it holds in every schedule the linker may pick: the
    input's whole buffer (the variable and every view it was derived from) must have been
    computed during the call (never a function input, shared value or constant), and the
    candidate node must be the only reader of it (so it is dead after this node, and never a
    function output or update value).
    """

    def __init__(self, fgraph: FunctionGraph) -> None:
        self.fgraph = fgraph

    def why_not_destroy(self, node: Apply, index: int) -> str | None:
        """Why `node` may not overwrite input `index`, or None when it may."""
        clients = self.fgraph.clients
        for out, ins in (getattr(node.op, "view_map", None) or {}).items():
            if index in ins and clients.get(node.outputs[out]):
                return f"{node.outputs[out]} is a view of input {index} of the same node"
        stack: list[tuple[Variable, Any]] = [(node.inputs[index], node)]
        seen: set[Variable] = set()
        while stack:
            var, reader = stack.pop()
            if var in seen:
                continue
            seen.add(var)
            if var.owner is None:
                return f"{var} is {_root_kind(var)}: memory this call did not allocate"
            for client, _ in clients.get(var, ()):
                if client is not reader:
                    where = (
                        "a function output" if isinstance(client, str) else f"also read by {client}"
                    )
                    return f"{var} is {where}"
            sources = aliased_inputs(var)
            for sibling in var.owner.outputs:
                if sibling is not var and clients.get(sibling) and _shares_source(sibling, sources):
                    return f"{sibling} is another view of the memory of {var}"
            stack.extend((source, var.owner) for source in sources)
        return None

    def can_destroy(self, node: Apply, index: int) -> bool:
        """Whether `node` may write its result into the buffer of input `index`."""
        return self.why_not_destroy(node, index) is None

    def violations(self) -> list[str]:
        """Every destroyed input in the graph that breaks the rule (empty for a safe graph)."""
        problems = []
        for node in self.fgraph.toposort():
            for index in destroyed_inputs(node):
                reason = self.why_not_destroy(node, index)
                if reason is not None:
                    problems.append(f"{node} destroys input {index}: {reason}")
        return problems


def _root_kind(var: Variable) -> str:
    if isinstance(var, Constant):
        return "a constant"
    if isinstance(var, SharedVariable):
        return "a shared variable's value"
    return "a function input"


def _shares_source(var: Variable, sources: list[Variable]) -> bool:
    return any(source is other for source in sources for other in aliased_inputs(var))


def destroy_handler(fgraph: FunctionGraph) -> DestroyHandler:
    """The fgraph's DestroyHandler, attached on first use (the fgraph's explicit feature field)."""
    handler = fgraph.destroy_handler
    if not isinstance(handler, DestroyHandler) or handler.fgraph is not fgraph:
        handler = DestroyHandler(fgraph)
        fgraph.destroy_handler = handler
    return handler
