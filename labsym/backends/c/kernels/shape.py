"""C kernels for the shape ops: DimShuffle as a view without a copy, Reshape (a view when NumPy's
reshape gives one), Shape, Shape_i, MakeVector, SpecifyShape/Rebroadcast (checks, then x), and
DeepCopyOp/TensorCopy (a copy in the input's memory order, as np.copy).

`VIEW_SUPPORT` holds the C helpers the shape, index and join kernels share (one text, so a
module holds them once): a view of an array with new dims/strides/data that keeps the array
alive, the read of an integer index from a 0-d array, NumPy's IndexError and AxisError, a
strided-block gather and the offsets of a boolean mask's true elements. May import core and
backends.c.kernel.
"""

from __future__ import annotations

import numpy as np

from labsym.backends.c.kernel import CKernel, register
from labsym.core.graph import Apply
from labsym.core.ops.basic import TensorCopy
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.elemwise import DimShuffle
from labsym.core.ops.shape import MakeVector, Rebroadcast, Reshape, Shape, Shape_i, SpecifyShape
from labsym.core.type import TensorType

CACHE_VERSION = (1,)

VIEW_SUPPORT = """
/* A view of `base` with the given dims/strides starting at `data`, holding a reference to base
   (NumPy's own views do the same); writeable when base is. */
static inline PyArrayObject* labsym_view(PyArrayObject* base, int nd, npy_intp* dims,
                                         npy_intp* strides, char* data) {
  PyArray_Descr* descr = PyArray_DESCR(base);
  Py_INCREF(descr);
  PyArrayObject* view = (PyArrayObject*)PyArray_NewFromDescr(
      &PyArray_Type, descr, nd, dims, strides, data, PyArray_FLAGS(base) & NPY_ARRAY_WRITEABLE,
      NULL);
  if (!view) return NULL;
  Py_INCREF(base);
  if (PyArray_SetBaseObject(view, (PyObject*)base) < 0) {
    Py_DECREF(view);
    return NULL;
  }
  return view;
}

/* The integer held by a 0-d array of any integer dtype (operator.index semantics, clamped to
   the npy_intp range); -1 with an exception set for other dtypes. */
static inline int labsym_get_index(PyArrayObject* a, npy_intp* value) {
  const char* p = PyArray_BYTES(a);
  if (PyArray_NDIM(a) != 0) {
    PyErr_SetString(PyExc_TypeError, "an index must be a 0-d integer array");
    return -1;
  }
  switch (PyArray_TYPE(a)) {
#define LABSYM_READ(NUM, T) \\
    case NUM: { T v; memcpy(&v, p, sizeof(T)); *value = (npy_intp)v; return 0; }
    LABSYM_READ(NPY_BYTE, npy_byte)
    LABSYM_READ(NPY_UBYTE, npy_ubyte)
    LABSYM_READ(NPY_SHORT, npy_short)
    LABSYM_READ(NPY_USHORT, npy_ushort)
    LABSYM_READ(NPY_INT, npy_int)
    LABSYM_READ(NPY_UINT, npy_uint)
    LABSYM_READ(NPY_LONG, npy_long)
    LABSYM_READ(NPY_LONGLONG, npy_longlong)
#undef LABSYM_READ
    case NPY_ULONG: case NPY_ULONGLONG: {
      npy_ulonglong v = 0;
      memcpy(&v, p, PyArray_ITEMSIZE(a));
      *value = v > (npy_ulonglong)NPY_MAX_INTP ? NPY_MAX_INTP : (npy_intp)v;
      return 0;
    }
    default:
      PyErr_SetString(PyExc_TypeError, "an index must be an integer");
      return -1;
  }
}

/* NumPy's error for an integer index outside [-size, size). */
static inline void labsym_index_error(npy_intp index, int axis, npy_intp size) {
  PyErr_Format(PyExc_IndexError, "index %lld is out of bounds for axis %d with size %lld",
               (long long)index, axis, (long long)size);
}

/* NumPy's AxisError (a ValueError and IndexError) for an axis outside [-ndim, ndim). */
static inline void labsym_axis_error(npy_intp axis, int ndim) {
  PyObject* module = PyImport_ImportModule("numpy.exceptions");
  PyObject* cls = module ? PyObject_GetAttrString(module, "AxisError") : NULL;
  Py_XDECREF(module);
  if (!cls) {
    PyErr_Clear();
    PyErr_Format(PyExc_IndexError, "axis %lld is out of bounds for array of dimension %d",
                 (long long)axis, ndim);
    return;
  }
  PyObject* err = PyObject_CallFunction(cls, "Li", (long long)axis, ndim);
  if (err) {
    PyErr_SetObject(cls, err);
    Py_DECREF(err);
  }
  Py_DECREF(cls);
}

/* Count the true elements of `mask` (C order) and, when offs is not NULL, store the byte offset
   into `arr` of each (the mask covers arr's leading axes, whose lengths it matches). */
static inline npy_intp labsym_mask_offsets(PyArrayObject* mask, PyArrayObject* arr,
                                           npy_intp* offs) {
  const int md = PyArray_NDIM(mask);
  const npy_intp* dims = PyArray_DIMS(mask);
  const npy_intp* ms = PyArray_STRIDES(mask);
  const npy_intp* as = PyArray_STRIDES(arr);
  const char* mb = PyArray_BYTES(mask);
  npy_intp total = PyArray_SIZE(mask), count = 0, moff = 0, aoff = 0, ctr[NPY_MAXDIMS];
  memset(ctr, 0, md * sizeof(npy_intp));
  for (npy_intp t = 0; t < total; t++) {
    if (mb[moff]) {
      if (offs) offs[count] = aoff;
      count++;
    }
    for (int ax = md - 1; ax >= 0; ax--) {
      moff += ms[ax];
      aoff += as[ax];
      if (++ctr[ax] < dims[ax]) break;
      moff -= ms[ax] * dims[ax];
      aoff -= as[ax] * dims[ax];
      ctr[ax] = 0;
    }
  }
  return count;
}

/* Copy the strided nd-block at src into contiguous dst (C order); returns the end of dst. */
static inline char* labsym_gather_block(char* dst, const char* src, int nd, const npy_intp* dims,
                                 const npy_intp* strides, npy_intp itemsize) {
  if (nd == 0) {
    memcpy(dst, src, itemsize);
    return dst + itemsize;
  }
  if (nd == 1) {
    npy_intp n = dims[0], s = strides[0];
    if (s == itemsize) {
      memcpy(dst, src, n * itemsize);
    } else if (itemsize == 8) {
      for (npy_intp i = 0; i < n; i++) memcpy(dst + 8 * i, src + i * s, 8);
    } else if (itemsize == 4) {
      for (npy_intp i = 0; i < n; i++) memcpy(dst + 4 * i, src + i * s, 4);
    } else {
      for (npy_intp i = 0; i < n; i++) memcpy(dst + itemsize * i, src + i * s, itemsize);
    }
    return dst + n * itemsize;
  }
  for (npy_intp i = 0; i < dims[0]; i++)
    dst = labsym_gather_block(dst, src + i * strides[0], nd - 1, dims + 1, strides + 1, itemsize);
  return dst;
}
"""

