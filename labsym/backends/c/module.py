"""One CPython extension module per function: each node's CKernel body becomes a builtin.

Each entry is a METH_FASTCALL function `symbol(*inputs) -> output` (a tuple for several
outputs) that runs the kernel body with the GIL held, so a node costs one builtin call: no
Python wrapper frame, no GIL hand-off, exceptions raised directly. A builtin's `self` is its
state tuple `(fp_reporter, times, slot)`: `make_thunk` binds a reporter (called as
`reporter(code, *inputs)` when the kernel raised IEEE flags) and, when profiling, the profile's
list of node times, to which the builtin adds its body's seconds (CLOCK_MONOTONIC; no clock is
read without one). The module is built and cached by backends.c.cache. May import core and
backends.c.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.c import cache
from labsym.backends.c.kernel import CKernel, kernel_for
from labsym.config import config
from labsym.core.graph import Apply
from labsym.core.type import TensorType

# -fno-math-errno lets GCC vectorise libm calls (glibc's libmvec) without changing NaN/Inf results
# -O2, not -O3: the loops that matter carry `#pragma omp simd` (vectorised at -O2 with
# -fopenmp-simd, libmvec included) and BLAS does the rest; -O3 made the MLP module's build
# 1.6x slower (3.9 s vs 2.4 s) for no measured speed (benchmarks/RESULTS-c-backend.md). The
# gcc.cxxflags flag's flags come after these, so gcc.cxxflags=-O3 restores it.
DEFAULT_COMPILE_ARGS = ("-O2", "-march=native", "-fopenmp-simd", "-fno-math-errno")

PRELUDE = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
"""


@dataclass(frozen=True)
class NodeEntry:
    """One node's kernel in a module: its exported symbol, arity and input dtypes."""

    symbol: str
    kernel: CKernel
    in_dtypes: tuple[str | None, ...]  # a tensor input's dtype (converted if not an ndarray)
    n_out: int


@dataclass(frozen=True)
class ModuleSource:
    """A module's rendered code: rendered once per function, then hashed, looked up, built."""

    cdef: str  # one declaration per exported symbol (the cache lists them)
    source: str

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the code (the cache key adds compiler, flags and versions)."""
        return hashlib.sha256((self.cdef + self.source).encode()).hexdigest()


def _wrapper(entry: NodeEntry) -> str:
    """The METH_FASTCALL C function around one kernel body."""
    n_in, n_out, name = len(entry.in_dtypes), entry.n_out, entry.symbol
    lines = [
        f"static PyObject* {name}(PyObject* labsym_self, PyObject* const* labsym_args,"
        " Py_ssize_t labsym_nargs) {",
        f'  if (labsym_nargs != {n_in}) return labsym_arity("{name}", labsym_nargs, {n_in});',
        "  PyObject* labsym_times = PyTuple_GET_ITEM(labsym_self, 1);",
        "  double labsym_t0 = 0.0;",
    ]
    subs = {"fail": "goto labsym_fail;"}
    # every variable the failure path reads is declared before the first goto
    for k in range(n_out):
        lines.append(f"  PyArrayObject* out{k} = NULL;")
        subs[f"out{k}"] = f"out{k}"
    for i, dtype in enumerate(entry.in_dtypes):
        ctype = "PyObject" if dtype is None else "PyArrayObject"
        lines.append(f"  {ctype}* in{i} = ({ctype}*)labsym_args[{i}]; PyObject* tmp{i} = NULL;")
        subs[f"in{i}"] = f"in{i}"
    for i, dtype in enumerate(entry.in_dtypes):
        if dtype is not None:  # a NumPy scalar or Python number becomes a 0-d array
            lines.append(
                f"  if (!PyArray_Check(labsym_args[{i}])) {{\n"
                f"    tmp{i} = PyArray_FROM_OT(labsym_args[{i}], {np.dtype(dtype).num});\n"
                f"    if (!tmp{i}) goto labsym_fail;\n"
                f"    in{i} = (PyArrayObject*)tmp{i};\n  }}"
            )
    flags = entry.kernel.fp_flags
    if flags:
        lines.append("  feclearexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID);")
    lines.append("  if (labsym_times != Py_None) labsym_t0 = labsym_now();")
    lines.append("  {\n" + entry.kernel.body % subs + "\n  }")
    if flags:  # 2 plus the raised flags' bits: the reporter warns as NumPy would
        lines.append("  int labsym_fp = labsym_fp_code();")
    lines.append(
        "  if (labsym_times != Py_None"
        " && labsym_add_time(labsym_self, labsym_now() - labsym_t0) < 0) goto labsym_fail;"
    )
    for k in range(n_out):
        lines.append(
            f"  if (!out{k}) {{ PyErr_SetString(PyExc_RuntimeError,"
            f' "C kernel {name} produced no output {k}"); goto labsym_fail; }}'
        )
    if n_out == 1:
        lines.append("  PyObject* labsym_result = (PyObject*)out0;")
    else:
        lines.append(f"  PyObject* labsym_result = PyTuple_New({n_out});")
        lines.append("  if (!labsym_result) goto labsym_fail;")
        lines += [
            f"  PyTuple_SET_ITEM(labsym_result, {k}, (PyObject*)out{k});" for k in range(n_out)
        ]
    lines += [f"  Py_XDECREF(tmp{i});" for i in range(n_in)]
    if flags:  # the inputs as the caller gave them, as the NumPy engine would see them
        lines.append(
            "  if (labsym_fp && labsym_report(labsym_self, labsym_fp, labsym_args, labsym_nargs)"
            " < 0) { Py_DECREF(labsym_result); return NULL; }"
        )
    lines.append("  return labsym_result;")
    lines.append("labsym_fail:")
    lines += [f"  Py_XDECREF(out{k});" for k in range(n_out)]
    lines += [f"  Py_XDECREF(tmp{i});" for i in range(n_in)]
    lines.append("  return labsym_error();\n}")
    return "\n".join(lines)


_HELPERS = """
static PyObject* labsym_arity(const char* name, Py_ssize_t got, Py_ssize_t want) {
  PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, got);
  return NULL;
}

