"""The C driver every Elemwise/Composite kernel shares: shapes, outputs, strides, blocks, threads.

A node's kernel is a `#pragma omp simd` loop over contiguous arrays (`fn(n, ptrs)`); this driver
checks and broadcasts the inputs (Elemwise's rules), allocates or reuses (inplace) the outputs,
orders and merges axes, and feeds `fn` either the arrays themselves (contiguous runs) or blocks
gathered into stack buffers (strided, negative-stride or broadcast operands), so every layout
runs the vectorised loop. Above `minsize` elements the blocks are shared among OpenMP threads.
May import nothing from labsym (it is C text).
"""

from __future__ import annotations

from labsym.backends.c.kernels.strided_code import STRIDED

_OWN = r"""
#ifndef LABSYM_EW_DRIVER
#define LABSYM_EW_DRIVER
#ifdef _OPENMP
#include <omp.h>
#endif
#define LABSYM_EW_MAXOPS 64
#define LABSYM_EW_BLOCK 256
#define LABSYM_EW_CHUNK 16384
typedef void (*labsym_ew_fn)(npy_intp n, char** ptrs);
typedef struct {
  const char* name;
  int nin, nout, ndim;
  const int* in_types;
  const int* out_types;
  const unsigned char* bcast; /* nin x ndim: 1 where the input's axis is statically 1 */
  const int* inplace;         /* per output: the input it may overwrite, or -1 */
  labsym_ew_fn fn;
  npy_intp minsize;           /* OpenMP threads from this many elements on; -1: never */
} labsym_ew_spec;

/* n elements from p[k] on, p[k] advancing by inner[k] bytes: direct or through buffers */
static void labsym_ew_range(const labsym_ew_spec* s, int nop, char** p, const npy_intp* inner,
                            npy_intp n, const int* isz) {
  int direct = 1;
  for (int k = 0; k < nop; k++) direct &= (inner[k] == isz[k]);
  if (direct) { s->fn(n, p); return; }
  double buf[nop][LABSYM_EW_BLOCK]; /* 8-byte aligned, the widest C type */
  char* q[LABSYM_EW_MAXOPS];
  npy_intp first = n < LABSYM_EW_BLOCK ? n : LABSYM_EW_BLOCK;
  for (int k = 0; k < s->nin; k++)
    if (inner[k] == 0) labsym_strided_copy((char*)buf[k], isz[k], p[k], 0, first, isz[k]);
  for (npy_intp start = 0; start < n; start += LABSYM_EW_BLOCK) {
    npy_intp m = n - start < LABSYM_EW_BLOCK ? n - start : LABSYM_EW_BLOCK;
    for (int k = 0; k < nop; k++) {
      char* at = p[k] + start * inner[k];
      if (inner[k] == isz[k]) q[k] = at;
      else {
        q[k] = (char*)buf[k];
        if (k < s->nin && inner[k] != 0) labsym_strided_copy(q[k], isz[k], at, inner[k], m, isz[k]);
      }
    }
    s->fn(m, q);
    for (int k = s->nin; k < nop; k++)
      if (inner[k] != isz[k])
        labsym_strided_copy(p[k] + start * inner[k], inner[k], q[k], isz[k], m, isz[k]);
  }
}

/* items [lo, hi) of a (rows x per_row chunks) split, rows unravelled over dims[0..cn-2] */
static void labsym_ew_items(const labsym_ew_spec* s, int nop, char* const* base, int cn,
                            const npy_intp* dims, npy_intp (*st)[NPY_MAXDIMS],
                            const int* isz, npy_intp per_row, npy_intp lo, npy_intp hi) {
  npy_intp n = dims[cn - 1];
  npy_intp inner[LABSYM_EW_MAXOPS], idx[NPY_MAXDIMS];
  char* p[LABSYM_EW_MAXOPS];
  for (int k = 0; k < nop; k++) inner[k] = st[k][cn - 1];
  npy_intp row = lo / per_row;
  for (int d = cn - 2; d >= 0; d--) { idx[d] = row % dims[d]; row /= dims[d]; }
  for (npy_intp it = lo; it < hi; it++) {
    npy_intp c0 = (it % per_row) * LABSYM_EW_CHUNK;
    npy_intp m = n - c0 < LABSYM_EW_CHUNK ? n - c0 : LABSYM_EW_CHUNK;
    for (int k = 0; k < nop; k++) {
      char* at = base[k] + c0 * inner[k];
      for (int d = 0; d < cn - 1; d++) at += idx[d] * st[k][d];
      p[k] = at;
    }
    labsym_ew_range(s, nop, p, inner, m, isz);
    if ((it + 1) % per_row == 0)
      for (int d = cn - 2; d >= 0; d--) { if (++idx[d] < dims[d]) break; idx[d] = 0; }
  }
}

/* Run a kernel: 0 on success with outs[] set (new references), -1 with an exception set */
static int labsym_ew_call(const labsym_ew_spec* s, PyArrayObject** ins, PyArrayObject** outs) {
  int nin = s->nin, nout = s->nout, nop = nin + nout, nd = s->ndim, status = -1;
  PyArrayObject* a[LABSYM_EW_MAXOPS];
  PyArrayObject* conv[LABSYM_EW_MAXOPS];
  npy_intp dims[NPY_MAXDIMS];
  for (int k = 0; k < nin; k++) conv[k] = NULL;
  for (int j = 0; j < nout; j++) outs[j] = NULL;
  if (labsym_broadcast_inputs(s->name, nin, nd, s->in_types, s->bcast, ins, a, conv, dims,
                              " (a length-1 axis is only broadcast when its type is "
                              "broadcastable)"))
    goto done;
  /* outputs: C order, unless every full input is Fortran-ordered only */
  int fortran = 0, full_inputs = 0;
  for (int k = 0; k < nin && nd > 1; k++) {
    int full = 1;
    for (int d = 0; d < nd; d++) full &= !s->bcast[k * nd + d];
    if (!full) continue;
    int f_only = PyArray_IS_F_CONTIGUOUS(a[k]) && !PyArray_IS_C_CONTIGUOUS(a[k]);
    fortran = full_inputs++ == 0 ? f_only : fortran && f_only;
  }
  for (int j = 0; j < nout; j++) {
    int t = s->inplace[j];
    if (t >= 0 && !conv[t] && PyArray_CheckExact((PyObject*)ins[t])
        && PyArray_ISWRITEABLE(ins[t])) {
      Py_INCREF(ins[t]);
      outs[j] = ins[t];
    } else {
      outs[j] = (PyArrayObject*)PyArray_EMPTY(nd, dims, s->out_types[j], fortran);
      if (!outs[j]) goto done;
    }
  }
  npy_intp size = 1;
  for (int d = 0; d < nd; d++) size *= dims[d];
  if (size > 0) {
    char* base[LABSYM_EW_MAXOPS];
    int isz[LABSYM_EW_MAXOPS];
    npy_intp st[LABSYM_EW_MAXOPS][NPY_MAXDIMS], cst[LABSYM_EW_MAXOPS][NPY_MAXDIMS];
    npy_intp cd[NPY_MAXDIMS];
    for (int k = 0; k < nop; k++) {
      PyArrayObject* arr = k < nin ? a[k] : outs[k - nin];
      base[k] = PyArray_BYTES(arr);
      isz[k] = (int)PyArray_ITEMSIZE(arr);
      for (int d = 0; d < nd; d++)
        st[k][d] = (k < nin && s->bcast[k * nd + d]) ? 0 : PyArray_STRIDE(arr, d);
    }
    /* axes outermost first by the first output's stride; adjacent ones merged */
    int cn = labsym_merge_axes(nd, dims, nop, nin, st, cd, cst);
    if (cn == 0) {
      cd[0] = 1; cn = 1;
      for (int k = 0; k < nop; k++) cst[k][0] = isz[k];
    }
    npy_intp per_row = (cd[cn - 1] + LABSYM_EW_CHUNK - 1) / LABSYM_EW_CHUNK;
    npy_intp items = (size / cd[cn - 1]) * per_row;
    int parallel = s->minsize >= 0 && size >= s->minsize && items > 1;
    PyThreadState* ts = (size >= 32768 || parallel) ? PyEval_SaveThread() : NULL;
    int negative_power = 0, fe = 0;
    labsym_negative_power = 0;
#ifdef _OPENMP
    if (parallel) {
      /* worker threads' IEEE flags and pow errors reach this thread, which the caller tests */
      #pragma omp parallel reduction(|: negative_power, fe)
      {
        npy_intp nt = omp_get_num_threads(), tid = omp_get_thread_num();
        npy_intp lo = items * tid / nt, hi = items * (tid + 1) / nt;
        labsym_negative_power = 0;
        if (tid) feclearexcept(LABSYM_FE_FLAGS);
        if (lo < hi) labsym_ew_items(s, nop, base, cn, cd, cst, isz, per_row, lo, hi);
        negative_power |= labsym_negative_power;
        if (tid) fe |= fetestexcept(LABSYM_FE_FLAGS);
      }
      if (fe) feraiseexcept(fe);
    } else
#endif
    {
      labsym_ew_items(s, nop, base, cn, cd, cst, isz, per_row, 0, items);
      negative_power = labsym_negative_power;
    }
    if (ts) PyEval_RestoreThread(ts);
    if (labsym_loop_errors(negative_power)) goto done;
  }
  status = 0;
done:
  for (int k = 0; k < nin; k++) Py_XDECREF(conv[k]);
  if (status)
    for (int j = 0; j < nout; j++) Py_CLEAR(outs[j]);
  return status;
}
#endif
"""

# the shared helpers first: this text calls them
DRIVER = STRIDED + _OWN
