"""Device discovery and the choice of CUDA runtime for device=cuda.

`get_runtime()` returns the process's Runtime: pycuda when it is importable (the design card's
choice), else cuda-python (`cuda-bindings`, pip wheels; kernels compiled with NVRTC). The CPU
emulator is used only when asked for explicitly (`LABSYM_CUDA_RUNTIME=emulator`, or a test's
`use_runtime`): it is never counted as a GPU run. Without a driver or a device the answer is one
`DeviceUnavailableError` that says what is missing. May import core and backends.cuda.

Installing: `pip install labsym[cuda]` needs no CUDA toolkit (cuda-bindings, the NVRTC and
cuBLAS wheels; an NVIDIA driver must be present). pycuda ships as source and builds only
where a CUDA toolkit is installed (nvcc on PATH, or CUDA_ROOT pointing at it):
`pip install labsym[cuda,pycuda]` there; it then takes precedence over cuda-python
(`LABSYM_CUDA_RUNTIME=cuda-python` or `=pycuda` picks one explicitly).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.util
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from labsym.backends.cuda.protocol import DeviceUnavailableError, Runtime

ENV_VAR = "LABSYM_CUDA_RUNTIME"
CHOICES = ("auto", "pycuda", "cuda-python", "emulator")
_DRIVER_NAMES = ("libcuda.so.1", "libcuda.so", "nvcuda.dll")


@dataclass
class DriverProbe:
    """What the NVIDIA driver library reports, read with ctypes (no Python binding needed)."""

    library: str | None  # the libcuda that loaded, or None
    init_error: int | None = None  # cuInit's CUresult when not 0
    driver_version: int = 0  # e.g. 12040 for CUDA 12.4
    devices: list[str] = field(default_factory=list)  # device names

    @property
    def usable(self) -> bool:
        return self.library is not None and self.init_error is None and bool(self.devices)


def probe_driver() -> DriverProbe:
    """Load libcuda with ctypes and list the devices it sees (device discovery)."""
    lib = None
    name = None
    for candidate in _DRIVER_NAMES + tuple(filter(None, [ctypes.util.find_library("cuda")])):
        try:
            lib = ctypes.CDLL(candidate)
            name = candidate
            break
        except OSError:
            continue
    if lib is None:
        return DriverProbe(library=None)
    probe = DriverProbe(library=name)
    status = lib.cuInit(0)
    if status != 0:
        probe.init_error = int(status)
        return probe
    version = ctypes.c_int(0)
    lib.cuDriverGetVersion(ctypes.byref(version))
    probe.driver_version = version.value
    count = ctypes.c_int(0)
    lib.cuDeviceGetCount(ctypes.byref(count))
    for ordinal in range(count.value):
        device = ctypes.c_int(0)
        lib.cuDeviceGet(ctypes.byref(device), ordinal)
        buf = ctypes.create_string_buffer(256)
        lib.cuDeviceGetName(buf, 256, device)
        probe.devices.append(buf.value.decode(errors="replace"))
    return probe


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def bindings_available() -> dict[str, bool]:
    """Which Python CUDA bindings are importable: {'pycuda': ..., 'cuda-python': ...}."""
    return {
        "pycuda": _has_module("pycuda"),
        "cuda-python": _has_module("cuda") and _has_module("cuda.bindings"),
    }


def unavailable_message(
    probe: DriverProbe, bindings: dict[str, bool], wanted: str = "auto", device: int = 0
) -> str | None:
    """Why device=cuda cannot run here (every missing piece in one sentence), or None."""
    missing = []
    if probe.library is None:
        missing.append(
            "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver installed)"
        )
    elif probe.init_error is not None:
        code = probe.init_error
        why = "no CUDA-capable device is present" if code == 100 else "the driver failed"
        missing.append(f"cuInit failed with CUresult {code} ({why})")
    elif not probe.devices:
        missing.append("the driver sees no CUDA device")
    elif device >= len(probe.devices):
        missing.append(f"device {device} asked for, but only {len(probe.devices)} exist")
    if wanted == "auto" and not any(bindings.values()):
        missing.append(
            "no Python CUDA binding is installed (`pip install labsym[cuda]` installs "
            "cuda-bindings, NVRTC and cuBLAS wheels; pycuda also works where it builds)"
        )
    elif wanted in ("pycuda", "cuda-python") and not bindings[wanted]:
        missing.append(f"{ENV_VAR}={wanted} but {wanted} is not installed")
    if not missing:
        return None
    return (
        "device=cuda needs an NVIDIA GPU, but " + "; ".join(missing) + ". Set device=cpu to "
        f"run on the CPU, or {ENV_VAR}=emulator to run the CUDA kernels on the CPU emulator "
        "(a test tool, not a GPU run)."
    )


def device_ordinal(device: str) -> int:
    """The device number in a device flag ('cuda' -> 0, 'cuda1' -> 1, 'gpu2' -> 2)."""
    digits = device.removeprefix("cuda").removeprefix("gpu")
    return int(digits) if digits.isdigit() else 0


def create_runtime(choice: str, device: int = 0) -> Runtime:
    """A new Runtime of the chosen kind; DeviceUnavailableError says what is missing."""
    if choice not in CHOICES:
        raise ValueError(f"{ENV_VAR}={choice!r}; expected one of {', '.join(CHOICES)}")
    if choice == "emulator":
        from labsym.backends.cuda.emulator import EmulatorRuntime

        return EmulatorRuntime()
    bindings = bindings_available()
    problem = unavailable_message(probe_driver(), bindings, choice, device)
    if problem is not None:
        raise DeviceUnavailableError(problem)
    from labsym.backends.cuda import runtimes

    use_pycuda = choice == "pycuda" or (choice == "auto" and bindings["pycuda"])
    kind = runtimes.PycudaRuntime if use_pycuda else runtimes.CudaPythonRuntime
    try:
        return kind(device=device)
    except Exception as exc:  # a binding that imports but cannot use the device
        raise DeviceUnavailableError(
            f"device=cuda: {kind.name} could not open device {device}: {type(exc).__name__}: {exc}"
        ) from exc


_LOCK = threading.Lock()
_CREATED: dict[tuple[str, int], Runtime] = {}
_OVERRIDES: list[Runtime] = []


def get_runtime(device: str = "cuda") -> Runtime:
    """The process's Runtime for a device flag (created once; `use_runtime` overrides it)."""
    if _OVERRIDES:
        return _OVERRIDES[-1]
    choice = os.environ.get(ENV_VAR, "auto").strip() or "auto"
    key = (choice, device_ordinal(device))
    with _LOCK:
        if key not in _CREATED:
            _CREATED[key] = create_runtime(choice, key[1])
        return _CREATED[key]


@contextlib.contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Run device=cuda work on `runtime` inside the block (tests: the emulator, counters)."""
    _OVERRIDES.append(runtime)
    try:
        yield runtime
    finally:
        _OVERRIDES.remove(runtime)