static PyObject* labsym_error(void) {
  if (!PyErr_Occurred())
    PyErr_SetString(PyExc_RuntimeError, "C kernel failed without setting an error");
  return NULL;
}

static double labsym_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* times[slot] += seconds: the profile's list of per-node seconds (state = self) */
static int labsym_add_time(PyObject* state, double seconds) {
  PyObject* times = PyTuple_GET_ITEM(state, 1);
  Py_ssize_t slot = PyLong_AsSsize_t(PyTuple_GET_ITEM(state, 2));
  if (slot < 0 || slot >= PyList_GET_SIZE(times)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "profile slot out of range");
    return -1;
  }
  double before = PyFloat_AsDouble(PyList_GET_ITEM(times, slot));
  if (before == -1.0 && PyErr_Occurred()) return -1;
  PyObject* after = PyFloat_FromDouble(before + seconds);
  if (!after) return -1;
  return PyList_SetItem(times, slot, after);
}

static int labsym_fp_code(void) {
  if (!fetestexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID)) return 0;
  return 2 | (fetestexcept(FE_DIVBYZERO) ? 4 : 0) | (fetestexcept(FE_OVERFLOW) ? 8 : 0)
    | (fetestexcept(FE_INVALID) ? 16 : 0);
}

/* reporter(code, *inputs) if the builtin has one (state = self) */
static int labsym_report(PyObject* state, int code, PyObject* const* args, Py_ssize_t n) {
  PyObject* reporter = PyTuple_GET_ITEM(state, 0);
  if (reporter == Py_None) return 0;
  PyObject* call_args = PyTuple_New(n + 1);
  if (!call_args) return -1;
  PyObject* bits = PyLong_FromLong(code);
  if (!bits) { Py_DECREF(call_args); return -1; }
  PyTuple_SET_ITEM(call_args, 0, bits);
  for (Py_ssize_t i = 0; i < n; i++) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(call_args, i + 1, args[i]);
  }
  PyObject* r = PyObject_Call(reporter, call_args, NULL);
  Py_DECREF(call_args);
  if (!r) return -1;
  Py_DECREF(r);
  return 0;
}
"""

_MODULE = """
static PyObject* labsym_init(PyObject* module, PyObject* unused) {
  static int done = 0;  /* read and set under the GIL: runs once */
  if (done) Py_RETURN_NONE;
  if (_import_array() < 0) return NULL;
  if (labsym_kernels_init() == NULL) return labsym_error();
  done = 1;
  Py_RETURN_NONE;
}

/* _bind(kernel, reporter, times, slot): the kernel's builtin with that state as its self */
static PyObject* labsym_bind(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4) return labsym_arity("_bind", nargs, 4);
  PyMethodDef* def = PyCFunction_Check(args[0]) ? ((PyCFunctionObject*)args[0])->m_ml : NULL;
  if (def < labsym_defs || def >= labsym_defs + LABSYM_N_DEFS) {
    PyErr_SetString(PyExc_TypeError, "_bind takes a kernel of this module");
    return NULL;
  }
  if (args[2] != Py_None && !PyList_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "_bind: times must be a list or None");
    return NULL;
  }
  PyObject* state = PyTuple_Pack(3, args[1], args[2], args[3]);
  PyObject* module_name = state ? PyModule_GetNameObject(module) : NULL;
  PyObject* fn = module_name ? PyCFunction_NewEx(def, state, module_name) : NULL;
  Py_XDECREF(module_name);
  Py_XDECREF(state);
  return fn;
}

