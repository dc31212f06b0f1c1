"""C text of the softmax-family kernels, one copy per float type (float, double).

Softmax-like ops work on a C-contiguous copy of their input seen as (outer, n, inner) with the
normalised axis in the middle: rows (inner == 1) are reduced with simd reductions, otherwise
the `inner` columns are normalised together with vectorised updates of per-column max/sum.
Numerics follow perform: exp(x - max) / sum, x - max - log(sum(exp(x - max))), NaN kept.
May import nothing from labsym (C text).
"""

from __future__ import annotations

from string import Template

_COMMON = r"""
#ifndef LABSYM_NNET_COMMON
#define LABSYM_NNET_COMMON
/* (outer, n, inner) of an array normalised along `axis` (-1: every axis, as one row) */
static void labsym_axis_split(PyArrayObject* a, int axis, npy_intp* outer, npy_intp* n,
                              npy_intp* inner) {
  int nd = PyArray_NDIM(a);
  *outer = 1; *inner = 1; *n = PyArray_SIZE(a);
  if (axis < 0) return;
  *n = PyArray_DIM(a, axis);
  for (int d = 0; d < axis; d++) *outer *= PyArray_DIM(a, d);
  for (int d = axis + 1; d < nd; d++) *inner *= PyArray_DIM(a, d);
}

static PyArrayObject* labsym_nnet_input(PyArrayObject* a, int type, int ndim, const char* name,
                                        const char* role) {
  if (ndim >= 0 && PyArray_NDIM(a) != ndim) {
    PyErr_Format(PyExc_ValueError, "%s: %s has %d dimensions, expected %d", name, role,
                 PyArray_NDIM(a), ndim);
    return NULL;
  }
  return (PyArrayObject*)PyArray_FROM_OTF((PyObject*)a, type,
                                          NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
}

/* class indices as int64, checked as perform's _check_targets does */
static PyArrayObject* labsym_targets(PyArrayObject* t0, npy_intp rows, npy_intp classes,
                                     const char* name) {
  PyArrayObject* t = labsym_nnet_input(t0, NPY_INT64, 1, name, "targets");
  if (!t) return NULL;
  if (PyArray_DIM(t, 0) != rows) {
    PyErr_Format(PyExc_ValueError,
                 "%s: %ld targets for a coding distribution of %ld rows (shape (%ld, %ld))",
                 name, (long)PyArray_DIM(t, 0), (long)rows, (long)rows, (long)classes);
    Py_DECREF(t);
    return NULL;
  }
  const npy_int64* tv = (const npy_int64*)PyArray_DATA(t);
  for (npy_intp i = 0; i < rows; i++) {
    if (tv[i] < 0 || tv[i] >= classes) {
      PyErr_Format(PyExc_IndexError,
                   "%s: target %ld in row %ld is out of range for %ld classes (valid: 0..%ld)",
                   name, (long)tv[i], (long)i, (long)classes, (long)classes - 1);
      Py_DECREF(t);
      return NULL;
    }
  }
  return t;
}

static int labsym_same_length(PyArrayObject* v, PyArrayObject* t, const char* name,
                              const char* role) {
  if (PyArray_NDIM(v) != 1 || PyArray_DIM(v, 0) != PyArray_DIM(t, 0)) {
    PyErr_Format(PyExc_ValueError, "%s: %s has %d dimensions / length %ld, targets %ld", name,
                 role, PyArray_NDIM(v), (long)(PyArray_NDIM(v) ? PyArray_DIM(v, 0) : 0),
                 (long)PyArray_DIM(t, 0));
    return -1;
  }
  return 0;
}
/* A crossentropy node's checked operands: the (rows, classes) matrix m, its targets t and, when
   v0 is not NULL, the per-row vector v; 0, or -1 with an exception set and nothing held */
static int labsym_xent_inputs(PyArrayObject* m0, PyArrayObject* t0, PyArrayObject* v0, int type,
                              const char* name, const char* mname, const char* vname,
                              PyArrayObject** m, PyArrayObject** t, PyArrayObject** v) {
  *m = labsym_nnet_input(m0, type, 2, name, mname);
  *t = *m ? labsym_targets(t0, PyArray_DIM(*m, 0), PyArray_DIM(*m, 1), name) : NULL;
  *v = *t && v0 ? labsym_nnet_input(v0, type, -1, name, vname) : NULL;
  if (*t && (!v0 || (*v && !labsym_same_length(*v, *t, name, vname)))) return 0;
  Py_XDECREF(*m);
  Py_XDECREF(*t);
  Py_XDECREF(*v);
  *m = *t = *v = NULL;
  return -1;
}
#endif
"""

