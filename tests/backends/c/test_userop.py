"""Ops with Theano's C methods (the "Extending Theano with a C Op" tutorial) in labsym.function."""

from __future__ import annotations

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.cache import CCompileError
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.module import c_compiler
from labsym.compile import Mode
from tests.backends.c.userops import DoubleBoth, DoubleCOp, SplitSigns, VectorTimesScalar

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
RNG = np.random.default_rng(7)


def _views(shape, dtype):
    """A C-contiguous array and non-contiguous / negative-stride views of the same dtype."""
    base = RNG.standard_normal(tuple(2 * n for n in shape)).astype(dtype)
    yield np.ascontiguousarray(base[tuple(slice(0, n) for n in shape)])
    yield base[tuple(slice(None, None, 2) for _ in shape)]
    yield base[tuple(slice(None, None, -2) for _ in shape)]


@pytest.fixture(scope="module")
def vts():
    """The tutorial's VectorTimesScalar in FAST_RUN (C only: links synchronously), f64 and f32."""
    out = {}
    for dtype in ("float64", "float32"):
        x, y = T.vector("x", dtype=dtype), T.scalar("y", dtype=dtype)
        out[dtype] = labsym.function([x, y], VectorTimesScalar()(x, y))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tutorial_vector_times_scalar_runs_without_perform(vts, dtype):
    f = vts[dtype]
    assert f._program.native
    for x in _views((7,), dtype):
        got = f(x, np.asarray(1.5, dtype=dtype))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, x * np.asarray(1.5, dtype=dtype))
    assert f(np.zeros(0, dtype=dtype), 2).shape == (0,)


@pytest.fixture(scope="module")
def double():
    """DoubleCOp (C only) and DoubleBoth (C and perform) in one c|py function per dtype."""
    out = {}
    for dtype in ("float64", "float32"):
        m = T.matrix("m", dtype=dtype)
        outs = [DoubleCOp()(m), DoubleBoth()(m) + 1]
        out[dtype] = labsym.function([m], outs, mode=Mode(linker="c|py"))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_double_op_with_support_code_on_views(double, dtype):
    for m in _views((3, 4), dtype):
        c_only, both = double[dtype](m)
        np.testing.assert_array_equal(c_only, 2 * m)
        np.testing.assert_array_equal(both, 2 * m + 1)
        assert c_only.dtype == both.dtype == dtype


def test_c_and_perform_agree_on_random_inputs(double):
    m = T.dmatrix("m")
    perform = labsym.function([m], DoubleBoth()(m) + 1, mode="FAST_COMPILE")
    for shape in [(0, 3), (1, 1), (5, 2), (4, 9)]:
        for x in _views(shape, "float64"):
            np.testing.assert_array_equal(double["float64"](x)[1], perform(x))


def test_errors_raised_in_c_code_reach_the_caller(double):
    bad = np.array([[1.0, np.nan]])
    with pytest.raises(FloatingPointError, match="DoubleCOp: NaN input"):
        double["float64"](bad)
    np.testing.assert_array_equal(double["float64"](np.ones((1, 2)))[0], [[2.0, 2.0]])


def test_two_outputs_and_the_numpy_engine_between_c_nodes():
    x = T.dvector("x")
    pos, neg = SplitSigns()(x)
    # argsort has no C kernel: it runs on the NumPy engine between the C nodes
    out = DoubleBoth()(T.argsort(pos).astype("float64")) + neg
    f = labsym.function([x], [pos, neg, out], mode=Mode(linker="c|py"), profile=True)
    impls = {type(n.op).__name__: i for n, i in zip(f.profile.nodes, f.profile.node_impls)}
    assert impls["SplitSigns"] == impls["DoubleBoth"] == "C" and impls["ArgSortOp"] == "Py"
    values = np.array([-1.5, 2.0, 0.0, 3.0, -0.5])
    for v in (values, values[::-1], values[::2]):
        p, n, o = f(v)
        np.testing.assert_array_equal(p, np.maximum(v, 0))
        np.testing.assert_array_equal(n, np.minimum(v, 0))
        np.testing.assert_array_equal(o, 2 * np.argsort(np.maximum(v, 0)) + np.minimum(v, 0))
    assert kernel_for(T.argsort(x).owner) is None


def test_numpy_only_linkers_refuse_a_c_only_op_at_compile_time():
    x = T.dmatrix("x")
    with pytest.raises(NotImplementedError, match="only a C linker can run it") as info:
        labsym.function([x], DoubleCOp()(x), mode="FAST_COMPILE")
    assert "DoubleCOp defines c_code but not perform" in str(info.value)


def test_broken_c_code_is_a_compile_error_naming_the_compiler_output():
    class Broken(DoubleBoth):
        def c_code(self, node, name, inp, out, sub):
            return "this is not C;"

    x = T.dvector("x")
    with pytest.raises(CCompileError, match="this is not C"):
        labsym.function([x], Broken()(x), mode=Mode(linker="c|py"))


def test_c_init_code_runs_once_when_the_module_loads():
    class ScaleSetByInit(DoubleBoth):
        """labsym_test_twice multiplies by a static that only c_init_code sets (to 2)."""

        def c_support_code(self):
            return (
                "static double labsym_init_scale = 0.0;\n"
                "static double labsym_test_twice(double v) { return labsym_init_scale * v; }"
            )

        def c_init_code(self):
            # Theano programs often put import_array() here; it returns NULL on failure
            return ["import_array();", "labsym_init_scale += 2.0;"]

        def c_headers(self):
            return ["math.h", '"numpy/arrayobject.h"']  # Theano's spellings of both kinds

    x = T.dvector("x")
    f = labsym.function([x], ScaleSetByInit()(x), mode=Mode(linker="c|py"))
    g = labsym.function([x], ScaleSetByInit()(x), mode=Mode(linker="c|py"))  # same module
    np.testing.assert_array_equal(f(np.array([1.0, 3.0])), [2.0, 6.0])
    np.testing.assert_array_equal(g(np.array([1.0, 3.0])), [2.0, 6.0])  # init ran once


def test_two_instances_with_different_per_node_support_code_get_different_names():
    class Offset(DoubleBoth):
        """`offset` is not in __props__, so both instances print as "Offset"."""

        def __init__(self, offset):
            self.offset = offset

        def c_support_code_apply(self, node, name):
            own = f"static double {name}_offset(void) {{ return {self.offset}; }}"
            return super().c_support_code_apply(node, name) + "\n" + own

        def c_code(self, node, name, inp, out, sub):
            code = super().c_code(node, name, inp, out, sub)
            return code.replace("labsym_test_twice(", f"{name}_offset() + labsym_test_twice(")

    x = T.dvector("x")
    outs = [Offset(1.0)(x), Offset(5.0)(x)]  # equal props: no merge rewrite may run
    f = labsym.function([x], outs, mode=Mode(linker="c|py", optimizer=None))
    one, five = f(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(one, [3.0, 5.0])
    np.testing.assert_array_equal(five, [7.0, 9.0])