static PyMethodDef labsym_module_methods[] = {
  {"_init", (PyCFunction)labsym_init, METH_NOARGS, "NumPy's C API and the kernels' init code"},
  {"_bind", (PyCFunction)(void (*)(void))labsym_bind, METH_FASTCALL, "a kernel with a state"},
  {NULL, NULL, 0, NULL}
};

static struct PyModuleDef labsym_module_def = {PyModuleDef_HEAD_INIT, NULL, NULL, -1,
                                               labsym_module_methods};

/* The module (named by the cache at build time): one builtin per kernel, state (None, None, 0).
   Not static: the source alone, without the PyInit the builder appends, still compiles it all. */
PyObject* labsym_create(const char* name) {
  labsym_module_def.m_name = name;
  PyObject* module = PyModule_Create(&labsym_module_def);
  if (!module) return NULL;
  PyObject* state = Py_BuildValue("(OOn)", Py_None, Py_None, (Py_ssize_t)0);
  PyObject* module_name = PyModule_GetNameObject(module);
  for (int k = 0; state && module_name && k < LABSYM_N_DEFS && labsym_defs[k].ml_name; k++) {
    PyObject* fn = PyCFunction_NewEx(&labsym_defs[k], state, module_name);
    if (!fn || PyModule_AddObject(module, labsym_defs[k].ml_name, fn) < 0) {
      Py_XDECREF(fn);
      Py_CLEAR(module);
      break;
    }
  }
  Py_XDECREF(module_name);
  Py_XDECREF(state);
  if (!state && module) Py_CLEAR(module);
  return module;
}
"""


def module_source(entries: Sequence[NodeEntry]) -> tuple[str, str]:
    """(cdef, C source) of the module holding `entries`.

    A kernel's `cache_version` is not hashed separately: the cache key hashes this source.
    """
    code = render_module(entries)
    return code.cdef, code.source


def render_module(entries: Sequence[NodeEntry]) -> ModuleSource:
    """The code of the module holding `entries` (render once, pass it to the other calls)."""
    headers: list[str] = []
    support: list[str] = []
    for e in entries:
        for h in e.kernel.headers:
            if h not in headers:
                headers.append(h)
        pieces = e.kernel.support_code
        for piece in (pieces,) if isinstance(pieces, str) else pieces:
            if piece and piece not in support:
                support.append(piece)
    includes = "".join(f"#include {h}\n" for h in headers)
    cdef = "".join(
        f"PyObject* {e.symbol}(PyObject*, PyObject* const*, Py_ssize_t);\n" for e in entries
    )
    inits: list[str] = []
    for e in entries:
        inits += [code for code in e.kernel.init_code if code not in inits]
    init = "static void* labsym_kernels_init(void) {\n" + "\n".join(inits)
    init += "\n  return (void*)1;\n}\n"
    flags = "METH_FASTCALL"
    defs = "".join(
        f'  {{"{e.symbol}", (PyCFunction)(void (*)(void)){e.symbol}, {flags}, NULL}},\n'
        for e in entries
    )
    table = (
        f"#define LABSYM_N_DEFS {len(entries)}\n"
        f"static PyMethodDef labsym_defs[] = {{\n{defs}  {{NULL, NULL, 0, NULL}}\n}};\n"
    )
    body = [PRELUDE, includes, *support, init, _HELPERS, *(_wrapper(e) for e in entries)]
    return ModuleSource(cdef, "\n".join([*body, table, _MODULE]))


def default_compile_args() -> tuple[str, ...]:
    """The default flags plus the gcc.cxxflags flag's extra ones (Theano's gcc__cxxflags)."""
    return DEFAULT_COMPILE_ARGS + tuple(shlex.split(config.gcc__cxxflags))


def c_compiler() -> str | None:
    """The compiler command the `cxx` flag names if it is on PATH, else None."""
    cxx = config.cxx.strip()
    if not cxx:
        return None
    if cxx not in _COMPILERS:
        _COMPILERS[cxx] = shutil.which(shlex.split(cxx)[0]) is not None
    return cxx if _COMPILERS[cxx] else None


_COMPILERS: dict[str, bool] = {}
_BUILD_LOCK = threading.Lock()  # one gcc at a time from this process (builds run in threads)


def _reset_build_lock() -> None:
    """A forked child gets a fresh lock: a thread that held the parent's does not exist there."""
    global _BUILD_LOCK
    _BUILD_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_reset_build_lock)


