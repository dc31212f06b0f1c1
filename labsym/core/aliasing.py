"""Which variables share memory: ops' view_map and destroy_map, followed back or forward.

An output listed in an op's view_map is a view of those inputs; one in its destroy_map was
written into them. To whoever reads the buffer afterwards both say the same: the output *is*
(part of) that input's memory. The function graph, the destroy analysis, deep copies of
outputs and the engines' output copies all follow these maps with the functions here.
May import core.graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labsym.core.graph import Apply, Constant, Variable


def alias_map(node: Apply) -> dict[int, list[int]]:
    """Output index -> indices of the inputs whose memory that output may share (view_map
    entries first, then destroy_map's)."""
    merged: dict[int, list[int]] = {}
    for mapping in (getattr(node.op, "view_map", None), getattr(node.op, "destroy_map", None)):
        for out, ins in (mapping or {}).items():
            merged.setdefault(out, []).extend(ins)
    return merged


def aliased_inputs(var: Variable) -> list[Variable]:
    """The inputs of var's owner that `var` may be a view of, or was written into."""
    node = var.owner
    if node is None:
        return []
    return [node.inputs[i] for i in alias_map(node).get(var.index, ())]


def alias_root(var: Variable) -> Variable:
    """The variable whose memory `var` is: its first aliased input, followed back to a
    variable that aliases nothing."""
    while True:
        sources = aliased_inputs(var)
        if not sources:
            return var
        var = sources[0]


def alias_roots(var: Variable, inputs: set) -> set:
    """The graph `inputs` and constants whose memory `var` may share, along every alias path."""
    roots: set = set()
    stack = [var]
    while stack:
        v = stack.pop()
        if v in inputs or isinstance(v, Constant):
            roots.add(v)
        else:
            stack.extend(aliased_inputs(v))
    return roots


def memory_roots(var: Variable) -> set[Variable]:
    """Every variable that aliases nothing and whose memory `var` may be, along every path."""
    roots: set[Variable] = set()
    stack = [var]
    while stack:
        v = stack.pop()
        sources = aliased_inputs(v)
        if sources:
            stack.extend(sources)
        else:
            roots.add(v)
    return roots


def views_of(var: Variable, clients: Mapping[Variable, Sequence[tuple[Any, int]]]) -> set[Variable]:
    """`var` and every variable that views or overwrites its memory, found forward through
    `clients` (a FunctionGraph's: client nodes and their input index; non-node clients such
    as the function's outputs are skipped)."""
    found = {var}
    stack = [var]
    while stack:
        v = stack.pop()
        for client, index in clients.get(v, ()):
            if not isinstance(client, Apply):
                continue
            for out, ins in alias_map(client).items():
                view = client.outputs[out]
                if index in ins and view not in found:
                    found.add(view)
                    stack.append(view)
    return found
