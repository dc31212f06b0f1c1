"""Link-time fusion in the C program: a reduction of an elementwise result in one pass.

When an Elemwise/Composite node's only client is a Sum/Prod/Max/Min/All/Any and both have C
kernels, the C linker's program runs the FusedReduce kernel (kernels/reduce.py) at the
reduction: the elementwise values are reduced as they are computed, with no temporary array
(`(W ** 2).sum()`: one read of W instead of a write and a read of a W-sized temporary). The
compiled graph is not rewritten (f.maker.fgraph, debugprint and profiles name the same nodes);
only the two nodes' module entries change. The elementwise node's builtin packs its inputs
into a tuple (its output value in the program, which only the reduction reads); the
reduction's builtin reduces the program of that tuple's arrays, or, given an array (a call
that straddled a tiered swap from the NumPy engine), reduces it as the plain reduction. As the
inputs are read at the reduction, a pair is left unfused when a node scheduled between the two
may overwrite them (a destroy_map reaching their memory).
Only CLinker.link uses this: DebugMode and NanGuardMode compare or check every node's own
output and link through `node_code`, unfused. With a profile, the reduction's row holds the
fused time and the elementwise row the packing (~0). May import core, optim and backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.c.fpe import fp_reporter
from labsym.backends.c.kernel import CKernel, combine, kernel_for
from labsym.backends.c.module import NodeEntry
from labsym.core.aliasing import memory_roots
from labsym.core.graph import Apply
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.core.ops.fused_reduce import FusedReduce
from labsym.optim.rules.fusion_reduce import REDUCTIONS

CACHE_VERSION = (1,)


@dataclass(frozen=True)
class FusedEntry(NodeEntry):
    """A reduction's entry that reduces its packed elementwise node's inputs (or an array)."""

    fused: Apply | None = None  # FusedReduce over the elementwise node's inputs
    reduction: Apply | None = None  # the graph's reduction node


def _composite_of(node: Apply) -> Composite | None:
    """The one-output Composite computing an Elemwise/Composite node's value (no inplace)."""
    op = node.op
    if isinstance(op, Composite):
        return Composite(op.n_inputs, op.program, op.outputs) if len(op.outputs) == 1 else None
    if type(op) is Elemwise:
        args = tuple(("input", k) for k in range(len(node.inputs)))
        return Composite(len(node.inputs), [(op.scalar_op, args)], [0])
    return None


def _fused_node(producer: Apply, reduction: Apply) -> Apply | None:
    """FusedReduce{reduction, producer}(producer's inputs), if it computes the same type."""
    composite = _composite_of(producer)
    if composite is None:
        return None
    try:
        fused = FusedReduce(reduction.op, composite).make_node(*producer.inputs)
    except (TypeError, ValueError):
        return None
    return fused if fused.outputs[0].type == reduction.outputs[0].type else None


def _overwritten_between(nodes: Sequence[Apply], i: int, j: int, producer: Apply) -> bool:
    """True if a node scheduled between i and j may overwrite memory the producer reads (the
    fused reduction reads the producer's inputs at j, not at i)."""
    read = set().union(*(memory_roots(v) for v in producer.inputs))
    for node in nodes[i + 1 : j]:
        for ins in (getattr(node.op, "destroy_map", None) or {}).values():
            if any(memory_roots(node.inputs[k]) & read for k in ins):
                return True
    return False


def _partial(body: str, subs: dict[str, str]) -> str:
    """`body` with some %(name)s substituted and the rest (and %%) kept for the next format."""
    keys = {"out0": "%(out0)s", "fail": "%(fail)s", **subs}
    return body.replace("%%", "%%%%") % keys


def pack_kernel(n_inputs: int) -> CKernel:
    """The elementwise node's kernel: a tuple of its (converted) inputs, its only client's."""
    items = ", ".join(f"(PyObject*)%(in{k})s" for k in range(n_inputs))
    return CKernel(
        f"%(out0)s = (PyArrayObject*)PyTuple_Pack({n_inputs}, {items});\nif (!%(out0)s) %(fail)s",
        cache_version=CACHE_VERSION,
    )


def fused_kernel(fused: CKernel, plain: CKernel, n_inputs: int, dtype: str) -> CKernel:
    """The reduction's kernel: `fused` on a packed tuple, `plain` on an array of `dtype`."""
    items = {f"in{k}": f"((PyArrayObject*)labsym_items[{k}])" for k in range(n_inputs)}
    whole = {"in0": "labsym_whole", "fail": "{ Py_DECREF(labsym_whole); %(fail)s }"}
    body = (
        "PyObject* labsym_packed = (PyObject*)%(in0)s;\n"
        f"if (PyTuple_CheckExact(labsym_packed) && PyTuple_GET_SIZE(labsym_packed) == {n_inputs})"
        " {\n"
        "  PyObject** labsym_items = PySequence_Fast_ITEMS(labsym_packed);\n"
        f"{_partial(fused.body, items)}\n"
        "} else {  /* the elementwise value itself, computed by the NumPy engine */\n"
        "  PyArrayObject* labsym_whole = (PyArrayObject*)PyArray_FROM_OT(labsym_packed, "
        f"{np.dtype(dtype).num});\n"
        "  if (!labsym_whole) %(fail)s\n"
        f"{_partial(plain.body, whole)}\n"
        "  Py_DECREF(labsym_whole);\n"
        "}"
    )
    return combine(body, [fused, plain], (CACHE_VERSION,))


def fuse_reductions(
    fgraph: Any, nodes: Sequence[Apply], entries: dict[int, NodeEntry]
) -> dict[int, NodeEntry]:
    """`entries` with each C reduction of a C elementwise node that has no other use fused."""
    index = {node: i for i, node in enumerate(nodes)}
    fused_entries = dict(entries)
    for j, reduction in enumerate(nodes):
        if j not in entries or type(reduction.op) not in REDUCTIONS:
            continue
        value = reduction.inputs[0]
        producer = value.owner
        i = index.get(producer, -1) if producer is not None else -1
        if i not in entries or len(producer.outputs) != 1:
            continue
        clients = fgraph.clients.get(value, [])
        if len(clients) != 1 or clients[0][0] is not reduction:
            continue
        if _overwritten_between(nodes, i, j, producer):
            continue
        fused = _fused_node(producer, reduction)
        kernel = kernel_for(fused) if fused is not None else None
        if kernel is None:
            continue
        pack = entries[i]
        packing = pack_kernel(len(producer.inputs))
        fused_entries[i] = NodeEntry(pack.symbol, packing, pack.in_dtypes, 1)
        body = fused_kernel(kernel, entries[j].kernel, len(producer.inputs), value.type.dtype)
        fused_entries[j] = FusedEntry(entries[j].symbol, body, (None,), 1, fused, reduction)
    return fused_entries


def reporter_for(entry: NodeEntry, node: Apply) -> Callable[..., None]:
    """The FP-flag reporter of an entry's builtin: NumPy's warnings for what it computed."""
    if not isinstance(entry, FusedEntry):
        return fp_reporter(node)
    fused, plain = fp_reporter(entry.fused), fp_reporter(entry.reduction)

    def report(code: int, packed: Any) -> None:
        if type(packed) is tuple:
            fused(code, *packed)
        else:
            plain(code, packed)

    return report
