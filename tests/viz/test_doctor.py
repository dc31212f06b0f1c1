"""labsym.doctor(): the environment report, with probes made to fail on purpose."""

from __future__ import annotations

import os
import platform
import shutil
import sys

import numpy as np
import pytest

import labsym
from labsym.config import config
from labsym.viz import doctor as doc
from labsym.viz.doctor import Check, Report, doctor

PARTS = [
    "Python",
    "NumPy",
    "BLAS (NumPy's)",
    "C compiler",
    "C build",
    "compile cache",
    "dot renderer",
    "IPython",
    "ipywidgets",
    "tqdm",
    "JupyterLab",
    "labsym lab extension",
    "CUDA driver",
    "NVRTC",
    "pycuda / cuda-python",
]


def test_doctor_reports_every_part_of_this_environment():
    report = labsym.doctor()
    assert isinstance(report, Report) and labsym.doctor is doctor
    assert [c.part for c in report] == PARTS
    assert report["Python"].found == f"{platform.python_version()} (CPython)"
    assert report["NumPy"].found.startswith(f"{np.__version__} at ")
    # the .venv this suite runs in has a compiler and the jupyter extra's packages
    for part in ("C compiler", "C build", "dot renderer", "ipywidgets"):
        assert report[part].status == "ok", report[part]
    assert report["C build"].found == "a one-kernel C module builds, loads and runs"
    with pytest.raises(KeyError) as missing:
        report["GPU"]
    assert missing.value.args[0].startswith("no row 'GPU' in the doctor's report; rows: ['Python'")


def test_missing_compiler_and_dot_say_what_they_cost_and_the_fix(monkeypatch):
    # nothing on PATH but apt-get: no cc/gcc/clang, no dot, no graphviz-pure
    monkeypatch.setattr(
        shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.delenv("LABSYM_DOT", raising=False)
    monkeypatch.setattr(doc.sys, "platform", "linux")
    report = doctor()
    compiler = report["C compiler"]
    assert compiler == Check(
        "C compiler",
        "missing",
        "no cc, gcc or clang on PATH (and $CC unset)",
        "no native code: every function runs on the NumPy engine",
        "sudo apt-get install build-essential python3-dev",
    )
    assert report["C build"].status == "missing"
    assert report["C build"].fix == "sudo apt-get install build-essential python3-dev"
    assert report["dot renderer"] == Check(
        "dot renderer",
        "missing",
        "no LABSYM_DOT, no dot on PATH, no graphviz-pure",
        "graphs show as DOT text instead of SVG; pydotprint cannot write png/svg",
        "pip install graphviz-pure",
    )
    text = str(report)
    assert "\nC compiler: no native code: every function runs on the NumPy engine\n" in text
    assert "  fix: sudo apt-get install build-essential python3-dev" in text
    assert "  fix: pip install graphviz-pure" in text


@pytest.mark.parametrize(
    ("platform_name", "fix"),
    [
        ("darwin", "xcode-select --install"),
        ("win32", "winget install Microsoft.VisualStudio.2022.BuildTools"),
    ],
)
def test_compiler_fix_per_platform(monkeypatch, platform_name, fix):
    monkeypatch.setattr(doc, "find_compiler", lambda: None)
    monkeypatch.setattr(doc.sys, "platform", platform_name)
    assert doc.probe_compiler().fix == fix


def test_failed_c_build_reports_the_error(monkeypatch):
    monkeypatch.setattr(doc, "c_build", lambda: "CompileError: fatal error: Python.h missing")
    check = doc.probe_c_build()
    assert check.status == "missing"
    assert check.found.endswith("a test build failed: CompileError: fatal error: Python.h missing")


def test_c_build_really_builds_once_per_process():
    assert doc.c_build() is None
    assert doc.c_build.cache_info().currsize == 1


def test_compile_cache_permissions(tmp_path):
    cache = tmp_path / "cache"
    with config.change_flags(compiledir=str(cache)):
        assert doc.probe_compiledir() == Check(
            "compile cache", "ok", f"{cache} (not made yet: created 0700 by the first native build)"
        )
        cache.mkdir(mode=0o700)
        os.chmod(cache, 0o700)
        assert doc.probe_compiledir() == Check("compile cache", "ok", f"{cache} (mode 700)")
        os.chmod(cache, 0o777)
        check = doc.probe_compiledir()
        assert (check.status, check.fix) == ("missing", f"chmod 700 {cache}")
        assert check.found == f"{cache} (mode 777) is writable by other users"
        assert check.cost == "labsym refuses to load native code from it"


def test_numpy_without_blas_is_a_warning(monkeypatch):
    monkeypatch.setattr(doc, "_blas_from_threadpoolctl", lambda: None)
    monkeypatch.setattr(doc, "_blas_from_numpy", lambda: None)
    assert doc.probe_blas() == Check(
        "BLAS (NumPy's)",
        "warning",
        "NumPy reports no optimized BLAS",
        "dot/gemm run at reference-BLAS speed (often 10x slower on large matrices)",
        "pip install --force-reinstall numpy",
    )


def test_blas_from_threadpoolctl_when_installed(monkeypatch):
    import importlib.machinery
    import types

    fake = types.ModuleType("threadpoolctl")
    fake.__spec__ = importlib.machinery.ModuleSpec("threadpoolctl", None)
    fake.threadpool_info = lambda: [
        {"user_api": "openmp", "internal_api": "openmp", "version": None, "num_threads": 8},
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.27", "num_threads": 4},
    ]
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)
    assert doc.probe_blas() == Check("BLAS (NumPy's)", "ok", "openblas 0.3.27 (4 threads)")