_TYPED = Template(r"""
#ifndef LABSYM_NNET_$S
#define LABSYM_NNET_$S
/* one row of n contiguous values (plus a bias row, or NULL): its max, NaN-propagating */
static inline $T labsym_row_max_$S(const $T* x, const $T* b, npy_intp n) {
  $T mx = -INFINITY; int nan = 0;
  if (b) {
    #pragma omp simd reduction(max:mx) reduction(|:nan)
    for (npy_intp j = 0; j < n; j++) { $T v = x[j] + b[j]; mx = v > mx ? v : mx; nan |= v != v; }
  } else {
    #pragma omp simd reduction(max:mx) reduction(|:nan)
    for (npy_intp j = 0; j < n; j++) { $T v = x[j]; mx = v > mx ? v : mx; nan |= v != v; }
  }
  return nan ? NAN : mx;
}

/* softmax (log_out = 0) or log-softmax of one row into y */
static void labsym_softmax_row_$S(const $T* x, const $T* b, $T* y, npy_intp n, int log_out) {
  $T mx = labsym_row_max_$S(x, b, n), sum = 0;
  if (b) {
    #pragma omp simd
    for (npy_intp j = 0; j < n; j++) y[j] = x[j] + b[j];
    x = y;
  }
  if (log_out) {
    #pragma omp simd reduction(+:sum)
    for (npy_intp j = 0; j < n; j++) { $T d = x[j] - mx; y[j] = d; sum += exp$F(d); }
    $T ls = log$F(sum);
    #pragma omp simd
    for (npy_intp j = 0; j < n; j++) y[j] = y[j] - ls;
  } else {
    #pragma omp simd reduction(+:sum)
    for (npy_intp j = 0; j < n; j++) { $T e = exp$F(x[j] - mx); y[j] = e; sum += e; }
    #pragma omp simd
    for (npy_intp j = 0; j < n; j++) y[j] = y[j] / sum;
  }
}

/* softmax/log-softmax along the middle axis of (outer, n, inner); m, s: inner scratch */
static void labsym_softmax_$S(const $T* x, $T* y, npy_intp outer, npy_intp n, npy_intp inner,
                              int log_out, $T* m, $T* s) {
  for (npy_intp o = 0; o < outer; o++) {
    const $T* xo = x + o * n * inner;
    $T* yo = y + o * n * inner;
    if (inner == 1) { labsym_softmax_row_$S(xo, NULL, yo, n, log_out); continue; }
    for (npy_intp i = 0; i < inner; i++) { m[i] = -INFINITY; s[i] = 0; }
    for (npy_intp j = 0; j < n; j++) {
      const $T* xj = xo + j * inner;
      #pragma omp simd
      for (npy_intp i = 0; i < inner; i++) m[i] = (xj[i] > m[i] || xj[i] != xj[i]) ? xj[i] : m[i];
    }
    for (npy_intp j = 0; j < n; j++) {
      const $T* xj = xo + j * inner;
      $T* yj = yo + j * inner;
      if (log_out) {
        #pragma omp simd
        for (npy_intp i = 0; i < inner; i++) { $T d = xj[i] - m[i]; yj[i] = d; s[i] += exp$F(d); }
      } else {
        #pragma omp simd
        for (npy_intp i = 0; i < inner; i++) { $T e = exp$F(xj[i] - m[i]); yj[i] = e; s[i] += e; }
      }
    }
    if (log_out)
      for (npy_intp i = 0; i < inner; i++) s[i] = log$F(s[i]);
    for (npy_intp j = 0; j < n; j++) {
      $T* yj = yo + j * inner;
      if (log_out) {
        #pragma omp simd
        for (npy_intp i = 0; i < inner; i++) yj[i] = yj[i] - s[i];
      } else {
        #pragma omp simd
        for (npy_intp i = 0; i < inner; i++) yj[i] = yj[i] / s[i];
      }
    }
  }
}

/* (dy - sum(dy * sm, axis)) * sm along the middle axis of (outer, n, inner) */
static void labsym_softmax_grad_$S(const $T* dy, const $T* sm, $T* y, npy_intp outer, npy_intp n,
                                   npy_intp inner, $T* s) {
  for (npy_intp o = 0; o < outer; o++) {
    npy_intp off = o * n * inner;
    const $T* d = dy + off;
    const $T* p = sm + off;
    $T* yo = y + off;
    if (inner == 1) {
      $T acc = 0;
      #pragma omp simd reduction(+:acc)
      for (npy_intp j = 0; j < n; j++) acc += d[j] * p[j];
      #pragma omp simd
      for (npy_intp j = 0; j < n; j++) yo[j] = (d[j] - acc) * p[j];
      continue;
    }
    for (npy_intp i = 0; i < inner; i++) s[i] = 0;
    for (npy_intp j = 0; j < n; j++) {
      #pragma omp simd
      for (npy_intp i = 0; i < inner; i++) s[i] += d[j * inner + i] * p[j * inner + i];
    }
    for (npy_intp j = 0; j < n; j++) {
      #pragma omp simd
      for (npy_intp i = 0; i < inner; i++)
        yo[j * inner + i] = (d[j * inner + i] - s[i]) * p[j * inner + i];
    }
  }
}

/* Softmax / LogSoftmax: axis -1 normalises over every element */
static int labsym_softmax_call_$S(PyArrayObject* x0, PyArrayObject** out, int ndim, int axis,
                                  int log_out, const char* name) {
  PyArrayObject* x = labsym_nnet_input(x0, $NUM, ndim, name, "input");
  $T* scratch = NULL;
  if (!x) return -1;
  *out = (PyArrayObject*)PyArray_EMPTY(ndim, PyArray_DIMS(x), $NUM, 0);
  if (!*out) { Py_DECREF(x); return -1; }
  npy_intp outer, n, inner;
  labsym_axis_split(x, axis, &outer, &n, &inner);
  if (PyArray_SIZE(x) > 0) {
    if (inner > 1 && !(scratch = ($T*)malloc(2 * inner * sizeof($T)))) {
      Py_DECREF(x); Py_CLEAR(*out); PyErr_NoMemory(); return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    labsym_softmax_$S(($T*)PyArray_DATA(x), ($T*)PyArray_DATA(*out), outer, n, inner, log_out,
                      scratch, scratch ? scratch + inner : NULL);
    Py_END_ALLOW_THREADS
    free(scratch);
  }
  Py_DECREF(x);
  return 0;
}

static int labsym_softmax_grad_call_$S(PyArrayObject* dy0, PyArrayObject* sm0,
                                       PyArrayObject** out, int ndim, int axis,
                                       const char* name) {
  PyArrayObject* dy = labsym_nnet_input(dy0, $NUM, ndim, name, "dy");
  PyArrayObject* sm = dy ? labsym_nnet_input(sm0, $NUM, ndim, name, "sm") : NULL;
  $T* scratch = NULL;
  int status = -1;
  if (!sm) goto done;
  if (!PyArray_CompareLists(PyArray_DIMS(dy), PyArray_DIMS(sm), ndim)) {
    PyErr_Format(PyExc_ValueError, "%s: dy and sm have different shapes", name);
    goto done;
  }
  *out = (PyArrayObject*)PyArray_EMPTY(ndim, PyArray_DIMS(sm), $NUM, 0);
  if (!*out) goto done;
  npy_intp outer, n, inner;
  labsym_axis_split(sm, axis, &outer, &n, &inner);
  if (PyArray_SIZE(sm) > 0) {
    if (inner > 1 && !(scratch = ($T*)malloc(inner * sizeof($T)))) {
      Py_CLEAR(*out); PyErr_NoMemory(); goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    labsym_softmax_grad_$S(($T*)PyArray_DATA(dy), ($T*)PyArray_DATA(sm), ($T*)PyArray_DATA(*out),
                           outer, n, inner, scratch);
    Py_END_ALLOW_THREADS
    free(scratch);
  }
  status = 0;
done:
  Py_XDECREF(dy);
  Py_XDECREF(sm);
  return status;
}

/* SoftmaxWithBias: softmax(x + b) over the rows of a matrix */
static int labsym_softmax_bias_call_$S(PyArrayObject* x0, PyArrayObject* b0, PyArrayObject** out,
                                       const char* name) {
  PyArrayObject* x = labsym_nnet_input(x0, $NUM, 2, name, "x");
  PyArrayObject* b = x ? labsym_nnet_input(b0, $NUM, 1, name, "b") : NULL;
  int status = -1;
  if (!b) goto done;
  npy_intp rows = PyArray_DIM(x, 0), cols = PyArray_DIM(x, 1);
  if (PyArray_DIM(b, 0) != cols) {
    PyErr_Format(PyExc_ValueError, "%s: b has %ld entries for x with %ld columns", name,
                 (long)PyArray_DIM(b, 0), (long)cols);
    goto done;
  }
  *out = (PyArrayObject*)PyArray_EMPTY(2, PyArray_DIMS(x), $NUM, 0);
  if (!*out) goto done;
  const $T* xv = (const $T*)PyArray_DATA(x);
  const $T* bv = (const $T*)PyArray_DATA(b);
  $T* yv = ($T*)PyArray_DATA(*out);
  Py_BEGIN_ALLOW_THREADS
  for (npy_intp r = 0; r < rows && cols > 0; r++)
    labsym_softmax_row_$S(xv + r * cols, bv, yv + r * cols, cols, 0);
  Py_END_ALLOW_THREADS
  status = 0;
done:
  Py_XDECREF(x);
  Py_XDECREF(b);
  return status;
}

/* CrossentropyCategorical1Hot: -log(coding[i, t_i]) */
static int labsym_ce1hot_call_$S(PyArrayObject* c0, PyArrayObject* t0, PyArrayObject** out,
                                 const char* name) {
  PyArrayObject *c, *t, *none;
  if (labsym_xent_inputs(c0, t0, NULL, $NUM, name, "coding_dist", NULL, &c, &t, &none)) return -1;
  npy_intp rows = PyArray_DIM(c, 0), cols = PyArray_DIM(c, 1);
  *out = (PyArrayObject*)PyArray_EMPTY(1, &rows, $NUM, 0);
  if (*out) {
    const $T* cv = (const $T*)PyArray_DATA(c);
    const npy_int64* tv = (const npy_int64*)PyArray_DATA(t);
    $T* yv = ($T*)PyArray_DATA(*out);
    for (npy_intp i = 0; i < rows; i++) yv[i] = -log$F(cv[i * cols + tv[i]]);
  }
  Py_DECREF(c);
  Py_DECREF(t);
  return *out ? 0 : -1;
}

/* CrossentropyCategorical1HotGrad: zeros, -g_y[i] / coding[i, t_i] at the targets */
static int labsym_ce1hot_grad_call_$S(PyArrayObject* g0, PyArrayObject* c0, PyArrayObject* t0,
                                      PyArrayObject** out, const char* name) {
  PyArrayObject *c, *t, *g;
  if (labsym_xent_inputs(c0, t0, g0, $NUM, name, "coding_dist", "g_y", &c, &t, &g))
    return -1;
  int status = -1;
  *out = (PyArrayObject*)PyArray_ZEROS(2, PyArray_DIMS(c), $NUM, 0);
  if (!*out) goto done;
  npy_intp rows = PyArray_DIM(c, 0), cols = PyArray_DIM(c, 1);
  const $T* cv = (const $T*)PyArray_DATA(c);
  const $T* gv = (const $T*)PyArray_DATA(g);
  const npy_int64* tv = (const npy_int64*)PyArray_DATA(t);
  $T* yv = ($T*)PyArray_DATA(*out);
  for (npy_intp i = 0; i < rows; i++) yv[i * cols + tv[i]] = -gv[i] / cv[i * cols + tv[i]];
  status = 0;
done:
  Py_XDECREF(c);
  Py_XDECREF(t);
  Py_XDECREF(g);
  return status;
}

/* CrossentropySoftmax1Hot: -log_softmax(x)[i, t_i] per row */
static int labsym_ce_softmax_call_$S(PyArrayObject* x0, PyArrayObject* t0, PyArrayObject** out,
                                     const char* name) {
  PyArrayObject *x, *t, *none;
  if (labsym_xent_inputs(x0, t0, NULL, $NUM, name, "x", NULL, &x, &t, &none)) return -1;
  npy_intp rows = PyArray_DIM(x, 0), cols = PyArray_DIM(x, 1);
  *out = (PyArrayObject*)PyArray_EMPTY(1, &rows, $NUM, 0);
  if (*out) {
    const $T* xv = (const $T*)PyArray_DATA(x);
    const npy_int64* tv = (const npy_int64*)PyArray_DATA(t);
    $T* yv = ($T*)PyArray_DATA(*out);
    for (npy_intp i = 0; i < rows; i++) {
      const $T* row = xv + i * cols;
      $T mx = labsym_row_max_$S(row, NULL, cols), sum = 0;
      #pragma omp simd reduction(+:sum)
      for (npy_intp j = 0; j < cols; j++) sum += exp$F(row[j] - mx);
      yv[i] = -((row[tv[i]] - mx) - log$F(sum));
    }
  }
  Py_DECREF(x);
  Py_DECREF(t);
  return *out ? 0 : -1;
}

/* CrossentropySoftmax1HotDx: (softmax(x) - onehot(t)) * dy[:, None] */
static int labsym_ce_softmax_dx_call_$S(PyArrayObject* d0, PyArrayObject* x0, PyArrayObject* t0,
                                        PyArrayObject** out, const char* name) {
  PyArrayObject *x, *t, *dy;
  if (labsym_xent_inputs(x0, t0, d0, $NUM, name, "x", "dy", &x, &t, &dy))
    return -1;
  int status = -1;
  *out = (PyArrayObject*)PyArray_EMPTY(2, PyArray_DIMS(x), $NUM, 0);
  if (!*out) goto done;
  npy_intp rows = PyArray_DIM(x, 0), cols = PyArray_DIM(x, 1);
  const $T* xv = (const $T*)PyArray_DATA(x);
  const $T* dv = (const $T*)PyArray_DATA(dy);
  const npy_int64* tv = (const npy_int64*)PyArray_DATA(t);
  $T* yv = ($T*)PyArray_DATA(*out);
  Py_BEGIN_ALLOW_THREADS
  for (npy_intp i = 0; i < rows && cols > 0; i++) {
    $T* y = yv + i * cols;
    labsym_softmax_row_$S(xv + i * cols, NULL, y, cols, 0);
    y[tv[i]] -= 1;
    $T scale = dv[i];
    #pragma omp simd
    for (npy_intp j = 0; j < cols; j++) y[j] = y[j] * scale;
  }
  Py_END_ALLOW_THREADS
  status = 0;
done:
  Py_XDECREF(x);
  Py_XDECREF(t);
  Py_XDECREF(dy);
  return status;
}
#endif
""")


def code_for(dtype: str) -> str:
    """The helpers and call functions for `dtype` ('float32' or 'float64')."""
    if dtype == "float32":
        fields = {"T": "float", "S": "f32", "F": "f", "NUM": "NPY_FLOAT32"}
    else:
        fields = {"T": "double", "S": "f64", "F": "", "NUM": "NPY_FLOAT64"}
    return _COMMON + _TYPED.substitute(fields)