# dtypes whose elements are plain bytes (no object references): safe to view, copy and move
PLAIN_DTYPES = frozenset(
    ["bool", "float16", "float32", "float64", "complex64", "complex128"]
    + [f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64)]
)


def tensor_dtypes_ok(node: Apply) -> bool:
    """True when every tensor input/output of `node` has a plain (non-object) dtype."""
    return all(
        v.type.dtype in PLAIN_DTYPES
        for v in (*node.inputs, *node.outputs)
        if isinstance(v.type, TensorType)
    )


def check_ndim(var: str, ndim: int, who: str) -> str:
    """C lines that fail with a ValueError unless the array `var` has `ndim` dimensions."""
    return (
        f"  if (PyArray_NDIM({var}) != {ndim}) {{\n"
        f'    PyErr_Format(PyExc_ValueError, "{who}: expected a %%d-d array, got %%d-d", {ndim},'
        f" PyArray_NDIM({var}));\n    %(fail)s\n  }}\n"
    )


@register(DimShuffle)
def render_dimshuffle(node: Apply) -> CKernel | None:
    """A view with axes permuted, dropped (index 0, as perform) and inserted (stride 0)."""
    if not tensor_dtypes_ok(node):
        return None
    op: DimShuffle = node.op
    out_nd = len(op.new_order)
    lines = [check_ndim("%(in0)s", op.input_ndim, "DimShuffle")]
    lines.append("  npy_intp* idims = PyArray_DIMS(%(in0)s);")
    lines.append("  npy_intp* istrides = PyArray_STRIDES(%(in0)s);")
    for axis in op.drop:  # perform indexes the dropped axis with 0: an empty axis raises
        lines.append(f"  if (idims[{axis}] == 0) {{ labsym_index_error(0, {axis}, 0); %(fail)s }}")
    dims = ", ".join("1" if o == "x" else f"idims[{o}]" for o in op.new_order) or "0"
    strides = ", ".join("0" if o == "x" else f"istrides[{o}]" for o in op.new_order) or "0"
    lines.append(f"  npy_intp dims[{max(out_nd, 1)}] = {{{dims}}};")
    lines.append(f"  npy_intp strides[{max(out_nd, 1)}] = {{{strides}}};")
    lines.append(
        f"  %(out0)s = labsym_view(%(in0)s, {out_nd}, dims, strides, PyArray_BYTES(%(in0)s));"
    )
    lines.append("  if (!%(out0)s) %(fail)s")
    return CKernel("\n".join(lines), VIEW_SUPPORT, cache_version=CACHE_VERSION)


