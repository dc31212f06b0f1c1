"""C helpers the elementwise and reduction drivers share: input broadcasting, strided copies, axes.

Both drivers check and broadcast their inputs by Elemwise's rules, gather strided operands into
block buffers, and order and merge axes before their loops; this text holds that code once. It is
guarded, so a module whose support code carries both drivers compiles it once.
May import nothing from labsym (it is C text).
"""

from __future__ import annotations

STRIDED = r"""
#ifndef LABSYM_STRIDED
#define LABSYM_STRIDED
#include <fenv.h>
#ifndef LABSYM_NEGATIVE_POWER
#define LABSYM_NEGATIVE_POWER
/* set by the integer pow helpers on a negative exponent (NumPy raises); per thread */
static _Thread_local int labsym_negative_power;
#endif
#define LABSYM_FE_FLAGS (FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID)

/* NumPy's error for what a loop flagged in labsym_negative_power; -1 with it set, or 0 */
static int labsym_loop_errors(int negative_power) {
  if (!negative_power) return 0;
  PyErr_SetString(PyExc_ValueError, "Integers to negative integer powers are not allowed.");
  return -1;
}
/* Broadcast the inputs (Elemwise's rules) into dims, converting any an SIMD loop cannot load
   (dtype, byte order, alignment) into conv[k]; 0, or -1 with an exception set. `hint` ends
   the shape mismatch message. */
static int labsym_broadcast_inputs(const char* name, int nin, int nd, const int* types,
                                   const unsigned char* bcast, PyArrayObject** ins,
                                   PyArrayObject** a, PyArrayObject** conv, npy_intp* dims,
                                   const char* hint) {
  for (int k = 0; k < nin; k++) {
    a[k] = ins[k];
    if (PyArray_NDIM(a[k]) != nd) {
      PyErr_Format(PyExc_ValueError, "%s: input %d has %d dimensions, expected %d", name, k,
                   PyArray_NDIM(a[k]), nd);
      return -1;
    }
    /* typed (vector) loads need the native dtype, byte order and alignment */
    if (PyArray_TYPE(a[k]) != types[k] || !PyArray_ISNOTSWAPPED(a[k])
        || !PyArray_ISALIGNED(a[k])) {
      conv[k] = (PyArrayObject*)PyArray_FROM_OTF((PyObject*)a[k], types[k],
                                                  NPY_ARRAY_FORCECAST | NPY_ARRAY_ALIGNED);
      if (!conv[k]) return -1;
      a[k] = conv[k];
    }
  }
  for (int d = 0; d < nd; d++) {
    npy_intp len = -1;
    int who = -1;
    for (int k = 0; k < nin; k++) {
      npy_intp dk = PyArray_DIM(a[k], d);
      if (bcast[k * nd + d]) {
        if (dk != 1) {
          PyErr_Format(PyExc_ValueError, "%s: input[%d].shape[%d] = %ld, but its type says 1",
                       name, k, d, (long)dk);
          return -1;
        }
      } else if (len < 0) {
        len = dk; who = k;
      } else if (dk != len) {
        PyErr_Format(PyExc_ValueError,
                     "Input dimension mis-match in %s: input[%d].shape[%d] = %ld, "
                     "input[%d].shape[%d] = %ld%s", name, who, d, (long)len, k, d, (long)dk,
                     hint);
        return -1;
      }
    }
    dims[d] = len < 0 ? 1 : len;
  }
  return 0;
}

static void labsym_strided_copy(char* dst, npy_intp ds, const char* src, npy_intp ss,
                                npy_intp n, int size) {
  switch (size) {
  case 1: for (npy_intp i = 0; i < n; i++) dst[i * ds] = src[i * ss]; break;
  case 2: for (npy_intp i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 2); break;
  case 4: for (npy_intp i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 4); break;
  default: for (npy_intp i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 8); break;
  }
}

/* The axes longer than 1, outermost first by operand ref's |stride|, with adjacent axes every
   operand walks as one merged: their lengths into cd, the nop operands' strides into cst.
   Returns how many (0 when every axis has length 1). */
static int labsym_merge_axes(int nd, const npy_intp* dims, int nop, int ref,
                             npy_intp (*st)[NPY_MAXDIMS], npy_intp* cd,
                             npy_intp (*cst)[NPY_MAXDIMS]) {
  int order[NPY_MAXDIMS], nbig = 0, cn = 0;
  for (int d = 0; d < nd; d++) {
    if (dims[d] == 1) continue;
    int i = nbig++;
    npy_intp sd = st[ref][d] < 0 ? -st[ref][d] : st[ref][d];
    while (i > 0) {
      npy_intp sp = st[ref][order[i - 1]];
      if ((sp < 0 ? -sp : sp) >= sd) break;
      order[i] = order[i - 1];
      i--;
    }
    order[i] = d;
  }
  for (int i = 0; i < nbig; i++) {
    int d = order[i], merge = cn > 0;
    for (int k = 0; k < nop && merge; k++) merge = cst[k][cn - 1] == st[k][d] * dims[d];
    if (merge) {
      cd[cn - 1] *= dims[d];
      for (int k = 0; k < nop; k++) cst[k][cn - 1] = st[k][d];
    } else {
      cd[cn] = dims[d];
      for (int k = 0; k < nop; k++) cst[k][cn] = st[k][d];
      cn++;
    }
  }
  return cn;
}
#endif
"""
