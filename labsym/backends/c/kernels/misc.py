"""C kernels for small leftover ops: ReductionSize (a product of lengths) and TensorDot (one GEMM).

TensorDot permutes each operand (free axes then summed axes for the first, summed then free for
the second), merges them into matrices (a view where the strides allow, else a copy, as
numpy.tensordot's reshape does) and multiplies them with the BLAS of backends/c/blas.py.
It stays on the NumPy engine, as Dot does, unless its result is float32/float64 computed in that
dtype, or when no BLAS is found.
"""

from __future__ import annotations

import json

import numpy as np

from labsym.backends.c.blas import BLAS_CTYPES, blas_available, blas_kernel
from labsym.backends.c.kernel import CKernel, register
from labsym.core.graph import Apply
from labsym.core.ops.blas import TensorDot
from labsym.core.ops.reduce import ReductionSize

VERSION = (1,)

_REDUCTION_SIZE = r"""
/* ReductionSize: the product of x's lengths along the flagged axes, as a 0-d int64 array. */
static PyArrayObject* labsym_reduction_size(PyArrayObject* x, const unsigned char* reduced,
                                            int nd, const char* op) {
  if (PyArray_NDIM(x) != nd) {
    PyErr_Format(PyExc_TypeError, "%s: expected an input of %d dims, got %d", op, nd,
                 PyArray_NDIM(x));
    return NULL;
  }
  npy_int64 n = 1;
  for (int d = 0; d < nd; d++)
    if (reduced[d]) n *= (npy_int64)PyArray_DIM(x, d);
  PyArrayObject* out = (PyArrayObject*)PyArray_EMPTY(0, NULL, NPY_INT64, 0);
  if (out) *(npy_int64*)PyArray_DATA(out) = n;
  return out;
}
"""

_TENSORDOT = r"""
/* x with its axes permuted by perm, the first `lead` merged into rows and the rest into columns
   (a view when the strides allow, else a C-ordered copy). New reference. */
static PyArrayObject* labsym_td_matrix(PyArrayObject* x, const int* perm, int lead) {
  int nd = PyArray_NDIM(x);
  npy_intp p[NPY_MAXDIMS], dims[2] = {1, 1};
  for (int i = 0; i < nd; i++) {
    p[i] = perm[i];
    dims[i >= lead] *= PyArray_DIM(x, perm[i]);
  }
  PyArray_Dims pd = {p, nd}, md = {dims, 2};
  PyArrayObject* t = (PyArrayObject*)PyArray_Transpose(x, &pd);
  if (!t) return NULL;
  PyArrayObject* m = (PyArrayObject*)PyArray_Newshape(t, &md, NPY_CORDER);
  Py_DECREF(t);
  return m;
}

/* numpy.tensordot(a, b, axes) through one BLAS product: pa lists a's free axes then its summed
   ones, pb b's summed axes (paired with a's in order) then its free ones. */
static PyArrayObject* labsym_tensordot(PyArrayObject* a, PyArrayObject* b, const int* pa,
                                       int na, const int* pb, int nb, int nsum, int dbl,
                                       const char* op) {
  if (PyArray_NDIM(a) != na || PyArray_NDIM(b) != nb) {
    PyErr_Format(PyExc_TypeError, "%s: expected inputs of %d and %d dims, got %d and %d", op,
                 na, nb, PyArray_NDIM(a), PyArray_NDIM(b));
    return NULL;
  }
  for (int k = 0; k < nsum; k++)
    if (PyArray_DIM(a, pa[na - nsum + k]) != PyArray_DIM(b, pb[k])) {
      PyErr_Format(PyExc_ValueError, "%s: shape-mismatch for sum: axis %d of the first input "
                   "has length %ld, axis %d of the second %ld", op, pa[na - nsum + k],
                   (long)PyArray_DIM(a, pa[na - nsum + k]), pb[k], (long)PyArray_DIM(b, pb[k]));
      return NULL;
    }
  npy_intp dims[NPY_MAXDIMS];
  int nd = 0;
  for (int i = 0; i < na - nsum; i++) dims[nd++] = PyArray_DIM(a, pa[i]);
  for (int i = nsum; i < nb; i++) dims[nd++] = PyArray_DIM(b, pb[i]);
  PyArrayObject* am = labsym_td_matrix(a, pa, na - nsum);
  if (!am) return NULL;
  PyArrayObject* bm = labsym_td_matrix(b, pb, nsum);
  if (!bm) { Py_DECREF(am); return NULL; }
  PyArrayObject* p = dbl ? labsym_blas_product_d(am, bm) : labsym_blas_product_s(am, bm);
  Py_DECREF(am);
  Py_DECREF(bm);
  if (!p) return NULL;
  PyArray_Dims od = {dims, nd};
  PyArrayObject* out = (PyArrayObject*)PyArray_Newshape(p, &od, NPY_CORDER);
  Py_DECREF(p);
  return out;
}
"""


def _c_ints(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values or [0]) + "}"


def _name(node: Apply) -> str:
    """The op's name as a C string literal inside a kernel body ('%' escaped)."""
    return json.dumps(str(node.op)).replace("%", "%%")


@register(ReductionSize)
def render_reduction_size(node: Apply) -> CKernel:
    """ReductionSize{axis}(x): how many elements a reduction over axis combines (int64)."""
    nd = node.inputs[0].type.ndim
    axis = node.op.axis
    flags = [int(axis is None or d in axis) for d in range(nd)]
    return CKernel(
        f"static const unsigned char reduced[] = {_c_ints(flags)};\n"
        f"%(out0)s = labsym_reduction_size(%(in0)s, reduced, {nd}, {_name(node)});\n"
        "if (!%(out0)s) %(fail)s",
        _REDUCTION_SIZE,
        cache_version=VERSION,
    )


@register(TensorDot)
def render_tensordot(node: Apply) -> CKernel | None:
    """TensorDot of float operands as one GEMM/GEMV; None for results BLAS does not compute."""
    out = node.outputs[0].dtype
    a, b = node.inputs
    if out not in BLAS_CTYPES or not blas_available():
        return None
    if np.result_type(a.type.dtype, b.type.dtype) != np.dtype(out):
        return None
    a_axes, b_axes = (list(x) for x in node.op.axes)
    pa = [i for i in range(a.type.ndim) if i not in a_axes] + a_axes
    pb = b_axes + [i for i in range(b.type.ndim) if i not in b_axes]
    dbl = int(out == "float64")
    return blas_kernel(
        f"static const int pa[] = {_c_ints(pa)}, pb[] = {_c_ints(pb)};\n"
        f"%(out0)s = labsym_tensordot(%(in0)s, %(in1)s, pa, {a.type.ndim}, pb, {b.type.ndim}, "
        f"{len(a_axes)}, {dbl}, {_name(node)});\n"
        "if (!%(out0)s) %(fail)s",
        _TENSORDOT,
        cache_version=VERSION,
    )
