"""The C text of a Scan kernel: helper functions and the step loop around the inlined inner bodies.

The loop follows `Scan.perform_in_mode` / `step_loop` (core/scan/op.py) statement by statement:
the same checks in the same order with the same messages, states in preallocated rows (a ring
of `span` rows for a state that returns only its last value), non-recurrent outputs allocated at
step 0 from the first result's shape, shared values rebound each step, and a while-loop that stops
after the step whose condition is true. Error messages are formatted in the helpers here (file
scope, so their `%` need no escaping); the body passes the op's name as an argument.
May import core and backends.c.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORT = r"""
/* Row i of a (a view of a[i, ...]: strides kept, base set), as Python's a[i] makes it. */
static PyArrayObject* labsym_scan_row(PyArrayObject* a, npy_intp i) {
  PyArray_Descr* d = PyArray_DESCR(a);
  Py_INCREF(d);
  PyArrayObject* v = (PyArrayObject*)PyArray_NewFromDescr(
      &PyArray_Type, d, PyArray_NDIM(a) - 1, PyArray_DIMS(a) + 1, PyArray_STRIDES(a) + 1,
      PyArray_BYTES(a) + i * PyArray_STRIDE(a, 0), PyArray_FLAGS(a) & NPY_ARRAY_WRITEABLE, NULL);
  if (!v) return NULL;
  Py_INCREF(a);
  if (PyArray_SetBaseObject(v, (PyObject*)a) < 0) { Py_DECREF(v); return NULL; }
  return v;
}

/* Rows start .. start + count - 1 of a (a view, as Python's a[start:start + count]). */
static PyArrayObject* labsym_scan_rows(PyArrayObject* a, npy_intp start, npy_intp count) {
  PyArray_Descr* d = PyArray_DESCR(a);
  npy_intp dims[NPY_MAXDIMS];
  memcpy(dims, PyArray_DIMS(a), PyArray_NDIM(a) * sizeof(npy_intp));
  dims[0] = count;
  Py_INCREF(d);
  PyArrayObject* v = (PyArrayObject*)PyArray_NewFromDescr(
      &PyArray_Type, d, PyArray_NDIM(a), dims, PyArray_STRIDES(a),
      PyArray_BYTES(a) + (count ? start * PyArray_STRIDE(a, 0) : 0),
      PyArray_FLAGS(a) & NPY_ARRAY_WRITEABLE, NULL);
  if (!v) return NULL;
  Py_INCREF(a);
  if (PyArray_SetBaseObject(v, (PyObject*)a) < 0) { Py_DECREF(v); return NULL; }
  return v;
}

/* a.shape[skip:] as a Python tuple (for messages). */
static PyObject* labsym_scan_shape(PyArrayObject* a, int skip) {
  int nd = PyArray_NDIM(a) - skip;
  PyObject* t = PyTuple_New(nd);
  if (!t) return NULL;
  for (int d = 0; d < nd; d++) {
    PyObject* n = PyLong_FromSsize_t(PyArray_DIM(a, d + skip));
    if (!n) { Py_DECREF(t); return NULL; }
    PyTuple_SET_ITEM(t, d, n);
  }
  return t;
}

/* True if v has the shape of rows' rows. */
static int labsym_scan_fits(PyArrayObject* rows, PyArrayObject* v) {
  int nd = PyArray_NDIM(v);
  if (nd != PyArray_NDIM(rows) - 1) return 0;
  return nd == 0 || !memcmp(PyArray_DIMS(v), PyArray_DIMS(rows) + 1, nd * sizeof(npy_intp));
}

/* rows[r] = v (same shape): a memmove when both are contiguous in one dtype (exact even when v
   is that very row), else NumPy's assignment, which copies overlapping data through a buffer. */
static int labsym_scan_store(PyArrayObject* rows, npy_intp r, PyArrayObject* v) {
  if (PyArray_IS_C_CONTIGUOUS(rows) && PyArray_IS_C_CONTIGUOUS(v)
      && PyArray_EquivTypes(PyArray_DESCR(rows), PyArray_DESCR(v))) {
    npy_intp n = PyArray_NBYTES(v);
    if (n) memmove(PyArray_BYTES(rows) + r * PyArray_STRIDE(rows, 0), PyArray_DATA(v), n);
    return 0;
  }
  PyArrayObject* row = labsym_scan_row(rows, r);
  if (!row) return -1;
  int rc = PyArray_CopyInto(row, v);
  Py_DECREF(row);
  return rc;
}

