"""C kernels for indexing: Subtensor as a view (no copy), IncSubtensor (basic indices; a copy of x,
or x itself when the op's destroy_map says inplace), AdvancedSubtensor1 (a row gather) and
AdvancedIncSubtensor1 (a scatter: repeats accumulate as np.add.at, or the last one wins on set).

Index values are the op's scalar inputs (a constant one becomes a C literal); bounds and slice
rules are NumPy's (Python's slice.indices, negative indices from the end, IndexError outside).
AdvancedSubtensor (masks, several arrays) stays on the NumPy engine. May import core and
backends.c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.c.kernel import CKernel, register
from labsym.backends.c.kernels.shape import VIEW_SUPPORT, check_ndim, tensor_dtypes_ok
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops.subtensor import (
    FULL,
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    IncSubtensor,
    Subtensor,
)

CACHE_VERSION = (1,)


def _index_value(var: Variable, k: int, c_input: str) -> tuple[str, str]:
    """(C lines reading index input `var` into a variable, its C expression)."""
    if isinstance(var, Constant):
        return "", f"((npy_intp){int(var.data)}LL)"
    name = f"ix{k}"
    return f"  npy_intp {name};\n  if (labsym_get_index({c_input}, &{name}) < 0) %(fail)s\n", name


def _slice_lines(a: int, k: int, start: str | None, stop: str | None, step: str | None) -> str:
    """C lines for slice entry on input axis `a`, output axis `k` (Python's slice rules)."""
    if start is None and stop is None and step is None:
        return f"  vdims[{k}] = idims[{a}]; vstrides[{k}] = istrides[{a}];\n"
    step = step or "1"
    return f"""  {{
    Py_ssize_t step = {step};
    if (step == 0) {{
      PyErr_SetString(PyExc_ValueError, "slice step cannot be zero");
      LABSYM_VIEW_FAIL
    }}
    Py_ssize_t start = {start or "(step < 0 ? PY_SSIZE_T_MAX : 0)"};
    Py_ssize_t stop = {stop or "(step < 0 ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX)"};
    Py_ssize_t n = PySlice_AdjustIndices(idims[{a}], &start, &stop, step);
    if (n <= 0) {{ n = 0; start = 0; }}
    vdata += start * istrides[{a}];
    vdims[{k}] = n;
    vstrides[{k}] = step * istrides[{a}];
  }}
"""


def view_code(
    idx_list: Sequence[Any], index: Sequence[Variable], first: int, ndim: int, src: str
) -> str:
    """C lines setting `vdims`, `vstrides`, `vdata`, `vnd`: the view `src[idx_list]` (basic
    indexing) of an array of `ndim` dims whose index values are node inputs `first`, first+1...

    `LABSYM_VIEW_FAIL` marks the failure statements (the caller substitutes its cleanup)."""
    reads, values = [], []
    for k, var in enumerate(index):
        read, value = _index_value(var, k, f"%(in{first + k})s")
        reads.append(read)
        values.append(value)
    out_nd = sum(1 for e in idx_list if isinstance(e, slice) or e is None)
    consumed = sum(1 for e in idx_list if e is not None)
    out_nd += ndim - consumed
    lines = [check_ndim(src, ndim, "Subtensor"), *reads]
    lines.append(f"  npy_intp* idims = PyArray_DIMS({src});")
    lines.append(f"  npy_intp* istrides = PyArray_STRIDES({src});")
    lines.append(f"  char* vdata = PyArray_BYTES({src});")
    lines.append(f"  const int vnd = {out_nd};")
    lines.append(f"  npy_intp vdims[{out_nd + 1}], vstrides[{out_nd + 1}];")
    position = iter(values)
    a = k = 0
    for entry in idx_list:
        if entry is None:
            lines.append(f"  vdims[{k}] = 1; vstrides[{k}] = 0;")
            k += 1
        elif isinstance(entry, slice):
            bounds = [None if p is None else next(position) for p in (entry.start, entry.stop)]
            step = None if entry.step is None else next(position)
            lines.append(_slice_lines(a, k, bounds[0], bounds[1], step))
            a, k = a + 1, k + 1
        else:  # an integer: the axis goes away
            value = next(position)
            lines.append(
                f"  {{\n    npy_intp i = {value};\n    if (i < 0) i += idims[{a}];\n"
                f"    if (i < 0 || i >= idims[{a}]) {{\n"
                f"      labsym_index_error({value}, {a}, idims[{a}]);\n      LABSYM_VIEW_FAIL\n"
                f"    }}\n    vdata += i * istrides[{a}];\n  }}"
            )
            a += 1
    for rest in range(a, ndim):
        lines.append(_slice_lines(rest, k, None, None, None))
        k += 1
    return "\n".join(lines)


@register(Subtensor)
def render_subtensor(node: Apply) -> CKernel | None:
    """x[idx] as a view of x (NumPy basic indexing; a 0-d result is a 0-d view)."""
    if not tensor_dtypes_ok(node):
        return None
    x = node.inputs[0]
    body = view_code(node.op.idx_list, node.inputs[1:], 1, x.ndim, "%(in0)s")
    body = body.replace("LABSYM_VIEW_FAIL", "%(fail)s")
    body += "\n  %(out0)s = labsym_view(%(in0)s, vnd, vdims, vstrides, vdata);\n"
    body += "  if (!%(out0)s) %(fail)s\n"
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


def _output_array(node: Apply) -> str:
    """C lines storing into out0 either x itself (inplace per destroy_map, when x is writeable)
    or a C-order copy of x."""
    copy = "%(out0)s = (PyArrayObject*)PyArray_NewCopy(%(in0)s, NPY_CORDER);"
    if 0 in getattr(node.op, "destroy_map", {}):
        return (
            "  if (PyArray_ISWRITEABLE(%(in0)s)) { Py_INCREF(%(in0)s); %(out0)s = %(in0)s; }\n"
            f"  else {copy}\n  if (!%(out0)s) %(fail)s\n"
        )
    return f"  {copy}\n  if (!%(out0)s) %(fail)s\n"


def _value_shape_check(node: Apply, sub_dims: str, sub_nd: str, cleanup: str) -> str:
    """C lines raising perform's ValueError when a y axis of unknown static length does not
    match the indexed subtensor (NumPy would silently broadcast a runtime length 1)."""
    y_type = node.inputs[1].type
    lines = []
    for a, static in enumerate(y_type.shape):
        if static is None:
            at = f"{sub_dims}[{sub_nd} - {y_type.ndim} + {a}]"
            lines.append(
                f"  if (PyArray_DIM(%(in1)s, {a}) != {at}) {{\n"
                f'    PyErr_Format(PyExc_ValueError, "{node.op}: the value has a length %%lld on'
                f" axis {a} but the indexed subtensor has %%lld there (a length-1 axis only "
                f'broadcasts when its type is broadcastable)", (long long)PyArray_DIM(%(in1)s, '
                f"{a}), (long long){at});\n"
                f"    {cleanup}%(fail)s\n  }}"
            )
    return "\n".join(lines)


@register(IncSubtensor)
def render_inc_subtensor(node: Apply) -> CKernel | None:
    """x with x[idx] set to / incremented by y: NumPy assignment / += into a view of the result."""
    if not tensor_dtypes_ok(node):
        return None
    x = node.inputs[0]
    view = view_code(node.op.idx_list, node.inputs[2:], 2, x.ndim, "%(out0)s")
    view = view.replace("LABSYM_VIEW_FAIL", "%(fail)s")
    if node.op.set_instead_of_inc:
        update = "  if (PyArray_CopyInto(sub, %(in1)s) < 0) { Py_DECREF(sub); %(fail)s }"
    else:  # NumPy's += on the view: its casting, broadcasting and bool/overflow rules
        update = (
            "  PyObject* sum = PyNumber_InPlaceAdd((PyObject*)sub, (PyObject*)%(in1)s);\n"
            "  if (!sum) { Py_DECREF(sub); %(fail)s }\n  Py_DECREF(sum);"
        )
    body = "\n".join(
        [
            _output_array(node),
            view,
            "  PyArrayObject* sub = labsym_view(%(out0)s, vnd, vdims, vstrides, vdata);",
            "  if (!sub) %(fail)s",
            _value_shape_check(node, "vdims", "vnd", "Py_DECREF(sub); "),
            update,
            "  Py_DECREF(sub);",
        ]
    )
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


def _integer_vectors(node: Apply, first: int) -> list[Variable] | None:
    """The index inputs from `first` on when every one is an integer vector on a leading axis
    (an idx_list of vector markers, then only full slices), else None."""
    index = node.inputs[first:]
    ok = all(v.ndim == 1 and v.dtype != "bool" and v.dtype[:3] in ("int", "uin") for v in index)
    idx_list = getattr(node.op, "idx_list", ())
    if idx_list:
        ok = ok and all(isinstance(e, str) for e in idx_list[: len(index)])
        ok = ok and all(e == FULL for e in idx_list[len(index) :])
    return list(index) if ok and index else None


def _index_setup(node: Apply, index: Sequence[Variable], first: int) -> str:
    """C lines checking the index vectors (node inputs first, first+1...) and setting `nidx`, the
    length they broadcast to (NumPy's IndexError when they do not)."""
    lines = []
    for j, var in enumerate(index):
        c_in = f"%(in{first + j})s"
        num = np.dtype(var.dtype).num
        lines.append(
            f"  if (PyArray_NDIM({c_in}) != 1 || !PyArray_EquivTypenums(PyArray_TYPE({c_in}),"
            f" {num})) {{\n"
            f'    PyErr_SetString(PyExc_TypeError, "{node.op}: index {j} must be a {var.dtype}'
            f' vector");\n    %(fail)s\n  }}\n'
            f"  const char* ib{j} = PyArray_BYTES({c_in});\n"
            f"  const npy_intp is{j} = PyArray_STRIDE({c_in}, 0), n{j} = PyArray_DIM({c_in}, 0);"
        )
    lines.append("  npy_intp nidx = 1;")
    for j in range(len(index)):
        lines.append(
            f"  if (n{j} != 1) {{\n    if (nidx != 1 && nidx != n{j}) {{\n"
            '      PyErr_Format(PyExc_IndexError, "shape mismatch: indexing arrays could not be'
            ' broadcast together with shapes (%%lld,) (%%lld,)",'
            f" (long long)nidx, (long long)n{j});\n      %(fail)s\n    }}\n    nidx = n{j};\n  }}"
        )
    return "\n".join(lines)


def _offset_lines(index: Sequence[Variable], arr: str) -> tuple[str, str]:
    """(C lines before the loop, C lines in it): `off`, the byte offset into `arr` of position
    `b` of the index vectors, negatives wrapped, NumPy's IndexError outside [-len, len)."""
    before, inside = [], ["    npy_intp off = 0;"]
    for j, var in enumerate(index):
        before.append(
            f"  const npy_intp len{j} = PyArray_DIM({arr}, {j}),"
            f" xs{j} = PyArray_STRIDE({arr}, {j});"
        )
        dtype = np.dtype(var.dtype)
        c_int = {1: "int8_t", 2: "int16_t", 4: "int32_t", 8: "int64_t"}[dtype.itemsize]
        if dtype.kind == "u":
            c_int = "u" + c_int
            bad, wrapped = f"v >= (uint64_t)len{j}", "(npy_intp)v"
        else:
            bad = f"v < -(int64_t)len{j} || v >= (int64_t)len{j}"
            wrapped = f"(v < 0 ? (npy_intp)v + len{j} : (npy_intp)v)"
        inside.append(
            f"    {{\n      {c_int} v;\n"
            f"      memcpy(&v, ib{j} + (n{j} == 1 ? 0 : b) * is{j}, sizeof v);\n"
            f"      if ({bad}) {{ labsym_index_error((npy_intp)v, {j}, len{j}); %(fail)s }}\n"
            f"      off += {wrapped} * xs{j};\n    }}"
        )
    return "\n".join(before), "\n".join(inside)


@dataclass(frozen=True)
class _Positions:
    """C code enumerating an advanced index's positions b < nidx: `setup` checks the index
    inputs and sets `nidx`, `before` prepares the loop, `inside` sets `off` (the byte offset of
    position b in the indexed array), `after` cleans up; the index consumes `k` leading axes."""

    k: int
    setup: str
    before: str
    inside: str
    after: str = ""


def _vector_positions(node: Apply, first: int, arr: str) -> _Positions | None:
    """Positions of integer-vector indices (broadcast together) on the leading axes."""
    index = _integer_vectors(node, first)
    if index is None:
        return None
    before, inside = _offset_lines(index, arr)
    return _Positions(len(index), _index_setup(node, index, first), before, inside)


def _mask_positions(node: Apply, first: int, arr: str) -> _Positions | None:
    """Positions of the true elements (C order) of one boolean mask over the leading axes."""
    index, idx_list = node.inputs[first:], node.op.idx_list
    if len(index) != 1 or index[0].dtype != "bool" or not 1 <= index[0].ndim <= node.inputs[0].ndim:
        return None
    if not all(e == FULL for e in idx_list[1:]):
        return None
    md, c_mask = index[0].ndim, f"%(in{first})s"
    setup = f"""
  if (PyArray_NDIM({c_mask}) != {md} || PyArray_TYPE({c_mask}) != NPY_BOOL) {{
    PyErr_SetString(PyExc_TypeError, "{node.op}: the index must be a {md}-d boolean mask");
    %(fail)s
  }}
  for (int a = 0; a < {md}; a++) {{
    if (PyArray_DIM({c_mask}, a) != PyArray_DIM(%(in0)s, a)) {{
      PyErr_Format(PyExc_IndexError, "boolean index did not match indexed array along axis %%d;"
                   " size of axis is %%lld but size of corresponding boolean axis is %%lld", a,
                   (long long)PyArray_DIM(%(in0)s, a), (long long)PyArray_DIM({c_mask}, a));
      %(fail)s
    }}
  }}
  const npy_intp nidx = labsym_mask_offsets({c_mask}, %(in0)s, NULL);"""
    before = f"""
  npy_intp* offs = (npy_intp*)PyMem_Malloc((nidx ? nidx : 1) * sizeof(npy_intp));
  if (!offs) {{ PyErr_NoMemory(); %(fail)s }}
  labsym_mask_offsets({c_mask}, {arr}, offs);"""
    return _Positions(md, setup, before, "    npy_intp off = offs[b];", "  PyMem_Free(offs);")


def _positions(node: Apply, first: int, arr: str) -> _Positions | None:
    return _vector_positions(node, first, arr) or _mask_positions(node, first, arr)


def _gather(node: Apply, at: _Positions) -> CKernel:
    """x[index] for an index on the leading axes: a new C-contiguous array of the selected
    blocks (a memcpy per block when x's trailing axes are contiguous)."""
    x, k = node.inputs[0], at.k
    body = f"""
{check_ndim("%(in0)s", x.ndim, type(node.op).__name__)}
{at.setup}
  const int nd = {x.ndim}, k = {k}, tnd = {1 + x.ndim - k};
  npy_intp dims[NPY_MAXDIMS];
  dims[0] = nidx;
  for (int d = 1; d < tnd; d++) dims[d] = PyArray_DIM(%(in0)s, k + d - 1);
  PyArray_Descr* descr = PyArray_DESCR(%(in0)s);
  Py_INCREF(descr);
  %(out0)s = (PyArrayObject*)PyArray_NewFromDescr(&PyArray_Type, descr, tnd, dims, NULL, NULL,
                                                  0, NULL);
  if (!%(out0)s) %(fail)s
  const npy_intp itemsize = PyArray_ITEMSIZE(%(in0)s);
  const npy_intp* xstrides = PyArray_STRIDES(%(in0)s);
  npy_intp blockbytes = itemsize;
  int contiguous = 1;
  for (int d = nd - 1; d >= k; d--) {{
    if (dims[d - k + 1] != 1 && xstrides[d] != blockbytes) contiguous = 0;
    blockbytes *= dims[d - k + 1];
  }}
  const char* xbase = PyArray_BYTES(%(in0)s);
  char* dst = PyArray_BYTES(%(out0)s);
{at.before}
  for (npy_intp b = 0; b < nidx; b++) {{
{at.inside}
    if (contiguous) memcpy(dst + b * blockbytes, xbase + off, blockbytes);
    else labsym_gather_block(dst + b * blockbytes, xbase + off, nd - k, dims + 1, xstrides + k,
                             itemsize);
  }}
{at.after}
"""
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(AdvancedSubtensor1)
def render_advanced_subtensor1(node: Apply) -> CKernel | None:
    """x[ilist]: the selected rows, copied into a new array."""
    at = _vector_positions(node, 1, "%(in0)s")
    return _gather(node, at) if tensor_dtypes_ok(node) and at else None


@register(AdvancedSubtensor)
def render_advanced_subtensor(node: Apply) -> CKernel | None:
    """x[i0, i1, ...] where every index is an integer vector (e.g. `log_p[arange(n), y]`), or
    x[mask] for one boolean mask over the leading axes; other forms (slices, None, Ellipsis or
    several masks mixed in) stay on the NumPy engine."""
    at = _positions(node, 1, "%(in0)s")
    return _gather(node, at) if tensor_dtypes_ok(node) and at else None


# the element update of the scatters' inc mode, per dtype kind; d, s: char pointers
_ADD = {
    "b": "{ npy_bool a, b; memcpy(&a, d, 1); memcpy(&b, s, 1); a = a || b; memcpy(d, &a, 1); }",
    "i": "{ T a, b; memcpy(&a, d, sizeof a); memcpy(&b, s, sizeof b);"
    " a = (T)((U)a + (U)b); memcpy(d, &a, sizeof a); }",  # wraps around as NumPy's add does
    "f": "{ T a, b; memcpy(&a, d, sizeof a); memcpy(&b, s, sizeof b); a += b;"
    " memcpy(d, &a, sizeof a); }",
    "c": "{ T a[2], b[2]; memcpy(a, d, sizeof a); memcpy(b, s, sizeof b); a[0] += b[0];"
    " a[1] += b[1]; memcpy(d, a, sizeof a); }",
}
_C_TYPES = {
    "float32": ("float", ""),
    "float64": ("double", ""),
    "complex64": ("float", ""),
    "complex128": ("double", ""),
    **{f"int{b}": (f"int{b}_t", f"uint{b}_t") for b in (8, 16, 32, 64)},
    **{f"uint{b}": (f"uint{b}_t", f"uint{b}_t") for b in (8, 16, 32, 64)},
    "bool": ("npy_bool", ""),
}


def _element_update(dtype: str, set_: bool) -> str | None:
    """C statement updating the element at `d` with the one at `s`, or None if unsupported."""
    if set_:
        return f"memcpy(d, s, {np.dtype(dtype).itemsize});"
    if dtype not in _C_TYPES:
        return None
    kind = {"u": "i", "b": "b", "i": "i", "f": "f", "c": "c"}[np.dtype(dtype).kind]
    ctype, utype = _C_TYPES[dtype]
    return f"{{ typedef {ctype} T; {'typedef ' + utype + ' U; ' if utype else ''}{_ADD[kind]} }}"


def _scatter(node: Apply, at: _Positions) -> CKernel | None:
    """x with x[index] set to / incremented by y (repeats accumulate, as np.add.at), for an
    index on the leading axes; y broadcasts only along its static length-1 axes."""
    x, y, k = node.inputs[0], node.inputs[1], at.k
    update = _element_update(x.dtype, node.op.set_instead_of_inc)
    if update is None:
        return None
    who = type(node.op).__name__
    y_static = ", ".join(str(-1 if d is None else d) for d in y.type.shape) or "0"
    body = f"""
{check_ndim("%(in0)s", x.ndim, who)}
{check_ndim("%(in1)s", y.ndim, who)}
{at.setup}
  if (!PyArray_EquivTypes(PyArray_DESCR(%(in0)s), PyArray_DESCR(%(in1)s))) {{
    PyErr_SetString(PyExc_TypeError, "{node.op}: x and y must have the same dtype");
    %(fail)s
  }}
{_output_array(node)}
  const int k = {k}, tnd = {1 + x.ndim - k}, ynd = {y.ndim};
  const npy_intp ystatic[{max(y.ndim, 1)}] = {{{y_static}}};
  npy_intp target[NPY_MAXDIMS], tostr[NPY_MAXDIMS], ystr[NPY_MAXDIMS];
  target[0] = nidx;
  tostr[0] = 0;
  for (int d = 1; d < tnd; d++) {{
    target[d] = PyArray_DIM(%(out0)s, k + d - 1);
    tostr[d] = PyArray_STRIDE(%(out0)s, k + d - 1);
  }}
  /* y broadcast against x[index]: a missing or static length-1 axis gets stride 0 */
  for (int d = 0; d < tnd; d++) {{
    int yd = d - (tnd - ynd);
    npy_intp len = yd < 0 ? 1 : PyArray_DIM(%(in1)s, yd);
    ystr[d] = yd < 0 || len == 1 ? 0 : PyArray_STRIDE(%(in1)s, yd);
    if (len == target[d] || (len == 1 && (yd < 0 || ystatic[yd] == 1))) continue;
    PyErr_Format(PyExc_ValueError, "{node.op}: the value cannot be broadcast to the indexed"
                 " subtensor: on axis %%d it has length %%lld, the subtensor %%lld (a length-1"
                 " axis only broadcasts when its type is broadcastable)", d, (long long)len,
                 (long long)target[d]);
    %(fail)s
  }}
  const npy_intp inner = tnd > 1 ? target[tnd - 1] : 1;
  const npy_intp ystep = tnd > 1 ? ystr[tnd - 1] : 0, ostep = tnd > 1 ? tostr[tnd - 1] : 0;
  npy_intp blockelems = 1;
  for (int d = 1; d < tnd; d++) blockelems *= target[d];
  const npy_intp outer = inner ? blockelems / inner : 0;
  char* obase = PyArray_BYTES(%(out0)s);
  const char* ybase = PyArray_BYTES(%(in1)s);
  npy_intp ctr[NPY_MAXDIMS] = {{0}};  /* back to zeros after each block's full cycle */
  npy_intp ooff = 0, yoff = 0;
{at.before}
  for (npy_intp b = 0; b < nidx; b++) {{
{at.inside}
    for (npy_intp o = 0; o < outer; o++) {{
      char* drow = obase + off + ooff;
      const char* srow = ybase + b * ystr[0] + yoff;
      for (npy_intp j = 0; j < inner; j++) {{
        char* d = drow + j * ostep;
        const char* s = srow + j * ystep;
        {update}
      }}
      for (int ax = tnd - 2; ax >= 1; ax--) {{  /* the odometer over the middle axes */
        ooff += tostr[ax];
        yoff += ystr[ax];
        if (++ctr[ax] < target[ax]) break;
        ooff -= tostr[ax] * target[ax];
        yoff -= ystr[ax] * target[ax];
        ctr[ax] = 0;
      }}
    }}
  }}
{at.after}
"""
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(AdvancedIncSubtensor1)
def render_advanced_inc_subtensor1(node: Apply) -> CKernel | None:
    """x with rows ilist set to / incremented by y (np.add.at: repeats accumulate)."""
    at = _vector_positions(node, 2, "%(out0)s")
    return _scatter(node, at) if tensor_dtypes_ok(node) and at else None


@register(AdvancedIncSubtensor)
def render_advanced_inc_subtensor(node: Apply) -> CKernel | None:
    """x with x[index] set / incremented: integer vectors (the gradient of `log_p[arange(n), y]`)
    or one boolean mask (`set_subtensor(x[x > 0], 0)`); other forms stay on the NumPy engine."""
    at = _positions(node, 2, "%(out0)s")
    return _scatter(node, at) if tensor_dtypes_ok(node) and at else None
