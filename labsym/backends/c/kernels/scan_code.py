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
/* An inner kernel failed: note which inner node and which step on the pending exception
   (PEP 678 notes, shown under the traceback; Python < 3.11 has no add_note: nothing added). */
static void labsym_scan_note(const char* node, npy_intp step) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && PyObject_HasAttrString(value, "add_note")) {
    PyObject* r = PyObject_CallMethod(value, "add_note", "N",
        PyUnicode_FromFormat("raised by the scan's inner node %s at step %zd", node, step));
    if (r) Py_DECREF(r); else PyErr_Clear();
  }
  PyErr_Restore(type, value, tb);
}

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

/* State k's next value when it is rebound, not copied: v itself (a new reference) if it has
   the state's dtype, else v cast (np.asarray(v, dtype)), after the shape check. */
static PyArrayObject* labsym_scan_next_state(const char* op, npy_intp i, PyArrayObject* v, int k,
                                             PyArrayObject* rows, int typenum) {
  if (!labsym_scan_fits(rows, v)) { labsym_scan_bad_state(op, i, v, k, rows); return NULL; }
  if (PyArray_TYPE(v) == typenum && PyArray_ISNBO(PyArray_DESCR(v)->byteorder)) {
    Py_INCREF(v);
    return v;
  }
  return (PyArrayObject*)PyArray_FROM_OT((PyObject*)v, typenum);
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

    @property
    def span(self) -> int:
        return -min(self.taps)

    @property
    def rebound(self) -> bool:
        """Only the last value, one tap: the value is rebound each step, as step_loop does.

        Rebinding (not a copy into one ring row) keeps the previous value intact for inner
        outputs that are that value itself (a gradient's carried input, returned unchanged).
        """
        return self.final and self.taps == (-1,)


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
    # non-sequences an inner BLAS call reads: made C-contiguous once when they are not (BLAS
    # on a transposed operand is up to 1.5x slower on the small blocks of a step)
    packed_nonseqs: tuple[int, ...]
    as_while: bool
    step_locals: tuple[str, ...]  # inner node results (cleared every step)
    inner: str  # the inlined inner bodies (already %-escaped)
    results: tuple[str, ...]  # the C expression of each inner output

    def carried(self, k: int) -> str:
        """The C local holding the current value of a rebound state k."""
        return f"{self.prefix}s{k}"


def _decl(names: list[str]) -> list[str]:
    return [f"  PyArrayObject* {name} = NULL;" for name in names]


def loop_body(c: LoopCode) -> str:
    """The kernel body (Theano's c_code convention) of a Scan with a fully-C inner graph."""
    p, n_states, end = c.prefix, len(c.states), f"goto {c.prefix}end;"
    rows = [f"{p}b{k}" for k in range(n_states)]
    stacks = [f"{p}a{m}" for m in range(len(c.nit_typenums))]
    shared = [f"{p}h{s}" for s in range(c.n_shared)]
    # values carried to the next step: rebound states and shared values, and their new values
    carried = [c.carried(k) for k, st in enumerate(c.states) if st.rebound] + shared
    fresh = [f"{name}_next" for name in carried]
    views = [name for name in c.seq_names if name]
    views += [n for st in c.states if not st.rebound for n in st.tap_names if n]
    step = list(dict.fromkeys([*views, *c.step_locals]))
    owned = rows + stacks + carried + fresh + step
    lines = [f"  npy_intp {p}n = 0, {p}i = 0, {p}done = 0;", f"  int {p}ok = 0;", *_decl(owned)]
    first_nonseq = 1 + c.n_seqs + n_states + c.n_shared
    lines += [f"  PyArrayObject* {p}c{j} = %(in{first_nonseq + j})s;" for j in range(c.n_nonseqs)]
    packed = [f"{p}c{j}_packed" for j in c.packed_nonseqs]
    lines += _decl(packed)
    lines += _prologue(c, rows, shared)
    for j, name in zip(c.packed_nonseqs, packed, strict=True):
        lines.append(
            f"  if ({p}n > 1 && !PyArray_IS_C_CONTIGUOUS({p}c{j})) {{\n"
            f"    {name} = (PyArrayObject*)PyArray_NewCopy({p}c{j}, NPY_CORDER);\n"
            f"    if (!{name}) {end}\n    {p}c{j} = {name};\n  }}"
        )
    lines.append(f"  for ({p}i = 0; {p}i < {p}n; {p}i++) {{")
    # Ctrl-C (and any other signal handler that raises) stops a long loop, as in Python
    lines.append(f"    if (({p}i & 1023) == 1023 && PyErr_CheckSignals() < 0) {end}")
    lines += _step(c, rows, stacks, shared)
    # the new carried values replace the old ones only now: every result has been read
    for old, new in zip(carried, fresh, strict=True):
        lines.append(f"    Py_DECREF({old}); {old} = {new}; {new} = NULL;")
    lines += [f"    Py_CLEAR({name});" for name in step]
    if c.as_while:
        lines.append(f"    if ({p}stop) {{ {p}done = {p}i + 1; break; }}")
    lines.append("  }")
    lines += _results(c, rows, stacks, shared)
    lines.append(f"  {p}ok = 1;")
    lines.append(f"{p}end:")
    lines += [f"  Py_XDECREF({name});" for name in owned + packed]
    lines.append(f"  if (!{p}ok) %(fail)s")
    return "{\n" + "\n".join(lines) + "\n}"


def _prologue(c: LoopCode, rows: list[str], shared: list[str]) -> list[str]:
    """perform's checks before the loop, the states' rows with their initial values."""
    p, op, end = c.prefix, c.op_name, f"goto {c.prefix}end;"
    first_init = 1 + c.n_seqs
    lines = [f"  {p}n = (npy_intp)*(npy_int64*)PyArray_DATA(%(in0)s);"]
    lines.append(f"  if (labsym_scan_check_steps({op}, {p}n)) {end}")
    for j in range(c.n_seqs):
        lines.append(f"  if (labsym_scan_check_sequence({op}, %(in{1 + j})s, {j}, {p}n)) {end}")
    for k, st in enumerate(c.states):
        total = f"{st.span}" if st.final else f"{st.span} + {p}n"
        taps = '"' + str(st.taps) + '"'
        lines.append(
            f"  {rows[k]} = labsym_scan_state({op}, %(in{first_init + k})s, {k}, {taps}, "
            f"{st.span}, {total}, {st.typenum});\n  if (!{rows[k]}) {end}"
        )
        if st.rebound:
            name = c.carried(k)
            lines.append(f"  {name} = labsym_scan_row({rows[k]}, 0); if (!{name}) {end}")
    for s, name in enumerate(shared):
        lines.append(f"  {name} = %(in{first_init + len(c.states) + s})s; Py_INCREF({name});")
    lines.append(f"  {p}done = {p}n;")
    return lines


def _step(c: LoopCode, rows: list[str], stacks: list[str], shared: list[str]) -> list[str]:
    """One step: row views, the inner bodies, then each result stored or kept for the next step."""
    p, op, end = c.prefix, c.op_name, f"goto {c.prefix}end;"
    lines = []
    for j, name in enumerate(c.seq_names):
        if name:
            lines.append(f"    {name} = labsym_scan_row(%(in{1 + j})s, {p}i); if (!{name}) {end}")
    for k, st in enumerate(c.states):
        for t, name in zip(st.taps, st.tap_names, strict=True):
            if name and not st.rebound:
                span = st.span
                row = f"({p}i + {span + t}) %% {span}" if st.final else f"{p}i + {span + t}"
                lines.append(f"    {name} = labsym_scan_row({rows[k]}, {row}); if (!{name}) {end}")
    lines.append(c.inner)
    for k, st in enumerate(c.states):
        value = c.results[k]
        if st.rebound:
            lines.append(
                f"    {c.carried(k)}_next = labsym_scan_next_state({op}, {p}i, {value}, {k}, "
                f"{rows[k]}, {st.typenum});\n    if (!{c.carried(k)}_next) {end}"
            )
            continue
        row = f"{p}i %% {st.span}" if st.final else f"{p}i + {st.span}"
        lines.append(
            f"    if (labsym_scan_put_state({op}, {p}i, {value}, {k}, {rows[k]}, {row})) {end}"
        )
    for m, stack in enumerate(stacks):
        lines.append(
            f"    if (labsym_scan_put_output({op}, {p}i, {c.results[len(c.states) + m]}, {m}, "
            f"&{stack}, {p}n, {c.nit_typenums[m]})) {end}"
        )
    for s, name in enumerate(shared):
        value = c.results[len(c.states) + len(stacks) + s]
        lines.append(f"    {name}_next = {value}; Py_INCREF({value});")
    if c.as_while:
        lines.append(f"    int {p}stop = PyObject_IsTrue((PyObject*){c.results[-1]});")
        lines.append(f"    if ({p}stop < 0) {end}")
    return lines


def _results(c: LoopCode, rows: list[str], stacks: list[str], shared: list[str]) -> list[str]:
    """The outputs: state histories (views), last values (copies), stacks, shared copies."""
    p, end = c.prefix, f"goto {c.prefix}end;"
    lines = []
    for k, st in enumerate(c.states):
        out = f"%(out{k})s"
        if st.rebound:
            lines.append(f"  {out} = (PyArrayObject*)PyArray_NewCopy({c.carried(k)}, NPY_CORDER);")
        elif st.final:
            lines += [
                f"  {{ PyArrayObject* last = labsym_scan_row({rows[k]}, ({st.span} + {p}done - 1)"
                f" %% {st.span});",
                f"    if (!last) {end}",
                f"    {out} = (PyArrayObject*)PyArray_NewCopy(last, NPY_CORDER);",
                "    Py_DECREF(last); }",
            ]
        else:
            count = f"{st.span} + {p}done - {st.first}"
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
