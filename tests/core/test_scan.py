"""scan against explicit Python loops, its gradient (BPTT) against finite differences, R_op,
shapes, until, updates from the step (explicit and random draws), map/reduce/folds, errors."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot
from labsym.core.ops.random_streams import RandomStreams
from labsym.core.scan import foldl, foldr, map, reduce, scan, until
from labsym.core.scan.op import Scan
from labsym.core.shared import shared
from labsym.core.variable import constant
from labsym.gradient_check import verify_grad
from labsym.scan_module import scan as theano_scan

RNG = np.random.default_rng(1234)


def rand(*shape, dtype="float64"):
    return RNG.normal(size=shape).astype(dtype)


def scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


# ---------------------------------------------------------------------------------- seed 003
def one_step(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
    x_t = m.tanh(dot(x_tm1, W) + dot(u_t, W_in_1) + dot(u_tm4, W_in_2) + dot(y_tm1, W_feedback))
    y_t = dot(x_tm3, W_out)
    return [x_t, y_t]


def seed_loop(u, x0, y0, W, W1, W2, Wf, Wo):
    xs, ys = list(x0), [y0]
    for t in range(len(u) - 4):
        xs.append(np.tanh(xs[-1] @ W + u[t + 4] @ W1 + u[t] @ W2 + ys[-1] @ Wf))
        ys.append(xs[-4] @ Wo)
    return np.array(xs[3:]), np.array(ys[1:])


def seed_values(T=9, nin=2, nx=3, ny=2):
    return [
        rand(T, nin),
        rand(3, nx),
        rand(ny),
        rand(nx, nx) * 0.5,
        rand(nin, nx),
        rand(nin, nx),
        rand(ny, nx),
        rand(nx, ny),
    ]


def seed_graph():
    u, x0, W, W1, W2, Wf, Wo = (C["dmatrix"](n) for n in ["u", "x0", "W", "W1", "W2", "Wf", "Wo"])
    y0 = C["dvector"]("y0")
    (x_vals, y_vals), updates = scan(
        fn=one_step,
        sequences=dict(input=u, taps=[-4, -0]),
        outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
        non_sequences=[W, W1, W2, Wf, Wo],
        strict=True,
    )
    return [u, x0, y0, W, W1, W2, Wf, Wo], x_vals, y_vals, updates


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_seed_003_recurrence_matches_python_loop(mode):
    inputs, x_vals, y_vals, updates = seed_graph()
    assert updates == {}
    f = function(inputs, [x_vals, y_vals], mode=mode)
    values = seed_values()
    x, y = f(*values)
    ref_x, ref_y = seed_loop(*values)
    assert x.shape == (5, 3) and y.shape == (5, 2)
    np.testing.assert_allclose(x, ref_x, rtol=1e-12)
    np.testing.assert_allclose(y, ref_y, rtol=1e-12)


def test_seed_003_gradient_matches_finite_differences():
    values = seed_values(T=7)
    y0, W1, W2, Wf = (constant(values[i]) for i in (2, 4, 5, 6))

    def cost(u, x0, W, Wo):
        (xs, ys), _ = theano_scan(
            one_step,
            sequences=dict(input=u, taps=[-4, 0]),
            outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
            non_sequences=[W, W1, W2, Wf, Wo],
            strict=True,
        )
        return (xs**2).sum() + ys.sum()

    verify_grad(cost, [values[0], values[1], values[3], values[7]], rng=np.random.default_rng(0))


# ---------------------------------------------------------------------------------- forward
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_power_with_n_steps_and_ones_like(dtype):
    k, A = C["iscalar"]("k"), C["vector"]("A", dtype=dtype)
    result, updates = scan(
        lambda prior, A: prior * A, outputs_info=m.ones_like(A), non_sequences=A, n_steps=k
    )
    f = function([A, k], [result, result[-1]])
    a = np.array([1.0, 2.0, 3.0], dtype=dtype)
    steps, last = f(a, 4)
    assert steps.dtype == dtype and steps.shape == (4, 3)
    np.testing.assert_allclose(steps, [a**i for i in range(1, 5)], rtol=1e-6)
    np.testing.assert_allclose(last, a**4, rtol=1e-6)
    assert function([A, k], result)(a, 0).shape == (0, 3)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("taps", [[0], [-2, 0], [-1, 1], [-3, 0, 2]])
def test_sequence_taps_match_python_loop(taps, go_backwards):
    x = C["dvector"]("x")
    weights = np.arange(1.0, len(taps) + 1)

    def step(*slices):
        return sum(w * s for w, s in zip(weights, slices)) ** 2

    out, _ = scan(step, sequences=dict(input=x, taps=taps), go_backwards=go_backwards)
    xv = rand(9)
    low, high = min(taps), max(taps)
    ts = range(-low, len(xv) - high)
    ref = [sum(w * xv[t + tap] for w, tap in zip(weights, taps)) ** 2 for t in ts]
    if go_backwards:
        slices = [xv[tap - low : len(xv) - (high - tap)][::-1] for tap in taps]
        ref = [sum(w * s[i] for w, s in zip(weights, slices)) ** 2 for i in range(len(ts))]
    np.testing.assert_allclose(function([x], out)(xv), ref, rtol=1e-12)


def test_go_backwards_reverses_the_steps_of_a_recurrence():
    x, h0 = C["dvector"]("x"), C["dscalar"]("h0")
    out, _ = scan(lambda x_t, h: 0.5 * h + x_t, sequences=x, outputs_info=h0, go_backwards=True)
    xv, h = rand(6), 0.3
    ref = []
    for v in xv[::-1]:
        h = 0.5 * h + v
        ref.append(h)
    np.testing.assert_allclose(function([x, h0], out)(xv, 0.3), ref, rtol=1e-12)


def test_outputs_in_user_order_with_nit_sot_sit_sot_and_mit_sot():
    x, a0, b0 = C["dvector"]("x"), C["dscalar"]("a0"), C["dvector"]("b0")

    def step(x_t, a_tm1, b_tm3, b_tm1):
        return [x_t * 2, a_tm1 + x_t, b_tm3 - b_tm1 * 0.5 + a_tm1]

    (double, acc, fib), _ = scan(
        step, sequences=x, outputs_info=[None, a0, dict(initial=b0, taps=[-3, -1])]
    )
    xv, b = rand(6), list(rand(4))
    d, a, bb = function([x, a0, b0], [double, acc, fib])(xv, 1.5, np.array(b))
    ref_a, a_prev = [], 1.5
    bufb = b[:3]
    for v in xv:
        bufb.append(bufb[-3] - bufb[-1] * 0.5 + a_prev)
        a_prev = a_prev + v
        ref_a.append(a_prev)
    np.testing.assert_allclose(d, xv * 2)
    np.testing.assert_allclose(a, ref_a, rtol=1e-12)
    np.testing.assert_allclose(bb, bufb[3:], rtol=1e-12)


def test_closure_variables_and_shared_values_become_implicit_inputs():
    x, scale = C["dvector"]("x"), C["dscalar"]("scale")
    bias = shared(np.array(0.25), name="bias")
    out, updates = scan(lambda x_t: x_t * scale + bias, sequences=x)
    assert updates == {}
    f = function([x, scale], out)
    xv = rand(4)
    np.testing.assert_allclose(f(xv, 3.0), xv * 3 + 0.25)
    bias.set_value(np.array(1.0))
    np.testing.assert_allclose(f(xv, 3.0), xv * 3 + 1.0)
    # Theano's strict is about shared variables: a symbolic closure variable is still an input
    strict_out, _ = scan(lambda x_t: x_t * scale, sequences=x, strict=True)
    np.testing.assert_allclose(function([x, scale], strict_out)(xv, 2.0), xv * 2)


def test_until_stops_after_the_step_whose_condition_holds():
    max_value = C["dscalar"]("max_value")

    def power_of_2(previous_power, max_value):
        return previous_power * 2, until(previous_power * 2 > max_value)

    values, _ = scan(
        power_of_2, outputs_info=m.ones_like(max_value), non_sequences=max_value, n_steps=50
    )
    f = function([max_value], values)
    np.testing.assert_allclose(f(45.0), [2, 4, 8, 16, 32, 64])
    assert f(0.5).shape == (1,)
    assert f(np.inf).shape == (50,)


def test_until_with_sequences_and_updates_in_any_order():
    x = C["dvector"]("x")
    count = shared(np.array(0, dtype="int64"), name="count")
    out, updates = scan(lambda x_t: (x_t * 10, {count: count + 1}, until(x_t < 0)), sequences=x)
    f = function([x], out, updates=updates)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, -1.0, 4.0])), [10.0, 20.0, -10.0])
    assert int(count.get_value()) == 3


def test_symbolic_n_steps_is_the_minimum_with_sequence_lengths():
    x, n = C["dvector"]("x"), C["iscalar"]("n")
    out, _ = scan(lambda x_t: x_t + 1, sequences=x, n_steps=n)
    f = function([x, n], out)
    xv = rand(5)
    np.testing.assert_allclose(f(xv, 3), xv[:3] + 1)
    np.testing.assert_allclose(f(xv, 9), xv + 1)


def test_explicit_updates_from_the_step_are_returned_and_applied():
    counter = shared(np.array(0.0), name="counter")
    x = C["dvector"]("x")
    out, updates = scan(lambda x_t: (x_t * counter, {counter: counter + 1}), sequences=x)
    assert list(updates) == [counter]
    f = function([x], out, updates=updates)
    np.testing.assert_allclose(f(np.ones(4)), [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(f(np.ones(2)), [4.0, 5.0])
    assert float(counter.get_value()) == 6.0
    with pytest.raises(ValueError, match="return_updates=True"):
        scan(lambda x_t: (x_t, {counter: counter + 1}), sequences=x, return_updates=False)


def test_random_draws_inside_the_step_update_their_state():
    srng = RandomStreams(seed=7)
    x = C["dvector"]("x")
    out, updates = scan(lambda x_t: x_t + srng.normal(()), sequences=x)
    assert len(updates) == 1
    f = function([x], out, updates=updates)
    first, second = f(np.zeros(5)), f(np.zeros(5))
    assert len(set(np.round(first, 12))) == 5  # each step draws anew
    assert not np.allclose(first, second)  # and the state moved on between calls
    frozen = function([x], out)  # without the updates every call replays the same draws
    np.testing.assert_allclose(frozen(np.zeros(5)), frozen(np.zeros(5)))


def test_return_list_and_no_outputs():
    x = C["dvector"]("x")
    counter = shared(np.array(0.0), name="c")
    out, _ = scan(lambda x_t: x_t * 2, sequences=x, return_list=True)
    assert isinstance(out, list) and len(out) == 1
    nothing, updates = scan(lambda x_t: {counter: counter + x_t}, sequences=x)
    assert nothing is None
    function([x], [], updates=updates)(np.array([1.0, 2.0, 3.0]))
    assert float(counter.get_value()) == 6.0


# ---------------------------------------------------------------------------------- map/reduce
def test_map_reduce_foldl_foldr_match_numpy():
    x, z = C["dvector"]("x"), C["dscalar"]("z")
    squares, _ = map(lambda v: v**2, sequences=x)
    total, _ = reduce(lambda v, acc: acc + v, sequences=x, outputs_info=z)
    left, _ = foldl(lambda v, acc: acc * 0.5 + v, sequences=x, outputs_info=z)
    right, _ = foldr(lambda v, acc: acc * 0.5 + v, sequences=x, outputs_info=z)
    f = function([x, z], [squares, total, left, right])
    xv = rand(5)
    sq, tot, lf, rt = f(xv, 0.0)
    np.testing.assert_allclose(sq, xv**2)
    np.testing.assert_allclose(tot, xv.sum())
    ref_l = ref_r = 0.0
    for v in xv:
        ref_l = ref_l * 0.5 + v
    for v in xv[::-1]:
        ref_r = ref_r * 0.5 + v
    np.testing.assert_allclose([lf, rt], [ref_l, ref_r])
    assert tot.shape == () and all(n.op.info.final_only == (True,) for n in scan_nodes(f)[1:])


def test_reduce_gradient_through_final_only_states():
    verify_grad(
        lambda x, z: reduce(lambda v, acc: m.tanh(acc * v + 1), sequences=x, outputs_info=z)[0],
        [rand(5), np.array(0.3)],
        rng=np.random.default_rng(2),
    )


# ---------------------------------------------------------------------------------- gradients
def rnn(x, h0, w, v):
    return scan(
        lambda x_t, h, w, v: m.tanh(x_t * w + h * v),
        sequences=x,
        outputs_info=h0,
        non_sequences=[w, v],
    )[0]


def test_gradient_of_a_recurrence_matches_finite_differences():
    verify_grad(rnn, [rand(5, 3), rand(3), rand(3), rand(3)], rng=np.random.default_rng(0))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradient_with_mixed_taps_and_several_outputs(go_backwards):
    def loop(x, b0, c0, w):
        def step(x_tm2, x_t, b_tm3, b_tm1, c_tm1, w):
            b_t = m.tanh(b_tm3 * w - b_tm1 * x_t + c_tm1)
            return [b_t, c_tm1 * 0.9 + x_tm2 * w, (b_t * x_t).sum()]

        (b, c, s), _ = scan(
            step,
            sequences=dict(input=x, taps=[-2, 0]),
            outputs_info=[dict(initial=b0, taps=[-3, -1]), c0, None],
            non_sequences=w,
            go_backwards=go_backwards,
        )
        return (b**2).sum() + c.sum() * 0.5 + (s * s).sum()

    verify_grad(loop, [rand(7, 2), rand(4, 2), rand(2), rand(2)], rng=np.random.default_rng(1))


def test_gradient_through_until_and_n_steps():
    def loop(x, h0):
        out, _ = scan(
            lambda x_t, h: (h * 0.8 + x_t, until(x_t > 100)), sequences=x, outputs_info=h0
        )
        return out

    xv = rand(6)
    xv[3] = 500.0  # the loop stops after step 3; steps 4 and 5 get no gradient
    verify_grad(loop, [xv, np.array(0.2)], rng=np.random.default_rng(3))
    x, h0 = C["dvector"]("x"), C["dscalar"]("h0")
    out, _ = scan(lambda x_t, h: (h * 0.8 + x_t, until(x_t > 100)), sequences=x, outputs_info=h0)
    gx = function([x, h0], grad(out.sum(), x))(xv, 0.0)
    np.testing.assert_allclose(gx[4:], 0.0)


def test_gradient_through_shared_state_reads_and_random_draws():
    counter = shared(np.array(2.0), name="counter")
    srng = RandomStreams(seed=3)

    def loop(x, w):
        out, _ = scan(
            lambda x_t: (m.tanh(x_t * w * counter + srng.normal((2,))), {counter: counter + 0.5}),
            sequences=x,
        )
        return out

    verify_grad(loop, [rand(4, 2), rand(2)], rng=np.random.default_rng(4))


def test_truncated_gradient_only_back_propagates_the_last_steps():
    x, h0, a = C["dvector"]("x"), C["dscalar"]("h0"), C["dscalar"]("a")
    T, k, av = 7, 3, 0.7
    out, _ = scan(
        lambda x_t, h, a: a * h + x_t,
        sequences=x,
        outputs_info=h0,
        non_sequences=a,
        truncate_gradient=k,
    )
    f = function([x, h0, a], grad(out.sum(), [x, h0, a]))
    xv = rand(T)
    gx, gh0, ga = f(xv, 0.5, av)
    hs = [0.5]
    for v in xv:
        hs.append(av * hs[-1] + v)
    ref_gx, ref_ga, carry = np.zeros(T), 0.0, 0.0
    for t in range(T - 1, T - k - 1, -1):
        adjoint = 1.0 + carry
        ref_gx[t] = adjoint
        ref_ga += adjoint * hs[t]
        carry = adjoint * av
    np.testing.assert_allclose(gx, ref_gx, rtol=1e-12)
    np.testing.assert_allclose(ga, ref_ga, rtol=1e-12)
    assert gh0 == 0.0
    full, _ = scan(
        lambda x_t, h, a: a * h + x_t,
        sequences=x,
        outputs_info=h0,
        non_sequences=a,
        truncate_gradient=T + 2,
    )
    exact, _ = scan(lambda x_t, h, a: a * h + x_t, sequences=x, outputs_info=h0, non_sequences=a)
    long = function([x, h0, a], grad(full.sum(), [x, h0, a]))(xv, 0.5, av)
    ref = function([x, h0, a], grad(exact.sum(), [x, h0, a]))(xv, 0.5, av)
    np.testing.assert_allclose(
        np.concatenate([np.ravel(g) for g in long]), np.concatenate([np.ravel(g) for g in ref])
    )


def test_second_derivative_through_the_backward_loop():
    x, w = C["dvector"]("x"), C["dscalar"]("w")
    out, _ = scan(
        lambda x_t, h, w: m.tanh(h * w + x_t),
        sequences=x,
        outputs_info=m.zeros_like(w),
        non_sequences=w,
    )
    gw = grad(out.sum(), w)
    hw = grad(gw, w)
    f_g, f_h = function([x, w], gw), function([x, w], hw)
    xv, wv, eps = rand(5), 0.4, 1e-6
    numeric = (f_g(xv, wv + eps) - f_g(xv, wv - eps)) / (2 * eps)
    np.testing.assert_allclose(f_h(xv, wv), numeric, rtol=1e-5)


def test_rop_matches_finite_differences():
    x, h0, W = C["dmatrix"]("x"), C["dvector"]("h0"), C["dmatrix"]("W")
    out, _ = scan(
        lambda x_t, h, W: m.tanh(dot(h, W) + x_t), sequences=x, outputs_info=h0, non_sequences=W
    )
    vx, vh, vW = C["dmatrix"]("vx"), C["dvector"]("vh"), C["dmatrix"]("vW")
    jvp = function([x, h0, W, vx, vh, vW], Rop(out, [x, h0, W], [vx, vh, vW]))
    f = function([x, h0, W], out)
    vals = [rand(4, 3), rand(3), rand(3, 3) * 0.5]
    dirs = [rand(4, 3), rand(3), rand(3, 3)]
    eps = 1e-6
    plus = f(*[a + eps * d for a, d in zip(vals, dirs)])
    minus = f(*[a - eps * d for a, d in zip(vals, dirs)])
    np.testing.assert_allclose(jvp(*vals, *dirs), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-9)
    only_w = function([x, h0, W, vW], Rop(out, W, vW))
    plus = f(vals[0], vals[1], vals[2] + eps * dirs[2])
    minus = f(vals[0], vals[1], vals[2] - eps * dirs[2])
    np.testing.assert_allclose(
        only_w(*vals, dirs[2]), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-9
    )
    # x has no direction: Rop gives it zeros_like, which the tangent loop does not carry
    assert [n.op.info.n_seqs for n in scan_nodes(only_w)] == [1]


# ---------------------------------------------------------------------------------- shapes
def test_static_output_types():
    x, h0 = C["tensor3"]("x"), C["dvector"]("h0")
    fixed = C["dmatrix"]("fixed")
    out, _ = scan(lambda x_t, h: h + x_t.sum(0), sequences=x, outputs_info=h0)
    assert out.type.shape == (None, None) and out.dtype == "float64"
    counted, _ = scan(lambda h: h * 2, outputs_info=h0, n_steps=4)
    assert counted.type.shape == (4, None)
    from labsym.core.ops.shape import specify_shape

    known = specify_shape(fixed, (6, 2))
    taps, _ = scan(lambda a, b: a + b, sequences=dict(input=known, taps=[-1, 1]))
    assert taps.type.shape == (4, 2)


def test_infer_shape_answers_without_running_the_loop():
    x, W = C["dmatrix"]("x"), C["dmatrix"]("W")
    h0 = C["dvector"]("h0")
    (hs, ys), _ = scan(
        lambda x_t, h, W: [m.tanh(dot(h, W) + x_t), dot(x_t, W).sum() * h[:2]],
        sequences=x,
        outputs_info=[h0, None],
        non_sequences=W,
    )
    f = function([x, h0, W], [hs.shape, ys.shape])
    assert scan_nodes(f) == []
    hs_shape, ys_shape = f(rand(5, 3), rand(3), rand(3, 3))
    np.testing.assert_array_equal(hs_shape, [5, 3])
    np.testing.assert_array_equal(ys_shape, [5, 2])
    node = hs.owner
    from labsym.core.ops.shape import Shape_i

    given = [()] + [tuple(Shape_i(a)(v) for a in range(v.ndim)) for v in node.inputs[1:]]
    hs_shape, ys_shape = node.op.infer_shape(None, node, given)
    assert hs_shape[0] is node.inputs[0] and ys_shape[0] is node.inputs[0]
    lengths = function([x, h0, W], [hs_shape[1], ys_shape[1]], on_unused_input="ignore")
    assert [int(v) for v in lengths(rand(5, 3), rand(3), rand(3, 3))] == [3, 2]
    assert [int(v) for v in lengths(rand(5, 3), rand(1), rand(3, 3))] == [1, 1]


def test_infer_shape_refuses_with_until():
    x = C["dvector"]("x")
    out, _ = scan(lambda x_t: (x_t * 2, until(x_t > 1)), sequences=x)
    with pytest.raises(NotImplementedError, match="run time"):
        out.owner.op.infer_shape(None, out.owner, [(), (5,)])
    f = function([x], out.shape)
    np.testing.assert_array_equal(f(np.array([0.0, 2.0, 0.0])), [2])


# ---------------------------------------------------------------------------------- training
def test_elman_rnn_trained_with_scan_reduces_its_loss():
    rng = np.random.default_rng(0)
    n_in, n_h, n_out, T = 3, 8, 2, 12
    params = [
        shared(rng.normal(scale=s, size=shape), name=name)
        for name, shape, s in [
            ("W_in", (n_in, n_h), 0.5),
            ("W_rec", (n_h, n_h), 0.3),
            ("W_out", (n_h, n_out), 0.5),
        ]
    ]
    params += [shared(np.zeros(n_h), name="b_h"), shared(np.zeros(n_out), name="b_o")]
    W_in, W_rec, W_out, b_h, b_o = params
    x, target, h0 = C["dmatrix"]("x"), C["dmatrix"]("target"), C["dvector"]("h0")

    def step(x_t, h_tm1):
        h_t = m.tanh(dot(x_t, W_in) + dot(h_tm1, W_rec) + b_h)
        return h_t, dot(h_t, W_out) + b_o

    (h, y), updates = scan(step, sequences=x, outputs_info=[h0, None])
    loss = ((y - target) ** 2).mean()
    grads = grad(loss, params)
    train = function(
        [x, target, h0], loss, updates=[(p, p - 0.2 * g) for p, g in zip(params, grads)]
    )
    xv = rng.normal(size=(T, n_in))
    target_v = np.stack([np.sin(np.cumsum(xv[:, 0])), np.cos(xv[:, 1])], axis=1) * 0.5
    losses = [float(train(xv, target_v, np.zeros(n_h))) for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-9 for a, b in zip(losses[:10], losses[1:11]))


# ---------------------------------------------------------------------------------- errors
def test_bad_scans_raise_clear_errors():
    x, h0, i0 = C["dvector"]("x"), C["dscalar"]("h0"), C["iscalar"]("i0")
    with pytest.raises(ValueError, match="give sequences or n_steps"):
        scan(lambda h: h * 2, outputs_info=h0)
    with pytest.raises(ValueError, match="fn returned 2 outputs but outputs_info describes 1"):
        scan(lambda x_t, h: [h + x_t, h], sequences=x, outputs_info=[h0])
    with pytest.raises(ValueError, match="output taps must be negative"):
        scan(lambda x_t, h: h + x_t, sequences=x, outputs_info=[dict(initial=x, taps=[0])])
    with pytest.raises(TypeError, match=r"has dtype int32, but fn returns dtype float64"):
        scan(lambda x_t, h: h + x_t, sequences=x, outputs_info=i0)
    with pytest.raises(TypeError, match="must keep its number of dimensions"):
        scan(lambda x_t, h: h + x_t * C["dvector"]("v"), sequences=x, outputs_info=h0)
    with pytest.raises(TypeError, match="n_steps must be an integer scalar"):
        scan(lambda h: h * 2, outputs_info=h0, n_steps=2.5)
    with pytest.raises(ValueError, match="distinct integers"):
        scan(lambda a, b: a + b, sequences=dict(input=x, taps=[0, 0]))
    with pytest.raises(ValueError, match=r"fn must return outputs"):
        scan(lambda x_t: (x_t, 3), sequences=x)


def test_python_number_initial_state_takes_the_step_dtype():
    x = C["fvector"]("x")
    out, _ = scan(lambda x_t, acc: acc + x_t, sequences=x, outputs_info=0)
    assert out.dtype == "float32"
    np.testing.assert_allclose(function([x], out)(np.arange(4, dtype="float32")), [0, 1, 3, 6])


def test_runtime_shape_change_of_a_state_is_reported():
    x, h0 = C["dmatrix"]("x"), C["dvector"]("h0")
    out, _ = scan(lambda x_t, h: x_t[:2] + h[:2], sequences=x, outputs_info=h0)
    with pytest.raises(
        ValueError,
        match=r"returned shape \(2,\) for state 0, whose initial value has rows of shape \(3,\)",
    ):
        function([x, h0], out)(rand(4, 3), rand(3))


# ---------------------------------------------------------------------------------- modes
@pytest.mark.parametrize("mode", ["DebugMode", "NanGuardMode", "FAST_COMPILE"])
def test_values_and_gradients_in_other_modes(mode):
    x, h0 = C["dvector"]("x"), C["dscalar"]("h0")
    out, _ = scan(lambda x_t, h: h * 0.5 + x_t, sequences=x, outputs_info=h0)
    values, gx = function([x, h0], [out, grad(out.sum(), x)], mode=mode)(np.arange(3.0), 1.0)
    np.testing.assert_allclose(values, [0.5, 1.25, 2.625])
    np.testing.assert_allclose(gx, [1.75, 1.5, 1.0])


def test_constant_loops_are_folded_at_compile_time():
    from labsym.core.variable import constant

    doubled, _ = scan(lambda v: v * 2, sequences=constant(np.arange(3.0)))
    f = function([], doubled)
    assert scan_nodes(f) == []
    np.testing.assert_allclose(f(), [0.0, 2.0, 4.0])


def test_test_values_flow_through_the_loop_and_its_gradient():
    from labsym.config import config

    with config.change_flags(compute_test_value="raise"):
        x, h0 = C["dvector"]("x"), C["dscalar"]("h0")
        x.tag.test_value, h0.tag.test_value = np.arange(3.0), np.array(1.0)
        out, _ = scan(lambda x_t, h: h * 0.5 + x_t, sequences=x, outputs_info=h0)
        gx = grad(out.sum(), x)
    np.testing.assert_allclose(out.tag.test_value, [0.5, 1.25, 2.625])
    np.testing.assert_allclose(gx.tag.test_value, [1.75, 1.5, 1.0])


def test_random_masks_are_the_same_in_the_forward_and_backward_loops():
    srng = RandomStreams(seed=1)
    x, W = C["dvector"]("x"), C["dvector"]("W")

    def step(x_t, W):
        mask = srng.binomial((3,), p=0.5, dtype="float64")
        return (W * mask).sum() * x_t, mask

    (out, masks), updates = scan(step, sequences=x, non_sequences=W, outputs_info=[None, None])
    f = function([x, W], [masks, grad(out.sum(), W)], updates=updates)
    for _ in range(3):
        mask_values, gW = f(np.ones(6), np.ones(3))
        np.testing.assert_array_equal(gW, mask_values.sum(0))
    assert 0 < mask_values.sum() < mask_values.size


def test_integer_sequences_index_an_embedding():
    ids = constant(np.array([0, 2, 1, 2], dtype="int32"))

    def loop(E, h0):
        out, _ = scan(
            lambda i, h, E: m.tanh(E[i] + h * 0.5), sequences=ids, outputs_info=h0, non_sequences=E
        )
        return out

    verify_grad(loop, [rand(3, 2), rand(2)], rng=np.random.default_rng(5))
