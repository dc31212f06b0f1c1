"""The C step loop of Scan (backends/c/kernels/scan.py): native, and equal to perform's loop.

Each graph is compiled twice: with the C linker (the Scan node must run C code and the step
function must never be compiled for the Python loop) and with the NumPy engine (linker='py'),
whose Scan.perform is the reference: same values, dtypes and shapes. Several scans share one
function so that the file builds few C modules (gcc is slow here; modules are cached on disk).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c import kernel as kernel_module
from labsym.backends.c.kernels.scan import render_scan
from labsym.backends.c.module import c_compiler
from labsym.compile import Mode
from labsym.core.scan import reduce, until
from labsym.core.scan.op import Scan, ScanInfo

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")

CPY = Mode(linker="c|py", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")


def scan_nodes(f: labsym.Function) -> list:
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def assert_native(f: labsym.Function, count: int) -> None:
    """`count` Scan nodes, each marked C by the profile, none with a compiled Python step."""
    nodes = scan_nodes(f)
    assert len(nodes) == count
    assert scan_impls(f) == ["C"] * count
    for node in nodes:
        assert node.op._fns.get(f.maker.mode) is None  # the Python loop's step never compiled


def scan_impls(f: labsym.Function) -> list[str]:
    """'C' or 'Py' for each Scan node, as the function's profile marks them."""
    pairs = zip(f.profile.node_names, f.profile.node_impls, strict=True)
    return sorted(impl for name, impl in pairs if name.startswith("for{"))


def assert_same(got: list, want: list, exact: bool = True) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            tol = 2e-5 if g.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def compile_both(build, *args, **kwargs) -> tuple[labsym.Function, labsym.Function]:
    """The graph `build()` makes, compiled with the C linker (profiled) and the NumPy engine."""
    inputs, outputs, updates = build(*args)
    f_c = labsym.function(inputs, outputs, updates=updates, mode=CPY, profile=True, **kwargs)
    inputs, outputs, updates = build(*args)
    f_py = labsym.function(inputs, outputs, updates=updates, mode=PY, **kwargs)
    return f_c, f_py


def many_scans(dtype: str):
    """Sequences, taps [-1] and [-1, -3], a final value, nit_sot, shared updates, until, n_steps."""
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    h0, s0, a = T.vector("h0", dtype=dtype), T.matrix("s0", dtype=dtype), T.scalar("a", dtype=dtype)
    n = T.lscalar("n")
    # two sequences, one state, a non-sequence, a non-recurrent output
    (hs, prods), _ = labsym.scan(
        lambda x_t, y_t, h, a_: [h * a_ + x_t - y_t, h * x_t],
        sequences=[x, y],
        outputs_info=[h0, None],
        non_sequences=a,
    )
    # taps [-1, -3] over an initial buffer of 3 rows
    taps = labsym.scan(
        lambda x_t, s1, s3: s1 + s3 * x_t,
        sequences=x,
        outputs_info={"initial": s0, "taps": [-1, -3]},
        return_updates=False,
    )
    # only the last value kept: final-only states (a ring of 1 and of 3 rows)
    total, _ = reduce(lambda x_t, acc: T.maximum(acc, x_t) + x_t, sequences=x, outputs_info=h0)
    last3, _ = reduce(
        lambda x_t, s1, s3: s1 - s3 * x_t,
        sequences=x[::-1],
        outputs_info={"initial": s0, "taps": [-1, -3]},
    )
    # a shared variable updated through scan
    acc = labsym.shared(np.arange(x.type.shape[1] or 4).astype(dtype), name="acc")
    _, ups = labsym.scan(lambda x_t: {acc: acc + x_t * 2}, sequences=x)
    # until: doubling until the sum passes a limit (at most 20 steps)
    doubled = labsym.scan(
        lambda h: (h * 2, until(T.sum(h * 2) > 100)),
        outputs_info=h0,
        n_steps=20,
        return_updates=False,
    )
    # a symbolic number of steps (0 included), with a non-recurrent output
    (counts, squares), _ = labsym.scan(lambda h: [h + 1, h * h], outputs_info=[h0, None], n_steps=n)
    outs = [hs, prods, taps, total, last3, doubled, counts, squares]
    return [x, y, h0, s0, a, n], outs, ups


