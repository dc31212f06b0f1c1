"""A state's history joined after its initial rows, without the join's copy.

A backward loop reads each state's previous values, `join(0, init, h)` = [init, h_0 .. h_T-1]:
a copy of the whole history. The forward loop already holds exactly that in its buffer, so
`keep_init` has the Scan return the buffer with its initial rows (`with_init`), and
`join_init` replaces the join by it; other readers of h get a view after the initial rows.

May import core.graph, core.ops and core.scan.op.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from labsym.core.fgraph import OUTPUT
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops.basic import Join
from labsym.core.ops.subtensor import Subtensor
from labsym.core.scan.op import Scan, apply_scan


def _join_parts(node: Apply) -> tuple[Variable, Variable] | None:
    """(first, second) of a Join of two tensors along a constant axis 0, else None."""
    if not isinstance(node.op, Join) or len(node.inputs) != 3:
        return None
    axis = node.inputs[0]
    if not isinstance(axis, Constant) or int(axis.data) != 0:
        return None
    return node.inputs[1], node.inputs[2]


def _init_of(scan: Apply, k: int) -> Variable:
    return scan.inputs[1 + scan.op.info.n_seqs + k]


def _joined_states(fgraph: Any, scan: Apply) -> list[int]:
    """States k whose history some client joins after exactly the Scan's initial rows."""
    info = scan.op.info
    found = []
    for k in range(info.n_states):
        if info.final_only[k] or info.keeps_init(k):
            continue
        init = _init_of(scan, k)
        if init.type.shape[0] != info.spans[k]:
            continue
        for client, _ in fgraph.clients.get(scan.outputs[k], []):
            if client == OUTPUT:
                continue
            parts = _join_parts(client)
            if parts is not None and parts[0] is init and parts[1] is scan.outputs[k]:
                found.append(k)
                break
    return found


def keep_init(fgraph: Any, node: Apply) -> list[Variable] | None:
    """A Scan whose state history is joined after its initial rows returns them itself."""
    if not isinstance(node.op, Scan) or node.op.info.as_while:
        return None
    states = _joined_states(fgraph, node)
    if not states:
        return None
    info = node.op.info
    flags = list(info.with_init or (False,) * info.n_states)
    for k in states:
        flags[k] = True
    new_info = dataclasses.replace(info, with_init=tuple(flags))
    outs = apply_scan(
        node.op.fgraph.inputs, node.op.fgraph.outputs, new_info, node.inputs, node.op.mode
    )
    for k in states:
        outs[k] = outs[k][info.spans[k] :]
    return outs


def join_init(fgraph: Any, node: Apply) -> list[Variable] | None:
    """join(0, init, full[span:]) -> full, for a Scan's `with_init` output `full`."""
    parts = _join_parts(node)
    if parts is None:
        return None
    first, second = parts
    view = second.owner
    if view is None or not isinstance(view.op, Subtensor) or len(view.inputs) != 2:
        return None
    (entry,) = view.op.idx_list if len(view.op.idx_list) == 1 else (None,)
    start = view.inputs[1]
    if not isinstance(entry, slice) or entry.stop is not None or entry.step is not None:
        return None
    full = view.inputs[0]
    scan = full.owner
    if scan is None or not isinstance(scan.op, Scan) or full.index >= scan.op.info.n_states:
        return None
    k = full.index
    info = scan.op.info
    if not info.keeps_init(k) or _init_of(scan, k) is not first:
        return None
    if not isinstance(start, Constant) or int(start.data) != info.spans[k]:
        return None
    return [full]
