"""cuBLAS GEMM through ctypes, from the `nvidia-cublas` wheel's library (or the system's).

The runtimes use it for dot/gemm: `cublasSgemm_v2`/`cublasDgemm_v2` on the legacy default
stream, so it is ordered with the kernels launched on stream 0. May import nothing from labsym.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from typing import Any

_OP = {False: 0, True: 1}  # CUBLAS_OP_N, CUBLAS_OP_T


def find_cublas() -> str:
    """The path (or soname) of libcublas: cuda-pathfinder, the nvidia wheels, then the system."""
    try:
        from cuda.pathfinder import load_nvidia_dynamic_lib

        path = load_nvidia_dynamic_lib("cublas").abs_path
        if path:  # None when the library was loaded from elsewhere: search below
            return path
    except Exception:  # noqa: BLE001 - pathfinder is optional; fall through to the wheel search
        pass
    try:
        import nvidia  # the namespace package of NVIDIA's pip wheels

        roots = list(nvidia.__path__)
    except ImportError:
        roots = []
    for root in roots:
        found = sorted(
            p
            for p in glob.glob(os.path.join(root, "**", "libcublas.so*"), recursive=True)
            if "Lt" not in os.path.basename(p)
        )
        if found:
            return found[-1]
    system = ctypes.util.find_library("cublas")
    if system:
        return system
    raise OSError(
        "libcublas not found: install the nvidia-cublas wheel (`pip install labsym[cuda]`) "
        "or a CUDA toolkit"
    )


class Cublas:
    """One cuBLAS handle in the current CUDA context; `gemm` in column-major semantics."""

    def __init__(self, path: str | None = None) -> None:
        lib = ctypes.CDLL(path or find_cublas())
        vp, i = ctypes.c_void_p, ctypes.c_int
        for name, scalar in (
            ("cublasSgemm_v2", ctypes.c_float),
            ("cublasDgemm_v2", ctypes.c_double),
        ):
            fn = getattr(lib, name)
            fn.restype = i
            ptr = ctypes.POINTER(scalar)
            fn.argtypes = [vp, i, i, i, i, i, ptr, vp, i, vp, i, ptr, vp, i]
        lib.cublasCreate_v2.argtypes = [ctypes.POINTER(vp)]
        lib.cublasCreate_v2.restype = i
        handle = vp()
        _check(lib.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate_v2")
        self._lib = lib
        self._handle = handle

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
        """C = alpha op(A) op(B) + beta C, all column-major device matrices."""
        if dtype == "float32":
            fn, scalar = self._lib.cublasSgemm_v2, ctypes.c_float
        elif dtype == "float64":
            fn, scalar = self._lib.cublasDgemm_v2, ctypes.c_double
        else:
            raise TypeError(f"cuBLAS gemm supports float32 and float64, not {dtype}")
        status = fn(
            self._handle,
            _OP[bool(trans_a)],
            _OP[bool(trans_b)],
            m,
            n,
            k,
            ctypes.byref(scalar(alpha)),
            a,
            lda,
            b,
            ldb,
            ctypes.byref(scalar(beta)),
            c,
            ldc,
        )
        _check(status, fn.__name__)


def _check(status: Any, what: str) -> None:
    if status != 0:
        raise RuntimeError(f"{what} failed with cublasStatus_t {status}")
