"""The C module contract: kernel bodies in Theano's c_code convention, wrapped and compiled."""

import sys

import numpy as np
import pytest

from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import CKernel
from labsym.backends.c.module import NodeEntry, build_module, make_thunk

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

DOUBLE = """
  if (PyArray_TYPE(%(in0)s) != NPY_FLOAT64) {
    PyErr_Format(PyExc_TypeError, "DoubleIt wants float64, got type %%d", PyArray_TYPE(%(in0)s));
    %(fail)s
  }
  PyArrayObject* c = (PyArrayObject*)PyArray_GETCONTIGUOUS(%(in0)s);
  if (!c) %(fail)s
  %(out0)s = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(c), PyArray_DIMS(c), NPY_FLOAT64, 0);
  if (!%(out0)s) { Py_DECREF(c); %(fail)s }
  double* x = (double*)PyArray_DATA(c);
  double* z = (double*)PyArray_DATA(%(out0)s);
  for (npy_intp i = 0; i < PyArray_SIZE(c); i++) z[i] = 2 * x[i];
  Py_DECREF(c);
"""
SPLIT = """
  Py_INCREF(%(in0)s); %(out0)s = %(in0)s;
  Py_INCREF(%(in1)s); %(out1)s = %(in1)s;
"""


@pytest.fixture(scope="module")
def thunks():
    entries = [
        NodeEntry("k_double", CKernel(DOUBLE), ("float64",), 1),
        NodeEntry("k_pair", CKernel(SPLIT), ("float32", None), 2),
    ]
    lib = build_module(entries)
    return [make_thunk(lib, e) for e in entries]


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_kernel_matches_numpy_on_views(thunks, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(thunks[0](x), 2 * x)
    if x.ndim:
        view = x[..., ::-1]  # negative strides reach the kernel as a view
        np.testing.assert_array_equal(thunks[0](view), 2 * view)


def test_scalars_become_arrays_of_the_input_dtype(thunks):
    assert float(thunks[0](np.float64(1.5))) == 3.0
    assert float(thunks[0](2)) == 4.0
    a, b = thunks[1](3.0, "kept")
    assert a.dtype == np.float32 and a.shape == () and b == "kept"


def test_errors_propagate_and_nothing_leaks(thunks):
    x = np.zeros(3, dtype=np.float32)
    before = sys.getrefcount(x)
    for _ in range(10):
        with pytest.raises(TypeError, match="DoubleIt wants float64"):
            thunks[0](x)
    assert sys.getrefcount(x) == before
    y = np.ones(4)
    before = sys.getrefcount(y)
    for _ in range(100):
        thunks[0](y)
    assert sys.getrefcount(y) == before
