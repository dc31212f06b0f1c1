"""labsym.doctor(): what this environment gives labsym, one row per part, with the fix for each gap.

Probes are cheap and side-effect free except the C build (one cached module, once per process).
May import labsym.config and labsym.viz; third-party packages (and the slower stdlib modules:
`import labsym` imports this file) only inside the probes.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import platform
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Check", "Report", "doctor"]

# one word per outcome; "absent" is a part this machine cannot use at all (e.g. no GPU)
STATUSES = ("ok", "missing", "warning", "absent")


@dataclass(frozen=True)
class Check:
    """One row of the report: a part, whether it works, what was found, the cost, the fix."""

    part: str
    status: str
    found: str
    cost: str = ""
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Check status must be one of {STATUSES}, got {self.status!r}")


class Report:
    """The doctor's table: HTML in a notebook (`_repr_html_`), text elsewhere (`str`, `print`)."""

    headers = ("part", "status", "found", "if missing", "fix")

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    def __getitem__(self, part: str) -> Check:
        for check in self.checks:
            if check.part == part:
                return check
        raise KeyError(f"no row {part!r} in the doctor's report; rows: {[c.part for c in self]}")

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    @property
    def problems(self) -> list[Check]:
        """The rows that cost something (missing or warning)."""
        return [c for c in self.checks if c.status in ("missing", "warning")]

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        return [(c.part, c.status, c.found, c.cost, c.fix) for c in self.checks]

    def __str__(self) -> str:
        rows = [("part", "status", "found")] + [(c.part, c.status, c.found) for c in self]
        widths = [max(len(row[k]) for row in rows) for k in range(2)]
        lines = ["labsym doctor"]
        for part, status, found in rows:
            lines.append(f"  {part:<{widths[0]}}  {status:<{widths[1]}}  {found}")
        for check in self.problems:
            lines.append(f"\n{check.part}: {check.cost}")
            if check.fix:
                lines.append(f"  fix: {check.fix}")
        if not self.problems:
            lines.append("\nEverything labsym can use is here.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text/plain
        printer.text(str(self))

    def _repr_html_(self) -> str:
        from labsym.viz.html import STYLE, table

        return STYLE + table(self.headers, self._rows(), caption="labsym doctor")


def doctor() -> Report:
    """Report what this environment gives labsym and the one command that fixes each gap.

    Examples
    --------
    >>> import labsym
    >>> print(labsym.doctor())  # doctest: +SKIP
    labsym doctor
      part          status   found
      Python        ok       3.11.7 (CPython)
      ...
    """
    return Report([probe() for probe in _probes()])


def _probes() -> list[Callable[[], Check]]:
    # looked up at call time, so tests (and users) can replace a probe
    return [
        probe_python,
        probe_numpy,
        probe_blas,
        probe_compiler,
        probe_c_build,
        probe_compiledir,
        probe_dot,
        probe_ipython,
        probe_ipywidgets,
        probe_tqdm,
        probe_jupyterlab,
        probe_lab_extension,
        probe_cuda_driver,
        probe_nvrtc,
        probe_cuda_runtime,
    ]


def _version(package: str) -> str | None:
    """The installed distribution's version, or None when it is not installed."""
    import importlib.metadata  # 20 ms: not at `import labsym`

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def probe_python() -> Check:
    """The running interpreter (labsym needs Python 3.10 or newer)."""
    return Check(
        "Python", "ok", f"{platform.python_version()} ({platform.python_implementation()})"
    )


def probe_numpy() -> Check:
    """NumPy's version and location: the NumPy engine runs every op through it."""
    import numpy

    return Check("NumPy", "ok", f"{numpy.__version__} at {Path(numpy.__file__).parent}")


def _blas_from_numpy() -> str | None:
    import numpy

    try:
        config = numpy.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.26 prints only
        return None
    blas = (config or {}).get("Build Dependencies", {}).get("blas", {})
    if not blas.get("found"):
        return None
    return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()


def _blas_from_threadpoolctl() -> str | None:
    if importlib.util.find_spec("threadpoolctl") is None:
        return None
    import threadpoolctl

    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return None
    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
        for i in infos
    )