def many_inputs(dtype: str, rng: np.random.Generator, n: int) -> list:
    if dtype.startswith("int"):
        big = rng.integers(-3, 4, size=(14, 4)).astype(dtype)
        return [
            big[::2],
            big[1::2][::-1],
            *(rng.integers(1, 3, size=s).astype(dtype) for s in [(4,), (3, 4)]),
            np.asarray(2, dtype),
            n,
        ]
    big = rng.normal(size=(14, 4)).astype(dtype)
    h0 = (rng.random(4) + 0.5).astype(dtype)
    return [
        big[::2],
        big[1::2][::-1],
        h0,
        rng.normal(size=(3, 4)).astype(dtype),
        np.asarray(0.5, dtype),
        n,
    ]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_many_scans_native_and_equal_to_perform(dtype):
    f_c, f_py = compile_both(many_scans, dtype)
    assert_native(f_c, 7)
    rng = np.random.default_rng(0)
    for n in [3, 0]:
        args = many_inputs(dtype, rng, n)
        assert_same(f_c(*args), f_py(*args))
        assert_same(
            [v.get_value() for v in f_c.maker.shared], [v.get_value() for v in f_py.maker.shared]
        )


def rnn(dtype: str):
    x, h0 = T.tensor3("x", dtype=dtype), T.matrix("h0", dtype=dtype)
    w, u = T.matrix("w", dtype=dtype), T.matrix("u", dtype=dtype)
    hs = labsym.scan(
        lambda x_t, h: T.tanh(T.dot(x_t, w) + T.dot(h, u)),
        sequences=x,
        outputs_info=h0,
        return_updates=False,
    )
    cost = (hs**2).sum()
    return [x, h0, w, u], [cost, hs, *labsym.grad(cost, [w, u, h0])], None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rnn_gradient_bptt_native(dtype):
    f_c, f_py = compile_both(rnn, dtype)
    assert_native(f_c, 2)  # the forward loop and the BPTT loop
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3, 5)).astype(dtype)[::2]  # non-contiguous steps
    args = [x, *(rng.normal(size=s).astype(dtype) * 0.5 for s in [(3, 4), (5, 4), (4, 4)])]
    assert_same(f_c(*args), f_py(*args), exact=False)


def test_c_loop_is_bitwise_the_python_loop_over_the_same_kernels(monkeypatch):
    """With transcendental ops: the C loop equals perform running the same C inner kernels."""
    f_c, _ = compile_both(rnn, "float64")
    monkeypatch.setitem(kernel_module._RENDERERS, Scan, lambda node: None)
    inputs, outputs, _ = rnn("float64")
    f_loop = labsym.function(inputs, outputs, mode=CPY)
    assert all(node.op._fns.get(f_loop.maker.mode) is None for node in scan_nodes(f_loop))
    rng = np.random.default_rng(2)
    args = [rng.normal(size=s) for s in [(6, 3, 5), (3, 4), (5, 4), (4, 4)]]
    assert_same(f_c(*args), f_loop(*args))
    assert all(node.op._fns.get(f_loop.maker.mode) for node in scan_nodes(f_loop))


def direct_scan():
    """A Scan node built directly (scan() never asks for more steps than a sequence has)."""
    seq, h = T.dvector("seq_t"), T.dvector("h")
    info = ScanInfo(
        n_seqs=1, state_taps=((-1,),), final_only=(False,), n_nit_sot=0, n_shared=0, n_nonseqs=0
    )
    n, x, h0 = T.lscalar("n"), T.dmatrix("x"), T.dmatrix("h0")
    (out,) = Scan([seq, h], [h + seq], info).make_node(n, x, h0).outputs
    return [n, x, h0], [out], None


def shape_changes():
    h0 = T.dvector("h0")
    grown = labsym.scan(
        lambda h: T.concatenate([h, h[:1]]), outputs_info=h0, n_steps=3, return_updates=False
    )
    return [h0], [grown], None


