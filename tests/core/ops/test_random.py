"""Random streams: exact MRG31k3p numbers, reproducible reseeding, sane distributions, dropout."""

from __future__ import annotations

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.compile import function
from labsym.config import config
from labsym.core.autodiff import DisconnectedInputError, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops import mrg_streams as mrg
from labsym.core.ops import random as rnd
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.sandbox.rng_mrg import MRG_RandomStreams, guess_n_streams
from labsym.tensor.shared_randomstreams import RandomStreams

BOTH = [RandomStreams, MRG_RandomStreams]
N = 100_000


def draw_nodes(f, op_type):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op_type)]


# ---------------------------------------------------------------------------------- MRG31k3p core
# Theano's published jump matrices (rng_mrg.py): A^(2^72) and A^(2^134) of both components
THEANO_A1P72 = (
    (1516919229, 758510237, 499121365),
    (1884998244, 1516919229, 335398200),
    (601897748, 1884998244, 358115744),
)
THEANO_A2P72 = (
    (1228857673, 1496414766, 954677935),
    (1133297478, 1407477216, 1496414766),
    (2002613992, 1639496704, 1407477216),
)
THEANO_A1P134 = (
    (1702500920, 1849582496, 1656874625),
    (828554832, 1702500920, 1512419905),
    (1143731069, 828554832, 102237247),
)
THEANO_A2P134 = (
    (796789021, 1464208080, 607337906),
    (1241679051, 1431130166, 1464208080),
    (1401213391, 1178684362, 1431130166),
)

# L'Ecuyer's reference (SSJ, Java) MRG31k3p numbers for seed 12345, as in Theano's test data:
# 12 draws of 7 substreams, 5 numbers each; the first draw, and the last substream of the last
JAVA_FIRST_DRAW = [
    0.7353244530968368,
    0.6142074400559068,
    0.11007806099951267,
    0.6487741703167558,
    0.36619443260133266,
    0.2585685825906694,
    0.9489980279468,
    0.4309556516818702,
    0.12257590936496854,
    0.9760319022461772,
    0.6940806899219751,
    0.18046841165050864,
    0.003993193618953228,
    0.5351603352464736,
    0.02472442388534546,
    0.7705746139399707,
    0.8138928869739175,
    0.9650539481081069,
    0.24507411010563374,
    0.35767574002966285,
    0.4939101580530405,
    0.9027785388752818,
    0.27498403564095497,
    0.03848231676965952,
    0.3081609820947051,
    0.9062023567967117,
    0.009030417073518038,
    0.7953705741092563,
    0.5061718439683318,
    0.5975547162815928,
    0.5435514179989696,
    0.330895590595901,
    0.49919482320547104,
    0.9409166998229921,
    0.8276205519214272,
]
JAVA_LAST_SUBSTREAM = [
    0.8762755445204675,
    0.8020628895610571,
    0.1663151141256094,
    0.31246642768383026,
    0.18852565623819828,
]


def reference_mrg(state: list[int]) -> tuple[list[int], float]:
    """One MRG31k3p step with Python ints, straight from the recurrences (independent oracle)."""
    x10, x11, x12, x20, x21, x22 = state
    y1 = (2**22 * x11 + (2**7 + 1) * x12) % mrg.M1
    y2 = (2**15 * x20 + (2**15 + 1) * x22) % mrg.M2
    z = y1 - y2 + (mrg.M1 if y1 <= y2 else 0)
    return [y1, x10, x11, y2, x20, x21], z / 2**31


def test_jump_matrices_equal_theanos_constants():
    assert mrg.A_P72 == (THEANO_A1P72, THEANO_A2P72)
    assert mrg.A_P134 == (THEANO_A1P134, THEANO_A2P134)


def test_jump_states_equals_stepping_the_generator():
    start = np.array([[12345] * 6, [1, 2, 3, 4, 5, 6]], dtype=np.int64)
    stepped = start.copy()
    for _ in range(8):
        mrg.mrg_next(stepped)
    np.testing.assert_array_equal(mrg.jump_states(start, mrg.jump_matrices(3)), stepped)


