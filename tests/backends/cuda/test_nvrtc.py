"""NVRTC on the CPU: PTX for a kernel, the compile log on errors, the disk cache, and the
message tests skip with when NVRTC is missing."""

import pytest

from labsym.backends.cuda import nvrtc
from labsym.backends.cuda.kernels import common

from .conftest import requires_nvrtc

SOURCE = common.kernel(
    "probe", ("ptr",), "float* p", "    p[threadIdx.x] = expf(p[threadIdx.x]);\n"
)


def test_ptx_names_the_kernel_and_targets_the_oldest_arch(tmp_path, monkeypatch):
    requires_nvrtc()
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    ptx = nvrtc.compile_ptx(SOURCE.source)
    assert f".visible .entry {SOURCE.name}(" in ptx
    assert f".target sm_{nvrtc.supported_archs()[0]}" in ptx
    assert nvrtc.default_arch().startswith("compute_")
    cached = list(tmp_path.glob("*.ptx"))
    assert len(cached) == 1 and cached[0].read_text() == ptx
    assert nvrtc.compile_ptx(SOURCE.source) == ptx  # served from the cache


def test_cubin_for_a_real_architecture(tmp_path, monkeypatch):
    requires_nvrtc()
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    cubin = nvrtc.compile_cubin(SOURCE.source, "sm_90")
    assert cubin[:4] == b"\x7fELF" and SOURCE.name.encode() in cubin
    with pytest.raises(ValueError, match="real architecture"):
        nvrtc.compile_cubin(SOURCE.source, "compute_90")


def test_errors_carry_the_compile_log(tmp_path, monkeypatch):
    requires_nvrtc()
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    bad = 'extern "C" __global__ void k(float* p) { p[0] = not_declared; }'
    with pytest.raises(nvrtc.NvrtcError, match="not_declared"):
        nvrtc.compile_ptx(bad)
    assert not list(tmp_path.glob("*.ptx"))


def test_missing_nvrtc_is_explained(monkeypatch):
    def broken():
        raise ImportError("No module named 'cuda'")

    monkeypatch.setattr(nvrtc, "version", broken)
    reason = nvrtc.unavailable_reason()
    assert "NVRTC is not usable" in reason and "labsym[cuda]" in reason


def test_cached_code_others_could_write_is_refused(tmp_path, monkeypatch):
    from labsym.backends.c.cache import UnsafeCacheError

    requires_nvrtc()
    monkeypatch.setenv("LABSYM_CUDA_CACHE", str(tmp_path))
    nvrtc.compile_ptx(SOURCE.source)
    (cached,) = tmp_path.glob("*.ptx")
    assert cached.stat().st_mode & 0o077 == 0
    cached.chmod(0o666)
    with pytest.raises(UnsafeCacheError, match="writable by other users"):
        nvrtc.compile_ptx(SOURCE.source)
