"""Transfers between host and device, and the op that marks a host op as run on the device.

`GpuFromHost` / `HostFromGpu` (Theano's names, so debugprint shows where data crosses) and
`GpuOp(host_op)`: the same computation as `host_op` on GpuArrayType values, printed under
Theano's names (`GpuElemwise{...}`, `GpuCAReduce{...}`, `GpuSoftmax`, `GpuDot22`, `GpuGemm`).
The device computes them only through a backend's linker; their `perform` is the reference
semantics (through host copies). May import core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core.gpu_type import GpuArrayType, is_device_array
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops.blas import Dot
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import DimShuffle, Elemwise, scalar_text
from labsym.core.ops.gemm import Gemm
from labsym.core.ops.reduce import CAReduce
from labsym.core.ops.shape import SpecifyShape
from labsym.core.ops.subtensor import Subtensor
from labsym.core.type import TensorType


class GpuFromHost(Op):
    """Copy a host tensor to the device (the CUDA linker performs it)."""

    __props__ = ()

    def __str__(self) -> str:
        return "GpuFromHost<None>"

    def make_node(self, x: Any) -> Apply:
        from labsym.core.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if isinstance(x.type, GpuArrayType):
            raise TypeError(f"GpuFromHost: {x} is already on the device ({x.type})")
        return Apply(self, [x], [GpuArrayType(x.dtype, x.type.shape)()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        raise NotImplementedError(
            "GpuFromHost runs under the CUDA linker (device=cuda), which owns the device "
            "memory; the NumPy engine has no device to copy to"
        )

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence) -> list:
        return [tuple(input_shapes[0])]

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [host_from_gpu(output_grads[0])]


class HostFromGpu(Op):
    """Copy a device tensor to the host."""

    __props__ = ()

    def __str__(self) -> str:
        return "HostFromGpu(gpuarray)"

    def make_node(self, x: Variable) -> Apply:
        if not isinstance(getattr(x, "type", None), GpuArrayType):
            raise TypeError(f"HostFromGpu: {x} is not a device variable")
        return Apply(self, [x], [x.type.host_type()()])

    def numpy_callable(self, node: Apply) -> Any:
        return _to_host

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        output_storage[0][0] = _to_host(inputs[0])

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence) -> list:
        return [tuple(input_shapes[0])]

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [gpu_from_host(output_grads[0])]


def _to_host(value: Any) -> np.ndarray:
    return value.get() if is_device_array(value) else np.asarray(value)


gpu_from_host = GpuFromHost()
host_from_gpu = HostFromGpu()


class GpuOp(Op):
    """`host_op` computed on the device: GpuArrayType outputs, same values.

    Inputs are device variables, except those a kernel reads as host scalars (shape lengths,
    ARange's bounds: a node may read only such).
    """

    __props__ = ("host_op",)

    def __init__(self, host_op: Op) -> None:
        self.host_op = host_op

    def __str__(self) -> str:
        return f"Gpu{self.host_op}"  # GpuSoftmax{axis=-1}, GpuArgmax{...}, GpuAlloc, ...

    def host_twin(self, node: Apply) -> Apply:
        """The host op applied to fresh host variables of the node's input types."""
        dummies = [TensorType(v.type.dtype, v.type.shape)() for v in node.inputs]
        return self.host_op.make_node(*dummies)

    def make_node(self, *inputs: Variable) -> Apply:
        dummies = [TensorType(v.type.dtype, v.type.shape)() for v in inputs]
        twin = self.host_op.make_node(*dummies)
        outputs = [GpuArrayType(o.type.dtype, o.type.shape)() for o in twin.outputs]
        return Apply(self, list(inputs), outputs)

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        """Reference semantics: the host op on host copies, results copied back to the device."""
        device = next((v for v in inputs if is_device_array(v)), None)
        if device is None:
            raise NotImplementedError(f"{self}: no device input to take a runtime from")
        twin = self.host_twin(node)
        storage: list[list[Any]] = [[None] for _ in twin.outputs]
        self.host_op.perform(twin, [_to_host(v) for v in inputs], storage)
        for out, cell in zip(output_storage, storage):
            out[0] = type(device).from_host(device.runtime, np.asarray(cell[0]))

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence) -> list:
        return self.host_op.infer_shape(fgraph, self.host_twin(node), input_shapes)


class GpuElemwise(GpuOp):
    """Elementwise operations and fused Composites on the device (never inplace: each output
    is a fresh device array)."""

    def __init__(self, host_op: Op) -> None:
        if isinstance(host_op, Elemwise) and host_op.inplace_pattern:
            host_op = Elemwise(host_op.scalar_op)
        elif isinstance(host_op, Composite):
            host_op = host_op.without_inplace()
        super().__init__(host_op)

    def __str__(self) -> str:
        if isinstance(self.host_op, Elemwise):
            return f"GpuElemwise{{{scalar_text(self.host_op.scalar_op)},no_inplace}}"
        text = str(self.host_op)
        return "Gpu" + text if text.startswith("Elemwise") else f"GpuElemwise{{{text}}}"


class GpuCAReduce(GpuOp):
    """Reductions (sum, max, ...) on the device (Theano's GpuCAReduceCuda)."""

    def __str__(self) -> str:
        return f"GpuCAReduce{{{self.host_op}}}"


class GpuDimShuffle(GpuOp):
    """A view with axes reordered, dropped or inserted (no kernel: new strides)."""

    view_map = {0: [0]}


class GpuSubtensor(GpuOp):
    """Basic indexing (ints, slices, None) as a view of the device array: no kernel."""

    view_map = {0: [0]}


class GpuSpecifyShape(GpuOp):
    """The device array itself, after the host op's check of its lengths: no kernel."""

    view_map = {0: [0]}


class GpuDot22(GpuOp):
    """Products of vectors and matrices through cuBLAS."""

    def __str__(self) -> str:
        return "GpuDot22"


class GpuGemm(GpuOp):
    """Z' = b*Z + a*dot(X, Y) through cuBLAS."""

    def __str__(self) -> str:
        return "GpuGemm{no_inplace}"


_WRAPPERS: tuple[tuple[type, type[GpuOp]], ...] = (
    (Elemwise, GpuElemwise),
    (Composite, GpuElemwise),
    (CAReduce, GpuCAReduce),
    (DimShuffle, GpuDimShuffle),
    (Subtensor, GpuSubtensor),
    (SpecifyShape, GpuSpecifyShape),
    (Dot, GpuDot22),
    (Gemm, GpuGemm),
)


def gpu_op_for(host_op: Op) -> GpuOp:
    """The device version of a host op, under its Theano name."""
    for host_class, wrapper in _WRAPPERS:
        if isinstance(host_op, host_class):
            return wrapper(host_op)
    return GpuOp(host_op)
