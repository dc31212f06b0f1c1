"""One cffi module per function: wrap each node's CKernel body into an exported C function,
compile them together, and give back Python thunks with the NumPy engine's calling convention.

Each exported function is `int <symbol>(intptr_t in0, ..., intptr_t outs)`: the arguments are
the addresses of the input objects (`id()` in CPython, alive for the call) and of a list that
receives the outputs, or the exception on failure (return value 1). cffi releases the GIL
around calls, so each wrapper takes it back with PyGILState_Ensure. May import core and
backends.c.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.c import cache
from labsym.backends.c.kernel import CKernel, kernel_for
from labsym.config import config
from labsym.core.graph import Apply
from labsym.core.type import TensorType

# -fno-math-errno lets GCC vectorise libm calls (glibc's libmvec) without changing NaN/Inf results
DEFAULT_COMPILE_ARGS = ("-O3", "-march=native", "-fopenmp-simd", "-fno-math-errno")

PRELUDE = """
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
"""


@dataclass(frozen=True)
class NodeEntry:
    """One node's kernel in a module: its exported symbol, arity and input dtypes."""

    symbol: str
    kernel: CKernel
    in_dtypes: tuple[str | None, ...]  # a tensor input's dtype (converted if not an ndarray)
    n_out: int


def _wrapper(entry: NodeEntry) -> str:
    """The exported C function around one kernel body."""
    n_in, n_out = len(entry.in_dtypes), entry.n_out
    params = ", ".join([f"intptr_t a{i}" for i in range(n_in)] + ["intptr_t outs_addr"])
    lines = [f"int {entry.symbol}({params}) {{", "  PyGILState_STATE gil = PyGILState_Ensure();"]
    lines.append("  PyObject* outs = (PyObject*)outs_addr;")
    subs = {"fail": "goto labsym_fail;"}
    # every variable the failure path reads is declared before the first goto
    for k in range(n_out):
        lines.append(f"  PyArrayObject* out{k} = NULL;")
        subs[f"out{k}"] = f"out{k}"
    for i, dtype in enumerate(entry.in_dtypes):
        ctype = "PyObject" if dtype is None else "PyArrayObject"
        lines.append(f"  {ctype}* in{i} = ({ctype}*)a{i}; PyObject* tmp{i} = NULL;")
        subs[f"in{i}"] = f"in{i}"
    for i, dtype in enumerate(entry.in_dtypes):
        if dtype is not None:  # a NumPy scalar or Python number becomes a 0-d array
            lines.append(
                f"  if (!PyArray_Check((PyObject*)a{i})) {{\n"
                f"    tmp{i} = PyArray_FROM_OT((PyObject*)a{i}, {np.dtype(dtype).num});\n"
                f"    if (!tmp{i}) goto labsym_fail;\n"
                f"    in{i} = (PyArrayObject*)tmp{i};\n  }}"
            )
    flags = entry.kernel.fp_flags
    if flags:
        lines.append(
            "  int labsym_rc = 0;\n  feclearexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID);"
        )
    lines.append("  {\n" + entry.kernel.body % subs + "\n  }")
    if flags:  # 2 plus the raised flags' bits: the thunk warns as NumPy would
        lines.append(
            "  if (fetestexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID))\n"
            "    labsym_rc = 2 | (fetestexcept(FE_DIVBYZERO) ? 4 : 0)"
            " | (fetestexcept(FE_OVERFLOW) ? 8 : 0) | (fetestexcept(FE_INVALID) ? 16 : 0);"
        )
    for k in range(n_out):
        lines.append(
            f"  if (!out{k}) {{ PyErr_SetString(PyExc_RuntimeError,"
            f' "C kernel {entry.symbol} produced no output {k}"); goto labsym_fail; }}'
        )
    for k in range(n_out):
        lines.append(f"  PyList_SetItem(outs, {k}, (PyObject*)out{k});")
    releases = "".join(f"  Py_XDECREF(tmp{i});\n" for i in range(n_in))
    result = "labsym_rc" if flags else "0"
    lines.append(releases + f"  PyGILState_Release(gil);\n  return {result};")
    lines.append("labsym_fail:")
    lines.append("".join(f"  Py_XDECREF(out{k});\n" for k in range(n_out)) + releases)
    lines.append("  labsym_store_error(outs);\n  PyGILState_Release(gil);\n  return 1;\n}")
    return "\n".join(lines)


_ERROR_HELPER = """
/* Move the pending exception (or a RuntimeError) into outs[0]; the error indicator is cleared
   because cffi must return to Python with no exception set. */
static void labsym_store_error(PyObject* outs) {
  PyObject *type, *value, *tb;
  if (!PyErr_Occurred())
    PyErr_SetString(PyExc_RuntimeError, "C kernel failed without setting an error");
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL) PyException_SetTraceback(value, tb);
  PyList_SetItem(outs, 0, value);
  Py_XDECREF(type);
  Py_XDECREF(tb);
}

/* Runs once per loaded module (later calls return at once): NumPy's C API, then the kernels'
   init code (Theano's c_init_code), in a function returning a pointer as import_array's
   failure path does. */
int labsym_module_init(void) {
  static int done = 0;
  PyGILState_STATE gil = PyGILState_Ensure();  /* `done` is read under the GIL: runs once */
  if (done) { PyGILState_Release(gil); return 0; }
  int status = _import_array();
  if (status < 0) PyErr_Clear();
  else if (labsym_kernels_init() == NULL) { PyErr_Clear(); status = -1; }
  else done = 1;
  PyGILState_Release(gil);
  return status;
}
"""


