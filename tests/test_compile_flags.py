"""Flags that act at compile time: mode, profile, device, linker, on_unused_input, allow_gc."""

from __future__ import annotations

import io

import numpy as np
import pytest

import labsym
from labsym import compile as compile_module
from labsym import tensor as T
from labsym.backends.c.module import c_compiler
from labsym.config import config


def test_mode_flag_selects_the_rewriter():
    x = T.dvector("x")
    with config.change_flags(mode="FAST_COMPILE"):
        f = labsym.function([x], T.log(1 + x))
    assert "log1p" not in str(f.maker.fgraph)  # FAST_COMPILE has no stabilize phase
    g = labsym.function([x], T.log(1 + x))
    assert "log1p" in str(g.maker.fgraph)
    with config.change_flags(optimizer="None"):
        h = labsym.function([x], x * 1)
    assert "mul" in str(h.maker.fgraph)


def test_profile_flag_collects_and_prints():
    x = T.dvector("x")
    before = len(compile_module._PROFILED)
    with config.change_flags(profile=True):
        f = labsym.function([x], T.exp(x), name="profiled")
    f(np.ones(3))
    assert f.profile is not None and len(compile_module._PROFILED) == before + 1
    out = io.StringIO()
    compile_module.print_profiles(out)
    assert "Message: profiled" in out.getvalue()
    compile_module._PROFILED.pop()


def test_device_cuda_never_runs_silently_on_the_cpu(monkeypatch):
    """device=cuda without a GPU: one clear error at compile time (tests/backends/cuda_graph
    checks its wording; tests/gpu runs the device path on a GPU)."""
    from labsym.backends.cuda import runtime

    if runtime.probe_driver().usable:
        pytest.skip("a CUDA device is present")
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    x = T.dvector("x")
    with (
        config.change_flags(device="cuda0"),
        pytest.raises(runtime.DeviceUnavailableError, match="needs an NVIDIA GPU"),
    ):
        labsym.function([x], x * 2)


def test_on_unused_input_flag():
    x, y = T.dscalars("x", "y")
    with config.change_flags(on_unused_input="ignore"):
        assert labsym.function([x, y], x)(1.0, 2.0) == 1.0


@pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
def test_c_linker_flag_runs_c_code_only():
    x = T.dvector("x")
    with config.change_flags(linker="c"):
        f = labsym.function([x], T.exp(x) * 2)
        with pytest.raises(NotImplementedError, match="these ops have no C code: ArgSortOp"):
            labsym.function([x], T.argsort(x))
    assert f._program.native
    np.testing.assert_allclose(f(np.zeros(2)), [2.0, 2.0])


def test_c_linker_flag_without_a_compiler_raises():
    x = T.dvector("x")
    with config.change_flags(linker="c", cxx=""), pytest.raises(ValueError, match="cxx flag is ''"):
        labsym.function([x], T.exp(x) * 2)


def test_cvm_linker_flag_runs_the_best_engine_available():
    x = T.dvector("x")
    with config.change_flags(linker="cvm"):
        f = labsym.function([x], T.exp(x) * 2)
    np.testing.assert_allclose(f(np.zeros(2)), [2.0, 2.0])