def build_kwargs(
    entries: Sequence[NodeEntry], compile_args: Sequence[str] | None = None
) -> dict[str, Any]:
    """The compiler options of the module holding `entries` (part of its cache key)."""
    kernels = [e.kernel for e in entries]
    args = list(default_compile_args() if compile_args is None else compile_args)
    return {
        "include_dirs": [
            np.get_include(),
            *dict.fromkeys(d for k in kernels for d in k.include_dirs),
        ],
        "library_dirs": sorted({d for k in kernels for d in k.library_dirs}),
        "libraries": sorted({lib for k in kernels for lib in k.libraries} | {"m"}),
        "extra_compile_args": args + [a for k in kernels for a in k.compile_args],
        "compiler": config.cxx,
    }


def extension_build(
    module_name: str, cdef: str, source: str, kwargs: Mapping[str, Any], workdir: str
) -> str:
    """The cache's builder for these modules: the source plus its PyInit, compiled by gcc."""
    c_path = os.path.join(workdir, module_name + ".c")
    with open(c_path, "w") as f:
        f.write(source)
        f.write(f"\nPyMODINIT_FUNC PyInit_{module_name}(void) {{\n")
        f.write(f'  return labsym_create("{module_name}");\n}}\n')
    return cache.compile_shared(module_name, c_path, kwargs, workdir)


def is_cached(
    entries: Sequence[NodeEntry],
    compile_args: Sequence[str] | None = None,
    code: ModuleSource | None = None,
) -> bool:
    """True if the module of `entries` is in the disk cache (loading it takes milliseconds)."""
    code = code or render_module(entries)
    try:
        return cache.is_cached(code.cdef, code.source, build_kwargs(entries, compile_args))
    except OSError:  # an unsafe or unwritable compiledir: the build reports it
        return False


def build_module(
    entries: Sequence[NodeEntry],
    compile_args: Sequence[str] | None = None,
    hint: str = "",
    code: ModuleSource | None = None,
) -> Any:
    """The extension module holding `entries`: from the disk cache, else compiled.

    `compile_args` default to DEFAULT_COMPILE_ARGS plus the gcc.cxxflags flag; the compiler is
    the `cxx` flag's. `hint` says what the module holds (`python -m labsym.cache list`).
    `code`: the entries' rendered module, if the caller has it already.
    """
    code = code or render_module(entries)
    kwargs = build_kwargs(entries, compile_args)
    with _BUILD_LOCK:
        module = cache.load_or_build(
            hint or _hint(entries), code.cdef, code.source, kwargs, builder=extension_build
        )
    try:
        module._init()
    except Exception as exc:
        raise ImportError(
            "a labsym C module failed to initialise (NumPy's C API, or a kernel's init code): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return module


def _hint(entries: Sequence[NodeEntry]) -> str:
    return f"{len(entries)} C kernels: " + ", ".join(e.symbol for e in entries[:8])


def make_thunk(
    lib: Any,
    entry: NodeEntry,
    on_fp_flags: Callable[..., None] | None = None,
    times: list[float] | None = None,
    slot: int = 0,
) -> Callable[..., Any]:
    """The builtin `f(*inputs) -> output` (a tuple for several outputs) of one entry.

    `on_fp_flags(code, *inputs)` runs when a kernel with `fp_flags` raised IEEE flags (code:
    2 | 4 divide | 8 overflow | 16 invalid), to warn or raise as NumPy would. With `times`
    (a profile's per-node seconds; it may be filled later) each call adds its kernel body's
    seconds to times[slot].
    """
    kernel = getattr(lib, entry.symbol)
    reporter = on_fp_flags if entry.kernel.fp_flags else None
    if reporter is None and times is None:
        return kernel
    return lib._bind(kernel, reporter, times, slot)


def node_entry(node: Apply, symbol: str, mode: Any = None) -> NodeEntry | None:
    """The module entry for `node` under `symbol`, or None if no C kernel renders it.

    `mode`: the outer function's Mode (ops with inner graphs render them as it rewrites them).
    """
    kernel = kernel_for(node, mode)
    if kernel is None:
        return None
    dtypes = tuple(v.type.dtype if isinstance(v.type, TensorType) else None for v in node.inputs)
    return NodeEntry(symbol, kernel, dtypes, len(node.outputs))


def compile_nodes(nodes: Sequence[Apply]) -> list[Callable[..., Any] | None]:
    """Thunks for `nodes` from one module (None where a node has no C kernel); for tests/tools."""
    entries = [node_entry(n, f"labsym_node{i}") for i, n in enumerate(nodes)]
    found = [e for e in entries if e is not None]
    lib = build_module(found) if found else None
    return [None if e is None else make_thunk(lib, e) for e in entries]
