"""The two GPU Runtimes: cuda-python (cuda-bindings driver API) and pycuda.

Both compile kernel source with NVRTC to PTX (backends.cuda.nvrtc), load it as a module, launch
with arguments packed as a C struct (each field at its natural alignment, as the CUDA ABI lays
out kernel parameters), and run GEMM through cuBLAS (backends.cuda.cublas). Both use the
device's primary context, which cuBLAS (a runtime-API library) also uses. Written against the
documented APIs; they run only where a GPU exists (tests/gpu). May import backends.cuda.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.protocol import MAX_NDIM, ArgKind, CudaKernel, DeviceUnavailableError


class LsDims(ctypes.Structure):
    """`struct ls_dims { long long v[8]; }`: shapes and strides passed by value."""

    _fields_ = [("v", ctypes.c_longlong * MAX_NDIM)]


# kind -> (struct format, size = alignment, number of values)
_LAYOUT = {
    "ptr": ("Q", 8, 1),
    "i64": ("q", 8, 1),
    "i32": ("i", 4, 1),
    "f64": ("d", 8, 1),
    "f32": ("f", 4, 1),
    "dims": (f"{MAX_NDIM}q", 8, MAX_NDIM),
}


@functools.cache
def arg_layout(kinds: tuple[str, ...]) -> tuple[struct.Struct, tuple[int, ...]]:
    """The parameter buffer of a kernel signature: a packer (each field at its natural
    alignment, as C lays out a struct and CUDA its kernel parameters) and the fields' offsets."""
    fmt, offsets, at = "<", [], 0
    for kind in kinds:
        if kind not in _LAYOUT:
            raise ValueError(f"unknown kernel argument kind {kind!r}")
        code, align, _ = _LAYOUT[kind]
        pad = -at % align
        fmt += "x" * pad
        at += pad
        offsets.append(at)
        fmt += code
        at += align * _LAYOUT[kind][2]
    fmt += "x" * (-at % 8)  # the struct's size is a multiple of its alignment
    return struct.Struct(fmt), tuple(offsets)


def pack_args(args: Sequence[tuple[ArgKind, Any]]) -> bytes:
    """The launch arguments as the kernel's parameter buffer (bytes)."""
    packer, _ = arg_layout(tuple(kind for kind, _ in args))
    flat: list[Any] = []
    for kind, value in args:
        if kind == "dims":
            values = tuple(value)
            if len(values) > MAX_NDIM:
                raise ValueError(f"{len(values)} dimensions; kernels take at most {MAX_NDIM}")
            flat.extend(values)
            flat.extend((0,) * (MAX_NDIM - len(values)))
        else:
            flat.append(value)
    return packer.pack(*flat)


def param_pointers(buffer: ctypes.Array, offsets: Sequence[int]) -> ctypes.Array:
    """`void *kernelParams[]`: the address of each parameter inside a packed buffer."""
    base = ctypes.addressof(buffer)
    return (ctypes.c_void_p * max(len(offsets), 1))(*[base + o for o in offsets])


def image_compiler(major: int, minor: int, driver_version: int) -> Callable[[CudaKernel], bytes]:
    """What the runtime loads for a kernel on a device of compute capability major.minor.

    PTX (JIT-compiled by the driver) when the driver is at least as new as NVRTC: PTX from a
    newer toolkit than the driver fails to load (minor-version compatibility covers machine
    code, not PTX). Else a CUBIN for sm_XY (loads on any driver of NVRTC's major version).
    DeviceUnavailableError when NVRTC is missing, the driver's major version is older than
    NVRTC's, or the device is older than every architecture this NVRTC compiles for.
    """
    from labsym.backends.cuda import nvrtc

    missing = nvrtc.unavailable_reason()
    if missing is not None:
        raise DeviceUnavailableError(f"device=cuda compiles kernels with NVRTC: {missing}")
    nv_major, nv_minor = nvrtc.version()
    if driver_version // 1000 < nv_major:
        raise DeviceUnavailableError(
            f"the NVIDIA driver supports CUDA {_cuda_text(driver_version)}, but labsym compiles "
            f"kernels with NVRTC {nv_major}.{nv_minor}, whose code needs a driver for CUDA "
            f"{nv_major}: update the NVIDIA driver (labsym[cuda] installs CUDA {nv_major} wheels)"
        )
    archs = nvrtc.supported_archs()
    device = major * 10 + minor
    if device < archs[0]:
        raise DeviceUnavailableError(
            f"this GPU (compute capability {major}.{minor}) is older than every architecture "
            f"NVRTC {nv_major}.{nv_minor} compiles for (sm_{archs[0]} to sm_{archs[-1]})"
        )
    if device > archs[-1]:  # newer than this NVRTC knows: the driver JITs the newest PTX
        arch = f"compute_{archs[-1]}"
        return lambda k: nvrtc.compile_ptx(k.source, name=f"{k.name}.cu", arch=arch).encode()
    if driver_version >= nv_major * 1000 + nv_minor * 10:
        arch = f"compute_{major}{minor}"
        return lambda k: nvrtc.compile_ptx(k.source, name=f"{k.name}.cu", arch=arch).encode()
    arch = f"sm_{major}{minor}"
    return lambda k: nvrtc.compile_cubin(k.source, arch, name=f"{k.name}.cu")