/* The error of a state whose new value changed shape (perform's text). */
static int labsym_scan_bad_state(const char* op, npy_intp i, PyArrayObject* v, int k,
                                 PyArrayObject* rows) {
  PyObject* got = labsym_scan_shape(v, 0);
  PyObject* want = labsym_scan_shape(rows, 1);
  if (got && want)
    PyErr_Format(PyExc_ValueError, "%s: at step %zd the inner function returned shape %R for "
                 "state %d, whose initial value has rows of shape %R; a state must keep its "
                 "shape", op, (Py_ssize_t)i, got, k, want);
  Py_XDECREF(got);
  Py_XDECREF(want);
  return -1;
}

/* Store state k's new value v at row r of its rows, after the shape check. */
static int labsym_scan_put_state(const char* op, npy_intp i, PyArrayObject* v, int k,
                                 PyArrayObject* rows, npy_intp r) {
  if (!labsym_scan_fits(rows, v)) return labsym_scan_bad_state(op, i, v, k, rows);
  return labsym_scan_store(rows, r, v);
}

/* Store output m's value of step i: its storage is allocated at step 0 from v's shape. */
static int labsym_scan_put_output(const char* op, npy_intp i, PyArrayObject* v, int m,
                                  PyArrayObject** stack, npy_intp n, int typenum) {
  if (!*stack) {
    npy_intp dims[NPY_MAXDIMS];
    dims[0] = n;
    memcpy(dims + 1, PyArray_DIMS(v), PyArray_NDIM(v) * sizeof(npy_intp));
    *stack = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(v) + 1, dims, typenum, 0);
    if (!*stack) return -1;
  } else if (!labsym_scan_fits(*stack, v)) {
    PyObject* got = labsym_scan_shape(v, 0);
    PyObject* want = labsym_scan_shape(*stack, 1);
    if (got && want)
      PyErr_Format(PyExc_ValueError, "%s: output %d has shape %R at step %zd but %R at step 0; "
                   "every step must return the same shape", op, m, got, (Py_ssize_t)i, want);
    Py_XDECREF(got);
    Py_XDECREF(want);
    return -1;
  }
  return labsym_scan_store(*stack, i, v);
}

/* The checks perform makes before the loop; 0 or -1 with its exception set. */
static int labsym_scan_check_steps(const char* op, npy_intp n) {
  if (n < 0) {
    PyErr_Format(PyExc_ValueError, "%s: asked to run a negative number of steps (%zd)", op,
                 (Py_ssize_t)n);
    return -1;
  }
  return 0;
}

static int labsym_scan_check_sequence(const char* op, PyArrayObject* seq, int j, npy_intp n) {
  if (PyArray_DIM(seq, 0) < n) {
    PyErr_Format(PyExc_ValueError, "%s: sequence %d has %zd entries, fewer than the %zd steps "
                 "to run", op, j, (Py_ssize_t)PyArray_DIM(seq, 0), (Py_ssize_t)n);
    return -1;
  }
  return 0;
}

/* State k's rows (`total` of them, dtype typenum) with init[:span] in the first span rows. */
static PyArrayObject* labsym_scan_state(const char* op, PyArrayObject* init, int k,
                                        const char* taps, npy_intp span, npy_intp total,
                                        int typenum) {
  if (PyArray_DIM(init, 0) < span) {
    PyErr_Format(PyExc_ValueError, "%s: initial state %d has %zd rows; its taps %s need %zd", op,
                 k, (Py_ssize_t)PyArray_DIM(init, 0), taps, (Py_ssize_t)span);
    return NULL;
  }
  npy_intp dims[NPY_MAXDIMS];
  memcpy(dims, PyArray_DIMS(init), PyArray_NDIM(init) * sizeof(npy_intp));
  dims[0] = total;
  PyArrayObject* rows = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(init), dims, typenum, 0);
  if (!rows) return NULL;
  PyArrayObject* dst = labsym_scan_rows(rows, 0, span);
  PyArrayObject* src = dst ? labsym_scan_rows(init, 0, span) : NULL;
  int rc = src ? PyArray_CopyInto(dst, src) : -1;
  Py_XDECREF(dst);
  Py_XDECREF(src);
  if (rc < 0) { Py_DECREF(rows); return NULL; }
  return rows;
}