RESHAPE = """
  if (PyArray_NDIM(%(in1)s) != 1 || PyArray_TYPE(%(in1)s) != NPY_INT64) {
    PyErr_SetString(PyExc_TypeError, "Reshape: the new shape must be an int64 vector");
    %(fail)s
  }
  npy_intp n = PyArray_DIM(%(in1)s, 0);
  if (n != LABSYM_RESHAPE_ND) {
    PyErr_Format(PyExc_ValueError,
                 "Reshape{LABSYM_RESHAPE_ND}: the shape vector has %%lld entries, expected "
                 "LABSYM_RESHAPE_ND", (long long)n);
    %(fail)s
  }
  npy_intp shape[LABSYM_RESHAPE_ND + 1];
  for (npy_intp i = 0; i < n; i++) {
    npy_int64 v;
    memcpy(&v, PyArray_BYTES(%(in1)s) + i * PyArray_STRIDE(%(in1)s, 0), sizeof v);
    shape[i] = (npy_intp)v;
  }
  PyArray_Dims newshape = {shape, (int)n};
  /* np.reshape: a view when the strides allow one, a C-order copy otherwise */
  %(out0)s = (PyArrayObject*)PyArray_Newshape(%(in0)s, &newshape, NPY_CORDER);
  if (!%(out0)s) %(fail)s
"""


@register(Reshape)
def render_reshape(node: Apply) -> CKernel | None:
    """np.reshape through PyArray_Newshape: the same view-or-copy decision and errors."""
    if not tensor_dtypes_ok(node) or node.inputs[1].type.dtype != "int64":
        return None
    body = RESHAPE.replace("LABSYM_RESHAPE_ND", str(node.op.ndim))
    return CKernel(body, cache_version=CACHE_VERSION)


@register(Shape)
def render_shape(node: Apply) -> CKernel | None:
    """The input's shape as a new int64 vector."""
    body = """
  npy_intp nd = PyArray_NDIM(%(in0)s);
  %(out0)s = (PyArrayObject*)PyArray_EMPTY(1, &nd, NPY_INT64, 0);
  if (!%(out0)s) %(fail)s
  for (npy_intp i = 0; i < nd; i++)
    ((npy_int64*)PyArray_DATA(%(out0)s))[i] = PyArray_DIM(%(in0)s, i);
"""
    return CKernel(body, cache_version=CACHE_VERSION)


@register(Shape_i)
def render_shape_i(node: Apply) -> CKernel | None:
    """One axis length as a new 0-d int64 array."""
    i = node.op.i
    body = f"""
  if (PyArray_NDIM(%(in0)s) <= {i}) {{
    PyErr_SetString(PyExc_IndexError, "Shape_i{{{i}}}: tuple index out of range");
    %(fail)s
  }}
  %(out0)s = (PyArrayObject*)PyArray_EMPTY(0, NULL, NPY_INT64, 0);
  if (!%(out0)s) %(fail)s
  *(npy_int64*)PyArray_DATA(%(out0)s) = PyArray_DIM(%(in0)s, {i});
"""
    return CKernel(body, cache_version=CACHE_VERSION)


