"""Turns the node schedule into statements, nesting lazy ops' branches in `if` blocks.

A node that only feeds one branch of a lazy op (IfElse) is emitted inside that branch, so a
branch not taken is never computed; everything else runs in schedule order.
May import core.graph and core.io.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labsym.core.graph import Apply, Variable
from labsym.core.io import NodeCode


@dataclass
class Statement:
    """One emitted line (or group of lines) at an indentation depth, and what it reads."""

    depth: int
    lines: list[str]
    node: Apply | None
    uses: list[Variable] = field(default_factory=list)
    may_free_after: bool = True  # False for `if`/`else` headers: nothing may follow them directly


def _exclusive(fgraph: Any, lazy: Apply, slots: list[int], order: dict[Apply, int]) -> set[Apply]:
    """Nodes whose every result only reaches `lazy` through the given input slots."""
    roots = {lazy.inputs[i].owner for i in slots} - {None}
    candidates = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in candidates or node not in order:
            continue
        candidates.add(node)
        stack.extend(v.owner for v in node.inputs if v.owner is not None)
    exclusive: set[Apply] = set()
    outputs = set(fgraph.outputs)
    for node in sorted(candidates, key=order.__getitem__, reverse=True):
        ok = True
        for out in node.outputs:
            if out in outputs:
                ok = False
                break
            for client, index in fgraph.clients.get(out, ()):
                if client is lazy and index in slots:
                    continue
                if client not in exclusive:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            exclusive.add(node)
    return exclusive


def branch_owners(fgraph: Any, schedule: list[Apply]) -> dict[Apply, tuple[Apply, str]]:
    """For each node inside a lazy branch: the innermost (lazy node, 'then'|'else') owning it."""
    order = {node: i for i, node in enumerate(schedule)}
    sets: list[tuple[int, Apply, str, set[Apply]]] = []
    for node in schedule:
        branches = getattr(node.op, "lazy_branches", None)
        if branches is None:
            continue
        _, then_slots, else_slots = branches(node)
        for side, slots in (("then", then_slots), ("else", else_slots)):
            members = _exclusive(fgraph, node, slots, order)
            sets.append((len(members), node, side, members))
    owners: dict[Apply, tuple[Apply, str]] = {}
    for _, lazy, side, members in sorted(sets, key=lambda s: -s[0]):
        for member in members:
            owners[member] = (lazy, side)  # smaller (inner) sets overwrite larger ones
    return owners


def statements(fgraph: Any, codes: list[NodeCode], names: Any, body_of: Any) -> list[Statement]:
    """The flat statement list: node bodies in order, lazy nodes as `if`/`else` blocks."""
    schedule = [nc.node for nc in codes]
    code_of = {nc.node: (i, nc) for i, nc in enumerate(codes)}
    owners = branch_owners(fgraph, schedule)
    members: dict[tuple[Apply | None, str], list[Apply]] = {}
    for node in schedule:
        members.setdefault(owners.get(node, (None, "")), []).append(node)
    out: list[Statement] = []

    def emit(block: list[Apply], depth: int) -> None:
        for node in block:
            branches = getattr(node.op, "lazy_branches", None)
            if branches is None:
                index, nc = code_of[node]
                out.append(Statement(depth, body_of(index, nc), node, list(node.inputs)))
                continue
            cond, then_slots, else_slots = branches(node)
            cond_name = names[node.inputs[cond]]
            out.append(Statement(depth, [f"if {cond_name}:"], node, [node.inputs[cond]], False))
            for side, slots in (("then", then_slots), ("else", else_slots)):
                if side == "else":
                    out.append(Statement(depth, ["else:"], node, [], False))
                emit(members.get((node, side), []), depth + 1)
                assigns = [
                    f"{names[o]} = {names[node.inputs[s]]}" for o, s in zip(node.outputs, slots)
                ]
                out.append(Statement(depth + 1, assigns, node, [node.inputs[s] for s in slots]))

    emit(members.get((None, ""), []), 0)
    return out