def probe_blas() -> Check:
    """The BLAS NumPy links: dot/gemm speed depends on it."""
    found = _blas_from_threadpoolctl() or _blas_from_numpy()
    if found is None:
        return Check(
            "BLAS (NumPy's)", "warning", "NumPy reports no optimized BLAS",
            "dot/gemm run at reference-BLAS speed (often 10x slower on large matrices)",
            "pip install --force-reinstall numpy",
        )  # fmt: skip
    return Check("BLAS (NumPy's)", "ok", found)


def _compiler_fix() -> str:
    import shutil

    if sys.platform == "darwin":
        return "xcode-select --install"
    if sys.platform == "win32":
        return "winget install Microsoft.VisualStudio.2022.BuildTools"
    if shutil.which("apt-get"):
        return "sudo apt-get install build-essential python3-dev"
    if shutil.which("dnf"):
        return "sudo dnf install gcc python3-devel"
    return "conda install -c conda-forge c-compiler"


def find_compiler() -> str | None:
    """A C compiler on this machine: $CC, else cc/gcc/clang on PATH."""
    import shutil

    cc = os.environ.get("CC")
    if cc:
        return shutil.which(cc.split()[0])
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


def probe_compiler() -> Check:
    """A C compiler, needed for native code."""
    import subprocess

    path = find_compiler()
    if path is None:
        return Check(
            "C compiler", "missing", "no cc, gcc or clang on PATH (and $CC unset)",
            "no native code: every function runs on the NumPy engine",
            _compiler_fix(),
        )  # fmt: skip
    try:
        banner = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        banner = []
    return Check("C compiler", "ok", f"{path}" + (f" ({banner[0]})" if banner else ""))


# one kernel in Theano's c_code convention: out = in + 1 (a new array)
_PROBE_KERNEL = """
%(out0)s = (PyArrayObject*)PyArray_NewCopy(%(in0)s, NPY_CORDER);
if (!%(out0)s) %(fail)s
double* p = (double*)PyArray_DATA(%(out0)s);
for (npy_intp i = 0; i < PyArray_SIZE(%(out0)s); i++) p[i] += 1.0;
"""


@functools.lru_cache(maxsize=1)
def c_build() -> str | None:
    """Build, load and run a one-kernel labsym C module the way functions get theirs (the
    compiler, Python's and NumPy's headers, the compile cache): None if it works, else the error.

    Cached per process: a first build takes about a second and the answer does not change.
    """
    import numpy as np

    from labsym.backends.c.kernel import CKernel
    from labsym.backends.c.module import NodeEntry, build_module, make_thunk

    entry = NodeEntry("labsym_doctor_probe", CKernel(_PROBE_KERNEL), ("float64",), 1)
    try:
        lib = build_module([entry], hint="labsym.doctor() probe")
        result = make_thunk(lib, entry)(np.array([1.0, 2.0]))
    except Exception as exc:  # noqa: BLE001 - any build failure is the answer
        lines = [line for line in str(exc).splitlines() if line.strip()]
        return f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    if result.tolist() != [2.0, 3.0]:
        return f"the built module computed [1, 2] + 1 as {result.tolist()}"
    return None


def probe_c_build() -> Check:
    """Whether labsym can build and load a C module here (a real one-kernel build)."""
    if find_compiler() is None:
        return Check(
            "C build", "missing", "no C compiler to build with",
            "no native code: every function runs on the NumPy engine", _compiler_fix(),
        )  # fmt: skip
    error = c_build()
    if error is not None:
        # a compile cache labsym refuses is fixed there (the compile cache row says how)
        cache = (
            probe_compiledir()
            if error.startswith(("UnsafeCacheError", "PermissionError"))
            else None
        )
        return Check(
            "C build", "missing", f"a test build failed: {error}",
            "no native code: every function runs on the NumPy engine",
            cache.fix if cache is not None and cache.fix else _compiler_fix(),
        )  # fmt: skip
    return Check("C build", "ok", "a one-kernel C module builds, loads and runs")


