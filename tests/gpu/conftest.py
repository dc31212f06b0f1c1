"""tests/gpu: the CUDA backend on a real device. Every test skips cleanly without one.

Run by benchmarks/gpu_check.sh on a GPU machine. The runtime is pycuda or cuda-python as
`get_runtime` chooses (LABSYM_CUDA_RUNTIME=emulator is ignored here: that is no GPU run).
"""

from __future__ import annotations

import os

import pytest

from labsym.backends.cuda import runtime as rt
from labsym.config import config
from tests.backends.cuda_graph.conftest import CountingRuntime


def _real_runtime():
    """(runtime, None) on a GPU machine, else (None, why not)."""
    probe = rt.probe_driver()
    if not probe.usable:
        return None, rt.unavailable_message(probe, rt.bindings_available()) or "no CUDA device"
    choice = os.environ.get(rt.ENV_VAR, "auto")
    try:
        return rt.create_runtime("auto" if choice == "emulator" else choice), None
    except Exception as exc:  # noqa: BLE001 - reported as the skip reason
        return None, f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def gpu():
    """The device Runtime (pycuda or cuda-python), or a clean skip."""
    runtime, why = _real_runtime()
    if runtime is None:
        pytest.skip(f"no CUDA device: {why}")
    assert runtime.name in ("pycuda", "cuda-python")
    return runtime


@pytest.fixture
def on_gpu(gpu):
    """device=cuda, floatX=float32, on a transfer-counting wrapper of the device runtime."""
    counting = CountingRuntime(gpu)
    with rt.use_runtime(counting), config.change_flags(device="cuda", floatX="float32"):
        yield counting
