"""The BLAS the C kernels call: NumPy's own OpenBLAS when it can be found, else SciPy's.

`blas_library()` finds the BLAS NumPy loaded (Linux: the shared objects of NumPy's wheel mapped
into this process, /proc/self/maps, checked for OpenBLAS's symbols; `scipy_sgemm_64_` is the
ILP64 build NumPy 2 wheels ship, 64-bit integers). Otherwise (conda/MKL NumPy, macOS, the
flag blas.source='scipy') the kernels take the function pointers SciPy's
`scipy.linalg.cython_blas` exports. `support_code()` is one block of C shared by every BLAS
kernel (identical text, so a module holds it once): it names the library, the symbols and the
integer width, so the choice is part of the module's cache key. It loads
sgemm/dgemm/sgemv/dgemv/sger/dger/sdot/ddot on first use (NumPy's: dlopen of the library NumPy
already loaded, no SciPy import) and implements labsym's Dot, Gemm, Gemv and Ger with
`perform`'s semantics on arrays of any strides: a matrix with one unit stride goes to BLAS as
it is (a row-major one as its transpose), other matrices, vectors with non-positive strides
and misaligned data are copied. Scales that are 0 fall back to a loop so NaN/Inf in the
product propagate as NumPy's do. May import config and backends.c.kernel.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import json
import os
import sys
from dataclasses import dataclass

import numpy as np

from labsym.backends.c.kernel import CKernel
from labsym.config import config

BLAS_CTYPES = {"float32": "float", "float64": "double"}
_NAMES = ("sgemm", "dgemm", "sgemv", "dgemv", "sger", "dger", "sdot", "ddot")


@dataclass(frozen=True)
class BlasLibrary:
    """Where the kernels' BLAS functions come from."""

    source: str  # "numpy" (a shared library NumPy loaded) or "scipy" (cython_blas capsules)
    path: str = ""  # the shared library (numpy)
    prefix: str = ""  # its symbols are prefix + name + "_" + suffix (numpy)
    suffix: str = ""
    ilp64: bool = False  # 64-bit integer arguments
    config: str = ""  # OpenBLAS's own description of its build (numpy)

    def symbol(self, name: str) -> str:
        """The library's Fortran symbol of a BLAS routine (`sgemm` -> `scipy_sgemm_64_`)."""
        return f"{self.prefix}{name}_{self.suffix}"


def _numpy_dirs() -> tuple[str, ...]:
    """The directories NumPy's wheel puts shared objects in (the package, auditwheel's .libs)."""
    package = os.path.dirname(os.path.realpath(np.__file__))
    return (package + os.sep, package + ".libs" + os.sep)