def probe_compiledir() -> Check:
    """The compile cache directory: private (0700), owned by this user, writable."""
    from labsym.config import ConfigError, config

    try:
        path = Path(config.compiledir)
    except ConfigError as exc:
        return Check(
            "compile cache", "missing", str(exc), "native modules cannot be cached",
            'export LABSYM_FLAGS="base_compiledir=$HOME/.cache/labsym"',
        )  # fmt: skip
    relocate = f'export LABSYM_FLAGS="base_compiledir={Path.home() / ".cache" / "labsym"}"'
    if not path.exists():
        parent = next(p for p in path.parents if p.exists())
        if not os.access(parent, os.W_OK):
            return Check(
                "compile cache", "missing", f"{path} cannot be created ({parent} is read-only)",
                "native modules are rebuilt in every session", relocate,
            )  # fmt: skip
        return Check(
            "compile cache", "ok", f"{path} (not made yet: created 0700 by the first native build)"
        )
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    found = f"{path} (mode {mode:o})"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return Check(
            "compile cache", "missing", f"{found} belongs to another user",
            "labsym refuses to load native code from it", relocate,
        )  # fmt: skip
    if mode & 0o022:
        return Check(
            "compile cache", "missing", f"{found} is writable by other users",
            "labsym refuses to load native code from it", f"chmod 700 {path}",
        )  # fmt: skip
    if not os.access(path, os.W_OK):
        return Check(
            "compile cache", "missing", f"{found} is not writable",
            "native modules are rebuilt in every session", f"chmod u+w {path}",
        )  # fmt: skip
    return Check("compile cache", "ok", found)


def probe_dot() -> Check:
    """A dot executable (LABSYM_DOT, dot on PATH, graphviz-pure) that draws graphs as SVG."""
    from labsym.viz.graphviz import find_dot

    path = find_dot()
    if path is None:
        return Check(
            "dot renderer", "missing", "no LABSYM_DOT, no dot on PATH, no graphviz-pure",
            "graphs show as DOT text instead of SVG; pydotprint cannot write png/svg",
            "pip install graphviz-pure",
        )  # fmt: skip
    return Check("dot renderer", "ok", path)


def _package_check(part: str, dist: str, cost: str, fix: str) -> Check:
    version = _version(dist)
    if version is None:
        return Check(part, "missing", "not installed", cost, fix)
    return Check(part, "ok", version)


def probe_ipython() -> Check:
    """IPython: the magics and the rich displays need it."""
    return _package_check(
        "IPython", "ipython", "no %%symfunc magics and no rich displays", "pip install ipython"
    )


def probe_ipywidgets() -> Check:
    """ipywidgets: the stepper, inspector and monitor widgets need it."""
    return _package_check(
        "ipywidgets",
        "ipywidgets",
        "no RewriteStepper, NodeInspector widgets; TrainingMonitor prints a text bar",
        "pip install ipywidgets",
    )


def probe_tqdm() -> Check:
    """tqdm: TrainingMonitor's text bar outside a notebook."""
    return _package_check(
        "tqdm",
        "tqdm",
        "TrainingMonitor outside a notebook prints plain lines instead of a progress bar",
        "pip install tqdm",
    )


def probe_jupyterlab() -> Check:
    """JupyterLab, the notebook front end labsym is made for."""
    return _package_check(
        "JupyterLab", "jupyterlab", "no notebook front end to show labsym's displays",
        "pip install jupyterlab",
    )  # fmt: skip


LAB_EXTENSION = "labsym-jupyter"  # jupyter-extension/package.json's name: its install folder


def _lab_extension_dirs() -> list[Path]:
    if importlib.util.find_spec("jupyter_core") is not None:
        from jupyter_core.paths import jupyter_path

        return [Path(p) / LAB_EXTENSION for p in jupyter_path("labextensions")]
    return [Path(sys.prefix) / "share" / "jupyter" / "labextensions" / LAB_EXTENSION]


def _read_package_json(path: Path) -> dict | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _lab_extension_fix() -> str:
    # an editable install has the built bundle in its source tree, but pip does not copy
    # data files for editable installs: `jupyter-builder develop` (JupyterLab 4.5+ installs it;
    # `jupyter labextension develop` is deprecated) links it instead
    source = Path(__file__).resolve().parents[2]
    if (source / "pyproject.toml").exists() and (source / "labsym" / "labextension").is_dir():
        return f"jupyter-builder develop --overwrite {source}"
    return "pip install --force-reinstall --no-deps labsym"


