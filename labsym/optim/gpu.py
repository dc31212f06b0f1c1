"""GPU placement: move the nodes a device can run onto it, with explicit transfers between.

`place_on_gpu(fgraph, supports, ...)` rewrites a FunctionGraph so that every node `supports`
accepts runs as a `GpuOp` on GpuArrayType values, `gpu_from_host` / `host_from_gpu` appear
exactly where data crosses, shared variables that live on the device are read there, and the
outputs listed in `device_outputs` (updates of device shared variables) stay on the device: a
training step's parameters never leave it. What the device supports is a parameter (the
composition root passes the backend's predicate): this module knows no backend.
May import core and optim.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from labsym.core.fgraph import OUTPUT
from labsym.core.gpu_type import GpuArrayType
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.gpu import GpuFromHost, HostFromGpu, gpu_from_host, gpu_op_for, host_from_gpu
from labsym.core.ops.shape import Shape, Shape_i

Supports = Callable[[Apply], bool]
HostInputs = Callable[[Apply], Sequence[int]]


def _no_host_inputs(node: Apply) -> Sequence[int]:
    return ()


class _Placement:
    """Where each original variable is available: on the host, on the device, or both."""

    def __init__(self, inputs: Sequence[Variable]) -> None:
        self.host: dict[Variable, Variable] = {}
        self.dev: dict[Variable, Variable] = {}
        for var in inputs:
            (self.dev if isinstance(var.type, GpuArrayType) else self.host)[var] = var

    def on_host(self, var: Variable) -> Variable:
        if var not in self.host:
            self.host[var] = host_from_gpu(self.dev[var]) if var in self.dev else var
        return self.host[var]

    def on_device(self, var: Variable) -> Variable:
        if var not in self.dev:
            self.dev[var] = gpu_from_host(self.on_host(var))
        return self.dev[var]


def _device_nodes(
    fgraph: object,
    nodes: list[Apply],
    supports: Supports,
    host_inputs: HostInputs,
    wanted: set[int],
) -> set[Apply]:
    """The nodes to run on the device: supported ones whose data is there or that make arrays
    (not scalars computed from shapes, which would cost a transfer each for nothing), and
    views only of data on the device (or going there anyway). Host arrays go up to be computed
    on (as Theano moved every input to the GPU), but a node reading host scalars only (ARange,
    Alloc of lengths) goes only where a client reads it on the device, so a host consumer gets
    it without a copy."""
    device_vars = {v for v in fgraph.inputs if isinstance(v.type, GpuArrayType)}  # type: ignore[attr-defined]
    chosen: dict[Apply, None] = {}  # in the order chosen
    sources: set[Apply] = set()  # chosen nodes reading host scalars only (ARange, Alloc)
    pending = [
        n for n in nodes if supports(n) and not all(isinstance(v, Constant) for v in n.inputs)
    ]
    changed = True
    while changed:  # a view may come before the node that takes its input to the device
        changed = False
        for node in pending:
            if node in chosen:
                continue
            reads_device = any(v in device_vars for v in node.inputs)
            makes_arrays = not node.op.view_map and any(o.ndim > 0 for o in node.outputs)
            if not (reads_device or makes_arrays):
                continue
            chosen[node] = None
            changed = True
            device_vars.update(node.outputs)
            keep = set(host_inputs(node))
            device_vars.update(
                v
                for i, v in enumerate(node.inputs)
                if i not in keep and not isinstance(v, Constant)
            )
            if not reads_device and all(v.ndim == 0 for v in node.inputs):
                sources.add(node)
    placed = set(chosen)
    device_out = {fgraph.outputs[i] for i in wanted}  # type: ignore[attr-defined]
    for node in reversed(nodes):  # clients first: a source none of them reads there stays
        if node not in sources:
            continue
        clients = [c for o in node.outputs for c, _ in fgraph.clients[o]]  # type: ignore[attr-defined]
        if not any(c in placed for c in clients if c != OUTPUT) and not any(
            o in device_out for o in node.outputs
        ):
            placed.discard(node)
    return placed


def _host_node_input(node: Apply, var: Variable, where: _Placement) -> Variable:
    """What a host node reads: host values, except that an op with an inner graph (scan,
    OpFromGraph) gets the device variables its inner graph was typed for, so its inner
    function (linked for the device too) reads them there on every step, without copies."""
    if (
        hasattr(node.op, "perform_in_mode")
        and isinstance(var.type, GpuArrayType)
        and var in where.dev
    ):
        return where.dev[var]
    return where.on_host(var)


def place_on_gpu(
    fgraph: object,
    supports: Supports,
    host_inputs: HostInputs = _no_host_inputs,
    device_outputs: Collection[int] = (),
) -> int:
    """Move the nodes `supports` accepts to the device; returns how many moved.

    `host_inputs(node)` lists inputs a device node reads as host values (shape scalars);
    `device_outputs` are fgraph output indices whose values must stay on the device.
    """
    where = _Placement(fgraph.inputs)  # type: ignore[attr-defined]
    wanted = set(device_outputs)
    nodes = fgraph.toposort()  # type: ignore[attr-defined]
    on_device = _device_nodes(fgraph, nodes, supports, host_inputs, wanted)
    moved = 0
    for node in nodes:
        if node in on_device:
            keep_host = set(host_inputs(node))
            ins = [
                where.on_host(v) if i in keep_host else where.on_device(v)
                for i, v in enumerate(node.inputs)
            ]
            new = gpu_op_for(node.op).make_node(*ins)
            where.dev.update(zip(node.outputs, new.outputs))
            moved += 1
            continue
        if isinstance(node.op, DeepCopyOp) and node.inputs[0] not in where.host:
            # an output copy of device data: the download is already a fresh host array
            where.host[node.outputs[0]] = where.on_host(node.inputs[0])
            continue
        if isinstance(node.op, (Shape, Shape_i)) and node.inputs[0] not in where.host:
            # a shape is metadata: read it from the device array, no transfer
            new = node.op.make_node(where.dev.get(node.inputs[0], node.inputs[0]))
        else:
            ins = [_host_node_input(node, v, where) for v in node.inputs]
            changed = any(a is not b for a, b in zip(ins, node.inputs))
            new = node.clone_with_new_inputs(ins) if changed else node
        where.host.update(zip(node.outputs, new.outputs))
    for index, out in enumerate(list(fgraph.outputs)):  # type: ignore[attr-defined]
        new_out = where.on_device(out) if index in wanted else where.on_host(out)
        if new_out is not out:
            fgraph.change_input(OUTPUT, index, new_out, "gpu_placement")  # type: ignore[attr-defined]
    return moved


def transfers(fgraph: object) -> list[Apply]:
    """The GpuFromHost / HostFromGpu nodes of a graph, in execution order."""
    return [
        node
        for node in fgraph.toposort()  # type: ignore[attr-defined]
        if isinstance(node.op, (GpuFromHost, HostFromGpu))
    ]