def test_mrg_matches_lecuyers_reference_numbers():
    srng = MRG_RandomStreams(seed=12345)
    draws = []
    for _ in range(12):
        f = function([], srng.uniform(size=(7,), nstreams=7, dtype="float64"))
        draws.append(np.array([f() for _ in range(5)]).T.reshape(-1))
    np.testing.assert_allclose(draws[0], JAVA_FIRST_DRAW, rtol=0, atol=1e-15)
    np.testing.assert_allclose(draws[11][-5:], JAVA_LAST_SUBSTREAM, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("shape", "n_streams"), [((5, 3), 4), ((7,), 7), ((2, 2), 9), ((), 1)])
def test_element_j_comes_from_stream_j_mod_n_streams(shape, n_streams):
    start = (
        np.random.default_rng(1).integers(1, 2**31 - 21069, size=(n_streams, 6)).astype(np.int32)
    )
    rstate = C["imatrix"]("rstate")
    new_state, sample = mrg.MRGUniform("float64")(rstate, np.array(shape, dtype="int64"))
    got_state, got = function([rstate], [new_state, sample])(start)
    states = [list(map(int, row)) for row in start]
    expected = []
    for j in range(int(np.prod(shape))):
        states[j % n_streams], u = reference_mrg(states[j % n_streams])
        expected.append(u)
    np.testing.assert_array_equal(got, np.reshape(expected, shape))
    np.testing.assert_array_equal(got_state, np.array(states, dtype=np.int32))
    np.testing.assert_array_equal(start, start.astype(np.int32))  # the input is not modified


def test_mrg_float32_stays_strictly_inside_the_unit_interval():
    srng = MRG_RandomStreams(seed=3)
    u32, u64 = (
        srng.uniform((N,), dtype="float32"),
        MRG_RandomStreams(seed=3).uniform((N,), dtype="float64"),
    )
    a, b = function([], u32)(), function([], u64)()
    assert a.dtype == np.float32 and a.min() > 0 and a.max() < 1
    np.testing.assert_allclose(a, b, rtol=1e-6)


def uniformity_checks(values: np.ndarray) -> None:
    n = values.size
    assert abs(values.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)
    assert abs(values.var() - 1 / 12) < 4 * np.sqrt((1 / 80 - 1 / 144) / n)
    counts = np.histogram(values, bins=20, range=(0, 1))[0]
    chi2 = ((counts - n / 20) ** 2 / (n / 20)).sum()
    assert chi2 < 43.8  # chi-square, 19 degrees of freedom, p = 0.001
    ks = np.abs(np.sort(values) - np.arange(1, n + 1) / n).max()
    assert ks < 1.95 / np.sqrt(n)  # Kolmogorov-Smirnov at p = 0.001


