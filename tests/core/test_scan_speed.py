"""Scan rewrites that take work out of loops: the backward loop reading the forward's stored
outputs, pushing sequence products and accumulators out, pruning unread outputs. Values are
compared with NumPy and with the same graph compiled with the rewrites excluded."""

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from labsym.compile import Mode
from labsym.core.autodiff import GradientError
from labsym.core.graph import io_toposort
from labsym.core.ops.blas import Dot
from labsym.core.scan import until
from labsym.core.scan.op import Scan

FAST = Mode(linker="py", optimizer="fast_run")
REWRITES = (
    "scan_pushout_seqs_ops",
    "scan_pushout_accumulators",
    "scan_prune_outputs",
    "scan_keep_init",
    "scan_join_init",
)
PLAIN = FAST.excluding(*REWRITES)
RNG = np.random.default_rng(7)


def _scans(f) -> list:
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def _inner_ops(node) -> list:
    fg = node.op.fgraph
    return [type(a.op) for a in io_toposort(fg.inputs, fg.outputs)]


def _rnn(dtype: str):
    x, h0 = T.tensor3("x", dtype=dtype), T.matrix("h0", dtype=dtype)
    w, u, b = T.matrix("w", dtype=dtype), T.matrix("u", dtype=dtype), T.vector("b", dtype=dtype)

    def step(x_t, h, w_, u_, b_):
        return T.tanh(T.dot(x_t, w_) + T.dot(h, u_) + b_)

    hs = labsym.scan(step, sequences=x, outputs_info=h0, non_sequences=[w, u, b])[0]
    cost = (hs**2).mean()
    return [x, w, u, b, h0], [cost, *labsym.grad(cost, [w, u, b, h0])]


def _numpy_rnn(x, w, u, b, h0):
    steps = x.shape[0]
    hs, h = [], h0
    for t in range(steps):
        h = np.tanh(x[t] @ w + h @ u + b)
        hs.append(h)
    hs = np.stack(hs)
    dhs = 2 * hs / hs.size
    gw, gu, gb = np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    carry = np.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        da = (dhs[t] + carry) * (1 - hs[t] ** 2)
        prev = hs[t - 1] if t else h0
        gw += x[t].T @ da
        gu += prev.T @ da
        gb += da.sum(0)
        carry = da @ u.T
    return [np.mean(hs**2), gw, gu, gb, carry]


def _rnn_data(dtype, steps=6, batch=3, n_in=4, hidden=5):
    x = RNG.standard_normal((steps, batch, n_in)).astype(dtype)
    w = (RNG.standard_normal((n_in, hidden)) / 2).astype(dtype)
    u = (RNG.standard_normal((hidden, hidden)) / 3).astype(dtype)
    b = RNG.standard_normal(hidden).astype(dtype)
    h0 = RNG.standard_normal((batch, hidden)).astype(dtype)
    return [x, w, u, b, h0]


