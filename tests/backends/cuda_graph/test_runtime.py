"""Runtime selection, device discovery and the no-GPU error; the cuda-python runtime's calls.

The tests marked FAKED replace the CUDA driver with a Python object because no device exists
on this machine: they check call order and argument packing only and are never a GPU pass
(tests/gpu runs the real thing where a GPU exists).
"""

from __future__ import annotations

import ctypes
import enum
import types

import numpy as np
import pytest

import labsym
from labsym import tensor as T
from labsym.backends.cuda import runtime as rt
from labsym.backends.cuda.protocol import CudaKernel, DeviceUnavailableError
from labsym.backends.cuda.runtimes import (
    CudaError,
    CudaPythonRuntime,
    LsDims,
    arg_layout,
    pack_args,
)
from labsym.config import config

NO_GPU = not rt.probe_driver().usable
needs_no_gpu = pytest.mark.skipif(not NO_GPU, reason="a CUDA device is present here")


@pytest.fixture
def auto_runtime(monkeypatch):
    """The default selection (no emulator, no override), as a user gets it."""
    monkeypatch.delenv(rt.ENV_VAR, raising=False)
    monkeypatch.setattr(rt, "_OVERRIDES", [])
    monkeypatch.setattr(rt, "_CREATED", {})


@needs_no_gpu
def test_device_cuda_without_gpu_raises_one_clear_error_at_compile_time(auto_runtime):
    x = T.fvector("x")
    with config.change_flags(device="cuda"), pytest.raises(DeviceUnavailableError) as info:
        labsym.function([x], x * 2)
    message = str(info.value)
    assert message.startswith("device=cuda needs an NVIDIA GPU, but ")
    probe = rt.probe_driver()
    if probe.library is None:  # this machine: no driver at all
        assert "libcuda.so.1 was not found" in message
    assert "Set device=cpu" in message and "emulator" in message
    assert message.count("device=cuda needs") == 1  # one error naming every missing piece


@needs_no_gpu
def test_shared_on_the_device_without_gpu_raises_the_same_error(auto_runtime):
    with pytest.raises(DeviceUnavailableError, match="device=cuda needs an NVIDIA GPU"):
        labsym.shared(np.ones(3, "float32"), target="gpu")
    with config.change_flags(device="cuda"), pytest.raises(DeviceUnavailableError):
        labsym.shared(np.ones(3, "float32"))


def test_unavailable_message_names_each_missing_piece():
    none = rt.DriverProbe(library=None)
    no_bindings = {"pycuda": False, "cuda-python": False}
    text = rt.unavailable_message(none, no_bindings)
    assert "libcuda.so.1 was not found" in text and "no Python CUDA binding" in text
    no_device = rt.DriverProbe(library="libcuda.so.1", init_error=100)
    text = rt.unavailable_message(no_device, {"pycuda": False, "cuda-python": True})
    assert "CUresult 100 (no CUDA-capable device is present)" in text
    assert "binding" not in text
    empty = rt.DriverProbe(library="libcuda.so.1")
    assert "sees no CUDA device" in rt.unavailable_message(empty, {"pycuda": True})
    two = rt.DriverProbe(library="libcuda.so.1", devices=["A", "B"])
    assert rt.unavailable_message(two, {"pycuda": True, "cuda-python": False}) is None
    assert "device 2 asked for" in rt.unavailable_message(two, {"pycuda": True}, device=2)
    wanted = rt.unavailable_message(two, {"pycuda": False, "cuda-python": True}, "pycuda")
    assert f"{rt.ENV_VAR}=pycuda but pycuda is not installed" in wanted


def test_device_ordinals_and_runtime_choices(monkeypatch):
    assert [rt.device_ordinal(d) for d in ("cuda", "cuda1", "gpu", "gpu3")] == [0, 1, 0, 3]
    with pytest.raises(ValueError, match="expected one of auto, pycuda, cuda-python, emulator"):
        rt.create_runtime("opencl")
    monkeypatch.setattr(rt, "_OVERRIDES", [])
    monkeypatch.setenv(rt.ENV_VAR, "emulator")
    from labsym.backends.cuda import emulator

    if emulator.compiler() is None:
        pytest.skip("the emulator needs g++")
    chosen = rt.get_runtime("cuda")
    assert chosen.name == "emulator" and rt.get_runtime("cuda0") is chosen
    marker = types.SimpleNamespace(name="marker")
    with rt.use_runtime(marker):
        assert rt.get_runtime() is marker
    assert rt.get_runtime() is chosen