def test_errors_have_perform_messages():
    f_c, f_py = compile_both(direct_scan)
    assert_native(f_c, 1)
    x, h0 = np.ones((3, 2)), np.zeros((1, 2))
    assert_same(f_c(3, x, h0), f_py(3, x, h0))
    for n in [4, -1]:
        messages = []
        for f in (f_c, f_py):
            with pytest.raises(ValueError) as err:
                f(n, x, h0)
            messages.append(str(err.value).splitlines()[0])
        assert messages[0] == messages[1]
        assert ("fewer than the 4 steps" if n == 4 else "negative number of steps (-1)") in (
            messages[0]
        )
    with pytest.raises(ValueError, match="initial state 0 has 0 rows"):
        f_c(2, x, np.zeros((0, 2)))


def test_shape_change_errors_have_perform_messages():
    f_c, f_py = compile_both(shape_changes)
    assert_native(f_c, 1)
    want = (
        r"at step 0 the inner function returned shape \(3,\) for state 0, whose initial value "
        r"has rows of shape \(2,\); a state must keep its shape"
    )
    for f in (f_c, f_py):
        with pytest.raises(ValueError, match=want):
            f(np.zeros(2))


def cut_outputs():
    h0, k = T.dvector("h0"), T.lvector("k")
    (_, cut), _ = labsym.scan(lambda k_t, h: [h + 1, h[:k_t]], sequences=k, outputs_info=[h0, None])
    return [h0, k], [cut], None


def test_nit_sot_shape_change_message():
    f_c, f_py = compile_both(cut_outputs)
    assert_native(f_c, 1)
    assert_same(f_c(np.arange(3.0), np.array([2, 2])), f_py(np.arange(3.0), np.array([2, 2])))
    want = r"output 0 has shape \(1,\) at step 1 but \(2,\) at step 0; every step must return"
    for f in (f_c, f_py):
        with pytest.raises(ValueError, match=want):
            f(np.arange(3.0), np.array([2, 1]))