/* np.zeros((0, *dims)) of a non-recurrent output when no step ran. */
static PyArrayObject* labsym_scan_empty(int nd, const npy_intp* dims, int typenum) {
  return (PyArrayObject*)PyArray_ZEROS(nd, (npy_intp*)dims, typenum, 0);
}
"""


@dataclass(frozen=True)
class StateCode:
    """One recurrent state: taps, span, whether only its last value is returned, row names."""

    taps: tuple[int, ...]
    final: bool
    first: int  # the first returned row (0 keeps the initial rows)
    typenum: int
    tap_names: tuple[str | None, ...]  # the C local of each tap's view (None: unused)


@dataclass(frozen=True)
class LoopCode:
    """Everything `loop_body` needs: names, layout, the inlined inner code and the results."""

    prefix: str  # unique per scan kernel (nested scans inline each other)
    op_name: str  # a C string literal (already %-escaped)
    n_seqs: int
    seq_names: tuple[str | None, ...]
    states: tuple[StateCode, ...]
    nit_typenums: tuple[int, ...]
    nit_empty_dims: tuple[tuple[int, ...], ...]
    n_shared: int
    n_nonseqs: int
    as_while: bool
    step_locals: tuple[str, ...]  # inner node results (cleared every step)
    inner: str  # the inlined inner bodies (already %-escaped)
    results: tuple[str, ...]  # the C expression of each inner output


def _decl(names: list[str]) -> list[str]:
    return [f"  PyArrayObject* {name} = NULL;" for name in names]


def loop_body(c: LoopCode) -> str:
    """The kernel body (Theano's c_code convention) of a Scan with a fully-C inner graph."""
    p, op = c.prefix, c.op_name
    n_states, n_nit = len(c.states), len(c.nit_typenums)
    end = f"goto {p}end;"
    seq_in = [f"%(in{1 + j})s" for j in range(c.n_seqs)]
    init_in = [f"%(in{1 + c.n_seqs + k})s" for k in range(n_states)]
    shared_in = [f"%(in{1 + c.n_seqs + n_states + s})s" for s in range(c.n_shared)]
    rows = [f"{p}b{k}" for k in range(n_states)]
    stacks = [f"{p}a{m}" for m in range(n_nit)]
    shared = [f"{p}h{s}" for s in range(c.n_shared)]
    views = [name for name in c.seq_names if name]
    views += [name for st in c.states for name in st.tap_names if name]
    step = list(dict.fromkeys([*views, *c.step_locals]))
    lines = [f"  npy_intp {p}n = 0, {p}i = 0, {p}done = 0;", f"  int {p}ok = 0;"]
    lines += _decl(rows + stacks + shared + step)
    first_nonseq = 1 + c.n_seqs + n_states + c.n_shared
    lines += [f"  PyArrayObject* {p}c{j} = %(in{first_nonseq + j})s;" for j in range(c.n_nonseqs)]
    lines.append(f"  {p}n = (npy_intp)*(npy_int64*)PyArray_DATA(%(in0)s);")
    lines.append(f"  if (labsym_scan_check_steps({op}, {p}n)) {end}")
    for j, seq in enumerate(seq_in):
        lines.append(f"  if (labsym_scan_check_sequence({op}, {seq}, {j}, {p}n)) {end}")
    for k, st in enumerate(c.states):
        span = -min(st.taps)
        total = f"{span}" if st.final else f"{span} + {p}n"
        taps = '"' + str(st.taps) + '"'
        lines.append(
            f"  {rows[k]} = labsym_scan_state({op}, {init_in[k]}, {k}, {taps}, {span}, {total},"
            f" {st.typenum});\n  if (!{rows[k]}) {end}"
        )
    for s in range(c.n_shared):
        lines.append(f"  {shared[s]} = {shared_in[s]}; Py_INCREF({shared[s]});")
    lines.append(f"  {p}done = {p}n;")
    lines.append(f"  for ({p}i = 0; {p}i < {p}n; {p}i++) {{")
    for j, name in enumerate(c.seq_names):
        if name:
            lines.append(f"    {name} = labsym_scan_row({seq_in[j]}, {p}i); if (!{name}) {end}")
    for k, st in enumerate(c.states):
        span = -min(st.taps)
        for t, name in zip(st.taps, st.tap_names, strict=True):
            if name:
                row = f"({p}i + {span + t}) %% {span}" if st.final else f"{p}i + {span + t}"
                lines.append(f"    {name} = labsym_scan_row({rows[k]}, {row}); if (!{name}) {end}")
    lines.append(c.inner)
    for k, st in enumerate(c.states):
        span = -min(st.taps)
        row = f"{p}i %% {span}" if st.final else f"{p}i + {span}"
        lines.append(
            f"    if (labsym_scan_put_state({op}, {p}i, {c.results[k]}, {k}, {rows[k]}, {row}))"
            f" {end}"
        )
    for m in range(n_nit):
        lines.append(
            f"    if (labsym_scan_put_output({op}, {p}i, {c.results[n_states + m]}, {m}, "
            f"&{stacks[m]}, {p}n, {c.nit_typenums[m]})) {end}"
        )
    for s in range(c.n_shared):
        value = c.results[n_states + n_nit + s]
        lines.append(
            f"    {{ PyArrayObject* old = {shared[s]}; Py_INCREF({value}); {shared[s]} = {value};"
            " Py_DECREF(old); }"
        )
    if c.as_while:
        lines.append(f"    int {p}stop = PyObject_IsTrue((PyObject*){c.results[-1]});")
        lines.append(f"    if ({p}stop < 0) {end}")
    lines += [f"    Py_CLEAR({name});" for name in step]
    if c.as_while:
        lines.append(f"    if ({p}stop) {{ {p}done = {p}i + 1; break; }}")
    lines.append("  }")
    lines += _results(c, rows, stacks, shared)
    lines.append(f"  {p}ok = 1;")
    lines.append(f"{p}end:")
    lines += [f"  Py_XDECREF({name});" for name in rows + stacks + shared + step]
    lines.append(f"  if (!{p}ok) %(fail)s")
    return "{\n" + "\n".join(lines) + "\n}"


def _results(c: LoopCode, rows: list[str], stacks: list[str], shared: list[str]) -> list[str]:
    """The outputs: state histories (views), last values (copies), stacks, shared copies."""
    p, end = c.prefix, f"goto {c.prefix}end;"
    lines = []
    for k, st in enumerate(c.states):
        span = -min(st.taps)
        out = f"%(out{k})s"
        if st.final:
            lines += [
                f"  {{ PyArrayObject* last = labsym_scan_row({rows[k]}, ({span} + {p}done - 1) %%"
                f" {span});",
                f"    if (!last) {end}",
                f"    {out} = (PyArrayObject*)PyArray_NewCopy(last, NPY_CORDER);",
                "    Py_DECREF(last); }",
            ]
        else:
            count = f"{span} + {p}done - {st.first}"
            lines.append(f"  {out} = labsym_scan_rows({rows[k]}, {st.first}, {count});")
        lines.append(f"  if (!{out}) {end}")
    for m, stack in enumerate(stacks):
        out = f"%(out{len(c.states) + m})s"
        dims = ", ".join(str(d) for d in (0, *c.nit_empty_dims[m]))
        nd = 1 + len(c.nit_empty_dims[m])
        lines += [
            f"  if ({stack}) {out} = labsym_scan_rows({stack}, 0, {p}done);",
            f"  else {{ npy_intp dims[] = {{{dims}}};",
            f"    {out} = labsym_scan_empty({nd}, dims, {c.nit_typenums[m]}); }}",
            f"  if (!{out}) {end}",
        ]
    for s, value in enumerate(shared):
        out = f"%(out{len(c.states) + len(stacks) + s})s"
        lines.append(f"  {out} = (PyArrayObject*)PyArray_NewCopy({value}, NPY_KEEPORDER);")
        lines.append(f"  if (!{out}) {end}")
    return lines