def test_gpu_without_driver_names_the_fix(monkeypatch):
    monkeypatch.setattr(doc, "_gpu_present", lambda: True)
    monkeypatch.setattr(doc, "_load_library", lambda *names: None)
    check = doc.probe_cuda_driver()
    assert (check.status, check.fix) == ("missing", "sudo ubuntu-drivers install")
    assert check.cost == "device='cuda' raises DeviceUnavailableError; run with device=cpu"


def test_no_gpu_is_absent_not_a_problem(monkeypatch):
    monkeypatch.setattr(doc, "_gpu_present", lambda: False)
    monkeypatch.setattr(doc, "_load_library", lambda *names: None)
    check = doc.probe_cuda_driver()
    assert (check.status, check.found, check.fix) == ("absent", "no NVIDIA GPU on this machine", "")
    assert Report([check]).problems == []


def test_html_table_escapes_everything():
    report = Report(
        [Check("<script>alert(1)</script>", "missing", "<b>x</b>", "a & b", "pip install 'x<y'")]
    )
    html = report._repr_html_()
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b" in html and "pip install &#x27;x&lt;y&#x27;" in html
    assert "<caption>labsym doctor</caption>" in html
    assert "<th>if missing</th>" in html and html.startswith("<style>")


def test_text_table_lines_up():
    report = Report(
        [Check("Python", "ok", "3.11"), Check("dot renderer", "missing", "none", "c", "f")]
    )
    assert str(report).splitlines()[:4] == [
        "labsym doctor",
        "  part          status   found",
        "  Python        ok       3.11",
        "  dot renderer  missing  none",
    ]
    with pytest.raises(ValueError, match="status must be one of"):
        Check("x", "fine", "")


def test_ipython_shows_the_html_table_and_the_text():
    from IPython.core.interactiveshell import InteractiveShell

    report = Report([Check("tqdm", "missing", "not installed", "plain lines", "pip install tqdm")])
    data, _ = InteractiveShell.instance().display_formatter.format(report)
    assert data["text/plain"] == str(report)
    assert data["text/html"] == report._repr_html_()
    assert "<td>pip install tqdm</td>" in data["text/html"]


def test_nvrtc_found_in_cuda13_and_cuda12_wheel_layouts(monkeypatch, tmp_path):
    # nvidia-cuda-nvrtc 13 installs nvidia/cu13/lib, version 12 nvidia/cuda_nvrtc/lib
    import importlib.machinery

    for sub in ("cu13/lib/libnvrtc.so.13", "cuda_nvrtc/lib/libnvrtc.so.12"):
        root = tmp_path / sub.split("/")[0] / "nvidia"
        lib = root / sub
        lib.parent.mkdir(parents=True)
        lib.write_bytes(b"")
        (lib.parent / "libnvrtc-builtins.so.13.5").write_bytes(b"")  # never reported
        spec = importlib.machinery.ModuleSpec("nvidia", None, is_package=True)
        spec.submodule_search_locations = [str(root)]
        monkeypatch.setattr(doc.importlib.util, "find_spec", lambda name, s=spec: s)
        assert doc.probe_nvrtc() == Check("NVRTC", "ok", str(lib))


def test_missing_cuda_python_parts_name_the_cuda_extra(monkeypatch):
    monkeypatch.setattr(doc, "_gpu_present", lambda: True)
    monkeypatch.setattr(doc, "_nvrtc_from_wheel", lambda: None)
    monkeypatch.setattr(doc.ctypes.util, "find_library", lambda name: None)
    assert doc.probe_nvrtc().fix == "pip install 'labsym[cuda]'"
    monkeypatch.setattr(doc, "_importable", lambda module: False)
    check = doc.probe_cuda_runtime()
    assert (check.status, check.fix) == ("missing", "pip install 'labsym[cuda]'")


def test_cuda_runtime_names_the_cuda_bindings_distribution(monkeypatch):
    monkeypatch.setattr(doc, "_importable", lambda module: module == "cuda.bindings")
    monkeypatch.setattr(doc, "_version", lambda dist: {"cuda-bindings": "13.5.0"}.get(dist))
    assert doc.probe_cuda_runtime().found == "cuda-bindings 13.5.0"


def test_c_build_reports_a_compiler_that_fails(tmp_path):
    # the real build path with a compiler that exits 1 and an empty compile cache
    with config.change_flags(cxx="false", compiledir=str(tmp_path / "cache")):
        error = doc.c_build.__wrapped__()
    assert error is not None and error.startswith("CCompileError"), error


def test_c_build_refused_by_an_unsafe_cache_names_the_cache_fix(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    with config.change_flags(compiledir=str(cache)):
        error = doc.c_build.__wrapped__()
        assert error is not None and error.startswith("UnsafeCacheError"), error
        doc.c_build.cache_clear()
        try:
            check = doc.probe_c_build()
        finally:
            doc.c_build.cache_clear()
    assert check.status == "missing" and check.fix == f"chmod 700 {cache}"
