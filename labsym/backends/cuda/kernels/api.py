"""The plan types every kernel family returns: array metadata, launches, plans, and their runner.

May import core and backends.cuda.protocol only.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from labsym.backends.cuda.protocol import ArgKind, CudaKernel, Runtime

Args = list[tuple[ArgKind, Any]]
# (input pointers, output pointers, workspace pointers) -> the kernel's launch arguments
ArgsBuilder = Callable[[Sequence[int], Sequence[int], Sequence[int]], Args]


class Ptr(NamedTuple):
    """A pointer argument: buffer `index` of the plan's inputs ('in'), outputs ('out') or
    workspace ('ws'), plus `offset` bytes."""

    where: str
    index: int
    offset: int = 0


def fixed_args(parts: Sequence[tuple[ArgKind, Any] | Ptr]) -> ArgsBuilder:
    """An ArgsBuilder for arguments known when planning, except the pointers (Ptr entries):
    each call copies the prepared list and fills in the pointers (the launch hot path)."""
    template = [None if isinstance(p, Ptr) else p for p in parts]
    pointers = [(i, p) for i, p in enumerate(parts) if isinstance(p, Ptr)]

    def build(ins: Sequence[int], outs: Sequence[int], ws: Sequence[int]) -> Args:
        where = {"in": ins, "out": outs, "ws": ws}
        args = template.copy()
        for i, p in pointers:
            args[i] = ("ptr", where[p.where][p.index] + p.offset)
        return args  # type: ignore[return-value]

    return build


class Unsupported(NotImplementedError):
    """The node (or these run-time inputs) have no CUDA kernel: run it on the host."""


@dataclass(frozen=True)
class ArrayMeta:
    """One device array as a kernel sees it: shape, strides in ELEMENTS (any sign, 0 = broadcast),
    dtype. Its pointer is the address of element (0, ..., 0), not the start of the buffer."""

    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: str

    @classmethod
    def contiguous(cls, shape: Sequence[int], dtype: str) -> ArrayMeta:
        """C-contiguous metadata for `shape`: how every plan's outputs are laid out."""
        shape = tuple(int(d) for d in shape)
        strides, step = [], 1
        for d in reversed(shape):
            strides.append(step)
            step *= max(d, 1)
        return cls(shape, tuple(reversed(strides)), str(np.dtype(dtype)))

    @classmethod
    def of(cls, array: np.ndarray) -> ArrayMeta:
        """The metadata of a NumPy array (its byte strides divided by the itemsize)."""
        item = array.itemsize
        if any(s % item for s in array.strides):
            raise Unsupported(f"strides {array.strides} are not multiples of the itemsize {item}")
        return cls(array.shape, tuple(s // item for s in array.strides), array.dtype.name)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def is_c_contiguous(self) -> bool:
        return self.size <= 1 or all(
            d == 1 or s == c
            for d, s, c in zip(
                self.shape, self.strides, self.contiguous(self.shape, "int8").strides
            )
        )


@dataclass(frozen=True)
class Launch:
    """One kernel launch of a plan; `build_args(ins, outs, workspace)` gives its arguments."""

    kernel: CudaKernel
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    build_args: ArgsBuilder
    shared_bytes: int = 0


@dataclass(frozen=True)
class GemmCall:
    """One cuBLAS GEMM step of a plan: Runtime.gemm's column-major arguments, with operands
    named by where their buffer is (plan input, output or workspace) instead of addresses."""

    dtype: str
    trans_a: bool
    trans_b: bool
    m: int
    n: int
    k: int
    alpha: float
    a: Ptr
    lda: int
    b: Ptr
    ldb: int
    beta: float
    c: Ptr
    ldc: int

    def run(
        self, runtime: Runtime, ins: Sequence[int], outs: Sequence[int], ws: Sequence[int]
    ) -> None:
        where = {"in": ins, "out": outs, "ws": ws}

        def address(op: Ptr) -> int:
            return where[op.where][op.index] + op.offset

        runtime.gemm(
            self.dtype, self.trans_a, self.trans_b, self.m, self.n, self.k, self.alpha,
            address(self.a), self.lda, address(self.b), self.ldb, self.beta,
            address(self.c), self.ldc,
        )  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """What one node needs on the device for one set of input layouts.

    `outputs`: C-contiguous metadata of each output, allocated by the caller (the linker) before
    the launches; `workspace`: byte sizes of scratch buffers the caller allocates for the
    duration of the launches; `launches` (kernel launches and cuBLAS GEMM calls) run in order
    on one stream.
    """

    outputs: tuple[ArrayMeta, ...]
    launches: tuple[Launch | GemmCall, ...]
    workspace: tuple[int, ...] = field(default=())

    @property
    def kernels(self) -> tuple[CudaKernel, ...]:
        return tuple(step.kernel for step in self.launches if isinstance(step, Launch))


def execute(
    runtime: Runtime,
    plan: Plan,
    inputs: Sequence[int],
    outputs: Sequence[int],
    workspace: Sequence[int] = (),
) -> None:
    """Compile (cached by the runtime) and launch every step of `plan` on these pointers."""
    for launch in plan.launches:
        if isinstance(launch, GemmCall):
            launch.run(runtime, inputs, outputs, workspace)
            continue
        handle = runtime.compile(launch.kernel)
        args = launch.build_args(inputs, outputs, workspace)
        runtime.launch(handle, launch.grid, launch.block, args, launch.shared_bytes)


def run_on(runtime: Runtime, plan: Plan, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Copy `arrays` to the device, execute `plan`, copy the outputs back (tests and fallbacks).

    Each input is uploaded with its own layout (the plan was made for `ArrayMeta.of(array)`),
    so negative and zero strides reach the kernel as they are.
    """
    buffers, in_ptrs = [], []
    for a in arrays:
        a = np.asarray(a)
        base, offset = _span(a)
        ptr = runtime.alloc(max(base.nbytes, 1))
        runtime.memcpy_htod(ptr, base)
        buffers.append(ptr)
        in_ptrs.append(ptr + offset)
    out_ptrs = [runtime.alloc(max(m.nbytes, 1)) for m in plan.outputs]
    ws = [runtime.alloc(max(n, 1)) for n in plan.workspace]
    try:
        execute(runtime, plan, in_ptrs, out_ptrs, ws)
        runtime.synchronize()
        results = []
        for meta, ptr in zip(plan.outputs, out_ptrs):
            host = np.empty(meta.shape, dtype=meta.dtype)
            if host.nbytes:
                runtime.memcpy_dtoh(host, ptr)
            results.append(host)
        return results
    finally:
        for ptr in buffers + out_ptrs + ws:
            runtime.free(ptr)


def _span(a: np.ndarray) -> tuple[np.ndarray, int]:
    """A copy of the smallest byte span holding every element of `a`, and (0,...,0)'s offset."""
    if a.size == 0:
        return np.zeros(1, dtype=np.uint8), 0
    low = sum(s * (d - 1) for s, d in zip(a.strides, a.shape) if s < 0)
    high = sum(s * (d - 1) for s, d in zip(a.strides, a.shape) if s > 0) + a.itemsize
    start = a.__array_interface__["data"][0] + low
    raw = (ctypes.c_uint8 * (high - low)).from_address(start)
    return np.frombuffer(raw, dtype=np.uint8).copy(), -low
