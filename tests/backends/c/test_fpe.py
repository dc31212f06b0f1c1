"""C kernels warn about divide-by-zero/overflow/invalid exactly as the NumPy engine does."""

import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.build import compiler_available

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")


def c_function(inputs, output, **kwargs):
    """A function whose nodes run C code (c|py builds the module before returning)."""
    return labsym.function(inputs, output, mode=labsym.Mode(linker="c|py"), **kwargs)


def caught(f, *args):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = f(*args)
    return out, [str(w.message) for w in seen if w.category is RuntimeWarning]


@pytest.mark.parametrize(
    ("build", "value", "text"),
    [
        (lambda x: T.log(x), -1.0, "invalid value encountered in log"),
        (lambda x: T.log(x) * 2, -1.0, "invalid value encountered in log"),  # a Composite
        (lambda x: 1.0 / x, 0.0, "divide by zero encountered in divide"),
        (lambda x: T.exp(x), 1000.0, "overflow encountered in exp"),
        (lambda x: T.nnet.softmax(x) * T.log(x), -1.0, "invalid value encountered in log"),
    ],
)
def test_flags_give_numpys_warning_naming_the_node(build, value, text):
    x = T.dvector("x")
    f = c_function([x], build(x))
    out, messages = caught(f, np.array([value, 1.0]))
    reference, _ = caught(
        labsym.function([x], build(x), mode=labsym.Mode(linker="py")), np.array([value, 1.0])
    )
    np.testing.assert_allclose(out, reference, rtol=1e-14)
    assert len(messages) == 1 and messages[0].startswith(text + " (in Apply node")
    _, messages = caught(f, np.array([2.0, 1.0]))
    assert messages == []  # valid inputs: no flags, no warning


def test_sum_overflow_warns_like_numpy():
    x, d = T.fvector("x"), T.dvector("d")
    # float32 accumulates in float64 (Theano's default): the overflow is in the final cast
    f = c_function([x], T.sum(x))
    _, messages = caught(f, np.full(4, 3e38, dtype=np.float32))
    assert [m.split(" (in Apply")[0] for m in messages] == ["overflow encountered in cast"]
    f = c_function([d], T.sum(d))
    _, messages = caught(f, np.full(4, 1e308))
    assert [m.split(" (in Apply")[0] for m in messages] == ["overflow encountered in reduce"]


def test_errstate_policies_apply_to_c_code():
    x = T.dvector("x")
    f = c_function([x], T.log(x) * 2)
    with np.errstate(invalid="ignore"):
        assert caught(f, np.array([-1.0]))[1] == []
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="log"):
        f(np.array([-1.0]))


def test_inplace_kernels_report_without_rerunning_on_overwritten_inputs():
    a, v = T.dmatrix("a"), T.dvector("v")
    f = labsym.function(
        [a, v], T.log(T.dot(a, v)), mode=labsym.Mode(linker="c|py", optimizer="fast_run")
    )
    assert any(node.op.destroy_map for node in f.maker.fgraph.toposort())
    out, messages = caught(f, np.eye(2), np.array([-1.0, 1.0]))
    assert np.isnan(out[0]) and out[1] == 0.0
    assert len(messages) == 1
    assert messages[0].startswith("invalid value encountered in Elemwise{Log}[(0, 0)] (in Apply")


def test_call_and_print_policies_get_numpys_arguments(capsys):
    x = T.dvector("x")
    f = c_function([x], T.log(x) * 2)
    seen = []
    with np.errstate(invalid="call", divide="ignore"):
        old = np.seterrcall(lambda text, flag: seen.append((text, flag)))
        try:
            f(np.array([-1.0]))
        finally:
            np.seterrcall(old)
    numpy_seen = []
    with np.errstate(invalid="call"):
        old = np.seterrcall(lambda text, flag: numpy_seen.append((text, flag)))
        try:
            np.log(np.array([-1.0]))
        finally:
            np.seterrcall(old)
    assert seen == numpy_seen == [("invalid value", 8)]


def test_inplace_report_uses_numpys_bits_for_handlers():
    from labsym.backends.c.fpe import report_flags

    seen = []
    with np.errstate(all="call"):
        old = np.seterrcall(lambda text, flag: seen.append((text, flag)))
        try:
            report_flags(4 | 8 | 16 | 2, "op")
        finally:
            np.seterrcall(old)
    assert seen == [("divide by zero", 1), ("overflow", 2), ("invalid value", 8)]


def test_ignored_flags_do_not_rerun_numpy():
    from labsym.backends.c import fpe

    x = T.dvector("x")
    node = c_function([x], T.log(x) * 2).maker.fgraph.toposort()[0]
    reruns = []
    report = fpe.fp_reporter(node)
    rerun = report.__closure__[0].cell_contents  # the node's NumPy code: count its runs
    report.__closure__[0].cell_contents = lambda *a: reruns.append(a) or rerun(*a)
    with np.errstate(invalid="ignore"):
        report(2 | 16, np.array([-1.0]))
    assert reruns == []
    with np.errstate(invalid="warn"), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        report(2 | 16, np.array([-1.0]))
    assert len(reruns) == 1


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_division_by_zero_warns_like_numpy(dtype):
    a, b = T.vector(dtype=dtype), T.vector(dtype=dtype)
    x, y = np.array([5, 3, 7], dtype), np.array([0, 2, 0], dtype)
    for op, name in ((a // b, "floor_divide"), (a % b, "remainder")):
        f = c_function([a, b], op)
        out, messages = caught(f, x, y)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(out, (x // y) if name == "floor_divide" else (x % y))
        assert [m.split(" (in Apply")[0] for m in messages] == [
            f"divide by zero encountered in {name}"
        ]
        with np.errstate(divide="raise"), pytest.raises(FloatingPointError, match="divide"):
            f(x, y)