def probe_lab_extension() -> Check:
    """labsym's JupyterLab renderer of the graph JSON: where it is installed, which version."""
    labsym_version = _version("labsym")
    for path in _lab_extension_dirs():
        meta = _read_package_json(path / "package.json")
        if meta is None:
            continue
        version = str(meta.get("version", "?"))
        found = f"{meta.get('name', LAB_EXTENSION)} {version} at {path}"
        if labsym_version is not None and version != labsym_version:
            return Check(
                "labsym lab extension", "warning", f"{found}; labsym is {labsym_version}",
                "graphs may be drawn by a renderer that does not match this labsym",
                _lab_extension_fix(),
            )  # fmt: skip
        return Check("labsym lab extension", "ok", found)
    return Check(
        "labsym lab extension", "missing", f"no {LAB_EXTENSION} in JupyterLab's extension folders",
        "graphs show as static SVG/HTML in JupyterLab, not as the interactive graph view",
        _lab_extension_fix(),
    )  # fmt: skip


def _gpu_present() -> bool:
    import shutil

    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def _load_library(*names: str) -> ctypes.CDLL | None:
    for name in filter(None, names):  # "" would load this process itself
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def probe_cuda_driver() -> Check:
    """The NVIDIA driver's libcuda and the CUDA version it supports."""
    import ctypes.util

    lib = _load_library(
        "libcuda.so.1", "libcuda.so", "nvcuda.dll", ctypes.util.find_library("cuda") or ""
    )
    if lib is None:
        if not _gpu_present():
            return Check(
                "CUDA driver", "absent", "no NVIDIA GPU on this machine",
                "device='cuda' raises DeviceUnavailableError; run with device=cpu",
            )  # fmt: skip
        return Check(
            "CUDA driver", "missing", "an NVIDIA GPU but no libcuda",
            "device='cuda' raises DeviceUnavailableError; run with device=cpu",
            "sudo ubuntu-drivers install",
        )  # fmt: skip
    version = ctypes.c_int(0)
    if lib.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return Check("CUDA driver", "warning", "libcuda loads but reports an error",
                     "device='cuda' may fail", "nvidia-smi")  # fmt: skip
    v = version.value
    return Check("CUDA driver", "ok", f"libcuda, CUDA {v // 1000}.{v % 1000 // 10}")


def _nvrtc_from_wheel() -> Path | None:
    """libnvrtc inside the nvidia-cuda-nvrtc wheel, if that is installed.

    CUDA 13 wheels put it in nvidia/cu13/lib, CUDA 12 wheels in nvidia/cuda_nvrtc/lib.
    """
    spec = importlib.util.find_spec("nvidia")
    for root in spec.submodule_search_locations or [] if spec else []:
        for pattern in ("cu13/lib/libnvrtc.so*", "cuda_nvrtc/lib/libnvrtc.so*"):
            for lib in sorted(Path(root).glob(pattern)):
                if "builtins" not in lib.name:
                    return lib
    return None


def probe_nvrtc() -> Check:
    """NVRTC, which compiles the CUDA kernels labsym renders."""
    wheel = _nvrtc_from_wheel()
    import ctypes.util

    name = ctypes.util.find_library("nvrtc")
    found = str(wheel) if wheel else name
    if found is None:
        status = "missing" if _gpu_present() else "absent"
        return Check(
            "NVRTC", status, "libnvrtc not found", "CUDA kernels cannot be compiled",
            "pip install 'labsym[cuda]'" if status == "missing" else "",
        )  # fmt: skip
    return Check("NVRTC", "ok", found)


def _importable(module: str) -> bool:
    """True if `module` (dotted) can be imported; a missing parent package is not an error."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def probe_cuda_runtime() -> Check:
    """pycuda or cuda-python (its cuda-bindings package), through which labsym launches kernels."""
    found = [
        f"{dist} {_version(dist)}"
        for dist, module in (("pycuda", "pycuda"), ("cuda-bindings", "cuda.bindings"))
        if _importable(module)
    ]
    if found:
        return Check("pycuda / cuda-python", "ok", ", ".join(found))
    status = "missing" if _gpu_present() else "absent"
    return Check(
        "pycuda / cuda-python", status, "neither is importable",
        "device='cuda' cannot launch kernels",
        "pip install 'labsym[cuda]'" if status == "missing" else "",
    )  # fmt: skip