@pytest.mark.parametrize("cls", BOTH)
def test_uniform_passes_statistical_checks(cls):
    values = function([], cls(7).uniform((N // 100, 100)))()
    assert values.shape == (N // 100, 100) and values.min() >= 0 and values.max() < 1
    uniformity_checks(values.ravel())


@pytest.mark.parametrize("cls", BOTH)
def test_normal_binomial_moments(cls):
    srng = cls(11)
    z, b1, b3 = function(
        [],
        [
            srng.normal((N,), avg=2.0, std=3.0),
            srng.binomial((N,), p=0.3),
            srng.binomial((N,), n=3, p=0.3),
        ],
    )()
    assert abs(z.mean() - 2.0) < 4 * 3 / np.sqrt(N) and abs(z.std() - 3.0) < 0.05
    assert abs(((z - 2) / 3 > 1.0).mean() - 0.158655) < 0.005  # the Gaussian tail
    assert set(np.unique(b1)) == {0, 1} and abs(b1.mean() - 0.3) < 4 * np.sqrt(0.21 / N)
    assert set(np.unique(b3)) == {0, 1, 2, 3} and abs(b3.mean() - 0.9) < 4 * np.sqrt(0.63 / N)


@pytest.mark.parametrize("cls", BOTH)
def test_reseed_reproduces_and_successive_calls_differ(cls):
    srng = cls(99)
    f = function([], [srng.uniform((4, 3)), srng.normal((5,)), srng.binomial((6,), p=0.5)])
    first = [f() for _ in range(3)]
    assert not np.array_equal(first[0][0], first[1][0]) and not np.array_equal(
        first[1][1], first[2][1]
    )
    srng.seed(99)
    again = [f() for _ in range(3)]
    for a, b in zip(first, again, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    srng.seed(5)
    assert not np.array_equal(f()[0], first[0][0])


@pytest.mark.parametrize("cls", BOTH)
def test_no_default_updates_keeps_the_state(cls):
    srng = cls(4)
    u = srng.uniform((3,))
    frozen = function([], u, no_default_updates=True)
    np.testing.assert_array_equal(frozen(), frozen())
    rstate = srng.state_updates[-1][0]
    state = rstate.get_value(borrow=True, return_internal_type=True).copy()
    frozen()
    np.testing.assert_array_equal(rstate.get_value(borrow=True, return_internal_type=True), state)
    explicit = function([], u, updates=srng.updates(), no_default_updates=True)
    assert not np.array_equal(explicit(), explicit())


@pytest.mark.parametrize("cls", BOTH)
def test_two_identical_draws_stay_two_draws(cls):
    srng = cls(8)
    a, b = srng.uniform((50,)), srng.uniform((50,))
    f = function([], [a, b, a + b])
    op_type = rnd.RandomFunction if cls is RandomStreams else mrg.MRGUniform
    nodes = draw_nodes(f, op_type)
    assert len(nodes) == 2 and not nodes[0].op.do_constant_folding(nodes[0])
    x, y, s = f()
    assert not np.array_equal(x, y)
    np.testing.assert_allclose(s, x + y)


@pytest.mark.parametrize("cls", BOTH)
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_theano_dropout_trajectories_replay_after_reseed(cls, mode):
    srng, rng = cls(42), np.random.default_rng(0)
    W = shared(rng.normal(size=(3, 4)).astype("float32"), name="W")
    x, y = C["fmatrix"]("x"), C["fmatrix"]("y")
    h = T.tanh(labsym.dot(x, W))
    mask = srng.binomial(size=h.shape, p=0.5, dtype="float32")
    cost = ((h * mask - y) ** 2).mean()
    train = function([x, y], cost, updates=[(W, W - np.float32(0.5) * grad(cost, W))], mode=mode)
    xv, yv = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 4)).astype("float32")
    start = W.get_value()

    def trajectory():
        return [(float(train(xv, yv)), W.get_value()) for _ in range(3)]

    first = trajectory()
    srng.seed(42)
    W.set_value(start)
    second = trajectory()
    assert [c for c, _ in first] == [c for c, _ in second]
    for (_, w1), (_, w2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(first[0][1], first[1][1])


@pytest.mark.parametrize("cls", BOTH)
def test_dropout_gradient_uses_the_drawn_mask(cls):
    srng = cls(1)
    x, W = C["dmatrix"]("x"), C["dmatrix"]("W")
    mask = srng.binomial(size=(4, 2), p=0.5, dtype="float64")
    cost = ((labsym.dot(x, W) * mask) ** 2).sum()
    xv, wv = (
        np.random.default_rng(2).normal(size=(4, 3)),
        np.random.default_rng(3).normal(size=(3, 2)),
    )
    g, mv = function([x, W], [grad(cost, W), mask])(xv, wv)
    np.testing.assert_allclose(g, xv.T @ (2 * (xv @ wv) * mv**2))


def test_randomstreams_samples_are_constants_for_grad():
    mu = C["dscalar"]("mu")
    z = RandomStreams(5).normal((10,), avg=mu)
    with pytest.raises(DisconnectedInputError, match="not part of the computational graph"):
        grad(z.sum(), mu)


def test_mrg_normal_is_differentiable_in_avg_and_std():
    mu, sigma = C["dscalar"]("mu"), C["dscalar"]("sigma")
    z = MRG_RandomStreams(5).normal((1001,), avg=mu, std=sigma)
    g_mu, g_sigma, zv = function([mu, sigma], [grad(z.sum(), mu), grad(z.sum(), sigma), z])(
        1.0, 2.0
    )
    assert g_mu == 1001
    np.testing.assert_allclose(g_sigma, ((zv - 1.0) / 2.0).sum())


# ---------------------------------------------------------------------------------- RandomStreams
def test_discrete_distributions():
    srng = RandomStreams(21)
    ri = srng.random_integers((N,), low=-2, high=3)
    mult = srng.multinomial((N // 10,), n=6, pvals=[0.2, 0.3, 0.5])
    ch = srng.choice((N,), a=4, p=[0.1, 0.2, 0.3, 0.4])
    ch_values = srng.choice(
        (3,), a=np.array([10.0, 20.0, 30.0, 40.0]), replace=False, dtype="float64"
    )
    perm = srng.permutation((50,), n=6)
    riv, mv, cv, cvals, pv = function([], [ri, mult, ch, ch_values, perm])()
    assert set(np.unique(riv)) == set(range(-2, 4))
    assert mv.shape == (N // 10, 3) and (mv.sum(axis=1) == 6).all()
    np.testing.assert_allclose(mv.mean(axis=0) / 6, [0.2, 0.3, 0.5], atol=0.01)
    np.testing.assert_allclose(np.bincount(cv) / N, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    assert len(set(cvals)) == 3 and set(cvals) <= {10.0, 20.0, 30.0, 40.0}
    assert (np.sort(pv, axis=1) == np.arange(6)).all() and len({tuple(r) for r in pv}) > 10


def test_symbolic_sizes_and_shapes():
    srng = RandomStreams(2)
    x, n = C["dmatrix"]("x"), C["lscalar"]("n")
    v = C["lvector"]("v")
    by_shape = srng.uniform(x.shape, dtype="float64")
    by_entries = srng.normal((x.shape[0], n, 2), dtype="float64")
    by_vector = srng.uniform(v, ndim=2)
    assert by_shape.type == TensorType("float64", (None, None))
    assert by_entries.type == TensorType("float64", (None, None, 2))
    f = function([x, n, v], [by_shape, by_entries, by_vector, by_entries.shape])
    a, b, c, shape = f(np.zeros((4, 3)), 5, np.array([2, 6]))
    assert a.shape == (4, 3) and b.shape == (4, 5, 2) and c.shape == (2, 6)
    np.testing.assert_array_equal(shape, [4, 5, 2])
    with pytest.raises(ValueError, match="length of size .* is unknown; pass ndim"):
        srng.uniform(v)


def test_size_from_parameters_and_broadcasting():
    srng = RandomStreams(6)
    low = C["dvector"]("low")
    u = srng.uniform(low=low, high=10.0)
    m = srng.multinomial(n=[5, 10], pvals=[[0.5, 0.5], [0.1, 0.9]])
    p = srng.permutation(n=5)
    assert u.ndim == 1 and m.type.shape == (2, 2) and p.type.shape == (5,)
    lows = np.array([0.0, 5.0, 9.0])
    uv, mv, pv = function([low], [u, m, p])(lows)
    assert uv.shape == (3,) and (uv >= lows).all() and (uv < 10).all()
    np.testing.assert_array_equal(mv.sum(axis=1), [5, 10])
    np.testing.assert_array_equal(np.sort(pv), np.arange(5))
    k = C["lscalar"]("k")
    shapes = function([low, k], [u.shape, m.shape, srng.permutation((2,), n=k).shape])(lows, 4)
    assert [list(s) for s in shapes] == [[3], [2, 2], [2, 4]]
    wide = srng.normal((2, 3), avg=np.array([0.0, 100.0, 200.0]))
    assert np.all(np.abs(function([], wide)() - [0, 100, 200]) < 10)


def test_dtypes():
    srng = RandomStreams(0)
    with config.change_flags(floatX="float32"):
        u, z = srng.uniform((3,)), srng.normal((3,))
    assert (u.dtype, z.dtype) == ("float32", "float32")
    assert (
        srng.uniform((3,), low=np.float64(0)).dtype == "float64"
    )  # a strong float64 parameter upcasts
    assert srng.binomial((3,)).dtype == "int64"
    values = function([], [u, z, srng.binomial((3,), p=0.5, dtype="float32")])()
    assert [v.dtype for v in values] == [np.float32, np.float32, np.float32]


def test_bad_arguments_raise_clear_errors():
    srng = RandomStreams(0)
    with pytest.raises(TypeError, match="parameter n must be integers"):
        srng.binomial((3,), n=1.5)
    with pytest.raises(TypeError, match="parameter pvals must have 1 dims|parameter pvals must be"):
        srng.multinomial(pvals=0.5)
    with pytest.raises(ValueError, match="negative length"):
        srng.uniform((3, -1))
    with pytest.raises(ValueError, match="size has 2 entries but ndim=3"):
        srng.uniform((3, 2), ndim=3)
    with pytest.raises(ValueError, match="more batch axes than the 1 of size"):
        srng.uniform((3,), low=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="do not broadcast together"):
        srng.uniform(low=np.zeros(3), high=np.ones(4))
    with pytest.raises(ValueError, match="ndim=2 but the parameters and size give 1 dims"):
        srng.uniform(low=np.zeros(3), ndim=2)
    with pytest.raises(ValueError, match="unknown distribution 'gamma'"):
        rnd.RandomFunction("gamma", "float64")
    with pytest.raises(TypeError, match="the state must be a packed RandomState"):
        rnd.RandomFunction("uniform", "float64")(C["dvector"](), np.array([2]), 0.0, 1.0)


# ------------------------------------------------------------------------------- MRG_RandomStreams
def test_mrg_seeds_and_stream_counts():
    for seed, match in [
        (0, "1 .. "),
        (mrg.M2, "1 .. "),
        ([0, 0, 0, 1, 1, 1], "not all 0"),
        ([1, 2], "one int or 6 ints"),
    ]:
        with pytest.raises((ValueError, TypeError), match=match):
            MRG_RandomStreams(seed)
    srng = MRG_RandomStreams([1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(srng.rstate, [1, 2, 3, 4, 5, 6])
    assert (guess_n_streams((4, 3)), guess_n_streams((5,)), guess_n_streams((10**6,))) == (
        2,
        5,
        15360,
    )
    x = C["dvector"]("x")
    srng.uniform(x.shape)
    srng.uniform((60,))
    assert [r.get_value().shape for r, _ in srng.updates()] == [(15360, 6), (10, 6)]


def test_mrg_discrete_draws():
    srng = MRG_RandomStreams(17)
    pvals = np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    p = C["dmatrix"]("p")
    counts = srng.multinomial(pvals=p, n=N // 10)
    vector_counts = srng.multinomial(pvals=[0.5, 0.5], n=4)
    picks = srng.choice(size=3, p=p, replace=False)
    with_replacement = srng.choice(size=N // 10, p=p)
    perm = srng.permutation((20,), n=7)
    c, vc, pk, wr, pm = function([p], [counts, vector_counts, picks, with_replacement, perm])(pvals)
    np.testing.assert_allclose(c / (N // 10), pvals, atol=0.01)
    assert vc.shape == (2,) and vc.sum() == 4
    assert pk.shape == (2, 3) and all(sorted(row) == [0, 1, 2] for row in pk)
    for row, probs in zip(wr, pvals, strict=True):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / (N // 10), probs, atol=0.01)
    assert (np.sort(pm, axis=1) == np.arange(7)).all()


def test_mrg_symbolic_size_normal_and_scalar():
    srng = MRG_RandomStreams(23)
    x = C["dmatrix"]("x")
    z, s, odd = srng.normal(x.shape, dtype="float32"), srng.uniform(), srng.normal((3,))
    assert z.dtype == "float32" and s.ndim == 0
    zv, sv, ov = function([x], [z, s, odd])(np.zeros((3, 5)))
    assert zv.shape == (3, 5) and zv.dtype == np.float32 and 0 < sv < 1 and ov.shape == (3,)


def test_mrg_bad_arguments():
    srng = MRG_RandomStreams(1)
    with pytest.raises(TypeError, match="n must be a positive int"):
        srng.binomial((3,), n=0)
    with pytest.raises(ValueError, match="shape comes from pvals"):
        srng.multinomial(size=(2,), pvals=[[0.5, 0.5]])
    with pytest.raises(TypeError, match="a must be None"):
        srng.choice(size=2, a=3, p=[[0.5, 0.5]])
    with pytest.raises(ValueError, match="increase the size"):
        srng.uniform((3,), low=np.zeros((2, 3)))
    with pytest.raises(TypeError, match="rstate must be an int32"):
        mrg.MRGUniform("float64")(C["lmatrix"](), np.array([2]))
    with pytest.raises(ValueError, match="without replacement"):
        function([], srng.choice(size=3, p=[[0.5, 0.5]], replace=False))()