def test_pack_args_lays_out_the_parameter_buffer_as_c_does():
    args = [("i32", -7), ("ptr", 0xDEADBEEF00), ("f32", 1.5), ("dims", (4, 5, 6)), ("f64", 2.25)]
    raw = pack_args(args)
    _, offsets = arg_layout(tuple(kind for kind, _ in args))
    assert offsets == (0, 8, 16, 24, 88)  # each field at its natural alignment
    assert len(raw) == 96
    assert int.from_bytes(raw[0:4], "little", signed=True) == -7
    assert int.from_bytes(raw[8:16], "little") == 0xDEADBEEF00
    assert np.frombuffer(raw[16:20], np.float32)[0] == 1.5
    assert list(np.frombuffer(raw[24:88], np.int64)) == [4, 5, 6, 0, 0, 0, 0, 0]
    assert np.frombuffer(raw[88:96], np.float64)[0] == 2.25
    with pytest.raises(ValueError, match="at most 8"):
        pack_args([("dims", tuple(range(9)))])
    with pytest.raises(ValueError, match="unknown kernel argument kind"):
        pack_args([("u8", 1)])
    _, tail = arg_layout(("f32", "i32", "f32"))
    assert tail == (0, 4, 8)


class _Result(enum.IntEnum):
    CUDA_SUCCESS = 0
    CUDA_ERROR_OUT_OF_MEMORY = 2


