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


# raises FE_INVALID (0/0 at run time), returns its input
INVALID = """
  volatile double zero = 0.0;
  zero = zero / zero;
  Py_INCREF(%(in0)s); %(out0)s = %(in0)s;
"""
ENTRIES = [
    NodeEntry("k_double", CKernel(DOUBLE), ("float64",), 1),
    NodeEntry("k_pair", CKernel(SPLIT), ("float32", None), 2),
    NodeEntry("k_invalid", CKernel(INVALID, fp_flags=True), ("float64",), 1),
]


@pytest.fixture(scope="module")
def lib():
    return build_module(ENTRIES)


@pytest.fixture(scope="module")
def thunks(lib):
    return [make_thunk(lib, e) for e in ENTRIES]


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


def test_thunks_are_the_modules_builtins_and_check_their_arity(lib, thunks):
    assert thunks[0] is lib.k_double and type(thunks[0]).__name__ == "builtin_function_or_method"
    with pytest.raises(TypeError, match=r"k_pair\(\) takes 2 arguments \(1 given\)"):
        thunks[1](1.0)
    with pytest.raises(TypeError, match="a kernel of this module"):
        lib._bind(len, None, None, 0)


def test_a_profile_bound_thunk_adds_its_kernel_time_to_its_slot(lib):
    times = [0.0, 0.0, 0.0]
    timed = make_thunk(lib, ENTRIES[0], times=times, slot=1)
    x = np.arange(100_000.0)
    for _ in range(3):
        before = times[1]
        np.testing.assert_array_equal(timed(x), 2 * x)
        assert times[0] == times[2] == 0.0 and times[1] > before
    assert times[1] < 1.0  # seconds, not nanoseconds
    del times[:]
    with pytest.raises(IndexError, match="profile slot"):
        timed(x)


def test_raised_flags_call_the_reporter_with_the_callers_inputs(lib, thunks):
    seen = []
    reported = make_thunk(lib, ENTRIES[2], lambda code, *inputs: seen.append((code, inputs)))
    out = reported(2.5)  # a Python float reaches the reporter as given
    assert out.shape == () and float(out) == 2.5
    assert seen == [(2 | 16, (2.5,))]  # 2 | 16: invalid
    assert thunks[2](1.0) == 1.0 and len(seen) == 1  # no reporter bound: flags ignored

    def refuse(code, *inputs):
        raise FloatingPointError("invalid value")

    strict = make_thunk(lib, ENTRIES[2], refuse)
    x = np.ones(3)
    before = sys.getrefcount(x)
    for _ in range(10):
        with pytest.raises(FloatingPointError):
            strict(x)
    assert sys.getrefcount(x) == before
