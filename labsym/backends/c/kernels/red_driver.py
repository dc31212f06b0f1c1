"""The C drivers of the reduction kernels: CAReduce (optionally of an elementwise program) and
argmax/argmin.

A reduction runs over the broadcast shape of its inputs with an accumulator array that has
stride 0 on the reduced axes, like NumPy's reduce: axes are ordered by the first input's strides
and merged, and the node's `fn(n, ptrs, strides)` handles one run either as a scalar reduction
(the run is reduced: `#pragma omp simd reduction`) or as a vectorised update of a row of
accumulators (the run is kept). The accumulator is the output unless its dtype differs (then
one cast at the end). Argmax/argmin walk the reduced axes in C order per output element, as
NumPy's argmax of the moved-and-flattened axes does. May import nothing from labsym (C text).
"""

from __future__ import annotations

from labsym.backends.c.kernels.strided_code import STRIDED

_OWN = r"""
#ifndef LABSYM_RED_DRIVER
#define LABSYM_RED_DRIVER
#define LABSYM_RED_MAXOPS 64
#ifdef _OPENMP
#include <omp.h>
#endif
#ifndef LABSYM_EW_BLOCK
#define LABSYM_EW_BLOCK 256
#endif
typedef void (*labsym_red_fn)(npy_intp n, char** p, int reduce);
typedef void (*labsym_red_init)(char* acc, npy_intp n);
typedef struct {
  const char* name;
  int nin, ndim;
  const int* in_types;
  const unsigned char* bcast;   /* nin x ndim: 1 where the input's axis is statically 1 */
  const unsigned char* reduced; /* ndim: 1 where the axis is reduced */
  int acc_type, out_type;
  labsym_red_fn fn;
  labsym_red_init init;
  const char* empty_error;      /* NULL, or NumPy's message for an empty reduction */
  npy_intp minsize;             /* OpenMP threads from this many elements on; -1: never */
} labsym_red_spec;

/* One run of n elements: contiguous operands directly, others through block buffers; the
   accumulator (operand nin) is one value when its stride is 0 (a reduced run) */
static void labsym_red_range(const labsym_red_spec* s, int nop, char** p, const npy_intp* inner,
                             npy_intp n, const int* isz) {
  int nin = s->nin, reduce = inner[nin] == 0, direct = 1;
  for (int k = 0; k < nin; k++) direct &= inner[k] == isz[k];
  if (!reduce) direct &= inner[nin] == isz[nin];
  if (direct) { s->fn(n, p, reduce); return; }
  double buf[nop][LABSYM_EW_BLOCK];
  char* q[LABSYM_RED_MAXOPS];
  npy_intp first = n < LABSYM_EW_BLOCK ? n : LABSYM_EW_BLOCK;
  for (int k = 0; k < nin; k++)
    if (inner[k] == 0) labsym_strided_copy((char*)buf[k], isz[k], p[k], 0, first, isz[k]);
  for (npy_intp start = 0; start < n; start += LABSYM_EW_BLOCK) {
    npy_intp m = n - start < LABSYM_EW_BLOCK ? n - start : LABSYM_EW_BLOCK;
    for (int k = 0; k <= nin; k++) {
      char* at = p[k] + start * inner[k];
      if (inner[k] == isz[k] || (k == nin && reduce)) q[k] = at;
      else {
        q[k] = (char*)buf[k];
        if (inner[k] != 0 || k == nin) labsym_strided_copy(q[k], isz[k], at, inner[k], m, isz[k]);
      }
    }
    s->fn(m, q, reduce);
    if (!reduce && inner[nin] != isz[nin])
      labsym_strided_copy(p[nin] + start * inner[nin], inner[nin], q[nin], isz[nin], m, isz[nin]);
  }
}

/* rows [lo, hi) of the runs, unravelled over cd[0..cn-2] */
static void labsym_red_rows(const labsym_red_spec* s, int nop, char* const* base, int cn,
                            const npy_intp* cd, npy_intp (*cst)[NPY_MAXDIMS],
                            const npy_intp* inner, const int* isz, npy_intp lo, npy_intp hi) {
  npy_intp idx[NPY_MAXDIMS], row = lo;
  char* p[LABSYM_RED_MAXOPS];
  for (int d = cn - 2; d >= 0; d--) { idx[d] = row % cd[d]; row /= cd[d]; }
  for (npy_intp r = lo; r < hi; r++) {
    for (int k = 0; k < nop; k++) {
      char* at = base[k];
      for (int d = 0; d < cn - 1; d++) at += idx[d] * cst[k][d];
      p[k] = at;
    }
    labsym_red_range(s, nop, p, inner, cd[cn - 1], isz);
    for (int d = cn - 2; d >= 0; d--) { if (++idx[d] < cd[d]) break; idx[d] = 0; }
  }
}

static int labsym_red_call(const labsym_red_spec* s, PyArrayObject** ins, PyArrayObject** out) {
  int nin = s->nin, nop = nin + 1, nd = s->ndim, status = -1;
  PyArrayObject* a[LABSYM_RED_MAXOPS];
  PyArrayObject* conv[LABSYM_RED_MAXOPS];
  PyArrayObject* acc = NULL;
  npy_intp dims[NPY_MAXDIMS], odims[NPY_MAXDIMS];
  int ond = 0;
  for (int k = 0; k < nin; k++) conv[k] = NULL;
  *out = NULL;
  if (labsym_broadcast_inputs(s->name, nin, nd, s->in_types, s->bcast, ins, a, conv, dims, ""))
    goto done;
  npy_intp size = 1, osize = 1, rsize = 1;
  for (int d = 0; d < nd; d++) {
    size *= dims[d];
    if (!s->reduced[d]) { odims[ond++] = dims[d]; osize *= dims[d]; }
    else rsize *= dims[d];
  }
  /* NumPy: no identity and nothing to reduce is an error, even when the output is empty */
  if (rsize == 0 && s->empty_error) {
    PyErr_SetString(PyExc_ValueError, s->empty_error);
    goto done;
  }
  acc = (PyArrayObject*)PyArray_EMPTY(ond, odims, s->acc_type, 0);
  if (!acc) goto done;
  s->init(PyArray_BYTES(acc), osize);
  if (size > 0) {
    char* base[LABSYM_RED_MAXOPS];
    npy_intp st[LABSYM_RED_MAXOPS][NPY_MAXDIMS], cst[LABSYM_RED_MAXOPS][NPY_MAXDIMS];
    npy_intp cd[NPY_MAXDIMS], inner[LABSYM_RED_MAXOPS];
    int isz[LABSYM_RED_MAXOPS];
    int lead = 0;
    for (int k = 0; k < nin; k++) {
      base[k] = PyArray_BYTES(a[k]);
      for (int d = 0; d < nd; d++) st[k][d] = s->bcast[k * nd + d] ? 0 : PyArray_STRIDE(a[k], d);
    }
    base[nin] = PyArray_BYTES(acc);
    for (int d = 0, od = 0; d < nd; d++)
      st[nin][d] = s->reduced[d] ? 0 : PyArray_STRIDE(acc, od++);
    /* order axes by the input read most (the first one broadcast on fewest axes) */
    int fewest = nd + 1;
    for (int k = 0; k < nin; k++) {
      int nb = 0;
      for (int d = 0; d < nd; d++) nb += s->bcast[k * nd + d];
      if (nb < fewest) { fewest = nb; lead = k; }
    }
    int cn = labsym_merge_axes(nd, dims, nop, lead, st, cd, cst);
    if (cn == 0) {
      cd[0] = 1; cn = 1;
      for (int k = 0; k < nop; k++) cst[k][0] = 0;
    }
    for (int k = 0; k < nop; k++) inner[k] = cst[k][cn - 1];
    for (int k = 0; k < nin; k++) isz[k] = (int)PyArray_ITEMSIZE(a[k]);
    isz[nin] = (int)PyArray_ITEMSIZE(acc);
    npy_intp rows = size / cd[cn - 1];
    /* threads split the outermost axis when it is kept: each owns its accumulators */
    int parallel = s->minsize >= 0 && size >= s->minsize && cn > 1 && cst[nin][0] != 0;
    PyThreadState* ts = (size >= 32768 || parallel) ? PyEval_SaveThread() : NULL;
    int negative_power = 0, fe = 0;
    labsym_negative_power = 0;
#ifdef _OPENMP
    if (parallel) {
      npy_intp per = rows / cd[0];
      /* worker threads' IEEE flags and pow errors reach this thread, which the caller tests */
      #pragma omp parallel reduction(|: negative_power, fe)
      {
        npy_intp nt = omp_get_num_threads(), tid = omp_get_thread_num();
        npy_intp lo = cd[0] * tid / nt, hi = cd[0] * (tid + 1) / nt;
        labsym_negative_power = 0;
        if (tid) feclearexcept(LABSYM_FE_FLAGS);
        if (lo < hi)
          labsym_red_rows(s, nop, base, cn, cd, cst, inner, isz, lo * per, hi * per);
        negative_power |= labsym_negative_power;
        if (tid) fe |= fetestexcept(LABSYM_FE_FLAGS);
      }
      if (fe) feraiseexcept(fe);
    } else
#endif
    {
      labsym_red_rows(s, nop, base, cn, cd, cst, inner, isz, 0, rows);
      negative_power = labsym_negative_power;
    }
    if (ts) PyEval_RestoreThread(ts);
    if (labsym_loop_errors(negative_power)) goto done;
  }
  if (s->acc_type == s->out_type) {
    *out = acc;
    acc = NULL;
  } else {
    /* NumPy's cast reports its own IEEE flags (a warning, or FloatingPointError under
       np.errstate); only the loop's flags are left for the kernel's FP reporter */
    fexcept_t loop_flags;
    fegetexceptflag(&loop_flags, FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    *out = (PyArrayObject*)PyArray_CastToType(acc, PyArray_DescrFromType(s->out_type), 0);
    feclearexcept(FE_ALL_EXCEPT);
    fesetexceptflag(&loop_flags, FE_ALL_EXCEPT);
    if (!*out) goto done;
  }
  status = 0;
done:
  Py_XDECREF(acc);
  for (int k = 0; k < nin; k++) Py_XDECREF(conv[k]);
  return status;
}

/* argmax/argmin: per output element, the first best over the reduced axes in C order */
typedef npy_intp (*labsym_arg_fn)(const char* p, npy_intp n, npy_intp s, char* best,
                                  npy_intp start, npy_intp at);
typedef void (*labsym_arg_update)(const char* p, npy_intp n, npy_intp s, char* best,
                                  npy_int64* index, npy_intp so, npy_int64 r);
typedef struct {
  const char* name;
  int ndim, in_type;
  const unsigned char* reduced;
  labsym_arg_fn fn;          /* scans one run of reduced elements */
  labsym_arg_update update;  /* one reduced position into a row of kept elements' bests */
  const char* empty_error;
} labsym_arg_spec;

/* When a kept axis walks memory faster than every reduced one (argmax over rows' axis 0),
   scanning each output's reduced elements would stride through memory: instead every reduced
   position (in C order) updates the bests of a row along that kept axis, vectorised. */
static int labsym_arg_rows(const labsym_arg_spec* s, PyArrayObject* x, int ond,
                           const npy_intp* odims, const npy_intp* ost, int rnd,
                           const npy_intp* rdims, const npy_intp* rst, npy_intp rsize,
                           char* vout, npy_int64* iout) {
  npy_intp fast = -1, oel[NPY_MAXDIMS], oidx[NPY_MAXDIMS], ridx[NPY_MAXDIMS];
  int v = -1, isz = (int)PyArray_ITEMSIZE(x);
  for (int d = 0; d < ond; d++) {
    npy_intp a = ost[d] < 0 ? -ost[d] : ost[d];
    if (odims[d] > 1 && (v < 0 || a < fast)) { v = d; fast = a; }
  }
  if (v < 0 || rsize < 2) return 0;
  for (int d = 0; d < rnd; d++) {
    npy_intp a = rst[d] < 0 ? -rst[d] : rst[d];
    if (rdims[d] > 1 && a <= fast) return 0;
  }
  npy_intp osize = 1;
  for (int d = ond - 1; d >= 0; d--) { oel[d] = osize; osize *= odims[d]; }
  char* bv = vout;
  if (!bv) {
    bv = PyMem_Malloc(osize * isz);
    if (!bv) { PyErr_NoMemory(); return -1; }
  }
  npy_intp n = odims[v], outer = osize / n;
  for (int d = 0; d < ond; d++) oidx[d] = 0;
  for (npy_intp o = 0; o < outer; o++) {
    const char* in = PyArray_BYTES(x);
    npy_intp out = 0;
    for (int d = 0; d < ond; d++) { in += oidx[d] * ost[d]; out += oidx[d] * oel[d]; }
    labsym_strided_copy(bv + out * isz, oel[v] * isz, in, ost[v], n, isz);
    for (npy_intp i = 0; i < n; i++) iout[out + i * oel[v]] = 0;
    for (int d = 0; d < rnd; d++) ridx[d] = 0;
    for (npy_intp r = 1; r < rsize; r++) {
      for (int d = rnd - 1; d >= 0; d--) { if (++ridx[d] < rdims[d]) break; ridx[d] = 0; }
      const char* q = in;
      for (int d = 0; d < rnd; d++) q += ridx[d] * rst[d];
      s->update(q, n, ost[v], bv + out * isz, iout + out, oel[v], r);
    }
    for (int d = ond - 1; d >= 0; d--) {
      if (d == v) continue;
      if (++oidx[d] < odims[d]) break;
      oidx[d] = 0;
    }
  }
  if (!vout) PyMem_Free(bv);
  return 1;
}

static int labsym_arg_call(const labsym_arg_spec* s, PyArrayObject* x, PyArrayObject** value,
                           PyArrayObject** index) {
  int nd = s->ndim, ond = 0, rnd = 0, status = -1;
  npy_intp odims[NPY_MAXDIMS], ost[NPY_MAXDIMS], rdims[NPY_MAXDIMS], rst[NPY_MAXDIMS];
  npy_intp oidx[NPY_MAXDIMS], ridx[NPY_MAXDIMS];
  PyArrayObject* conv = NULL;
  unsigned char one[16];
  if (value) *value = NULL;
  *index = NULL;
  if (PyArray_NDIM(x) != nd) {
    PyErr_Format(PyExc_ValueError, "%s: input has %d dimensions, expected %d", s->name,
                 PyArray_NDIM(x), nd);
    goto done;
  }
  if (PyArray_TYPE(x) != s->in_type || !PyArray_ISNOTSWAPPED(x) || !PyArray_ISALIGNED(x)) {
    conv = (PyArrayObject*)PyArray_FROM_OTF((PyObject*)x, s->in_type,
                                            NPY_ARRAY_FORCECAST | NPY_ARRAY_ALIGNED);
    if (!conv) goto done;
    x = conv;
  }
  npy_intp osize = 1, rsize = 1;
  for (int d = 0; d < nd; d++) {
    npy_intp n = PyArray_DIM(x, d), stv = PyArray_STRIDE(x, d);
    if (s->reduced[d]) { rdims[rnd] = n; rst[rnd++] = stv; rsize *= n; }
    else { odims[ond] = n; ost[ond++] = stv; osize *= n; }
  }
  if (rsize == 0) {  /* as NumPy, even when the output is empty */
    PyErr_SetString(PyExc_ValueError, s->empty_error);
    goto done;
  }
  *index = (PyArrayObject*)PyArray_EMPTY(ond, odims, NPY_INT64, 0);
  if (!*index) goto done;
  if (value) {
    *value = (PyArrayObject*)PyArray_EMPTY(ond, odims, s->in_type, 0);
    if (!*value) goto done;
  }
  int isz = (int)PyArray_ITEMSIZE(x);
  npy_int64* iout = (npy_int64*)PyArray_DATA(*index);
  char* vout = value ? PyArray_BYTES(*value) : NULL;
  int rows = osize ? labsym_arg_rows(s, x, ond, odims, ost, rnd, rdims, rst, rsize, vout, iout)
                    : 0;
  if (rows < 0) goto done;
  npy_intp scanned = rows ? 0 : osize; /* otherwise: each output scans its reduced elements */
  npy_intp inner = rnd ? rdims[rnd - 1] : 1, ist = rnd ? rst[rnd - 1] : 0;
  for (int d = 0; d < ond; d++) oidx[d] = 0;
  for (npy_intp o = 0; o < scanned; o++) {
    const char* start = PyArray_BYTES(x);
    for (int d = 0; d < ond; d++) start += oidx[d] * ost[d];
    for (int d = 0; d < rnd; d++) ridx[d] = 0;
    npy_intp at = 0, pos = 0;
    memcpy(one, start, isz);
    for (npy_intp r = 0; r < rsize; r += inner) {
      const char* q = start;
      for (int d = 0; d < rnd - 1; d++) q += ridx[d] * rst[d];
      at = s->fn(q, inner, ist, one, pos, at);
      pos += inner;
      for (int d = rnd - 2; d >= 0; d--) { if (++ridx[d] < rdims[d]) break; ridx[d] = 0; }
    }
    iout[o] = at;
    if (vout) memcpy(vout + o * isz, one, isz);
    for (int d = ond - 1; d >= 0; d--) { if (++oidx[d] < odims[d]) break; oidx[d] = 0; }
  }
  status = 0;
done:
  Py_XDECREF(conv);
  if (status) {
    if (value) Py_CLEAR(*value);
    Py_CLEAR(*index);
  }
  return status;
}
#endif
"""

# the shared helpers first: this text calls them
DRIVER = STRIDED + _OWN