class FakeDriver:
    """FAKED cuda.bindings.driver: host memory behind "device" pointers, calls recorded."""

    CUresult = _Result
    CUdevice_attribute = types.SimpleNamespace(
        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR="major",
        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR="minor",
    )

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.memory: dict[int, ctypes.Array] = {}
        self.launches: list[dict] = []
        self.fail_alloc = False
        self.driver_version = 13000

    def _ok(self, name, *values, record=()):
        self.calls.append((name, *record))
        return (_Result.CUDA_SUCCESS, *values)

    def cuInit(self, flags):
        return self._ok("cuInit", record=(flags,))

    def cuDeviceGet(self, ordinal):
        return self._ok("cuDeviceGet", f"dev{ordinal}", record=(ordinal,))

    def cuDevicePrimaryCtxRetain(self, dev):
        return self._ok("cuDevicePrimaryCtxRetain", f"ctx-{dev}", record=(dev,))

    def cuCtxSetCurrent(self, ctx):
        return self._ok("cuCtxSetCurrent", record=(ctx,))

    def cuDeviceGetAttribute(self, attr, dev):
        return self._ok("cuDeviceGetAttribute", {"major": 9, "minor": 0}[attr])

    def cuDriverGetVersion(self):
        return self._ok("cuDriverGetVersion", self.driver_version)

    def cuMemAlloc(self, nbytes):
        if self.fail_alloc:
            return (_Result.CUDA_ERROR_OUT_OF_MEMORY, 0)
        buf = (ctypes.c_uint8 * nbytes)()
        self.memory[ctypes.addressof(buf)] = buf
        return self._ok("cuMemAlloc", ctypes.addressof(buf), record=(nbytes,))

    def cuMemFree(self, ptr):
        del self.memory[ptr]
        return self._ok("cuMemFree")

    def cuMemcpyHtoD(self, dst, src, nbytes):
        ctypes.memmove(dst, src, nbytes)
        return self._ok("cuMemcpyHtoD", record=(nbytes,))

    def cuMemcpyDtoH(self, dst, src, nbytes):
        ctypes.memmove(dst, src, nbytes)
        return self._ok("cuMemcpyDtoH", record=(nbytes,))

    def cuMemcpyDtoD(self, dst, src, nbytes):
        ctypes.memmove(dst, src, nbytes)
        return self._ok("cuMemcpyDtoD", record=(nbytes,))

    def cuModuleLoadData(self, image):
        return self._ok("cuModuleLoadData", "module", record=(ctypes.string_at(image),))

    def cuModuleGetFunction(self, module, name):
        return self._ok("cuModuleGetFunction", f"fn:{name.decode()}", record=(name,))

    def cuLaunchKernel(self, fn, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        pointers = (ctypes.c_void_p * 3).from_address(params)
        self.launches.append(
            {
                "fn": fn,
                "grid": (gx, gy, gz),
                "block": (bx, by, bz),
                "shared": shared,
                "stream": stream,
                "n": ctypes.c_int64.from_address(pointers[0]).value,
                "ptr": ctypes.c_uint64.from_address(pointers[1]).value,
                "dims": list(LsDims.from_address(pointers[2]).v),
            }
        )
        return self._ok("cuLaunchKernel")

    def cuCtxSynchronize(self):
        return self._ok("cuCtxSynchronize")

    def cuGetErrorName(self, err):
        return (_Result.CUDA_SUCCESS, err.name.encode())


def test_faked_cuda_python_runtime_calls_and_packing():
    """FAKED (no device here): the driver calls the cuda-python runtime makes, in order."""
    drv = FakeDriver()
    compiled = []

    def ptx_of(kernel):
        compiled.append(kernel.name)
        return b".version 8.0\n.entry " + kernel.name.encode()

    runtime = CudaPythonRuntime(device=1, driver=drv, ptx_compiler=ptx_of)
    assert [c[0] for c in drv.calls[:4]] == [
        "cuInit",
        "cuDeviceGet",
        "cuDevicePrimaryCtxRetain",
        "cuCtxSetCurrent",
    ]
    assert drv.calls[1] == ("cuDeviceGet", 1) and drv.calls[3] == ("cuCtxSetCurrent", "ctx-dev1")
    assert runtime.arch == "compute_90"
    host = np.arange(10, dtype=np.float32)[::-1].copy()
    ptr = runtime.alloc(host.nbytes)
    runtime.memcpy_htod(ptr, host)
    other = runtime.alloc(host.nbytes)
    runtime.memcpy_dtod(other, ptr, host.nbytes)
    back = np.empty_like(host)
    runtime.memcpy_dtoh(back, other)
    np.testing.assert_array_equal(back, host)
    kernel = CudaKernel(
        "k_scale", 'extern "C" __global__ void k_scale() {}', ("i64", "ptr", "dims")
    )
    handle = runtime.compile(kernel)
    assert runtime.compile(kernel) is handle and compiled == ["k_scale"]  # cached by source
    loads = [c for c in drv.calls if c[0] == "cuModuleLoadData"]
    assert loads == [("cuModuleLoadData", b".version 8.0\n.entry k_scale")]  # NUL-terminated
    runtime.launch(handle, (3, 1, 1), (128, 1, 1), [("i64", 10), ("ptr", ptr), ("dims", (2, 5))])
    launch = drv.launches[-1]
    assert launch["fn"] == "fn:k_scale" and launch["grid"] == (3, 1, 1)
    assert launch["block"] == (128, 1, 1) and launch["stream"] == 0
    assert (launch["n"], launch["ptr"], launch["dims"][:3]) == (10, ptr, [2, 5, 0])
    runtime.free(ptr)
    runtime.free(other)
    assert drv.memory == {}
    drv.fail_alloc = True
    with pytest.raises(CudaError, match="cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY"):
        runtime.alloc(16)


def test_faked_cuda_python_gemm_goes_to_the_blas_object():
    """FAKED (no device here): gemm is forwarded to cuBLAS with the caller's arguments."""
    seen = []
    blas = types.SimpleNamespace(gemm=lambda *a: seen.append(a))
    runtime = CudaPythonRuntime(driver=FakeDriver(), ptx_compiler=lambda k: b"", blas=blas)
    runtime.gemm("float32", True, False, 2, 3, 4, 1.0, 10, 4, 20, 4, 0.0, 30, 2)
    assert seen == [("float32", True, False, 2, 3, 4, 1.0, 10, 4, 20, 4, 0.0, 30, 2)]


def test_cublas_search_names_the_wheel_when_missing(monkeypatch):
    from labsym.backends.cuda import cublas

    monkeypatch.setattr(cublas.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "nvidia", None)
    monkeypatch.setitem(__import__("sys").modules, "cuda.pathfinder", None)
    with pytest.raises(OSError, match="nvidia-cublas"):
        cublas.find_cublas()


def test_faked_context_is_made_current_on_each_new_thread():
    """FAKED (no device here): a thread calling first makes the primary context current."""
    import threading

    drv = FakeDriver()
    runtime = CudaPythonRuntime(driver=drv, ptx_compiler=lambda k: b"")
    drv.calls.clear()
    runtime.free(runtime.alloc(8))
    assert [c[0] for c in drv.calls] == ["cuMemAlloc", "cuMemFree"]  # current already
    drv.calls.clear()
    worker = threading.Thread(target=lambda: runtime.free(runtime.alloc(8)))
    worker.start()
    worker.join()
    assert [c[0] for c in drv.calls] == ["cuCtxSetCurrent", "cuMemAlloc", "cuMemFree"]
    assert drv.calls[0] == ("cuCtxSetCurrent", "ctx-dev0")


def test_a_binding_that_cannot_open_the_device_is_a_device_error(monkeypatch):
    """FAKED (no device here): the driver probe says usable, the binding then fails."""
    from labsym.backends.cuda import runtimes

    monkeypatch.setattr(rt, "probe_driver", lambda: rt.DriverProbe("libcuda.so.1", devices=["X"]))
    monkeypatch.setattr(rt, "bindings_available", lambda: {"pycuda": False, "cuda-python": True})

    class Broken:
        name = "cuda-python"

        def __init__(self, device=0):
            raise RuntimeError("cuInit failed: CUDA_ERROR_NOT_INITIALIZED")

    monkeypatch.setattr(runtimes, "CudaPythonRuntime", Broken)
    with pytest.raises(DeviceUnavailableError, match="cuda-python could not open device 0: Runt"):
        rt.create_runtime("auto")


@pytest.mark.parametrize(
    "driver, loads",
    [("same as NVRTC", "ptx"), ("older minor", "cubin"), ("older major", None)],
)
def test_faked_driver_version_decides_ptx_cubin_or_a_clear_refusal(
    driver, loads, tmp_path, monkeypatch
):
    """FAKED driver: PTX only when the driver is as new as NVRTC (the driver JITs PTX of its
    own version or older); a CUBIN for an older minor; an older major cannot run it at all."""
    from labsym.backends.cuda import nvrtc

    if nvrtc.unavailable_reason() is not None:
        pytest.skip(nvrtc.unavailable_reason())
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    major, minor = nvrtc.version()
    drv = FakeDriver()
    drv.driver_version = {
        "same as NVRTC": major * 1000 + minor * 10,
        "older minor": major * 1000 + max(minor - 1, 0) * 10 if minor else major * 1000 - 1,
        "older major": (major - 1) * 1000 + 80,
    }[driver]
    if loads is None:
        with pytest.raises(DeviceUnavailableError, match="update the NVIDIA driver"):
            CudaPythonRuntime(driver=drv)
        return
    if driver == "older minor" and minor == 0:
        pytest.skip("NVRTC x.0 has no older minor version")
    runtime = CudaPythonRuntime(driver=drv)
    assert runtime.driver_version == drv.driver_version
    runtime.compile(CudaKernel("k_id", 'extern "C" __global__ void k_id() {}', ()))
    (image,) = [c[1] for c in drv.calls if c[0] == "cuModuleLoadData"]
    if loads == "ptx":
        assert b".target sm_90" in image and b".entry k_id" in image
    else:
        assert image[:4] == b"\x7fELF"  # the fake records up to the first NUL byte


def test_device_architectures_outside_nvrtcs_range(tmp_path, monkeypatch):
    """Older than every architecture NVRTC compiles for: a clear refusal; newer: the newest PTX
    (the driver JIT-compiles it for the device)."""
    from labsym.backends.cuda import nvrtc
    from labsym.backends.cuda.runtimes import image_compiler

    if nvrtc.unavailable_reason() is not None:
        pytest.skip(nvrtc.unavailable_reason())
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    archs = nvrtc.supported_archs()
    major, minor = nvrtc.version()
    driver = major * 1000 + minor * 10
    oldest = archs[0] - 1
    with pytest.raises(DeviceUnavailableError, match=r"older than every architecture"):
        image_compiler(oldest // 10, oldest % 10, driver)
    newest = archs[-1] + 10
    kernel = CudaKernel("k_new", 'extern "C" __global__ void k_new() {}', ())
    ptx = image_compiler(newest // 10, newest % 10, driver)(kernel)
    assert f".target sm_{archs[-1]}".encode() in ptx