@pytest.mark.parametrize("linker", ["py", "c|py"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rnn_gradients_equal_numpy_and_the_plain_loops(dtype, linker):
    if linker != "py" and not compiler_available():
        pytest.skip("no C compiler on PATH")
    inputs, outputs = _rnn(dtype)
    fast = labsym.function(inputs, outputs, mode=Mode(linker=linker, optimizer="fast_run"))
    plain = labsym.function(inputs, outputs, mode=PLAIN)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for steps in [1, 6]:
        data = _rnn_data(dtype, steps)
        for got, ref, expected in zip(fast(*data), plain(*data), _numpy_rnn(*data), strict=True):
            assert got.dtype == ref.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
            np.testing.assert_allclose(got, expected, rtol=10 * tol, atol=10 * tol)
    data = _rnn_data(dtype, 1)
    data[0] = data[0][:0]  # no step: zero gradients (the stacked deltas are never read)
    with np.errstate(invalid="ignore", divide="ignore"):
        for got, ref in zip(fast(*data), plain(*data), strict=True):
            assert got.shape == ref.shape
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, equal_nan=True)


def test_rnn_loops_after_the_rewrites():
    """Forward: dot(x[t], w) before the loop; backward: one dot per step (the carry), no
    recomputed tanh, no accumulators, no gradient of x nobody asked for."""
    inputs, outputs = _rnn("float64")
    forward, backward = _scans(labsym.function(inputs, outputs, mode=FAST))
    assert _inner_ops(forward).count(Dot) == 1
    back_ops = _inner_ops(backward)
    assert back_ops.count(Dot) == 1
    assert backward.op.info.n_states == 1  # the carry; the three accumulators left the loop
    assert backward.op.info.n_nit_sot == 1  # the stacked per-step delta
    names = [str(a.op) for a in io_toposort(backward.op.fgraph.inputs, backward.op.fgraph.outputs)]
    assert not any("tanh" in name for name in names)
    plain_back = _scans(labsym.function(inputs, outputs, mode=PLAIN))[1]
    assert plain_back.op.info.n_states == 4


def test_backward_reuses_forward_outputs_with_rewrites_off():
    """The gradient construction itself reads stored forward values (no rewrite involved)."""
    inputs, outputs = _rnn("float64")
    back = _scans(labsym.function(inputs, outputs, mode=Mode(linker="py", optimizer=None)))[-1]
    names = [str(a.op) for a in io_toposort(back.op.fgraph.inputs, back.op.fgraph.outputs)]
    assert not any("tanh" in name for name in names)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_reduce_accumulator_leaves_the_loop(go_backwards):
    """A reduce whose state only sums terms: no loop remains, the values are the loop's."""
    x = T.dmatrix("x")
    total = labsym.reduce(
        lambda v, acc: acc + (v**2).sum(),
        sequences=x,
        outputs_info=T.zeros(()),
        go_backwards=go_backwards,
    )[0]
    fast = labsym.function([x], total, mode=FAST)
    plain = labsym.function([x], total, mode=PLAIN)
    assert not _scans(fast) and len(_scans(plain)) == 1
    for shape in [(5, 3), (1, 4), (0, 2)]:
        xv = RNG.standard_normal(shape)
        np.testing.assert_allclose(fast(xv), plain(xv), rtol=1e-13)
        np.testing.assert_allclose(fast(xv), (xv**2).sum(), rtol=1e-13)


def test_accumulated_outer_products_become_a_tensordot():
    """acc += outer(h[t], y[t]) beside a carried state h: the sum leaves the loop."""
    xs, ys = T.dmatrix("xs"), T.dmatrix("ys")
    a0, h0 = T.dmatrix("a0"), T.dvector("h0")

    def step(x, y, acc, h):
        h_new = T.tanh(h + x)
        return [acc + T.dot(h_new.dimshuffle(0, "x"), y.dimshuffle("x", 0)), h_new]

    outs = labsym.reduce(step, sequences=[xs, ys], outputs_info=[a0, h0])[0]
    fast = labsym.function([xs, ys, a0, h0], outs, mode=FAST)
    plain = labsym.function([xs, ys, a0, h0], outs, mode=PLAIN)
    (node,) = _scans(fast)
    assert node.op.info.n_states == 1 and node.op.info.n_nit_sot == 1  # h, and h stacked
    assert any("TensorDot" in str(n.op) for n in fast.maker.fgraph.toposort())
    for steps in [5, 1]:
        xv, yv = RNG.standard_normal((steps, 3)), RNG.standard_normal((steps, 2))
        a0v, h0v = RNG.standard_normal((3, 2)), RNG.standard_normal(3)
        h, acc_v = h0v, a0v
        for t in range(steps):
            h = np.tanh(h + xv[t])
            acc_v = acc_v + np.outer(h, yv[t])
        for got, ref, e in zip(fast(xv, yv, a0v, h0v), plain(xv, yv, a0v, h0v), [acc_v, h]):
            np.testing.assert_allclose(got, ref, rtol=1e-13)
            np.testing.assert_allclose(got, e, rtol=1e-13)


def test_accumulator_read_inside_the_loop_stays():
    xs, a0 = T.dvector("xs"), T.dscalar("a0")

    def step(x, acc):
        new = acc + x
        return [new, new * acc]  # acc is read twice: not a pure accumulator

    (accs, prods), _ = labsym.scan(step, sequences=xs, outputs_info=[a0, None])
    f = labsym.function([xs, a0], [accs, prods], mode=FAST)
    (node,) = _scans(f)
    assert node.op.info.n_states == 1
    xv = RNG.standard_normal(4)
    acc, rows_a, rows_p = 0.5, [], []
    for x in xv:
        rows_p.append((acc + x) * acc)
        acc = acc + x
        rows_a.append(acc)
    got_a, got_p = f(xv, 0.5)
    np.testing.assert_allclose(got_a, rows_a, rtol=1e-14)
    np.testing.assert_allclose(got_p, rows_p, rtol=1e-14)


def test_sequence_products_leave_the_loop():
    xs, h0, w = T.dtensor3("xs"), T.dvector("h0"), T.dmatrix("w")

    def step(x, h, w_):
        return T.tanh(T.dot(w_, x).sum(axis=1) + h)

    hs, _ = labsym.scan(step, sequences=xs, outputs_info=h0, non_sequences=w)
    fast = labsym.function([xs, h0, w], hs, mode=FAST)
    plain = labsym.function([xs, h0, w], hs, mode=PLAIN)
    (node,) = _scans(fast)
    assert Dot not in _inner_ops(node)
    xv = RNG.standard_normal((4, 3, 2))
    h0v, wv = RNG.standard_normal(5), RNG.standard_normal((5, 3))
    rows, h = [], h0v
    for x in xv:
        h = np.tanh((wv @ x).sum(axis=1) + h)
        rows.append(h)
    np.testing.assert_allclose(fast(xv, h0v, wv), plain(xv, h0v, wv), rtol=1e-13)
    np.testing.assert_allclose(fast(xv, h0v, wv), np.stack(rows), rtol=1e-13)


def test_unread_outputs_are_pruned():
    xs, h0 = T.dvector("xs"), T.dscalar("h0")

    def step(x, h):
        return [h * 0.5 + x, T.exp(x) * h, T.sin(h)]

    (hs, ys, zs), _ = labsym.scan(step, sequences=xs, outputs_info=[h0, None, None])
    f = labsym.function([xs, h0], zs, mode=FAST)
    (node,) = _scans(f)
    assert node.op.info.n_nit_sot == 1 and node.op.info.n_states == 1
    xv = RNG.standard_normal(5)
    h, rows = 0.3, []
    for x in xv:
        rows.append(np.sin(h))
        h = h * 0.5 + x
    np.testing.assert_allclose(f(xv, 0.3), rows, rtol=1e-14)


@pytest.mark.parametrize("name", [*REWRITES, "scan"])
def test_each_rewrite_can_be_excluded(name):
    inputs, outputs = _rnn("float64")
    data = _rnn_data("float64")
    f = labsym.function(inputs, outputs, mode=FAST.excluding(name))
    for got, ref in zip(f(*data), _numpy_rnn(*data), strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("linker", ["py", "c|py"])
@pytest.mark.parametrize("shape", [(), (3, 2)])
def test_final_only_state_rebound_each_step(linker, shape):
    """reduce keeps only the last value (rebound, not copied, per step): 0-d and matrix
    states, float32 kept as float32, the NumPy and C engines."""
    if linker != "py" and not compiler_available():
        pytest.skip("no C compiler on PATH")
    xs = T.tensor("float32", shape=(None, *shape), name="xs")
    a0 = T.tensor("float32", shape=shape, name="a0")
    out = labsym.reduce(lambda v, acc: T.tanh(acc) * 0.5 + v, sequences=xs, outputs_info=a0)[0]
    f = labsym.function([xs, a0], out, mode=Mode(linker=linker, optimizer="fast_run"))
    assert len(_scans(f)) == 1
    for steps in [0, 1, 5]:
        xv = RNG.standard_normal((steps, *shape)).astype("float32")
        a0v = RNG.standard_normal(shape).astype("float32")
        acc = a0v
        for x in xv:
            acc = np.tanh(acc) * np.float32(0.5) + x
        got = f(xv, a0v)
        assert got.dtype == np.float32 and got.shape == shape
        np.testing.assert_allclose(got, acc, rtol=1e-6)


def test_until_with_a_final_only_state():
    """An early stop returns the rebound last value of a final-only state."""
    xs, a0 = T.dvector("xs"), T.dscalar("a0")

    def step(v, acc):
        new = T.tanh(acc) + v
        return new, until(new > 2.5)

    out = labsym.reduce(step, sequences=xs, outputs_info=a0)[0]
    f = labsym.function([xs, a0], out, mode=FAST)
    xv = np.array([0.5, 1.0, 2.0, 3.0, 0.1])
    acc = 0.2
    for x in xv:
        acc = np.tanh(acc) + x
        if acc > 2.5:
            break
    np.testing.assert_allclose(f(xv, 0.2), acc, rtol=1e-14)


def test_history_joined_after_its_initial_rows_is_the_loop_buffer():
    """join(0, h0[None], hs) (what BPTT reads) is the forward loop's buffer: no Join node,
    values and shapes as the plain graph's, hs itself a view after the initial row."""
    h0, xs = T.dvector("h0"), T.dmatrix("xs")
    hs = labsym.scan(lambda x, h: T.tanh(h + x), sequences=xs, outputs_info=h0)[0]
    full = T.join(0, h0.dimshuffle("x", 0), hs)
    outs = [full * 2, hs + 1, full.shape[0]]
    fast = labsym.function([xs, h0], outs, mode=FAST)
    plain = labsym.function([xs, h0], outs, mode=PLAIN)
    assert not any(type(n.op).__name__ == "Join" for n in fast.maker.fgraph.toposort())
    (node,) = _scans(fast)
    assert node.op.info.with_init == (True,)
    for steps in [0, 1, 4]:
        xv, h0v = RNG.standard_normal((steps, 3)), RNG.standard_normal(3)
        rows, h = [h0v], h0v
        for x in xv:
            h = np.tanh(h + x)
            rows.append(h)
        expected = [2 * np.stack(rows), np.array(rows[1:]).reshape(steps, 3) + 1, steps + 1]
        for got, ref, e in zip(fast(xv, h0v), plain(xv, h0v), expected, strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-14)
            np.testing.assert_allclose(got, e, rtol=1e-14)


def test_a_scan_returning_its_initial_rows_has_no_derivative():
    import dataclasses

    from labsym.core.scan.op import apply_scan

    h0, xs = T.dvector("h0"), T.dmatrix("xs")
    hs = labsym.scan(lambda x, h: T.tanh(h + x), sequences=xs, outputs_info=h0)[0]
    op, node = hs.owner.op, hs.owner
    info = dataclasses.replace(op.info, with_init=(True,))
    (full,) = apply_scan(op.fgraph.inputs, op.fgraph.outputs, info, node.inputs)
    assert full.type.shape[0] is None
    with pytest.raises(GradientError, match="no derivative"):
        labsym.grad(full.sum(), h0)


def test_accumulator_of_another_states_previous_value():
    """acc += h[t-1]: the term reads a state's tap, which the loop then stacks."""
    xs, h0, a0 = T.dmatrix("xs"), T.dvector("h0"), T.dvector("a0")

    def step(x, acc, h):
        return [acc + h * 2.0, T.tanh(h + x)]

    acc, h_last = labsym.reduce(step, sequences=xs, outputs_info=[a0, h0])[0]
    fast = labsym.function([xs, h0, a0], [acc, h_last], mode=FAST)
    plain = labsym.function([xs, h0, a0], [acc, h_last], mode=PLAIN)
    (node,) = _scans(fast)
    assert node.op.info.n_states == 1
    for steps in [0, 1, 6]:
        xv, h0v, a0v = (
            RNG.standard_normal((steps, 3)),
            RNG.standard_normal(3),
            RNG.standard_normal(3),
        )
        acc_v, h = a0v, h0v
        for x in xv:
            acc_v = acc_v + h * 2.0
            h = np.tanh(h + x)
        for got, ref, e in zip(fast(xv, h0v, a0v), plain(xv, h0v, a0v), [acc_v, h], strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-13)
            np.testing.assert_allclose(got, e, rtol=1e-13)
