"""device=cuda on the CPU: the CUDA emulator selected explicitly, wrapped to count transfers.

Nothing here is a GPU run: the same kernel source runs on g++-built emulation (emu.h).
"""

from __future__ import annotations

from typing import Any

import pytest

from labsym.backends.cuda import emulator
from labsym.backends.cuda.runtime import use_runtime
from labsym.config import config


class CountingRuntime:
    """A Runtime wrapper recording every host<->device copy as (direction, nbytes)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.transfers: list[tuple[str, int]] = []

    def memcpy_htod(self, ptr: int, host: Any) -> None:
        self.transfers.append(("htod", int(host.nbytes)))
        self.inner.memcpy_htod(ptr, host)

    def memcpy_dtoh(self, host: Any, ptr: int) -> None:
        self.transfers.append(("dtoh", int(host.nbytes)))
        self.inner.memcpy_dtoh(host, ptr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(scope="session")
def emulated():
    if emulator.compiler() is None:
        pytest.skip("the CUDA emulator needs g++")
    return emulator.EmulatorRuntime()


@pytest.fixture
def device(emulated):
    """device=cuda, floatX=float32, on a transfer-counting wrapper of the emulator."""
    counting = CountingRuntime(emulated)
    with use_runtime(counting), config.change_flags(device="cuda", floatX="float32"):
        yield counting
