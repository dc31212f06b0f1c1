"""CudaLinker: device=cuda's linker. Places nodes on the device, then emits one call per node.

`link(fgraph, plan)` takes the process Runtime (DeviceUnavailableError, naming what is missing,
when there is no GPU: at compile time, never a silent CPU run), runs the placement rewrite it
was given (the composition root passes optim.gpu's `place_on_gpu`) with the outputs that must
stay on the device (updates of device shared variables), and emits per node: transfers, kernel
launches through backends.cuda.kernels' plans, cuBLAS products, views; nodes without a device
implementation run on the host between explicit transfers, with one warning per op type.
The generated call is the NumPy engine's (backends.python.callgen). May import core, optim
(only through what it is given), backends.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from labsym.backends.cuda import devicecode, kernels
from labsym.backends.cuda.runtime import get_runtime
from labsym.backends.python.callgen import NumPyProgram, call_statement, link_per_node
from labsym.backends.python.vm import PythonLinker
from labsym.core.gpu_type import is_device_array
from labsym.core.graph import Apply, Constant
from labsym.core.io import CallPlan, NodeCode
from labsym.core.ops.blas import Dot
from labsym.core.ops.elemwise import DimShuffle
from labsym.core.ops.gemm import Gemm
from labsym.core.ops.gpu import (
    GpuDimShuffle,
    GpuDot22,
    GpuFromHost,
    GpuGemm,
    GpuOp,
    GpuSpecifyShape,
    GpuSubtensor,
    HostFromGpu,
)
from labsym.core.ops.shape import SpecifyShape
from labsym.core.ops.subtensor import Subtensor

Placer = Callable[..., Any]
_BLAS_DTYPES = ("float32", "float64")
_WARNED: set[str] = set()  # op types already warned about (once per process, as Theano's)


def _blas_node(node: Apply) -> bool:
    dtypes = {v.dtype for v in node.inputs + node.outputs}
    if isinstance(node.op, Dot):
        return len(dtypes) == 1 and dtypes <= set(_BLAS_DTYPES)
    if isinstance(node.op, Gemm):
        arrays = [node.inputs[i] for i in (0, 2, 3)] + list(node.outputs)
        return len({v.dtype for v in arrays}) == 1 and arrays[0].dtype in _BLAS_DTYPES
    return False


def supports(node: Apply) -> bool:
    """Whether the CUDA backend runs a host node on the device (kernels, cuBLAS, views)."""
    if isinstance(node.op, (DimShuffle, Subtensor, SpecifyShape)):
        return True
    parts = devicecode.fused_parts(node)
    if parts is not None:
        return all(kernels.supports(part) for part in parts)
    return _blas_node(node) or kernels.supports(node)


def host_inputs(node: Apply) -> tuple[int, ...]:
    """Inputs a device node reads as host values (Gemm's scalars, Alloc's lengths)."""
    if isinstance(node.op, Gemm):
        return (1, 4)
    if isinstance(node.op, (Subtensor, SpecifyShape)):
        return tuple(range(1, len(node.inputs)))  # index values, lengths
    if isinstance(node.op, (Dot, DimShuffle)):
        return ()
    return kernels.host_inputs(node)


def _crosses(node: Apply, fgraph: Any) -> bool:
    """Whether a host node reads device data or feeds the device (a fallback with transfers)."""
    reads = any(v.owner is not None and isinstance(v.owner.op, HostFromGpu) for v in node.inputs)
    feeds = any(
        client != "output" and isinstance(client.op, GpuFromHost)
        for out in node.outputs
        for client, _ in fgraph.clients.get(out, ())
    )
    return reads or feeds


def warn_fallback(node: Apply) -> None:
    """One warning per op type that runs on the host inside a device function."""
    key = devicecode.warn_key(node)
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(
        f"device=cuda: {key} has no CUDA implementation; it runs on the host with explicit "
        "transfers (HostFromGpu before it, GpuFromHost after it)",
        stacklevel=2,
    )


class CudaProgram(NumPyProgram):
    """The generated call, with output copies that keep device values on the device."""

    def __init__(self, plan: CallPlan, runtime: Any) -> None:
        super().__init__(plan)
        self.runtime = runtime

    def make_call(self, trusted: bool = False, raw: bool = False):
        call = super().make_call(trusted=trusted, raw=raw)
        call.__globals__.update(devicecode.output_helpers(self.runtime))
        return call


class CudaLinker:
    """Links a FunctionGraph for the device: placement, then one statement per node."""

    name = "cuda"

    def __init__(self, device: str = "cuda", place: Placer | None = None) -> None:
        self.device = device
        self.place = place
        self.runtime: Any = None
        self._host = PythonLinker()

    def link(self, fgraph: Any, plan: CallPlan) -> CudaProgram:
        """Place nodes (the given rewrite), then emit transfers, launches and host fallbacks."""
        self.runtime = get_runtime(self.device)
        if self.place is not None:
            device_outputs = [i for i, c in plan.updates if is_device_array(c.value)]
            self.place(fgraph, device_outputs=device_outputs)
        for node in fgraph.toposort():
            op = node.op
            on_host = not isinstance(op, (GpuOp, GpuFromHost, HostFromGpu))
            if on_host and not supports(node) and _crosses(node, fgraph):
                warn_fallback(node)
        link_per_node(self, fgraph, plan)
        return CudaProgram(plan, self.runtime)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        """The statement computing one node on the device, or the NumPy engine's on the host."""
        rt = self.runtime
        op = node.op
        if isinstance(op, GpuFromHost):
            source = node.inputs[0]
            fn = devicecode.upload_thunk(rt, source.data if isinstance(source, Constant) else None)
        elif isinstance(op, HostFromGpu):
            fn = devicecode.download
        elif isinstance(op, GpuDimShuffle):
            fn = devicecode.dimshuffle_thunk(node)
        elif isinstance(op, (GpuSubtensor, GpuSpecifyShape)):
            fn = devicecode.metadata_thunk(node)
        elif isinstance(op, GpuDot22):
            fn = devicecode.dot_thunk(rt, node)
        elif isinstance(op, GpuGemm):
            fn = devicecode.gemm_thunk(rt, node)
        elif isinstance(op, GpuOp) and devicecode.fused_parts(op.host_twin(node)) is not None:
            fn = devicecode.fused_reduce_thunk(rt, node)
        elif isinstance(op, GpuOp):
            fn = devicecode.kernel_thunk(rt, node, warn_fallback)
        else:
            return self._host.node_code(fgraph, node, index, outer_mode)
        return call_statement(node, f"_g{index}", fn)

    def __repr__(self) -> str:
        return f"CudaLinker(device={self.device!r})"
