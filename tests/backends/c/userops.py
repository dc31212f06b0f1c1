"""User ops written as in Theano's "Extending Theano with a C Op" tutorial, shared by C tests."""

from __future__ import annotations

import numpy as np

import labsym as theano
from labsym import tensor as T


class VectorTimesScalar(theano.Op):
    """The tutorial's op: C implementation only (no perform), any float dtype, any stride."""

    __props__ = ()

    def make_node(self, x, y):
        x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
        if x.type.ndim != 1:
            raise TypeError("x must be a 1-d vector")
        if y.type.ndim != 0:
            raise TypeError("y must be a scalar")
        out_dtype = np.result_type(x.dtype, y.dtype).name
        return theano.Apply(self, [x, y], [T.TensorType(out_dtype, (None,))()])

    def c_code_cache_version(self):
        return (1, 0)

    def c_code(self, node, name, inp, out, sub):
        x, y = inp
        (z,) = out
        dtype_x = node.inputs[0].dtype
        dtype_y = node.inputs[1].dtype
        dtype_z = node.outputs[0].dtype
        itemsize_x = np.dtype(dtype_x).itemsize
        itemsize_z = np.dtype(dtype_z).itemsize
        typenum_z = np.dtype(dtype_z).num
        fail = sub["fail"]
        return """
        // Validate that the output storage exists and has the same dimension as x.
        if (NULL == %(z)s || PyArray_DIMS(%(x)s)[0] != PyArray_DIMS(%(z)s)[0])
        {
            Py_XDECREF(%(z)s);
            %(z)s = (PyArrayObject*)PyArray_EMPTY(1, PyArray_DIMS(%(x)s), %(typenum_z)s, 0);
            if (!%(z)s) {
                %(fail)s;
            }
        }
        {
            npy_%(dtype_x)s* x_data_ptr = (npy_%(dtype_x)s*)PyArray_DATA(%(x)s);
            npy_%(dtype_z)s* z_data_ptr = (npy_%(dtype_z)s*)PyArray_DATA(%(z)s);
            npy_%(dtype_y)s y_value = ((npy_%(dtype_y)s*)PyArray_DATA(%(y)s))[0];
            npy_intp x_stride = PyArray_STRIDES(%(x)s)[0] / %(itemsize_x)s;
            npy_intp z_stride = PyArray_STRIDES(%(z)s)[0] / %(itemsize_z)s;
            npy_intp x_dim = PyArray_DIMS(%(x)s)[0];
            for (npy_intp i = 0; i < x_dim; i++)
                z_data_ptr[i * z_stride] = (x_data_ptr[i * x_stride] * y_value);
        }
        """ % locals()  # noqa: UP031 - the tutorial's style


class DoubleCOp(theano.Op):
    """A C-only DoubleOp: support code, a per-node helper, headers, dtype_<x>, an error path."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def c_headers(self):
        return ["<math.h>"]

    def c_support_code(self):
        return "static double labsym_test_twice(double v) { return 2.0 * v; }"

    def c_support_code_apply(self, node, name):
        return f"static int {name}_ndim(void) {{ return {node.inputs[0].ndim}; }}"

    def c_code_cache_version(self):
        return (2,)

    def c_code(self, node, name, inp, out, sub):
        (x,) = inp
        (z,) = out
        fail = sub["fail"]
        return """
        if (PyArray_NDIM(%(x)s) != %(name)s_ndim()) {
            PyErr_Format(PyExc_ValueError, "DoubleCOp: expected %%d dims", %(name)s_ndim());
            %(fail)s;
        }
        Py_XDECREF(%(z)s);
        %(z)s = (PyArrayObject*)PyArray_EMPTY(
            PyArray_NDIM(%(x)s), PyArray_DIMS(%(x)s), type_num_%(x)s, 0);
        if (!%(z)s) %(fail)s;
        {
            NpyIter* it = NpyIter_New(%(x)s, NPY_ITER_READONLY | NPY_ITER_ZEROSIZE_OK,
                                      NPY_CORDER, NPY_NO_CASTING, NULL);
            if (!it) { %(fail)s; }
            dtype_%(z)s* zp = (dtype_%(z)s*)PyArray_DATA(%(z)s);
            if (NpyIter_GetIterSize(it) > 0) {
                NpyIter_IterNextFunc* next = NpyIter_GetIterNext(it, NULL);
                char** data = NpyIter_GetDataPtrArray(it);
                do {
                    if (isnan((double)*(dtype_%(x)s*)data[0])) {
                        NpyIter_Deallocate(it);
                        PyErr_SetString(PyExc_FloatingPointError, "DoubleCOp: NaN input");
                        %(fail)s;
                    }
                    *zp++ = (dtype_%(z)s)labsym_test_twice(*(dtype_%(x)s*)data[0]);
                } while (next(it));
            }
            NpyIter_Deallocate(it);
        }
        """ % locals()  # noqa: UP031 - the tutorial's style


class DoubleBoth(DoubleCOp):
    """DoubleCOp with a NumPy perform: C and perform can be checked against each other."""

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if np.isnan(x).any():
            raise FloatingPointError("DoubleCOp: NaN input")
        output_storage[0][0] = (x * 2).astype(node.outputs[0].dtype)


class WrongC(DoubleBoth):
    """C code that disagrees with perform (3x instead of 2x): DebugMode must catch it."""

    def c_support_code(self):
        return "static double labsym_test_thrice(double v) { return 3.0 * v; }"

    def c_code(self, node, name, inp, out, sub):
        return (
            super()
            .c_code(node, name, inp, out, sub)
            .replace("labsym_test_twice", "labsym_test_thrice")
        )


class SplitSigns(theano.Op):
    """Two outputs from C: the positive and the negative part of x (both perform and c_code)."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = np.maximum(x, 0)
        output_storage[1][0] = np.minimum(x, 0)

    def c_code(self, node, name, inp, out, sub):
        (x,) = inp
        pos, neg = out
        fail = sub["fail"]
        return """
        PyArrayObject* c = (PyArrayObject*)PyArray_FROM_OTF(
            (PyObject*)%(x)s, type_num_%(x)s, NPY_ARRAY_C_CONTIGUOUS);
        if (!c) %(fail)s;
        int nd = PyArray_NDIM(c);
        %(pos)s = (PyArrayObject*)PyArray_EMPTY(nd, PyArray_DIMS(c), type_num_%(x)s, 0);
        %(neg)s = (PyArrayObject*)PyArray_EMPTY(nd, PyArray_DIMS(c), type_num_%(x)s, 0);
        if (!%(pos)s || !%(neg)s) { Py_DECREF(c); %(fail)s; }
        {
            dtype_%(x)s* xp = (dtype_%(x)s*)PyArray_DATA(c);
            dtype_%(pos)s* pp = (dtype_%(pos)s*)PyArray_DATA(%(pos)s);
            dtype_%(neg)s* np_ = (dtype_%(neg)s*)PyArray_DATA(%(neg)s);
            for (npy_intp i = 0; i < PyArray_SIZE(c); i++) {
                pp[i] = xp[i] > 0 ? xp[i] : 0;
                np_[i] = xp[i] < 0 ? xp[i] : 0;
            }
        }
        Py_DECREF(c);
        """ % locals()  # noqa: UP031 - the tutorial's style
