"""DebugMode checks each node's C kernel against its perform by default (Theano's check_c_code).

A user op whose c_code computes the wrong value is caught under plain mode='DebugMode';
check_c_code=False (or the flag DebugMode.check_c) skips C; correct library graphs pass with
their kernels compared; without a C compiler (cxx='') DebugMode checks Python code only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.module import c_compiler
from labsym.compile import function
from labsym.compile.debug_values import strides_error
from labsym.compile.debugmode import BadThunkOutput, DebugMode
from labsym.config import config

needs_cc = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
RNG = np.random.default_rng(7)


class PlusOne(labsym.Op):
    """x + 1 in perform; c_code adds `delta` (1.0 agrees, anything else is a wrong kernel)."""

    __props__ = ("delta",)

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = delta

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [T.TensorType("float64", x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0], dtype="float64") + 1.0

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inp, out, sub):
        (x,), (z,) = inp, out
        return f"""
        Py_XDECREF({z});
        {z} = (PyArrayObject*)PyArray_FROM_OTF((PyObject*){x}, NPY_FLOAT64,
                                             NPY_ARRAY_DEFAULT | NPY_ARRAY_ENSURECOPY);
        if (!{z}) {{ {sub["fail"]} }}
        double* d = (double*)PyArray_DATA({z});
        for (npy_intp i = 0; i < PyArray_SIZE({z}); i++) d[i] += {self.delta!r};
        """


def _native_nodes(f) -> list[str]:
    """The ops whose C kernel the function's DebugMode compared with perform."""
    thunks = f.maker.mode.linker.c_thunks.get(f.maker.fgraph, {})
    return [str(node.op) for node in thunks]


@needs_cc
def test_plain_debugmode_catches_a_wrong_c_kernel_naming_op_inputs_and_values():
    x = T.dmatrix("x")
    f = function([x], PlusOne(2.0)(x) * 3, mode="DebugMode")
    assert f.maker.mode.checks_c_code
    v = RNG.standard_normal((3, 2))
    with pytest.raises(BadThunkOutput) as info:
        f(v)
    error, message = info.value, str(info.value)
    assert message.startswith("BadThunkOutput: perform and linker c|py of PlusOne{delta=2.0}(x)")
    assert f"{v[0, 0] + 1} (perform) vs {v[0, 0] + 2} (linker c|py); 6 of 6 elements differ" in (
        message
    )
    assert "input x: float64[3, 2], strides (16, 8)" in message
    assert "max abs diff: 1.0" in message
    np.testing.assert_array_equal(error.val1, v + 1)
    np.testing.assert_array_equal(error.val2, v + 2)
    np.testing.assert_array_equal(error.inputs_val[0], v)
    assert (error.thunk1, error.thunk2, error.r) == (
        "perform",
        "linker c|py",
        error.node.outputs[0],
    )


@needs_cc
def test_check_c_code_false_and_the_flag_skip_c():
    x = T.dvector("x")
    v = RNG.standard_normal(5)
    f = function([x], PlusOne(2.0)(x), mode=DebugMode(check_c_code=False))
    np.testing.assert_array_equal(f(v), v + 1)
    assert _native_nodes(f) == [] and not f.maker.mode.checks_c_code
    with config.change_flags(**{"DebugMode.check_c": False}):
        g = function([x], PlusOne(2.0)(x), mode="DebugMode")
    np.testing.assert_array_equal(g(v), v + 1)
    with pytest.raises(ValueError, match="check_c_code=False, linker='c|py'"):
        DebugMode(check_c_code=False, linker="c|py")


@needs_cc
def test_check_py_code_false_runs_only_the_c_kernel():
    x = T.dvector("x")
    v = RNG.standard_normal(4)
    f = function([x], PlusOne(2.0)(x), mode=DebugMode(check_py_code=False, optimizer=None))
    np.testing.assert_array_equal(f(v), v + 2)  # C's (wrong) value, unchecked
    with config.change_flags(**{"DebugMode.check_py": False}):
        assert DebugMode().check_py_code is False