class NoC(labsym.Op):
    """An op with perform only: a scan holding it keeps the Python loop."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] * 3 - 1


def no_c_scan():
    h0 = T.dvector("h0")
    hs = labsym.scan(lambda h: NoC()(h) + h, outputs_info=h0, n_steps=4, return_updates=False)
    return [h0], [hs], None


def test_inner_op_without_c_code_keeps_the_python_loop():
    f_c, f_py = compile_both(no_c_scan)
    (node,) = scan_nodes(f_c)
    assert scan_impls(f_c) == ["Py"]
    h0 = np.array([0.5, -1.0])
    assert_same(f_c(h0), f_py(h0))
    assert node.op._fns.get(f_c.maker.mode) is not None


def aliasing():
    """Inner outputs that are inner inputs: swapped states and shared values, a carried input."""
    x, h0, g0 = T.dmatrix("x"), T.dvector("h0"), T.dvector("g0")
    a = labsym.shared(np.arange(3.0), name="a")
    b = labsym.shared(np.arange(3.0) + 10, name="b")
    (h_last, g_last), ups = reduce(
        lambda x_t, h, g: ([g, h + x_t], {a: b, b: a + x_t}),
        sequences=x,
        outputs_info=[h0, g0],
    )
    swapped = labsym.scan(
        lambda x_t, h, g: [g[::-1], h + x_t],
        sequences=x,
        outputs_info=[h0, g0],
        return_updates=False,
    )
    # a ring of 2 rows: the new value is the reversed row it overwrites (overlapping copy)
    ring, _ = reduce(
        lambda x_t, s1, s2: s2[::-1],
        sequences=x,
        outputs_info={"initial": T.stack([h0, g0]), "taps": [-1, -2]},
    )
    w = T.dscalar("w")
    out = labsym.scan(
        lambda x_t, h, w_: T.tanh(h * w_ + x_t),
        sequences=x[:, 0],
        outputs_info=T.zeros_like(w),
        non_sequences=w,
        return_updates=False,
    )
    second = labsym.grad(labsym.grad(out.sum(), w), w)  # its inner graphs return carried inputs
    return [x, h0, g0, w], [h_last, g_last, *swapped, ring, second], ups


def test_inner_outputs_aliasing_inner_inputs():
    f_c, f_py = compile_both(aliasing)
    assert set(scan_impls(f_c)) == {"C"}
    rng = np.random.default_rng(3)
    args = [rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3), 0.4]
    got, want = f_c(*args), f_py(*args)
    assert_same(got[:5], want[:5])
    assert_same(got[5:], want[5:], exact=False)
    assert_same(
        [v.get_value() for v in f_c.maker.shared], [v.get_value() for v in f_py.maker.shared]
    )


def nested():
    """jacobian of a recurrence's last state (a map scan whose inner graph holds the BPTT scan),
    and a loop whose step runs two equal scans (their inlined loops need distinct labels)."""
    w, h0, x = T.dmatrix("w"), T.dvector("h0"), T.dmatrix("x")
    hs = labsym.scan(
        lambda h, w_: T.tanh(T.dot(w_, h)),
        outputs_info=h0,
        non_sequences=w,
        n_steps=5,
        return_updates=False,
    )

    def twice(s0):
        return labsym.scan(
            lambda s: T.tanh(s) * 0.5 + 1, outputs_info=s0, n_steps=3, return_updates=False
        )[-1]

    twins = labsym.scan(
        lambda x_t, h: twice(x_t) + twice(h), sequences=x, outputs_info=h0, return_updates=False
    )
    return [w, h0, x], [labsym.gradient.jacobian(hs[-1], h0), twins], None


def test_nested_scans():
    f_c, f_py = compile_both(nested)
    assert_native(f_c, 3)
    inner_scans = [
        sum(isinstance(m.op, Scan) for m in n.op.fgraph.apply_nodes) for n in scan_nodes(f_c)
    ]
    assert sorted(inner_scans) == [0, 1, 2]
    rng = np.random.default_rng(4)
    args = [rng.normal(size=(6, 6)) * 0.5, rng.normal(size=6), rng.normal(size=(4, 6))]
    assert_same(f_c(*args), f_py(*args), exact=False)


class PlusOneC(labsym.Op):
    """x + 1 (float64) by a Theano-style c_code holding a label: inlined twice, labels clash."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] + 1

    def c_code(self, node, name, inp, out, sub):
        (x,), (z,), fail = inp, out, sub["fail"]
        return f"""
        Py_XDECREF({z});
        {z} = (PyArrayObject*)PyArray_NewCopy({x}, NPY_CORDER);
        if (!{z}) {fail}
        for (npy_intp i = 0; i < PyArray_SIZE({z}); i++) ((double*)PyArray_DATA({z}))[i] += 1;
        goto {name}_done;
{name}_done: ;
        """


def labelled():
    h0 = T.dvector("h0")
    once = labsym.scan(
        lambda h: PlusOneC()(h) * 2, outputs_info=h0, n_steps=3, return_updates=False
    )
    twice = labsym.scan(
        lambda h: PlusOneC()(PlusOneC()(h) * 2), outputs_info=h0, n_steps=3, return_updates=False
    )
    return [h0], [once, twice], None


def test_user_c_code_with_labels_inlined_once_else_python_loop():
    f_c, f_py = compile_both(labelled)
    assert scan_impls(f_c) == ["C", "Py"]
    once, twice = sorted(scan_nodes(f_c), key=lambda n: len(n.op.fgraph.apply_nodes))
    assert render_scan(once, mode=f_c.maker.mode) is not None
    assert render_scan(twice, mode=f_c.maker.mode) is None
    h0 = np.array([0.5, -2.0])
    assert_same(f_c(h0), f_py(h0))


def logs():
    h0 = T.dvector("h0")
    return [h0], [labsym.scan(lambda h: T.log(h - 1), outputs_info=h0, n_steps=3)[0]], None


