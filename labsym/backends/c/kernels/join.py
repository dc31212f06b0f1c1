"""C kernels for the ops that build a new array from pieces or cut one: Alloc (a value broadcast
to a shape), Join (np.concatenate along a runtime axis, dtypes upcast), Split (views), ARange
(integer ranges) and Eye. The
copies use NumPy's own copy loops (PyArray_CopyInto) into views of the new array, or memcpy
where rows are contiguous. May import core and backends.c.
"""

from __future__ import annotations

import numpy as np

from labsym.backends.c.kernel import CKernel, register
from labsym.backends.c.kernels.shape import VIEW_SUPPORT, check_ndim, tensor_dtypes_ok
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops.basic import Alloc, ARange, Eye, Join, Split

CACHE_VERSION = (1,)


def _scalar(var: Variable, c_input: str, name: str) -> str:
    """C lines setting npy_intp `name` from an integer scalar input (a literal if constant)."""
    if isinstance(var, Constant):
        return f"  npy_intp {name} = (npy_intp){int(var.data)}LL;"
    return f"  npy_intp {name};\n  if (labsym_get_index({c_input}, &{name}) < 0) %(fail)s"


@register(Alloc)
def render_alloc(node: Apply) -> CKernel | None:
    """np.empty(shape) filled with the value broadcast (only along its static length-1 axes)."""
    if not tensor_dtypes_ok(node):
        return None
    value = node.inputs[0]
    nd = len(node.inputs) - 1
    offset = nd - value.ndim
    lines = [check_ndim("%(in0)s", value.ndim, "Alloc")]
    lines += [_scalar(v, f"%(in{k + 1})s", f"n{k}") for k, v in enumerate(node.inputs[1:])]
    lines.append(f"  npy_intp dims[{max(nd, 1)}] = {{{', '.join(f'n{k}' for k in range(nd))}}};")
    for a, d in enumerate(value.type.shape):
        if d == 1:
            continue
        lines.append(
            f"  if (PyArray_DIM(%(in0)s, {a}) != dims[{a + offset}]) {{\n"
            f"    PyErr_Format(PyExc_ValueError, \"Alloc: the value's axis {a} has length %%lld,"
            f" the shape asks %%lld on axis {a + offset} (a length-1 axis is only broadcast when"
            f' its type is broadcastable)", (long long)PyArray_DIM(%(in0)s, {a}),'
            f" (long long)dims[{a + offset}]);\n    %(fail)s\n  }}"
        )
    lines.append(
        f"""  PyArray_Descr* descr = PyArray_DescrFromType({np.dtype(node.outputs[0].dtype).num});
  %(out0)s = (PyArrayObject*)PyArray_NewFromDescr(&PyArray_Type, descr, {nd}, dims, NULL, NULL,
                                                  0, NULL);
  if (!%(out0)s) %(fail)s
  if (PyArray_CopyInto(%(out0)s, %(in0)s) < 0) %(fail)s"""
    )
    return CKernel("\n".join(lines), VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(Join)
def render_join(node: Apply) -> CKernel | None:
    """np.concatenate(tensors, axis) into a new C-order array of the output dtype."""
    if not tensor_dtypes_ok(node):
        return None
    ndim = node.outputs[0].ndim
    tensors = [f"%(in{k})s" for k in range(1, len(node.inputs))]
    lines = [_scalar(node.inputs[0], "%(in0)s", "axis")]
    lines += [check_ndim(t, ndim, "Join") for t in tensors]
    lines.append(f"  PyArrayObject* parts[{len(tensors)}] = {{{', '.join(tensors)}}};")
    body = f"""
  const int nd = {ndim}, nparts = {len(tensors)};
  if (axis < -nd || axis >= nd) {{ labsym_axis_error(axis, nd); %(fail)s }}
  if (axis < 0) axis += nd;
  npy_intp dims[NPY_MAXDIMS];
  for (int d = 0; d < nd; d++) dims[d] = PyArray_DIM(parts[0], d);
  dims[axis] = 0;
  for (int k = 0; k < nparts; k++) {{
    for (int d = 0; d < nd; d++) {{
      if (d != axis && PyArray_DIM(parts[k], d) != dims[d]) {{
        PyErr_Format(PyExc_ValueError, "all the input array dimensions except for the "
                     "concatenation axis must match exactly, but along dimension %%d, the array "
                     "at index 0 has size %%lld and the array at index %%d has size %%lld", d,
                     (long long)dims[d], k, (long long)PyArray_DIM(parts[k], d));
        %(fail)s
      }}
    }}
    dims[axis] += PyArray_DIM(parts[k], axis);
  }}
  PyArray_Descr* descr = PyArray_DescrFromType({np.dtype(node.outputs[0].dtype).num});
  %(out0)s = (PyArrayObject*)PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, NULL, NULL, 0,
                                                  NULL);
  if (!%(out0)s) %(fail)s
  char* at = PyArray_BYTES(%(out0)s);
  npy_intp step = PyArray_STRIDE(%(out0)s, axis);
  for (int k = 0; k < nparts; k++) {{
    PyArrayObject* part = parts[k];
    npy_intp n = PyArray_DIM(part, axis);
    if (n == 0) continue;
    if (axis == 0 && PyArray_IS_C_CONTIGUOUS(part) &&
        PyArray_EquivTypes(PyArray_DESCR(part), PyArray_DESCR(%(out0)s))) {{
      memcpy(at, PyArray_BYTES(part), PyArray_NBYTES(part));  /* a block of out's rows */
    }} else {{
      npy_intp vdims[NPY_MAXDIMS];
      memcpy(vdims, dims, nd * sizeof(npy_intp));
      vdims[axis] = n;
      PyArrayObject* view = labsym_view(%(out0)s, nd, vdims, PyArray_STRIDES(%(out0)s), at);
      if (!view) %(fail)s
      int status = PyArray_CopyInto(view, part);
      Py_DECREF(view);
      if (status < 0) %(fail)s
    }}
    at += n * step;
  }}
"""
    lines.append(body)
    return CKernel("\n".join(lines), VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(Split)
def render_split(node: Apply) -> CKernel | None:
    """np.split at the cumulative sizes: each output a view of x along the (runtime) axis."""
    if not tensor_dtypes_ok(node) or node.inputs[2].dtype != "int64":
        return None
    n = node.op.len_splits
    views = "\n".join(
        f"""  dims[axis] = sizes[{k}];
  %(out{k})s = labsym_view(%(in0)s, nd, dims, PyArray_STRIDES(%(in0)s), at);
  if (!%(out{k})s) %(fail)s
  at += sizes[{k}] * PyArray_STRIDE(%(in0)s, axis);"""
        for k in range(n)
    )
    body = f"""
{_scalar(node.inputs[1], "%(in1)s", "axis")}
  const int nd = PyArray_NDIM(%(in0)s);
  if (axis < -nd || axis >= nd) {{
    PyErr_SetString(PyExc_IndexError, "tuple index out of range");
    %(fail)s
  }}
  if (axis < 0) axis += nd;
  npy_intp sizes[{n}], total = 0;
  int ok = PyArray_NDIM(%(in2)s) == 1 && PyArray_DIM(%(in2)s, 0) == {n};
  for (int k = 0; ok && k < {n}; k++) {{
    npy_int64 v;
    memcpy(&v, PyArray_BYTES(%(in2)s) + k * PyArray_STRIDE(%(in2)s, 0), sizeof v);
    sizes[k] = (npy_intp)v;
    ok = v >= 0;
    total += sizes[k];
  }}
  if (!ok || total != PyArray_DIM(%(in0)s, axis)) {{
    PyObject* listed = PyArray_ToList(%(in2)s);
    if (listed)
      PyErr_Format(PyExc_ValueError, "{node.op}: split sizes %%R do not cut axis %%d of length"
                   " %%lld into {n} pieces", listed, (int)axis,
                   (long long)PyArray_DIM(%(in0)s, axis));
    Py_XDECREF(listed);
    %(fail)s
  }}
  npy_intp dims[NPY_MAXDIMS];
  memcpy(dims, PyArray_DIMS(%(in0)s), nd * sizeof(npy_intp));
  char* at = PyArray_BYTES(%(in0)s);
{views}
"""
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


_ARANGE_INPUTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")


@register(ARange)
def render_arange(node: Apply) -> CKernel | None:
    """np.arange(start, stop, step) for integer inputs and an int64 result (exact integer
    arithmetic; NumPy's ValueError for a zero step)."""
    if node.op.dtype != "int64" or any(v.dtype not in _ARANGE_INPUTS for v in node.inputs):
        return None
    reads = "\n".join(
        _scalar(v, f"%(in{k})s", n)
        for k, (v, n) in enumerate(zip(node.inputs, ("start", "stop", "step"), strict=True))
    )
    body = f"""
{reads}
  if (step == 0) {{
    PyErr_SetString(PyExc_ValueError, "Maximum allowed size exceeded");
    %(fail)s
  }}
  npy_intp n = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
  if (n < 0) n = 0;
  %(out0)s = (PyArrayObject*)PyArray_EMPTY(1, &n, NPY_INT64, 0);
  if (!%(out0)s) %(fail)s
  npy_int64* out = (npy_int64*)PyArray_DATA(%(out0)s);
  for (npy_intp i = 0; i < n; i++) out[i] = start + i * step;
"""
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(Eye)
def render_eye(node: Apply) -> CKernel | None:
    """np.eye(n, m, k, dtype): zeros, then the dtype's one on diagonal k."""
    if not tensor_dtypes_ok(node):
        return None
    dtype = np.dtype(node.op.dtype)
    one = ", ".join(str(b) for b in np.ones((), dtype).tobytes())
    reads = "\n".join(
        _scalar(v, f"%(in{i})s", name) for i, (v, name) in enumerate(zip(node.inputs, "nmk"))
    )
    body = f"""
{reads}
  npy_intp dims[2] = {{n, m}};
  %(out0)s = (PyArrayObject*)PyArray_ZEROS(2, dims, {dtype.num}, 0);
  if (!%(out0)s) %(fail)s
  static const unsigned char one[{dtype.itemsize}] = {{{one}}};
  char* data = PyArray_BYTES(%(out0)s);
  for (npy_intp i = k < 0 ? -k : 0; i < n && i + k < m; i++)
    memcpy(data + (i * m + i + k) * {dtype.itemsize}, one, {dtype.itemsize});
"""
    return CKernel(body, VIEW_SUPPORT, cache_version=CACHE_VERSION)