def _cuda_text(version: int) -> str:
    """12040 -> '12.4' (cuDriverGetVersion's encoding)."""
    return f"{version // 1000}.{version % 1000 // 10}"


class CudaError(RuntimeError):
    """A CUDA driver call failed (the message names the call and the CUresult)."""


class _CublasGemm:
    """The gemm both Runtimes share: cuBLAS, loaded on first use, in the current context."""

    _blas: Any
    _ensure_current: Callable[[], None]  # each Runtime's: its context made current on this thread

    def gemm(self, dtype: str, *args: Any) -> None:
        self._ensure_current()
        if self._blas is None:
            from labsym.backends.cuda.cublas import Cublas

            self._blas = Cublas()
        self._blas.gemm(dtype, *args)


class CudaPythonRuntime(_CublasGemm):
    """The Runtime on cuda-python's driver bindings (`cuda.bindings.driver`)."""

    name = "cuda-python"

    def __init__(
        self,
        device: int = 0,
        driver: Any = None,
        ptx_compiler: Callable[[CudaKernel], bytes] | None = None,
        blas: Any = None,
    ) -> None:
        drv = driver if driver is not None else importlib.import_module("cuda.bindings.driver")
        self._drv = drv
        self._local = threading.local()  # whether the context is current on this thread
        self._ctx: Any = None
        self._call("cuInit", 0)
        dev = self._call("cuDeviceGet", device)
        ctx = self._call("cuDevicePrimaryCtxRetain", dev)
        self._call("cuCtxSetCurrent", ctx)
        self._ctx = ctx
        self._local.current = True
        attr = drv.CUdevice_attribute
        major = self._call(
            "cuDeviceGetAttribute", attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev
        )
        minor = self._call(
            "cuDeviceGetAttribute", attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev
        )
        self.arch = f"compute_{major}{minor}"
        self.driver_version = int(self._call("cuDriverGetVersion"))
        self._ptx = ptx_compiler or image_compiler(major, minor, self.driver_version)
        self._blas = blas
        self._functions: dict[tuple[str, str], Any] = {}
        self._modules: list[Any] = []

    def _ensure_current(self) -> None:
        """Make the context current on a thread that calls for the first time."""
        if self._ctx is not None and not getattr(self._local, "current", False):
            self._local.current = True
            self._call("cuCtxSetCurrent", self._ctx)

    def _call(self, fn_name: str, *args: Any) -> Any:
        self._ensure_current()
        result = getattr(self._drv, fn_name)(*args)
        err, values = result[0], result[1:]
        if err != self._drv.CUresult.CUDA_SUCCESS:
            raise CudaError(f"{fn_name} failed: {self._error_name(err)}")
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def _error_name(self, err: Any) -> str:
        try:
            status, text = self._drv.cuGetErrorName(err)
            return text.decode() if isinstance(text, bytes) else str(text)
        except Exception:  # noqa: BLE001 - the name is only for the message
            return str(err)

    def alloc(self, nbytes: int) -> int:
        return int(self._call("cuMemAlloc", max(int(nbytes), 1)))

    def free(self, ptr: int) -> None:
        self._call("cuMemFree", ptr)

    def memcpy_htod(self, ptr: int, host: Any) -> None:
        if host.nbytes:
            self._call("cuMemcpyHtoD", ptr, host.ctypes.data, host.nbytes)

    def memcpy_dtoh(self, host: Any, ptr: int) -> None:
        if host.nbytes:
            self._call("cuMemcpyDtoH", host.ctypes.data, ptr, host.nbytes)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None:
        if nbytes:
            self._call("cuMemcpyDtoD", dst, src, nbytes)

    def compile(self, kernel: CudaKernel) -> Any:
        key = (kernel.name, kernel.source)
        if key not in self._functions:
            image = ctypes.create_string_buffer(self._ptx(kernel))  # NUL-terminated PTX
            module = self._call("cuModuleLoadData", ctypes.addressof(image))
            self._modules.append(module)
            self._functions[key] = self._call("cuModuleGetFunction", module, kernel.name.encode())
        return self._functions[key]

    def launch(
        self,
        handle: Any,
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
        args: Sequence[tuple[ArgKind, Any]],
        shared_bytes: int = 0,
    ) -> None:
        buffer = ctypes.create_string_buffer(pack_args(args))
        pointers = param_pointers(buffer, arg_layout(tuple(kind for kind, _ in args))[1])
        self._call(
            "cuLaunchKernel",
            handle,
            *grid,
            *block,
            shared_bytes,
            0,  # the legacy default stream, which cuBLAS also uses
            ctypes.addressof(pointers),
            0,
        )

    def synchronize(self) -> None:
        self._call("cuCtxSynchronize")