def test_floating_point_warnings_follow_numpy_policy_without_rerunning_the_loop():
    # the C loop reports the IEEE flags under the scan's name (re-running the whole loop in
    # Python for NumPy's own message cost more than the C loop); np.errstate is honoured
    f_c, f_py = compile_both(logs)
    assert_native(f_c, 1)
    h0 = np.array([5.0, 0.5])
    messages = []
    for f in (f_c, f_py):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            f(h0)
        messages.append([str(w.message) for w in caught])
        with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="invalid"):
            f(h0)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")
            f(h0)
    (message,) = messages[0]
    assert message.startswith("invalid value encountered in for{cpu,scan_fn} (in Apply node ")
    assert "invalid value encountered in log" in messages[1][0]
    assert_native(f_c, 1)  # still no Python step function: nothing re-ran the loop
    assert_same(f_c(np.array([500.0, 300.0])), f_py(np.array([500.0, 300.0])), exact=False)


def test_scan_with_its_own_checking_mode_keeps_the_python_loop():
    from labsym.compile.nanguardmode import NanGuardMode

    x, h0 = T.dvector("x"), T.dscalar("h0")
    guard = NanGuardMode(nan_is_error=True, inf_is_error=False, big_is_error=False)
    for mode in (guard, "NanGuardMode"):
        hs = labsym.scan(lambda x_t, h: x_t * 2 + h, sequences=[x], outputs_info=[h0], mode=mode)
        f = labsym.function([x, h0], hs[0], mode=CPY, profile=True)
        assert scan_impls(f) == ["Py"]
        with pytest.raises(Exception, match="NaN"):
            f(np.array([1.0, np.nan, 2.0]), 0.0)


def test_a_signal_handler_interrupts_the_c_loop():
    import signal
    import time

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    h, n = T.dscalar("h"), T.lscalar("n")
    hs = labsym.scan(lambda v: T.sin(v) + 1e-9, outputs_info=[h], n_steps=n)[0]
    f = labsym.function([h, n], hs[-1], mode=CPY, profile=True)
    assert scan_impls(f) == ["C"]
    f(0.1, 10)
    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        start = time.perf_counter()
        with pytest.raises(Stop):
            f(0.1, 20_000_000)  # ~3 s to the end: stopped long before
        assert time.perf_counter() - start < 2.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes (PEP 678) need 3.11")
def test_an_inner_kernel_error_names_the_inner_node_and_the_step():
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    hs = labsym.scan(lambda x_t, h: h + x_t, sequences=[x], outputs_info=[h0])[0]
    f = labsym.function([x, h0], hs, mode=CPY, profile=True)
    assert scan_impls(f) == ["C"]
    with pytest.raises(ValueError) as err:
        f(np.ones((3, 2)), np.zeros(3))  # h (3,) + x_t (2,) does not broadcast at step 0
    notes = getattr(err.value, "__notes__", [])
    assert any(
        n.startswith("raised by the scan's inner node Elemwise{add") and n.endswith("at step 0")
        for n in notes
    ), notes


def test_a_call_failing_mid_loop_leaves_shared_variables_unchanged():
    # step 2 raises (integer power with a negative exponent, NumPy's ValueError): the shared
    # state the scan feeds and the function's own update keep their values
    x, h0 = T.lvector("x"), T.lscalar("h0")
    total = labsym.shared(np.int64(10), name="total")
    hs = labsym.scan(lambda x_t, h: (h + 1) ** x_t, sequences=[x], outputs_info=[h0])[0]
    f = labsym.function([x, h0], hs, updates=[(total, total + hs.sum())], mode=CPY, profile=True)
    assert scan_impls(f) == ["C"]
    np.testing.assert_array_equal(f(np.array([1, 2]), 1), [2, 9])
    assert int(total.get_value()) == 21
    with pytest.raises(ValueError, match="negative integer powers") as err:
        f(np.array([1, 2, -1]), 1)
    assert any("at step 2" in n for n in getattr(err.value, "__notes__", ["at step 2"]))
    assert int(total.get_value()) == 21
