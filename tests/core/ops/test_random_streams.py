"""RandomStreams draw Theano's numbers: numpy RandomState per stream, seeded and called as Theano.

The oracle is numpy.random.RandomState driven by Theano's recipe: a seed generator
RandomState(seed) gives stream k the state RandomState(seedgen.randint(2**30)), and each draw
calls the RandomState method Theano's raw_random called, with the same arguments.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops import random as rnd
from labsym.sandbox.rng_mrg import MRG_RandomStreams
from labsym.tensor import raw_random
from labsym.tensor.shared_randomstreams import RandomStateSharedVariable, RandomStreams


def theano_streams(seed: int, count: int) -> list[np.random.RandomState]:
    """The RandomState of each of the first `count` streams of RandomStreams(seed)."""
    seedgen = np.random.RandomState(seed)
    return [np.random.RandomState(int(seedgen.randint(2**30))) for _ in range(count)]


def test_tutorial_numbers_and_copying_state_between_graphs():
    # Theano's tutorial "Copying Random State Between Theano Graphs" prints these numbers
    y1, y2 = RandomStreams(123).uniform(size=(1,)), RandomStreams(987).uniform(size=(1,))
    f1, f2 = function([], y1), function([], y2)
    np.testing.assert_allclose(f1(), [0.72803009], atol=5e-9)
    np.testing.assert_allclose(f2(), [0.55056769], atol=5e-9)
    y2.rng.set_value(y1.rng.get_value())
    first, second = f1(), f2()
    np.testing.assert_allclose(first, [0.59044123], atol=5e-9)
    np.testing.assert_array_equal(first, second)


def test_each_distribution_calls_randomstate_as_theano():
    srng = RandomStreams(seed=2024)
    draws = [
        srng.uniform((2, 3), low=-1.0, high=2.0),
        srng.normal((4,), avg=1.0, std=0.5),
        srng.binomial((5,), n=4, p=0.25),
        srng.random_integers((6,), low=-2, high=3),
        srng.permutation((2,), n=5),
        srng.multinomial((3,), n=7, pvals=[0.2, 0.3, 0.5]),
        srng.choice((4,), a=5, p=[0.1, 0.2, 0.3, 0.2, 0.2]),
        srng.poisson((3,), lam=4.0),
        srng.choice((3,), a=6, replace=False),
    ]
    f = function([], draws)
    rs = theano_streams(2024, len(draws))
    for _ in range(2):  # the second call continues each stream
        expected = [
            rs[0].uniform(-1.0, 2.0, (2, 3)),
            rs[1].normal(1.0, 0.5, (4,)),
            rs[2].binomial(4, 0.25, (5,)),
            rs[3].randint(-2, 4, (6,)),
            np.array([rs[4].permutation(5) for _ in range(2)]),
            np.array([rs[5].multinomial(7, [0.2, 0.3, 0.5]) for _ in range(3)]),
            rs[6].choice(5, (4,), True, [0.1, 0.2, 0.3, 0.2, 0.2]),
            rs[7].poisson(4.0, (3,)),
            rs[8].choice(6, (3,), False),
        ]
        got = f()
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)
    assert [v.dtype for v in got] == ["float64", "float64"] + ["int64"] * 7


def test_dtype_cast_and_size_from_parameters():
    srng = RandomStreams(seed=5)
    low = C["dvector"]("low")
    u32 = srng.uniform((3,), dtype="float32")
    ub = srng.uniform(low=low, high=10.0)  # size None: the parameters' shape, numpy's size=None
    bf = srng.binomial((4,), p=0.5, dtype="float32")
    lows = np.array([0.0, 5.0, 9.0])
    got = function([low], [u32, ub, bf])(lows)
    rs = theano_streams(5, 3)
    np.testing.assert_array_equal(got[0], rs[0].uniform(0.0, 1.0, (3,)).astype("float32"))
    np.testing.assert_array_equal(got[1], rs[1].uniform(lows, 10.0))
    np.testing.assert_array_equal(got[2], rs[2].binomial(1, 0.5, (4,)).astype("float32"))
    assert (got[0].dtype, got[2].dtype) == (np.float32, np.float32)


def test_multinomial_applies_theanos_probability_guard():
    # a last probability below 5e-5 makes Theano scale pvals by (1 - 5e-5) before numpy
    pvals = np.array([0.6, 0.4, 0.0])
    draw = RandomStreams(seed=8).multinomial((200,), n=50, pvals=pvals)
    (rs,) = theano_streams(8, 1)
    expected = np.array([rs.multinomial(50, pvals * (1 - 5e-5)) for _ in range(200)])
    np.testing.assert_array_equal(function([], draw)(), expected)
    too_much = RandomStreams(seed=8).multinomial((2,), n=5, pvals=[0.7, 0.7])
    with pytest.raises(ValueError, match="sum to 1.4, more than 1"):
        function([], too_much)()


def test_tutorial_seeding_and_sharing_streams_between_functions():
    srng = RandomStreams(seed=234)
    rv_u, rv_n = srng.uniform((2, 2)), srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)
    ru, rn = theano_streams(234, 2)
    np.testing.assert_array_equal(f(), ru.uniform(0.0, 1.0, (2, 2)))
    np.testing.assert_array_equal(f(), ru.uniform(0.0, 1.0, (2, 2)))
    g_val0 = g()
    np.testing.assert_array_equal(g_val0, rn.normal(0.0, 1.0, (2, 2)))
    np.testing.assert_array_equal(g(), g_val0)
    np.testing.assert_array_equal(nearly_zeros(), np.zeros((2, 2)))  # one draw per call

    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_array_equal(f(), np.random.RandomState(89234).uniform(0.0, 1.0, (2, 2)))

    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
    ru, rn = theano_streams(902340, 2)
    np.testing.assert_array_equal(f(), ru.uniform(0.0, 1.0, (2, 2)))
    np.testing.assert_array_equal(g(), rn.normal(0.0, 1.0, (2, 2)))

    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()  # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2, v3 = f(), f()
    assert not np.array_equal(v2, v1)
    np.testing.assert_array_equal(v3, v1)


def test_seed_reseeds_existing_streams_and_later_streams_use_the_constructor_seedgen():
    srng = RandomStreams(seed=1)
    a, b = srng.uniform((3,)), srng.normal((2,))
    srng.seed(77)
    later = srng.uniform((2,))  # Theano: seed() does not reset the generator of new seeds
    got = function([], [a, b, later])()
    r77 = theano_streams(77, 2)
    r1 = theano_streams(1, 3)
    np.testing.assert_array_equal(got[0], r77[0].uniform(0.0, 1.0, (3,)))
    np.testing.assert_array_equal(got[1], r77[1].normal(0.0, 1.0, (2,)))
    np.testing.assert_array_equal(got[2], r1[2].uniform(0.0, 1.0, (2,)))
    srng.seed()  # no argument: the constructor's seed
    np.testing.assert_array_equal(function([], a)(), theano_streams(1, 1)[0].uniform(size=(3,)))


def test_rng_value_is_a_randomstate_that_round_trips_through_updates():
    u = RandomStreams(seed=3).uniform((2,))
    assert isinstance(u.rng, RandomStateSharedVariable) and u.rng.tag.is_rng
    assert str(u.rng.type) == "RandomStateType" and u.update == (u.rng, u.rng.default_update)
    before = u.rng.get_value()
    assert type(before) is np.random.RandomState
    f = function([], u)
    f()
    after = u.rng.get_value(borrow=True)
    assert after is not before and type(after) is np.random.RandomState
    before.uniform(0.0, 1.0, (2,))  # the state after one draw of 2 uniforms
    assert before.get_state()[2] == after.get_state()[2]
    np.testing.assert_array_equal(before.get_state()[1], after.get_state()[1])
    gauss = RandomStreams(seed=3).normal((3,))  # an odd count leaves a cached gaussian
    function([], gauss)()
    state = gauss.rng.get_value().get_state()
    assert state[3] == 1 and state[4] == theano_streams(3, 1)[0].normal(size=4)[3]
    with pytest.raises(TypeError, match="set_value on random state .*numpy.random.RandomState"):
        u.rng.set_value(np.zeros(3))
    with pytest.raises(TypeError, match="only an MT19937 RandomState"):
        u.rng.set_value(np.random.RandomState(np.random.PCG64(1)))


def test_a_failed_call_does_not_advance_the_stream():
    srng = RandomStreams(seed=11)
    u = srng.uniform((3,))
    x = C["dvector"]("x")
    f = function([x], u + x)
    state = u.rng.get_value().get_state()
    with pytest.raises(ValueError):
        f(np.zeros(2))  # the draw ran, the addition failed
    np.testing.assert_array_equal(u.rng.get_value().get_state()[1], state[1])
    np.testing.assert_array_equal(f(np.zeros(3)), theano_streams(11, 1)[0].uniform(size=(3,)))


@pytest.mark.parametrize("mode", ["DebugMode", "FAST_COMPILE", "FAST_RUN", "NanGuardMode"])
def test_modes_draw_the_same_numbers(mode):
    srng = RandomStreams(seed=123)
    f = function([], [srng.uniform(size=(1,)), srng.binomial((3,), p=0.5)], mode=mode)
    ru, rb = theano_streams(123, 2)
    for _ in range(2):
        u, b = f()
        np.testing.assert_array_equal(u, ru.uniform(0.0, 1.0, (1,)))
        np.testing.assert_array_equal(b, rb.binomial(1, 0.5, (3,)))


def test_pickled_and_copied_functions_continue_the_stream():
    u = RandomStreams(seed=123).uniform(size=(1,))
    f = function([], u)
    (rs,) = theano_streams(123, 1)
    np.testing.assert_array_equal(f(), rs.uniform(size=(1,)))
    expected_next = rs.uniform(size=(1,))
    g = pickle.loads(pickle.dumps(f))  # the copy has its own state, from the same point
    np.testing.assert_array_equal(g(), expected_next)
    np.testing.assert_array_equal(f(), expected_next)
    copy = f.copy()  # a copy shares the shared variables, so it advances the same stream
    np.testing.assert_array_equal(np.ravel(copy()), rs.uniform(size=(1,)))
    np.testing.assert_array_equal(f(), rs.uniform(size=(1,)))


def test_shuffle_row_elements_permutes_each_row():
    srng = RandomStreams(seed=4)
    x = C["dmatrix"]("x")
    shuffled = srng.shuffle_row_elements(x)
    xv = np.arange(12.0).reshape(3, 4)
    got, perm = function([x], [shuffled, shuffled.permutation])(xv)
    (rs,) = theano_streams(4, 1)
    expected_perm = np.array([rs.permutation(4) for _ in range(3)])
    np.testing.assert_array_equal(perm, expected_perm)
    np.testing.assert_array_equal(got, np.take_along_axis(xv, expected_perm, axis=-1))
    v = C["dvector"]("v")
    single = srng.shuffle_row_elements(v)
    np.testing.assert_array_equal(
        function([v], single)(np.arange(5.0) * 10), theano_streams(4, 2)[1].permutation(5) * 10
    )


def test_raw_random_draws_on_a_randomstate_shared_variable():
    rng = RandomStateSharedVariable(np.random.RandomState(55))
    new_rng, out = raw_random.uniform(rng, (4,))
    new_rng2, ints = raw_random.random_integers(new_rng, (3,), low=0, high=9)
    f = function([], [out, ints], updates=[(rng, new_rng2)])
    oracle = np.random.RandomState(55)
    for _ in range(2):
        u, i = f()
        np.testing.assert_array_equal(u, oracle.uniform(0.0, 1.0, (4,)))
        np.testing.assert_array_equal(i, oracle.randint(0, 10, (3,)))
    assert str(out.owner.op) == "RandomFunction{uniform}"
    assert str(ints.owner.op) == "RandomFunction{random_integers_helper}"
    assert T.shared_randomstreams.RandomStreams is RandomStreams


def test_getitem_setitem_and_gen():
    srng = RandomStreams(seed=9)
    u = srng.gen(raw_random.normal, (2,), avg=3.0)
    assert type(srng[u.rng]) is np.random.RandomState
    srng[u.rng] = np.random.RandomState(42)
    np.testing.assert_array_equal(
        function([], u)(), np.random.RandomState(42).normal(3.0, 1.0, (2,))
    )


def test_draws_inside_scan_follow_the_stream():
    srng = RandomStreams(seed=6)
    u = srng.uniform((2,))
    outputs, updates = labsym.scan(lambda: u, n_steps=3)
    got = function([], outputs, updates=updates)()
    (rs,) = theano_streams(6, 1)
    np.testing.assert_array_equal(got, [rs.uniform(size=(2,)) for _ in range(3)])


def test_mrg_streams_keep_their_int32_state():
    srng = MRG_RandomStreams(seed=12345)
    u = srng.uniform((7,), nstreams=7)
    state = srng.state_updates[0][0]
    assert not isinstance(state, RandomStateSharedVariable)
    value = state.get_value()
    assert value.dtype == np.int32 and value.shape == (7, 6)
    np.testing.assert_array_equal(value[0], [12345] * 6)
    assert float(function([], u)()[0]) == 0.7353244530968368  # L'Ecuyer's reference number


def test_state_packing_round_trips():
    rs = np.random.RandomState(31)
    rs.normal()  # leaves a cached gaussian
    packed = rnd.pack_random_state(rs)
    assert packed.dtype == np.uint32 and packed.shape == (rnd.STATE_LENGTH,)
    back = rnd.unpack_random_state(packed)
    for a, b in zip(back.get_state(), rs.get_state(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_draw_that_is_not_committed_leaves_the_next_call_on_the_committed_state():
    srng = RandomStreams(seed=12)
    u = srng.uniform((3,))
    f = function([], u)
    peek = function([], u, no_default_updates=True)  # draws from the state without storing it
    (rs,) = theano_streams(12, 1)
    np.testing.assert_array_equal(f(), rs.uniform(size=(3,)))
    following = rs.uniform(size=(3,))
    np.testing.assert_array_equal(peek(), following)
    np.testing.assert_array_equal(peek(), following)
    np.testing.assert_array_equal(f(), following)
    np.testing.assert_array_equal(f(), rs.uniform(size=(3,)))


def test_copy_with_swap_draws_from_the_new_random_state():
    u = RandomStreams(seed=1).uniform((2,))
    f = function([], u)
    other = RandomStateSharedVariable(np.random.RandomState(5))
    untouched = u.rng.get_value().get_state()[1]
    swapped = f.copy(swap={u.rng: other})
    oracle = np.random.RandomState(5)
    np.testing.assert_array_equal(np.ravel(swapped()), oracle.uniform(size=2))
    np.testing.assert_array_equal(np.ravel(swapped()), oracle.uniform(size=2))
    np.testing.assert_array_equal(u.rng.get_value().get_state()[1], untouched)


def test_rbm_gibbs_chain_in_scan_draws_theanos_binomials():
    # the Deep Learning Tutorials' RBM: RandomStreams(numpy_rng.randint(2 ** 30)), binomial
    # samples with symbolic size and matrix p, drawn inside scan
    theano_rng = RandomStreams(np.random.RandomState(123).randint(2**30))
    weights = np.full((4, 3), 0.1)
    W = labsym.shared(weights, name="W")

    def gibbs_vhv(v0):
        h_mean = T.nnet.sigmoid(labsym.dot(v0, W))
        h = theano_rng.binomial(size=h_mean.shape, n=1, p=h_mean, dtype="float64")
        v_mean = T.nnet.sigmoid(labsym.dot(h, W.T))
        return [h, theano_rng.binomial(size=v_mean.shape, n=1, p=v_mean, dtype="float64")]

    v = C["dmatrix"]("v")
    (hs, vs), updates = labsym.scan(gibbs_vhv, outputs_info=[None, v], n_steps=2)
    start = np.array([[1.0, 0, 1, 0], [0, 1, 1, 1]])
    got_h, got_v = function([v], [hs, vs], updates=updates)(start)
    rh, rv = theano_streams(np.random.RandomState(123).randint(2**30), 2)
    current = start
    for step in range(2):
        h_mean = 1 / (1 + np.exp(-(current @ weights)))
        h = rh.binomial(1, h_mean, h_mean.shape)
        v_mean = 1 / (1 + np.exp(-(h @ weights.T)))
        current = rv.binomial(1, v_mean, v_mean.shape)
        np.testing.assert_array_equal(got_h[step], h)
        np.testing.assert_array_equal(got_v[step], current)


def test_binomial_accepts_theanos_old_prob_name(capsys):
    draw = RandomStreams(seed=2).binomial((5,), prob=0.3)
    assert "the parameter prob to the binomal fct have been renamed to p" in capsys.readouterr().err
    np.testing.assert_array_equal(function([], draw)(), theano_streams(2, 1)[0].binomial(1, 0.3, 5))