def module_source(entries: Sequence[NodeEntry]) -> tuple[str, str]:
    """(cdef, C source) of the module holding `entries`."""
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
    cdef = ["int labsym_module_init(void);"]
    for e in entries:
        params = ", ".join(["intptr_t"] * (len(e.in_dtypes) + 1))
        cdef.append(f"int {e.symbol}({params});")
    inits: list[str] = []
    for e in entries:
        inits += [code for code in e.kernel.init_code if code not in inits]
    init = "static void* labsym_kernels_init(void) {\n" + "\n".join(inits)
    init += "\n  return (void*)1;\n}\n"
    body = [PRELUDE, includes, *support, init, _ERROR_HELPER, *(_wrapper(e) for e in entries)]
    return "\n".join(cdef), "\n".join(body)


def default_compile_args() -> tuple[str, ...]:
    """The default flags plus the gcc.cxxflags flag's extra ones (Theano's gcc__cxxflags)."""
    return DEFAULT_COMPILE_ARGS + tuple(shlex.split(config.gcc__cxxflags))


def c_compiler() -> str | None:
    """The compiler command the `cxx` flag names if it is on PATH and cffi imports, else None."""
    cxx = config.cxx.strip()
    if not cxx:
        return None
    key = cxx
    if key not in _COMPILERS:
        found = shutil.which(shlex.split(cxx)[0]) is not None
        _COMPILERS[key] = found and importlib.util.find_spec("cffi") is not None
    return cxx if _COMPILERS[key] else None


_COMPILERS: dict[str, bool] = {}
_BUILD_LOCK = threading.Lock()  # one gcc at a time from this process (builds run in threads)


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
        # the NumPy C API needs the full CPython API, not cffi's default limited API
        "define_macros": [("_CFFI_NO_LIMITED_API", None)],
        "compiler": config.cxx,
    }


def is_cached(entries: Sequence[NodeEntry], compile_args: Sequence[str] | None = None) -> bool:
    """True if the module of `entries` is in the disk cache (loading it takes milliseconds)."""
    cdef, source = module_source(entries)
    try:
        return cache.is_cached(cdef, source, build_kwargs(entries, compile_args))
    except OSError:  # an unsafe or unwritable compiledir: the build reports it
        return False


def build_module(
    entries: Sequence[NodeEntry], compile_args: Sequence[str] | None = None, hint: str = ""
) -> Any:
    """The `lib` of one cffi module holding `entries`: from the disk cache, else compiled.

    `compile_args` default to DEFAULT_COMPILE_ARGS plus the gcc.cxxflags flag; the compiler is
    the `cxx` flag's. `hint` says what the module holds (`python -m labsym.cache list`).
    """
    cdef, source = module_source(entries)
    kwargs = build_kwargs(entries, compile_args)
    with _BUILD_LOCK:
        module = cache.load_or_build(hint or _hint(entries), cdef, source, kwargs)
    if module.lib.labsym_module_init() != 0:
        raise ImportError(
            "a labsym C module failed to initialise (NumPy's C API, or a kernel's init code)"
        )
    return module.lib


def _hint(entries: Sequence[NodeEntry]) -> str:
    return f"{len(entries)} C kernels: " + ", ".join(e.symbol for e in entries[:8])


def make_thunk(
    lib: Any, entry: NodeEntry, on_fp_flags: Callable[..., None] | None = None
) -> Callable[..., Any]:
    """A Python callable `f(*inputs) -> output` (a tuple for several outputs) for one entry.

    `on_fp_flags(code, *inputs)` runs when a kernel with `fp_flags` raised IEEE flags (code:
    2 | 4 divide | 8 overflow | 16 invalid), to warn or raise as NumPy would.
    """
    args = [f"x{i}" for i in range(len(entry.in_dtypes))]
    outs = "[" + ", ".join(["None"] * entry.n_out) + "]"
    result = "outs[0]" if entry.n_out == 1 else "tuple(outs)"
    call = f"_f({''.join(f'_id({a}), ' for a in args)}_id(outs))"
    if entry.kernel.fp_flags and on_fp_flags is not None:
        check = (
            f"    rc = {call}\n    if rc:\n"
            f"        if rc == 1:\n            raise outs.pop(0)\n"
            f"        _fpe(rc, {''.join(f'{a}, ' for a in args)})\n"
        )
    else:  # 2 and above only report flags: nobody asked for them
        check = f"    if {call} == 1:\n        raise outs.pop(0)\n"
    # the exception is popped: no exception -> frame -> list reference cycle
    src = f"def thunk({', '.join(args)}):\n    outs = {outs}\n{check}    return {result}\n"
    namespace: dict[str, Any] = {"_f": getattr(lib, entry.symbol), "_id": id, "_fpe": on_fp_flags}
    exec(src, namespace)
    return namespace["thunk"]


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