def _mapped_objects() -> list[str]:
    """The shared objects of NumPy's wheel mapped into this process (Linux), BLAS-named first."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    dirs = _numpy_dirs()
    fields = (line.split(maxsplit=5) for line in lines)  # address perms offset dev inode path
    found = {f[5] for f in fields if len(f) == 6 and f[5].startswith(dirs)}
    names = sorted(p for p in found if ".so" in os.path.basename(p))
    return sorted(names, key=lambda p: "blas" not in os.path.basename(p))  # likely ones first


def _openblas_in(path: str) -> BlasLibrary | None:
    """The BLAS description of an already loaded OpenBLAS at `path`, or None if it is not one.

    OpenBLAS wheels name their symbols prefix + name + '_' + suffix: scipy-openblas64 (NumPy 2)
    `scipy_sgemm_64_`, scipy-openblas32 `scipy_sgemm_`, older NumPy's openblas64_ `sgemm_64_`.
    """
    try:
        lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LOCAL)
    except OSError:
        return None
    for prefix in ("scipy_", ""):
        for suffix in ("64_", ""):
            found = BlasLibrary("numpy", path, prefix, suffix)
            info = getattr(lib, f"{prefix}openblas_get_config{suffix}", None)
            if info is None or not all(hasattr(lib, found.symbol(n)) for n in _NAMES):
                continue
            info.restype = ctypes.c_char_p
            text = (info() or b"").decode("ascii", "replace").strip()
            return BlasLibrary("numpy", path, prefix, suffix, "USE64BITINT" in text, text)
    return None


@functools.cache
def _find(source: str) -> BlasLibrary | None:
    if source == "auto" and sys.platform.startswith("linux"):
        for path in _mapped_objects():
            found = _openblas_in(path)
            if found is not None:
                return found
    if importlib.util.find_spec("scipy") is not None:
        return BlasLibrary("scipy")
    return None


def blas_library() -> BlasLibrary | None:
    """The BLAS the kernels use as the flag blas.source asks ('auto': NumPy's, else SciPy's);
    None when there is none (no NumPy OpenBLAS found and no SciPy): the nodes stay on NumPy."""
    return _find(config.blas__source)


def blas_available() -> bool:
    """True if the kernels have a BLAS (rendering imports nothing; a SciPy one is imported by
    the first call, ~150 ms, scipy.linalg's package import)."""
    return blas_library() is not None


def _c_string(text: str) -> str:
    return json.dumps(text)  # ASCII with C-compatible escapes for paths and symbol names


def _loader(lib: BlasLibrary) -> str:
    """The C function filling labsym_blas_fn from `lib`, and the integer type it takes."""
    if lib.source == "numpy":
        int_type = "int64_t" if lib.ilp64 else "int"
        names = ", ".join(_c_string(lib.symbol(n)) for n in _NAMES)
        fetch = _DLSYM.replace("@PATH@", _c_string(lib.path)).replace("@NAMES@", names)
    else:
        int_type = "int"
        fetch = _CAPSULES
    limit = "INT64_MAX" if int_type == "int64_t" else "INT_MAX"
    head = f"typedef {int_type} labsym_bint;\n#define LABSYM_BINT_MAX {limit}\n"
    return head + _LOADER.replace("@FETCH@", fetch)


_LOADER = r"""
/* ---- labsym BLAS support (backends/c/blas.py) ---- */
enum { LABSYM_SGEMM, LABSYM_DGEMM, LABSYM_SGEMV, LABSYM_DGEMV, LABSYM_SGER, LABSYM_DGER,
       LABSYM_SDOT, LABSYM_DDOT, LABSYM_NBLAS };
static void* labsym_blas_fn[LABSYM_NBLAS];

/* Fill labsym_blas_fn once (callers hold the GIL); -1 with an ImportError set on failure. */
static int labsym_blas_load(void) {
  void* found[LABSYM_NBLAS];
  if (labsym_blas_fn[LABSYM_NBLAS - 1]) return 0;
@FETCH@
  for (int i = 0; i < LABSYM_NBLAS; i++) labsym_blas_fn[i] = found[i];
  return 0;
}
"""

# NumPy's OpenBLAS: the library NumPy loaded (RTLD_NOLOAD: never a second copy)
_DLSYM = r"""  static const char* path = @PATH@;
  static const char* names[LABSYM_NBLAS] = {@NAMES@};
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!lib) {
    PyErr_Format(PyExc_ImportError, "labsym's BLAS kernels: NumPy's BLAS %s is not loaded (%s)",
                 path, dlerror());
    return -1;
  }
  for (int i = 0; i < LABSYM_NBLAS; i++) {
    found[i] = dlsym(lib, names[i]);
    if (!found[i]) {
      PyErr_Format(PyExc_ImportError, "labsym's BLAS kernels: %s has no %s", path, names[i]);
      return -1;
    }
  }"""

_CAPSULES = r"""  static const char* names[LABSYM_NBLAS] = {"sgemm", "dgemm", "sgemv", "dgemv",
                                            "sger", "dger", "sdot", "ddot"};
  PyObject* mod = PyImport_ImportModule("scipy.linalg.cython_blas");
  if (!mod) return -1;
  PyObject* capi = PyObject_GetAttrString(mod, "__pyx_capi__");
  Py_DECREF(mod);
  if (!capi) return -1;
  for (int i = 0; i < LABSYM_NBLAS; i++) {
    PyObject* cap = PyMapping_GetItemString(capi, names[i]);
    found[i] = cap ? PyCapsule_GetPointer(cap, PyCapsule_GetName(cap)) : NULL;
    Py_XDECREF(cap);
    if (!found[i]) {
      Py_DECREF(capi);
      PyErr_Format(PyExc_ImportError, "scipy.linalg.cython_blas has no usable %s", names[i]);
      return -1;
    }
  }
  Py_DECREF(capi);"""

_COMMON = r"""
/* A 2-d operand as BLAS sees it: column-major storage of the array (rowmajor == 0) or of its
   transpose (rowmajor == 1), with leading dimension ld. `arr` is a new reference (maybe a copy). */
typedef struct { PyArrayObject* arr; char* data; labsym_bint ld; int rowmajor; } labsym_blas_mat;

static int labsym_blas_int(npy_intp v, const char* what) {
  if (v > LABSYM_BINT_MAX) {
    PyErr_Format(PyExc_ValueError, "%s (%ld) is too large for this BLAS", what, (long)v);
    return -1;
  }
  return 0;
}

/* Is `a` (2-d, itemsize es) usable in place: rowmajor = 1 or 0 and ld, or -1 if not. */
static int labsym_blas_layout(PyArrayObject* a, labsym_bint* ld) {
  npy_intp r = PyArray_DIM(a, 0), c = PyArray_DIM(a, 1), es = PyArray_ITEMSIZE(a);
  npy_intp s0 = PyArray_STRIDE(a, 0), s1 = PyArray_STRIDE(a, 1);
  if (!PyArray_ISALIGNED(a) || PyArray_ISBYTESWAPPED(a)) return -1;
  if ((c <= 1 || s1 == es) && (r <= 1 || (s0 > 0 && s0 % es == 0 && s0 / es >= c))) {
    npy_intp l = r <= 1 ? c : s0 / es;
    *ld = (labsym_bint)(l < 1 ? 1 : l);
    return (l <= LABSYM_BINT_MAX) ? 1 : -1;
  }
  if ((r <= 1 || s0 == es) && (c <= 1 || (s1 > 0 && s1 % es == 0 && s1 / es >= r))) {
    npy_intp l = c <= 1 ? r : s1 / es;
    *ld = (labsym_bint)(l < 1 ? 1 : l);
    return (l <= LABSYM_BINT_MAX) ? 0 : -1;
  }
  return -1;
}

/* Describe `in` for BLAS as type `typenum`, copying it when its dtype or strides do not fit. */
static int labsym_blas_matrix(PyArrayObject* in, int typenum, labsym_blas_mat* m) {
  int layout = PyArray_TYPE(in) == typenum ? labsym_blas_layout(in, &m->ld) : -1;
  if (layout >= 0) {
    Py_INCREF(in);
    m->arr = in;
  } else {
    m->arr = (PyArrayObject*)PyArray_FromAny((PyObject*)in, PyArray_DescrFromType(typenum), 2, 2,
                                             NPY_ARRAY_CARRAY | NPY_ARRAY_ENSURECOPY
                                             | NPY_ARRAY_FORCECAST, NULL);
    if (!m->arr) return -1;
    layout = labsym_blas_layout(m->arr, &m->ld);
  }
  m->rowmajor = layout;
  m->data = PyArray_BYTES(m->arr);
  return 0;
}

/* A vector for BLAS: *owned is `in` or a copy (new reference), *inc its unit stride. */
static char* labsym_blas_vector(PyArrayObject* in, int typenum, PyArrayObject** owned,
                                labsym_bint* inc) {
  npy_intp n = PyArray_DIM(in, 0), es = PyArray_ITEMSIZE(in), s = PyArray_STRIDE(in, 0);
  if (PyArray_TYPE(in) == typenum && PyArray_ISALIGNED(in) && !PyArray_ISBYTESWAPPED(in)
      && (n <= 1 || (s > 0 && s % es == 0 && s / es <= LABSYM_BINT_MAX))) {
    Py_INCREF(in);
    *owned = in;
    *inc = n <= 1 ? 1 : (labsym_bint)(s / es);
  } else {
    *owned = (PyArrayObject*)PyArray_FromAny((PyObject*)in, PyArray_DescrFromType(typenum), 1, 1,
                                             NPY_ARRAY_CARRAY | NPY_ARRAY_ENSURECOPY
                                             | NPY_ARRAY_FORCECAST, NULL);
    if (!*owned) return NULL;
    *inc = 1;
  }
  return PyArray_BYTES(*owned);
}

/* Lowest and one-past-highest byte an array touches. */
static void labsym_blas_extent(PyArrayObject* a, char** lo, char** hi) {
  *lo = *hi = PyArray_BYTES(a);
  for (int d = 0; d < PyArray_NDIM(a); d++) {
    npy_intp span = (PyArray_DIM(a, d) - 1) * PyArray_STRIDE(a, d);
    if (PyArray_DIM(a, d) == 0) { *hi = *lo; return; }
    if (span < 0) *lo += span; else *hi += span;
  }
  *hi += PyArray_ITEMSIZE(a);
}

static int labsym_blas_overlap(PyArrayObject* a, PyArrayObject* b) {
  char *alo, *ahi, *blo, *bhi;
  labsym_blas_extent(a, &alo, &ahi);
  labsym_blas_extent(b, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

/* The array the result is computed in. Not inplace: a new C-contiguous array. Inplace: `z`
   itself when BLAS can write it directly and no input overlaps it, else a C-contiguous work
   copy (*copy_back = 1). Holds z's values when `need_z`. */
static PyArrayObject* labsym_blas_work(PyArrayObject* z, int typenum, int inplace, int need_z,
                                       PyArrayObject* in1, PyArrayObject* in2, int* copy_back) {
  labsym_bint ld;
  *copy_back = 0;
  if (inplace && PyArray_ISWRITEABLE(z) && PyArray_TYPE(z) == typenum && !PyArray_ISBYTESWAPPED(z)
      && (PyArray_NDIM(z) == 2 ? labsym_blas_layout(z, &ld) >= 0
          : (PyArray_ISALIGNED(z) && (PyArray_DIM(z, 0) <= 1 || (PyArray_STRIDE(z, 0) > 0
             && PyArray_STRIDE(z, 0) % PyArray_ITEMSIZE(z) == 0))))
      && !labsym_blas_overlap(z, in1) && !labsym_blas_overlap(z, in2)) {
    Py_INCREF(z);
    return z;
  }
  PyArrayObject* w = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(z), PyArray_DIMS(z), typenum, 0);
  if (!w) return NULL;
  if (need_z && PyArray_CopyInto(w, z) < 0) { Py_DECREF(w); return NULL; }
  *copy_back = inplace;
  return w;
}

/* Hand back the result: the work array, or z after copying the work array into it. */
static PyArrayObject* labsym_blas_finish(PyArrayObject* w, PyArrayObject* z, int copy_back) {
  if (!copy_back) return w;
  int status = PyArray_CopyInto(z, w);
  Py_DECREF(w);
  if (status < 0) return NULL;
  Py_INCREF(z);
  return z;
}

static int labsym_blas_check(PyArrayObject* v, int ndim, int typenum, const char* op,
                             const char* name) {
  if (PyArray_NDIM(v) != ndim || PyArray_TYPE(v) != typenum) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be a %d-d array of type %d, got %d-d of type %d",
                 op, name, ndim, typenum, PyArray_NDIM(v), PyArray_TYPE(v));
    return -1;
  }
  return 0;
}
"""

# One copy per dtype: @T@ the C type, @N@ the NumPy type number, @p@ BLAS's s/d, @P@ S/D.
_TYPED = r"""
typedef void (*labsym_@p@gemm_t)(char*, char*, labsym_bint*, labsym_bint*, labsym_bint*, @T@*,
                                 @T@*, labsym_bint*, @T@*, labsym_bint*, @T@*, @T@*,
                                 labsym_bint*);
typedef void (*labsym_@p@gemv_t)(char*, labsym_bint*, labsym_bint*, @T@*, @T@*, labsym_bint*,
                                 @T@*, labsym_bint*, @T@*, @T@*, labsym_bint*);
typedef void (*labsym_@p@ger_t)(labsym_bint*, labsym_bint*, @T@*, @T@*, labsym_bint*, @T@*,
                                labsym_bint*, @T@*, labsym_bint*);
typedef @T@ (*labsym_@p@dot_t)(labsym_bint*, @T@*, labsym_bint*, @T@*, labsym_bint*);

/* A scale factor's value (a 0-d array, of another dtype too, as float(a) in perform). */
static int labsym_blas_scalar_@p@(PyArrayObject* s, const char* op, const char* name, @T@* v) {
  if (PyArray_NDIM(s) != 0) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be a scalar (0 dims), got %d dims", op, name,
                 PyArray_NDIM(s));
    return -1;
  }
  if (PyArray_TYPE(s) == @N@ && !PyArray_ISBYTESWAPPED(s)) {
    memcpy(v, PyArray_DATA(s), sizeof *v);
    return 0;
  }
  PyObject* item = PyArray_GETITEM(s, PyArray_DATA(s));
  double d = item ? PyFloat_AsDouble(item) : -1.0;
  Py_XDECREF(item);
  if (d == -1.0 && PyErr_Occurred()) return -1;
  *v = (@T@)d;
  return 0;
}

/* w = p*a + (b == 0 ? nothing : b == 1 ? w : w*b), perform's order (p NULL: a zero product). */
static void labsym_blas_combine_@p@(PyArrayObject* w, const @T@* p, @T@ a, @T@ b) {
  npy_intp m = PyArray_DIM(w, 0), n = PyArray_NDIM(w) == 2 ? PyArray_DIM(w, 1) : 1;
  npy_intp s0 = PyArray_STRIDE(w, 0), s1 = PyArray_NDIM(w) == 2 ? PyArray_STRIDE(w, 1) : 0;
  char* base = PyArray_BYTES(w);
  for (npy_intp i = 0; i < m; i++)
    for (npy_intp j = 0; j < n; j++) {
      @T@* q = (@T@*)(base + i * s0 + j * s1);
      @T@ v = p ? p[i * n + j] : 0;
      if (a != 1) v *= a;
      if (b == 1) v += *q;
      else if (b != 0) v += *q * b;
      *q = v;
    }
}

/* w (2-d, a BLAS-writable layout) = alpha * x.y + beta * w, all dims > 0. */
static int labsym_blas_gemm_into_@p@(PyArrayObject* x, PyArrayObject* y, @T@ alpha, @T@ beta,
                                    PyArrayObject* w) {
  labsym_blas_mat X, Y, W;
  labsym_bint m = PyArray_DIM(x, 0), k = PyArray_DIM(x, 1), n = PyArray_DIM(y, 1);
  if (labsym_blas_matrix(w, @N@, &W) < 0) return -1;
  Py_DECREF(W.arr);  /* w was checked: no copy was made */
  if (labsym_blas_matrix(x, @N@, &X) < 0) return -1;
  if (labsym_blas_matrix(y, @N@, &Y) < 0) { Py_DECREF(X.arr); return -1; }
  labsym_@p@gemm_t gemm = (labsym_@p@gemm_t)labsym_blas_fn[LABSYM_@P@GEMM];
  Py_BEGIN_ALLOW_THREADS
  if (W.rowmajor) {  /* w^T = y^T x^T in column-major terms */
    char ta = Y.rowmajor ? 'N' : 'T', tb = X.rowmajor ? 'N' : 'T';
    gemm(&ta, &tb, &n, &m, &k, &alpha, (@T@*)Y.data, &Y.ld, (@T@*)X.data, &X.ld, &beta,
         (@T@*)W.data, &W.ld);
  } else {
    char ta = X.rowmajor ? 'T' : 'N', tb = Y.rowmajor ? 'T' : 'N';
    gemm(&ta, &tb, &m, &n, &k, &alpha, (@T@*)X.data, &X.ld, (@T@*)Y.data, &Y.ld, &beta,
         (@T@*)W.data, &W.ld);
  }
  Py_END_ALLOW_THREADS
  Py_DECREF(X.arr);
  Py_DECREF(Y.arr);
  return 0;
}

/* w (1-d) = alpha * op(a).x + beta * w with op(a) = a or a^T; all dims > 0. */
static int labsym_blas_gemv_into_@p@(PyArrayObject* a, int transpose, PyArrayObject* x,
                                    @T@ alpha, @T@ beta, PyArrayObject* w) {
  labsym_blas_mat A;
  PyArrayObject *xo, *wo;
  labsym_bint incx, incw;
  char* xd = labsym_blas_vector(x, @N@, &xo, &incx);
  if (!xd) return -1;
  char* wd = labsym_blas_vector(w, @N@, &wo, &incw);
  if (wo != w) {  /* labsym_blas_work hands over only arrays BLAS can write in place */
    Py_XDECREF(wo);
    Py_DECREF(xo);
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_RuntimeError, "labsym gemv: the output cannot be written in place");
    return -1;
  }
  Py_DECREF(wo);
  if (labsym_blas_matrix(a, @N@, &A) < 0) { Py_DECREF(xo); return -1; }
  /* A.data stores a (column-major) or a^T (rowmajor): rows x cols of that storage */
  labsym_bint rows = PyArray_DIM(a, A.rowmajor ? 1 : 0);
  labsym_bint cols = PyArray_DIM(a, A.rowmajor ? 0 : 1);
  char t = (A.rowmajor != transpose) ? 'T' : 'N';
  labsym_@p@gemv_t gemv = (labsym_@p@gemv_t)labsym_blas_fn[LABSYM_@P@GEMV];
  Py_BEGIN_ALLOW_THREADS
  gemv(&t, &rows, &cols, &alpha, (@T@*)A.data, &A.ld, (@T@*)xd, &incx, &beta, (@T@*)wd, &incw);
  Py_END_ALLOW_THREADS
  Py_DECREF(A.arr);
  Py_DECREF(xo);
  return 0;
}

static PyArrayObject* labsym_blas_product_@p@(PyArrayObject* a, PyArrayObject* b);

/* w (fresh, C-contiguous, z's shape) = s * z for a 1-d/2-d z of any strides. */
static void labsym_blas_scale_into_@p@(PyArrayObject* w, PyArrayObject* z, @T@ s) {
  int two = PyArray_NDIM(z) == 2;
  npy_intp m = two ? PyArray_DIM(z, 0) : 1, n = PyArray_DIM(z, two ? 1 : 0);
  npy_intp s0 = two ? PyArray_STRIDE(z, 0) : 0, s1 = PyArray_STRIDE(z, two ? 1 : 0);
  @T@* out = (@T@*)PyArray_DATA(w);
  for (npy_intp i = 0; i < m; i++, out += n) {
    const char* row = PyArray_BYTES(z) + i * s0;
    if (s1 == (npy_intp)sizeof(@T@)) {
      const @T@* r = (const @T@*)row;
      #pragma omp simd
      for (npy_intp j = 0; j < n; j++) out[j] = s * r[j];
    } else {
      for (npy_intp j = 0; j < n; j++) out[j] = s * *(const @T@*)(row + j * s1);
    }
  }
}

/* labsym_blas_work for b*z + ...: a fresh work array is filled with b*z in one pass (and *b
   becomes 1), instead of a copy then BLAS's (or Ger's) own pass scaling it by b. */
static PyArrayObject* labsym_blas_work_scaled_@p@(PyArrayObject* z, int inplace, @T@* b,
    PyArrayObject* in1, PyArrayObject* in2, int* copy_back) {
  int scale = *b != 0 && *b != 1 && PyArray_ISALIGNED(z) && !PyArray_ISBYTESWAPPED(z);
  PyArrayObject* w = labsym_blas_work(z, @N@, inplace, *b != 0 && !scale, in1, in2, copy_back);
  if (w && scale && w != z) {
    labsym_blas_scale_into_@p@(w, z, *b);
    *b = 1;
  }
  return w;
}

/* Gemm (z, x, y matrices) / Gemv (z, y vectors, x a matrix): b*z + a*dot(x, y). */
static PyArrayObject* labsym_blas_gemx_@p@(PyArrayObject* z, PyArrayObject* sa,
    PyArrayObject* x, PyArrayObject* y, PyArrayObject* sb, int inplace, const char* op) {
  int vec = PyArray_NDIM(z) == 1, copy_back;
  @T@ a, b;
  if (labsym_blas_check(z, 2 - vec, @N@, op, vec ? "y" : "z") < 0
      || labsym_blas_scalar_@p@(sa, op, "a", &a) < 0 || labsym_blas_scalar_@p@(sb, op, "b", &b) < 0
      || labsym_blas_check(x, 2, @N@, op, vec ? "A" : "x") < 0
      || labsym_blas_check(y, 2 - vec, @N@, op, "y") < 0)
    return NULL;
  npy_intp m = PyArray_DIM(x, 0), k = PyArray_DIM(x, 1), n = vec ? 1 : PyArray_DIM(y, 1);
  if (PyArray_DIM(y, 0) != k || PyArray_DIM(z, 0) != m || (!vec && PyArray_DIM(z, 1) != n)) {
    if (vec)
      PyErr_Format(PyExc_ValueError, "%s: shapes do not match: y (%ld,), A (%ld, %ld), x (%ld,)",
                   op, (long)PyArray_DIM(z, 0), (long)m, (long)k, (long)PyArray_DIM(y, 0));
    else
      PyErr_Format(PyExc_ValueError, "%s: shapes do not match: z (%ld, %ld), x (%ld, %ld), "
                   "y (%ld, %ld)", op, (long)PyArray_DIM(z, 0), (long)PyArray_DIM(z, 1),
                   (long)m, (long)k, (long)PyArray_DIM(y, 0), (long)n);
    return NULL;
  }
  if (labsym_blas_int(m, "a dimension") < 0 || labsym_blas_int(n, "a dimension") < 0
      || labsym_blas_int(k, "a dimension") < 0 || labsym_blas_load() < 0)
    return NULL;
  PyArrayObject* w = labsym_blas_work_scaled_@p@(z, inplace, &b, x, y, &copy_back);
  if (!w) return NULL;
  if (m > 0 && n > 0) {
    int status = 0;
    if (a != 0 && k > 0) {
      status = vec ? labsym_blas_gemv_into_@p@(x, 0, y, a, b, w)
                   : labsym_blas_gemm_into_@p@(x, y, a, b, w);
    } else {  /* a product of zeros or scaled by 0: NaN/Inf still propagate as in NumPy */
      PyArrayObject* p = k > 0 ? labsym_blas_product_@p@(x, y) : NULL;
      status = (k > 0 && !p) ? -1 : 0;
      if (status == 0) labsym_blas_combine_@p@(w, p ? (@T@*)PyArray_DATA(p) : NULL, a, b);
      Py_XDECREF(p);
    }
    if (status < 0) { Py_DECREF(w); return NULL; }
  }
  return labsym_blas_finish(w, z, copy_back);
}

/* Ger: b*A + outer(a*x, y). */
static PyArrayObject* labsym_blas_ger_@p@(PyArrayObject* z, PyArrayObject* sa, PyArrayObject* x,
    PyArrayObject* y, PyArrayObject* sb, int inplace, const char* op) {
  int copy_back;
  @T@ a, b;
  if (labsym_blas_check(z, 2, @N@, op, "A") < 0 || labsym_blas_scalar_@p@(sa, op, "a", &a) < 0
      || labsym_blas_check(x, 1, @N@, op, "x") < 0 || labsym_blas_check(y, 1, @N@, op, "y") < 0
      || labsym_blas_scalar_@p@(sb, op, "b", &b) < 0)
    return NULL;
  npy_intp m = PyArray_DIM(x, 0), n = PyArray_DIM(y, 0);
  if (PyArray_DIM(z, 0) != m || PyArray_DIM(z, 1) != n) {
    PyErr_Format(PyExc_ValueError, "%s: shapes do not match: A (%ld, %ld), x (%ld,), y (%ld,)",
                 op, (long)PyArray_DIM(z, 0), (long)PyArray_DIM(z, 1), (long)m, (long)n);
    return NULL;
  }
  if (labsym_blas_int(m, "a dimension") < 0 || labsym_blas_int(n, "a dimension") < 0
      || labsym_blas_load() < 0)
    return NULL;
  PyArrayObject* w = labsym_blas_work_scaled_@p@(z, inplace, &b, x, y, &copy_back);
  if (!w) return NULL;
  if (m > 0 && n > 0) {
    PyArrayObject *xo, *yo;
    labsym_bint incx, incy, mi = m, ni = n;
    char* xd = labsym_blas_vector(x, @N@, &xo, &incx);
    char* yd = xd ? labsym_blas_vector(y, @N@, &yo, &incy) : NULL;
    if (!yd) { Py_XDECREF(xo); Py_DECREF(w); return NULL; }
    if (a != 0) {
      labsym_blas_mat W;
      if (b != 1) labsym_blas_combine_@p@(w, NULL, 1, b);
      labsym_blas_matrix(w, @N@, &W);  /* w was checked: no copy, cannot fail */
      Py_DECREF(W.arr);
      labsym_@p@ger_t ger = (labsym_@p@ger_t)labsym_blas_fn[LABSYM_@P@GER];
      Py_BEGIN_ALLOW_THREADS
      if (W.rowmajor)
        ger(&ni, &mi, &a, (@T@*)yd, &incy, (@T@*)xd, &incx, (@T@*)W.data, &W.ld);
      else
        ger(&mi, &ni, &a, (@T@*)xd, &incx, (@T@*)yd, &incy, (@T@*)W.data, &W.ld);
      Py_END_ALLOW_THREADS
    } else {  /* perform's outer(x*a, y): a == 0 still turns Inf/NaN into NaN */
      @T@* p = (@T@*)PyMem_Malloc(sizeof(@T@) * m * n);
      if (!p) { Py_DECREF(xo); Py_DECREF(yo); Py_DECREF(w); PyErr_NoMemory(); return NULL; }
      for (npy_intp i = 0; i < m; i++)
        for (npy_intp j = 0; j < n; j++)
          p[i * n + j] = (((@T@*)xd)[i * incx] * a) * ((@T@*)yd)[j * incy];
      labsym_blas_combine_@p@(w, p, 1, b);
      PyMem_Free(p);
    }
    Py_DECREF(xo);
    Py_DECREF(yo);
  }
  return labsym_blas_finish(w, z, copy_back);
}

/* dot(a, b) for 1-d/2-d a and b (of any dtype: cast), a new array of this dtype. */
static PyArrayObject* labsym_blas_product_@p@(PyArrayObject* a, PyArrayObject* b) {
  int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
  npy_intp k = PyArray_DIM(a, na - 1), dims[2];
  int nd = 0;
  if (na == 2) dims[nd++] = PyArray_DIM(a, 0);
  if (nb == 2) dims[nd++] = PyArray_DIM(b, 1);
  if (PyArray_DIM(b, 0) != k) {
    PyErr_Format(PyExc_ValueError, "dot: shapes are not aligned: %ld (last dim of the first) "
                 "!= %ld (first dim of the second)", (long)k, (long)PyArray_DIM(b, 0));
    return NULL;
  }
  for (int d = 0; d < nd; d++)
    if (labsym_blas_int(dims[d], "a dimension") < 0) return NULL;
  if (labsym_blas_int(k, "a dimension") < 0 || labsym_blas_load() < 0) return NULL;
  PyArrayObject* out = (PyArrayObject*)PyArray_EMPTY(nd, dims, @N@, 0);
  if (!out) return NULL;
  npy_intp size = PyArray_SIZE(out);
  int status = 0;
  if (size > 0 && k == 0) {
    memset(PyArray_DATA(out), 0, size * sizeof(@T@));
  } else if (nd == 0) {
    PyArrayObject *ao, *bo;
    labsym_bint inca, incb, ki = k;
    char* ad = labsym_blas_vector(a, @N@, &ao, &inca);
    char* bd = ad ? labsym_blas_vector(b, @N@, &bo, &incb) : NULL;
    if (!bd) { Py_XDECREF(ao); Py_DECREF(out); return NULL; }
    @T@ r;
    labsym_@p@dot_t dotf = (labsym_@p@dot_t)labsym_blas_fn[LABSYM_@P@DOT];
    Py_BEGIN_ALLOW_THREADS
    r = dotf(&ki, (@T@*)ad, &inca, (@T@*)bd, &incb);
    Py_END_ALLOW_THREADS
    *(@T@*)PyArray_DATA(out) = r;
    Py_DECREF(ao);
    Py_DECREF(bo);
  } else if (size > 0 && na == 2 && nb == 2) {
    status = labsym_blas_gemm_into_@p@(a, b, 1, 0, out);
  } else if (size > 0 && na == 2) {
    status = labsym_blas_gemv_into_@p@(a, 0, b, 1, 0, out);
  } else if (size > 0) {  /* vector . matrix = b^T . a */
    status = labsym_blas_gemv_into_@p@(b, 1, a, 1, 0, out);
  }
  if (status < 0) { Py_DECREF(out); return NULL; }
  return out;
}
"""


def _typed(ctype: str) -> str:
    p = "s" if ctype == "float" else "d"
    num = "NPY_FLOAT32" if ctype == "float" else "NPY_FLOAT64"
    code = _TYPED.replace("@T@", ctype).replace("@N@", num)
    return code.replace("@p@", p).replace("@P@", p.upper())


_KERNELS = _COMMON + _typed("float") + _typed("double")


def support_code(lib: BlasLibrary) -> str:
    """The C every BLAS kernel shares, for functions from `lib`."""
    return _loader(lib) + _KERNELS


def blas_kernel(body: str, *support: str, cache_version: tuple = ()) -> CKernel:
    """A kernel whose body calls the labsym_blas_* functions (`support`: more file-scope C).

    Only when `blas_available()`; the BLAS in use is named by its support code, so it is part
    of the module's cache key.
    """
    lib = blas_library()
    if lib is None:
        raise RuntimeError("blas_kernel: no BLAS (check blas_available() first)")
    native = lib.source == "numpy"
    return CKernel(
        body,
        (support_code(lib), *support),
        ("<limits.h>", "<dlfcn.h>") if native else ("<limits.h>",),
        ("dl",) if native else (),
        cache_version=cache_version,
    )
