"""EmulatorRuntime: the CUDA Runtime protocol on the CPU, for tests only (name 'emulator').

Device memory is host memory (device addresses are real addresses of NumPy buffers); kernels
are the same source the GPU runs, compiled with g++ against emu.h into a shared library that
is cached on disk by content; GEMM is NumPy. A pass here proves kernel logic, never a GPU.
Launches run one at a time on the calling thread (emu.h keeps its scheduler in globals).
May import core, backends.cuda.protocol and backends.c.cache (its private-directory checks).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labsym.backends.c import cache as c_cache
from labsym.backends.cuda.protocol import MAX_NDIM, ArgKind, CudaKernel, DeviceUnavailableError

EMU_HEADER = Path(__file__).with_name("emu.h")
_FLAGS = ["-std=c++17", "-O0", "-shared", "-fPIC", "-U_FORTIFY_SOURCE", "-fno-strict-aliasing"]
_CTYPES = {
    "ptr": ctypes.c_void_p,
    "i64": ctypes.c_longlong,
    "i32": ctypes.c_int,
    "f64": ctypes.c_double,
    "f32": ctypes.c_float,
    "dims": ctypes.c_longlong * MAX_NDIM,
}
_LAUNCH_ARGTYPES = [ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]


def compiler() -> str | None:
    """The C++ compiler the emulator uses (g++ or c++ on PATH), or None."""
    return shutil.which("g++") or shutil.which("c++")


def cache_dir() -> Path:
    """Where built emulator libraries are kept: $LABSYM_CUDA_EMU_CACHE, else `cuda_emu` in the
    compiledir; created 0700 and refused (UnsafeCacheError) if other users could write it."""
    path = os.environ.get("LABSYM_CUDA_EMU_CACHE") or os.path.join(c_cache.cache_dir(), "cuda_emu")
    return Path(c_cache.private_dir(path))


@dataclass(frozen=True)
class EmulatedKernel:
    """A compiled kernel: its entry point and whether it runs threads as coroutines."""

    kernel: CudaKernel
    entry: Any
    coroutines: bool


class EmulatorRuntime:
    """The Runtime protocol on the CPU (see the module docstring); not a GPU."""

    name = "emulator"

    def __init__(self) -> None:
        if compiler() is None:
            raise DeviceUnavailableError("the CUDA emulator needs g++ on PATH")
        self._buffers: dict[int, np.ndarray] = {}
        self._handles: dict[str, EmulatedKernel] = {}
        self._libraries: list[ctypes.CDLL] = []  # kept alive: handles point into them

    # ------------------------------------------------------------------ memory
    def alloc(self, nbytes: int) -> int:
        buf = np.empty(max(int(nbytes), 1) + 15, dtype=np.uint8)
        ptr = (buf.ctypes.data + 15) & ~15  # 16-byte aligned, as cudaMalloc's (256) for vectors
        self._buffers[ptr] = buf
        return ptr

    def free(self, ptr: int) -> None:
        del self._buffers[ptr]

    def memcpy_htod(self, ptr: int, host: Any) -> None:
        host = np.ascontiguousarray(host)
        ctypes.memmove(ptr, host.ctypes.data, host.nbytes)

    def memcpy_dtoh(self, host: Any, ptr: int) -> None:
        if not host.flags.c_contiguous:
            raise ValueError("memcpy_dtoh needs a C-contiguous host array")
        ctypes.memmove(host.ctypes.data, ptr, host.nbytes)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None:
        ctypes.memmove(dst, src, nbytes)

    def synchronize(self) -> None:
        """Launches run to completion before launch() returns: nothing to wait for."""

    # ------------------------------------------------------------------ kernels
    def compile(self, kernel: CudaKernel) -> EmulatedKernel:
        """The launchable kernel, building a library for it unless one is cached."""
        handle = self._handles.get(kernel.source)
        if handle is None:
            self.compile_many([kernel])
            handle = self._handles[kernel.source]
        return handle

    def compile_many(self, kernels: Iterable[CudaKernel]) -> list[EmulatedKernel]:
        """Build every kernel not yet built into ONE library (one g++ run), then return handles."""
        kernels = list(kernels)
        todo = {k.source: k for k in kernels if k.source not in self._handles}
        if todo:
            self._build(list(todo.values()))
        return [self._handles[k.source] for k in kernels]

    def _build(self, kernels: list[CudaKernel]) -> None:
        names = [k.name for k in kernels]
        if len(set(names)) != len(names):
            raise ValueError("kernels built together need distinct names")
        header = EMU_HEADER.read_text()
        text = (
            f'#include "{EMU_HEADER}"\n'
            + "\n".join(k.source for k in kernels)
            + "\n"
            + "\n".join(f"LS_EMU_ENTRY({k.name})" for k in kernels)
            + "\n"
        )
        digest = hashlib.sha256((header + text + " ".join(_FLAGS)).encode()).hexdigest()[:24]
        lib_path = cache_dir() / f"emu_{digest}.so"
        if not lib_path.exists():
            _compile(text, lib_path)
        c_cache.check_private(str(lib_path))  # never load a library another user could write
        lib = ctypes.CDLL(str(lib_path))
        self._libraries.append(lib)
        for k in kernels:
            entry = getattr(lib, f"ls_emu_launch_{k.name}")
            entry.argtypes = _LAUNCH_ARGTYPES
            entry.restype = None
            self._handles[k.source] = EmulatedKernel(k, entry, "__syncthreads" in k.source)

    def launch(
        self,
        handle: EmulatedKernel,
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
        args: Sequence[tuple[ArgKind, Any]],
        shared_bytes: int = 0,
    ) -> None:
        """Run the kernel on every block and thread of the grid, in order, before returning."""
        kinds = tuple(kind for kind, _ in args)
        if kinds != handle.kernel.params:
            raise TypeError(
                f"{handle.kernel.name}: launch arguments {kinds} do not match its parameters "
                f"{handle.kernel.params}"
            )
        if shared_bytes:
            raise ValueError("the emulator runs kernels with static __shared__ memory only")
        if 0 in (*grid, *block):
            return
        values = [_c_value(kind, value) for kind, value in args]
        argv = (ctypes.c_void_p * max(len(values), 1))(
            *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values]
        )
        cfg = (ctypes.c_uint * 6)(*grid, *block)
        handle.entry(cfg, argv, int(handle.coroutines))

    # ------------------------------------------------------------------ cuBLAS
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
    ) -> None:
        """C = alpha op(A) op(B) + beta C, column-major as cuBLAS (beta == 0 ignores C)."""
        op_a = _column_major(a, dtype, (k, m) if trans_a else (m, k), lda)
        op_b = _column_major(b, dtype, (n, k) if trans_b else (k, n), ldb)
        out = _column_major(c, dtype, (m, n), ldc)
        prod = (op_a.T if trans_a else op_a) @ (op_b.T if trans_b else op_b)
        result = alpha * prod if beta == 0 else alpha * prod + beta * out
        out[...] = result


def _column_major(ptr: int, dtype: str, shape: tuple[int, int], ld: int) -> np.ndarray:
    """A writable view of the column-major rows x cols matrix at ptr with leading dimension ld."""
    item = np.dtype(dtype).itemsize
    rows, cols = shape
    if rows == 0 or cols == 0:
        return np.zeros(shape, dtype=dtype)
    nbytes = ((cols - 1) * ld + rows) * item
    raw = np.frombuffer((ctypes.c_char * nbytes).from_address(ptr), dtype=np.uint8)
    return np.lib.stride_tricks.as_strided(raw.view(dtype), shape, (item, ld * item))


def _c_value(kind: ArgKind, value: Any) -> Any:
    if kind == "dims":
        values = tuple(int(v) for v in value)
        if len(values) > MAX_NDIM:
            raise ValueError(f"a dims argument holds at most {MAX_NDIM} values, got {len(values)}")
        return _CTYPES["dims"](*values)
    try:
        return _CTYPES[kind](value)
    except KeyError:
        raise TypeError(f"unknown launch argument kind {kind!r}") from None


def _compile(text: str, lib_path: Path) -> None:
    """g++ `text` into lib_path (written under a temporary name, then renamed: atomic)."""
    with tempfile.TemporaryDirectory(prefix="labsym_emu_") as tmp:
        src = Path(tmp) / "kernels.cpp"
        src.write_text(text)
        out = Path(tmp) / "lib.so"
        cmd = [compiler() or "g++", *_FLAGS, str(src), "-o", str(out), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"emulator build failed:\n{proc.stderr[-6000:]}")
        tmp_target = lib_path.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(out, tmp_target)
        os.chmod(tmp_target, 0o700)  # whatever the umask: only this user may write it
        os.replace(tmp_target, lib_path)