@needs_cc
def test_correct_library_graphs_pass_with_their_kernels_compared():
    x, y = T.dmatrices("x", "y")
    v = T.fvector("v")
    i = T.lvector("i")
    outs = [
        T.exp(-(x**2)) * T.tanh(y) + abs(x) / (1 + y * y),  # fused elementwise
        x.sum(axis=0) + y.max(axis=1).sum(),  # reductions
        T.dot(x, y.T),  # dot
        T.nnet.softmax(x),
        x[1:, ::-2] * 2,  # subtensor with a negative step
        (v * v).sum() + v[::2].mean(),  # float32
        (i * 3 - 1).sum(),  # integers
    ]
    f = function([x, y, v, i], outs, mode="DebugMode")
    native = _native_nodes(f)
    assert any("Composite" in op for op in native) and len(native) >= 5, native
    a, b = RNG.standard_normal((2, 4, 3))
    fv, iv = RNG.standard_normal(7).astype("float32"), RNG.integers(-5, 5, 6)
    args = [np.asfortranarray(a), b[:, ::-1], fv[::-1], iv]
    want = function([x, y, v, i], outs, mode="FAST_COMPILE")(*args)
    for got, expected in zip(f(*args), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_without_a_c_compiler_debugmode_checks_python_only():
    x = T.dvector("x")
    v = RNG.standard_normal(3)
    with config.change_flags(cxx=""):
        mode = DebugMode()
        assert mode.check_c_code and not mode.checks_c_code
        f = function([x], PlusOne(2.0)(x) + T.exp(x), mode=mode)
        np.testing.assert_allclose(f(v), v + 1 + np.exp(v))
        g = function([x], T.log(x) * 2, mode="DebugMode")
        np.testing.assert_allclose(g(np.abs(v)), np.log(np.abs(v)) * 2)


def test_strides_are_compared_when_asked():
    x = T.dmatrix("x")
    node = (x * 2).owner
    c_order = np.ones((3, 4))
    f_order = np.asfortranarray(c_order)
    assert strides_error(node, 0, "C", c_order, f_order, 0) is None
    with pytest.warns(UserWarning, match=r"strides of output 0 .* \(32, 8\) \(perform\)"):
        assert strides_error(node, 0, "C", c_order, f_order, 1) is None
    error = strides_error(node, 0, "C", c_order, f_order, 2)
    assert isinstance(error, BadThunkOutput) and "(8, 24) (C)" in str(error)
    row = np.ones((1, 4))
    assert strides_error(node, 0, "C", row, np.asfortranarray(row), 2) is None  # length-1 axis
    with config.change_flags(**{"DebugMode.check_strides": 2}):
        assert DebugMode(check_c_code=False).require_matching_strides == 2
    with pytest.raises(ValueError, match="0, 1 or 2"):
        DebugMode(require_matching_strides=3)


class CopyingInplace(labsym.Op):
    """Declares that it overwrites its input but returns a new array (an inplace op that isn't)."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


def test_an_inplace_op_that_does_not_reuse_its_input_warns():
    x = T.dvector("x")
    v = RNG.standard_normal(3)
    f = function([x], CopyingInplace()(x * 3.0), mode="DebugMode", accept_inplace=True)
    with pytest.warns(UserWarning, match=r"perform of CopyingInplace.* does not reuse the memory"):
        np.testing.assert_allclose(f(v), v * 6)
    with config.change_flags(**{"DebugMode.warn_input_not_reused": False}):
        quiet = function([x], CopyingInplace()(x * 3.0), mode="DebugMode", accept_inplace=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(quiet(v), v * 6)


class PlusAndTimes(labsym.Op):
    """Two outputs, (x + 1, x * 2) in perform; c_code's second output is x * `factor`."""

    __props__ = ("factor",)

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [T.dvector(), T.dvector()])

    def perform(self, node, inputs, output_storage):
        x = np.asarray(inputs[0], dtype="float64")
        output_storage[0][0], output_storage[1][0] = x + 1.0, x * 2.0

    def c_code_cache_version(self):
        return (1,)

    def c_code(self, node, name, inp, out, sub):
        (x,), (a, b) = inp, out
        lines = []
        for z, expr in ((a, "d[i] + 1.0"), (b, f"d[i] * {self.factor!r}")):
            lines.append(f"""
            Py_XDECREF({z});
            {z} = (PyArrayObject*)PyArray_FROM_OTF((PyObject*){x}, NPY_FLOAT64,
                                                 NPY_ARRAY_DEFAULT | NPY_ARRAY_ENSURECOPY);
            if (!{z}) {{ {sub["fail"]} }}
            {{
              double* d = (double*)PyArray_DATA({z});
              for (npy_intp i = 0; i < PyArray_SIZE({z}); i++) d[i] = {expr};
            }}""")
        return "\n".join(lines)


@needs_cc
def test_every_output_of_a_multi_output_kernel_is_compared():
    x = T.dvector("x")
    v = RNG.standard_normal(4)[::-1]
    good = function([x], list(PlusAndTimes(2.0)(x)), mode=DebugMode(optimizer=None))
    assert _native_nodes(good) == ["PlusAndTimes{factor=2.0}"]
    for got, want in zip(good(v), (v + 1, v * 2), strict=True):
        np.testing.assert_allclose(got, want)
    bad = function([x], list(PlusAndTimes(3.0)(x)), mode=DebugMode(optimizer=None))
    with pytest.raises(BadThunkOutput, match=r"disagree on output 1 at index \(0,\)") as info:
        bad(v)
    assert info.value.output == 1
    np.testing.assert_allclose(info.value.val2, v * 3)


@needs_cc
def test_a_c_only_op_runs_its_c_code_alone():
    from tests.backends.c.userops import VectorTimesScalar

    x, s = T.dvector("x"), T.dscalar("s")
    v = RNG.standard_normal(6)[::2]
    f = function([x, s], VectorTimesScalar()(x, s) + 1, mode="DebugMode")
    np.testing.assert_allclose(f(v, 3.0), v * 3 + 1)
    with pytest.raises(NotImplementedError, match="defines c_code but not perform"):
        function([x, s], VectorTimesScalar()(x, s), mode=DebugMode(check_c_code=False))
