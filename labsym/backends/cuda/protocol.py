"""The CUDA runtime contract: what the CUDA linker asks of a device (real or emulated).

Three implementations satisfy it: pycuda, cuda-python (cuda-bindings + NVRTC), and a CPU
emulator that compiles the same kernel source with gcc (tests only, never counted as a GPU run).
May import core only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Kernel launch arguments are passed by value, in order, each as (kind, value):
#   "ptr" -> a device address (int), "i64"/"i32" -> int, "f64"/"f32" -> float,
#   "dims" -> a tuple of up to MAX_NDIM ints packed as `struct ls_dims { long long v[8]; }`.
ArgKind = str
MAX_NDIM = 8


@dataclass(frozen=True)
class CudaKernel:
    """One `extern "C" __global__` kernel: its source compiles with NVRTC and with emu.h + gcc."""

    name: str
    source: str
    params: tuple[ArgKind, ...]  # the kinds of its launch arguments, in order


class DeviceUnavailableError(RuntimeError):
    """device=cuda was asked for, but no usable driver, device or runtime library exists."""


class Runtime(Protocol):
    """One CUDA context: memory, transfers, kernel compile/launch, cuBLAS GEMM."""

    name: str  # 'pycuda', 'cuda-python' or 'emulator'

    def alloc(self, nbytes: int) -> int: ...  # a device address; freed by free()

    def free(self, ptr: int) -> None: ...

    def memcpy_htod(self, ptr: int, host: Any) -> None: ...  # host: C-contiguous ndarray

    def memcpy_dtoh(self, host: Any, ptr: int) -> None: ...  # fills a C-contiguous ndarray

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None: ...

    def compile(self, kernel: CudaKernel) -> Any: ...  # a launchable handle (cached by source)

    def launch(
        self,
        handle: Any,
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
        args: Sequence[tuple[ArgKind, Any]],
        shared_bytes: int = 0,
    ) -> None: ...

    def gemm(
        self,
        dtype: str,
        trans_a: bool,
        trans_b: bool,
        m: int,
        n: int,
        k: int,
        alpha: float,
        a: int,
        lda: int,
        b: int,
        ldb: int,
        beta: float,
        c: int,
        ldc: int,
    ) -> None: ...  # column-major cuBLAS semantics (callers swap operands for row-major)

    def synchronize(self) -> None: ...