class PycudaRuntime(_CublasGemm):
    """The Runtime on pycuda (the design card's choice where pycuda builds)."""

    name = "pycuda"

    def __init__(
        self,
        device: int = 0,
        ptx_compiler: Callable[[CudaKernel], bytes] | None = None,
        blas: Any = None,
    ) -> None:
        import pycuda.driver as drv

        drv.init()
        dev = drv.Device(device)
        self._ctx = dev.retain_primary_context()  # the context cuBLAS uses too
        self._ctx.push()
        self._local = threading.local()
        self._local.current = True
        major, minor = dev.compute_capability()
        self.arch = f"compute_{major}{minor}"
        self._drv = drv
        self.driver_version = int(drv.get_driver_version())
        self._ptx = ptx_compiler or image_compiler(major, minor, self.driver_version)
        self._blas = blas
        self._allocations: dict[int, Any] = {}
        self._functions: dict[tuple[str, str], Any] = {}
        self._modules: list[Any] = []

    def _ensure_current(self) -> None:
        """Push the context on a thread that calls for the first time (pycuda's stacks are
        per thread)."""
        if not getattr(self._local, "current", False):
            self._ctx.push()
            self._local.current = True

    def alloc(self, nbytes: int) -> int:
        self._ensure_current()
        allocation = self._drv.mem_alloc(max(int(nbytes), 1))
        self._allocations[int(allocation)] = allocation
        return int(allocation)

    def free(self, ptr: int) -> None:
        self._allocations.pop(ptr).free()

    def memcpy_htod(self, ptr: int, host: Any) -> None:
        self._ensure_current()
        if host.nbytes:
            self._drv.memcpy_htod(ptr, np.ascontiguousarray(host))

    def memcpy_dtoh(self, host: Any, ptr: int) -> None:
        self._ensure_current()
        if host.nbytes:
            self._drv.memcpy_dtoh(host, ptr)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None:
        self._ensure_current()
        if nbytes:
            self._drv.memcpy_dtod(dst, src, nbytes)

    def compile(self, kernel: CudaKernel) -> Any:
        self._ensure_current()
        key = (kernel.name, kernel.source)
        if key not in self._functions:
            module = self._drv.module_from_buffer(self._ptx(kernel))
            self._modules.append(module)
            self._functions[key] = module.get_function(kernel.name)
        return self._functions[key]

    def launch(
        self,
        handle: Any,
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
        args: Sequence[tuple[ArgKind, Any]],
        shared_bytes: int = 0,
    ) -> None:
        self._ensure_current()
        # pycuda's own argument packing does not align struct arguments; the packed parameter
        # buffer (CU_LAUNCH_PARAM_BUFFER_POINTER) is what its __call__ hands to the driver
        buffer = pack_args(args)
        handle._launch_kernel(tuple(grid), tuple(block), buffer, shared_bytes, None)

    def synchronize(self) -> None:
        self._ensure_current()
        self._ctx.synchronize()