@register(MakeVector)
def render_make_vector(node: Apply) -> CKernel | None:
    """A new vector holding the scalar inputs (0-d arrays of the op's dtype)."""
    if not tensor_dtypes_ok(node):
        return None
    n = len(node.inputs)
    lines = [
        f"  npy_intp n = {n};",
        f"  %(out0)s = (PyArrayObject*)PyArray_EMPTY(1, &n, {np.dtype(node.op.dtype).num}, 0);",
        "  if (!%(out0)s) %(fail)s",
        "  npy_intp itemsize = PyArray_ITEMSIZE(%(out0)s);",
    ]
    for k in range(n):
        lines.append(
            f"  if (PyArray_NDIM(%(in{k})s) != 0 || PyArray_ITEMSIZE(%(in{k})s) != itemsize) {{\n"
            f'    PyErr_SetString(PyExc_TypeError, "MakeVector: input {k} is not a scalar of the'
            f" vector's dtype\");\n    %(fail)s\n  }}\n"
            f"  memcpy(PyArray_BYTES(%(out0)s) + {k} * itemsize, PyArray_BYTES(%(in{k})s),"
            " itemsize);"
        )
    return CKernel("\n".join(lines), cache_version=CACHE_VERSION)


@register(SpecifyShape)
def render_specify_shape(node: Apply) -> CKernel | None:
    """x itself after checking the given axis lengths (perform's ValueError otherwise)."""
    ndim = node.inputs[0].ndim
    lines = [check_ndim("%(in0)s", ndim, "SpecifyShape"), "  int ok = 1;"]
    lines.append(f"  npy_intp want[{max(len(node.op.axes), 1)}];")
    for k, axis in enumerate(node.op.axes):
        lines.append(f"  if (labsym_get_index(%(in{k + 1})s, &want[{k}]) < 0) %(fail)s")
        lines.append(f"  ok = ok && PyArray_DIM(%(in0)s, {axis}) == want[{k}];")
    fmt = "".join("N" if a in node.op.axes else "O" for a in range(ndim))
    expected = "".join(
        f", PyLong_FromSsize_t(want[{node.op.axes.index(a)}])" if a in node.op.axes else ", Py_None"
        for a in range(ndim)
    )
    got = "".join(f", PyLong_FromSsize_t(PyArray_DIM(%(in0)s, {a}))" for a in range(ndim))
    lines.append(
        f"""  if (!ok) {{
    PyObject* expected = Py_BuildValue("({fmt})"{expected});
    PyObject* got = Py_BuildValue("({"N" * ndim})"{got});
    if (expected && got)
      PyErr_Format(PyExc_ValueError, "SpecifyShape: expected shape %%R, got %%R", expected, got);
    Py_XDECREF(expected);
    Py_XDECREF(got);
    %(fail)s
  }}
  Py_INCREF(%(in0)s);
  %(out0)s = %(in0)s;"""
    )
    return CKernel("\n".join(lines), VIEW_SUPPORT, cache_version=CACHE_VERSION)


@register(Rebroadcast)
def render_rebroadcast(node: Apply) -> CKernel | None:
    """x itself after checking that the axes made broadcastable have length 1."""
    lines = [check_ndim("%(in0)s", node.inputs[0].ndim, "Rebroadcast")]
    for axis, flag in node.op.axis:
        if flag:
            lines.append(
                f"  if (PyArray_DIM(%(in0)s, {axis}) != 1) {{\n"
                f"    PyErr_Format(PyExc_ValueError, \"Dimension {axis} in Rebroadcast's input was"
                f' supposed to be 1 (got %%lld instead)", (long long)PyArray_DIM(%(in0)s, {axis}));'
                f"\n    %(fail)s\n  }}"
            )
    lines.append("  Py_INCREF(%(in0)s);\n  %(out0)s = %(in0)s;")
    return CKernel("\n".join(lines), cache_version=CACHE_VERSION)


@register(DeepCopyOp, TensorCopy)
def render_copy(node: Apply) -> CKernel | None:
    """A new array holding x's values, in x's memory order (np.copy / np.array(copy=True))."""
    if not tensor_dtypes_ok(node) or not isinstance(node.inputs[0].type, TensorType):
        return None
    body = """
  %(out0)s = (PyArrayObject*)PyArray_NewCopy(%(in0)s, NPY_KEEPORDER);
  if (!%(out0)s) %(fail)s
"""
    return CKernel(body, cache_version=CACHE_VERSION)
