"""Kernel source -> PTX with NVRTC (cuda-bindings + the nvidia-cuda-nvrtc wheel); no GPU needed.

The CUDA runtimes load the PTX on a device; the tests compile every kernel with it on CPU
machines. Results are cached on disk by source, options and NVRTC version, in a private
directory (the C cache's rules: code nobody else could have written). May import core,
backends.cuda.protocol and backends.c.cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from labsym.backends.c import cache as c_cache

INSTALL_HINT = "pip install 'labsym[cuda]' (cuda-bindings and nvidia-cuda-nvrtc, no toolkit)"


class NvrtcError(RuntimeError):
    """NVRTC refused a program; the message holds its compile log."""


@lru_cache(maxsize=1)
def _nvrtc() -> Any:
    from cuda.bindings import nvrtc

    return nvrtc


def unavailable_reason() -> str | None:
    """None when NVRTC can compile here, else why not (a message for skips and errors)."""
    try:
        version()
    except Exception as exc:  # ImportError, or the library wheel missing at load time
        return f"NVRTC is not usable ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
    return None


def _check(result: tuple, what: str) -> tuple:
    err, *rest = result
    if int(err) != 0:
        raise NvrtcError(f"{what}: {err}")
    return tuple(rest)


@lru_cache(maxsize=1)
def version() -> tuple[int, int]:
    """NVRTC's (major, minor)."""
    major, minor = _check(_nvrtc().nvrtcVersion(), "nvrtcVersion")
    return int(major), int(minor)


@lru_cache(maxsize=1)
def supported_archs() -> tuple[int, ...]:
    """The compute capabilities this NVRTC targets (e.g. 75 for sm_75), lowest first."""
    nvrtc = _nvrtc()
    (n,) = _check(nvrtc.nvrtcGetNumSupportedArchs(), "nvrtcGetNumSupportedArchs")
    (archs,) = _check(nvrtc.nvrtcGetSupportedArchs(), "nvrtcGetSupportedArchs")
    return tuple(sorted(int(a) for a in archs[:n]))


def default_arch() -> str:
    """The oldest virtual architecture NVRTC supports: PTX any newer device JIT-compiles."""
    return f"compute_{supported_archs()[0]}"


def _cache_path(key: str) -> Path:
    """The cache file stem for `key` (suffix .ptx or .cubin): in $LABSYM_CUDA_CACHE, else in
    `cuda_nvrtc` under the compiledir; created 0700, refused if other users could write it."""
    root = os.environ.get("LABSYM_CUDA_CACHE") or os.path.join(c_cache.cache_dir(), "cuda_nvrtc")
    return Path(c_cache.private_dir(root)) / key


def compile_ptx(
    source: str,
    name: str = "labsym_kernel.cu",
    arch: str | None = None,
    options: Sequence[str] = (),
) -> str:
    """The PTX of `source` for `arch` (default: default_arch()); raises NvrtcError with the log."""
    return _cached(source, name, arch or default_arch(), options, "ptx").decode()


def compile_cubin(
    source: str, arch: str, name: str = "labsym_kernel.cu", options: Sequence[str] = ()
) -> bytes:
    """Machine code (CUBIN) of `source` for a real architecture such as 'sm_90'.

    Loading it needs no PTX JIT in the driver, so it also runs where the driver is older than
    the PTX ISA this NVRTC emits."""
    if not arch.startswith("sm_"):
        raise ValueError(f"a CUBIN needs a real architecture (sm_XY), got {arch!r}")
    return _cached(source, name, arch, options, "cubin")


def _cached(source: str, name: str, arch: str, options: Sequence[str], kind: str) -> bytes:
    opts = [f"--gpu-architecture={arch}", "--std=c++17", *options]
    key = hashlib.sha256("\0".join([source, *opts, str(version())]).encode()).hexdigest()[:32]
    path = _cache_path(key).with_suffix(f".{kind}")
    if path.exists():
        c_cache.check_private(str(path))  # code another user could have written is never loaded
        return path.read_bytes()
    code = _compile(source, name, opts, kind)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(code)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return code


def _compile(source: str, name: str, opts: list[str], kind: str) -> bytes:
    nvrtc = _nvrtc()
    (prog,) = _check(
        nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], []), "nvrtcCreateProgram"
    )
    try:
        (err,) = nvrtc.nvrtcCompileProgram(prog, len(opts), [o.encode() for o in opts])
        if int(err) != 0:
            (size,) = _check(nvrtc.nvrtcGetProgramLogSize(prog), "nvrtcGetProgramLogSize")
            log = b" " * size
            _check(nvrtc.nvrtcGetProgramLog(prog, log), "nvrtcGetProgramLog")
            raise NvrtcError(f"NVRTC failed on {name} ({err}):\n{log.decode(errors='replace')}")
        if kind == "cubin":
            (size,) = _check(nvrtc.nvrtcGetCUBINSize(prog), "nvrtcGetCUBINSize")
            buf = b" " * size
            _check(nvrtc.nvrtcGetCUBIN(prog, buf), "nvrtcGetCUBIN")
            return buf
        (size,) = _check(nvrtc.nvrtcGetPTXSize(prog), "nvrtcGetPTXSize")
        buf = b" " * size
        _check(nvrtc.nvrtcGetPTX(prog, buf), "nvrtcGetPTX")
        return buf.rstrip(b"\0")
    finally:
        nvrtc.nvrtcDestroyProgram(prog)
