"""The scan_vectorize rewrite: a map Scan (jacobian, hessian, labsym.map) becomes its batched
inner graph with the loop's values; scans it cannot batch stay as they are."""

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from labsym.compile import Mode
from labsym.core.scan.op import Scan
from labsym.gradient import hessian, jacobian

FAST = Mode(linker="py", optimizer="fast_run")
LOOP = FAST.excluding("scan_vectorize")
RNG = np.random.default_rng(1234)


def _scans(f) -> int:
    return sum(isinstance(node.op, Scan) for node in f.maker.fgraph.toposort())


def _both(inputs, outputs, **kw):
    """(vectorized function, loop function); asserts the first has no Scan, the second one."""
    vec = labsym.function(inputs, outputs, mode=FAST, **kw)
    loop = labsym.function(inputs, outputs, mode=LOOP, **kw)
    assert _scans(vec) == 0, "the map was not vectorized"
    assert _scans(loop) >= 1
    return vec, loop


def _check(vec, loop, args, expected, rtol=1e-12):
    got, ref = vec(*args), loop(*args)
    got = got if isinstance(got, list) else [got]
    ref = ref if isinstance(ref, list) else [ref]
    for g, r, e in zip(got, ref, expected, strict=True):
        assert g.dtype == r.dtype and g.shape == r.shape == np.shape(e)
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9)


def _strided(a: np.ndarray, kind: str) -> np.ndarray:
    """a as a contiguous, non-contiguous or negative-stride array with the same values."""
    if kind == "contiguous":
        return np.ascontiguousarray(a)
    if kind == "negative":
        flipped = np.ascontiguousarray(a[::-1])
        return flipped[::-1]
    wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), a.dtype) if a.ndim else None
    if wide is None:
        return a
    wide[..., ::2] = a
    return wide[..., ::2]


KINDS = ["contiguous", "strided", "negative"]


# ---------------------------------------------------------------- jacobian and hessian
@pytest.mark.parametrize("n", [1, 3, 7])
@pytest.mark.parametrize("kind", KINDS)
def test_hessian_of_tanh_layer(n, kind):
    w, x = T.dmatrix("w"), T.dvector("x")
    vec, loop = _both([w, x], hessian(T.tanh(T.dot(w, x)).sum(), x))
    wv = _strided(RNG.standard_normal((n + 2, n)), kind)
    xv = _strided(RNG.standard_normal(n), kind)
    t = np.tanh(wv @ xv)
    _check(vec, loop, [wv, xv], [(wv.T * (-2 * t * (1 - t * t))) @ wv])


@pytest.mark.parametrize("n", [2, 5])
def test_hessian_cubic_plus_quadratic_form(n):
    w, x = T.dmatrix("w"), T.dvector("x")
    vec, loop = _both([w, x], hessian((x**3).sum() + T.dot(x, T.dot(w, x)), x))
    wv, xv = RNG.standard_normal((n, n)), RNG.standard_normal(n)
    _check(vec, loop, [wv, xv], [np.diag(6 * xv) + wv + wv.T])


@pytest.mark.parametrize("n", [1, 4, 9])
def test_hessian_of_logsumexp(n):
    x = T.dvector("x")
    vec, loop = _both([x], hessian(T.log(T.exp(x).sum()), x))
    xv = RNG.standard_normal(n)
    p = np.exp(xv) / np.exp(xv).sum()
    _check(vec, loop, [xv], [np.diag(p) - np.outer(p, p)])


def test_hessian_of_two_vectors():
    x, y = T.dvector("x"), T.dvector("y")
    hx, hy = hessian((x**2).sum() * (y**3).sum(), [x, y])
    vec, loop = _both([x, y], [hx, hy])
    xv, yv = RNG.standard_normal(3), RNG.standard_normal(4)
    _check(
        vec,
        loop,
        [xv, yv],
        [2 * np.eye(3) * (yv**3).sum(), np.diag(6 * yv) * (xv**2).sum()],
    )


@pytest.mark.parametrize("kind", KINDS)
def test_jacobian_wrt_vector_and_matrix(kind):
    w, x = T.dmatrix("w"), T.dvector("x")
    jx, jw = jacobian(T.tanh(T.dot(w, x)), [x, w])
    vec, loop = _both([w, x], [jx, jw])
    wv = _strided(RNG.standard_normal((4, 3)), kind)
    xv = _strided(RNG.standard_normal(3), kind)
    d = 1 - np.tanh(wv @ xv) ** 2
    expected_w = np.einsum("ij,k->ijk", np.diag(d), xv)
    _check(vec, loop, [wv, xv], [d[:, None] * wv, expected_w])


def test_jacobian_of_softmax_shift_concat_reshape_max():
    x = T.dvector("x")
    e = T.exp(x)
    exprs = [
        e / e.sum(),
        x[1:] * x[:-1],
        T.concatenate([x, x**2]),
        T.reshape(T.outer(x, x), (-1,)),
        T.maximum(x, 0) * x.max(),
    ]
    vec, loop = _both([x], [jacobian(ex, x) for ex in exprs])
    xv = np.array([0.3, -1.2, 2.0, 0.7])
    n = len(xv)
    p = np.exp(xv) / np.exp(xv).sum()
    shift = np.zeros((n - 1, n))
    shift[np.arange(n - 1), np.arange(n - 1)] = xv[1:]
    shift[np.arange(n - 1), np.arange(1, n)] = xv[:-1]
    outer = np.einsum("ik,j->ijk", np.eye(n), xv) + np.einsum("jk,i->ijk", np.eye(n), xv)
    top = np.argmax(xv)
    relu = np.maximum(xv, 0)
    jmax = np.diag((xv > 0) * xv.max())
    jmax[:, top] += relu
    expected = [
        np.diag(p) - np.outer(p, p),
        shift,
        np.concatenate([np.eye(n), np.diag(2 * xv)]),
        outer.reshape(n * n, n),
        jmax,
    ]
    _check(vec, loop, [xv], expected)


def test_jacobian_float32():
    w, x = T.fmatrix("w"), T.fvector("x")
    vec, loop = _both([w, x], jacobian(T.tanh(T.dot(w, x)), x))
    wv = RNG.standard_normal((3, 5)).astype("float32")
    xv = RNG.standard_normal(5).astype("float32")
    got, ref = vec(wv, xv), loop(wv, xv)
    assert got.dtype == ref.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, (1 - np.tanh(wv @ xv) ** 2)[:, None] * wv, rtol=1e-5)


# ---------------------------------------------------------------- maps of each batched op
def _map_case(fn, seqs, nonseqs, seq_values, nonseq_values, expected_rows):
    outs, _ = labsym.map(fn, sequences=seqs, non_sequences=nonseqs)
    outs = outs if isinstance(outs, list) else [outs]
    vec, loop = _both([*seqs, *nonseqs], outs, on_unused_input="ignore")
    expected = [np.stack(rows) for rows in zip(*expected_rows, strict=True)]
    _check(vec, loop, [*seq_values, *nonseq_values], expected)


@pytest.mark.parametrize("kind", KINDS)
def test_map_dot_every_side(kind):
    """Dot with the step's value on either side, vector or matrix, and on both sides."""
    xs, ys = T.dmatrix("xs"), T.dtensor3("ys")
    a, b, v = T.dmatrix("a"), T.dmatrix("b"), T.dvector("v")

    def fn(x, y, a_, b_, v_):
        return [
            T.dot(a_, x),  # matrix . batched vector
            T.dot(x, b_),  # batched vector . matrix
            T.dot(x, v_),  # batched vector . vector
            T.dot(y, v_),  # batched matrix . vector
            T.dot(y.T, b_),  # batched matrix . matrix
            T.dot(a_, y),  # matrix . batched matrix
            T.dot(v_, y.T),  # vector . batched matrix
            T.dot(x, x),  # both batched vectors
            T.dot(y, x),  # both batched: matrix . vector
        ]

    n = 4
    xv = _strided(RNG.standard_normal((5, n)), kind)
    yv = _strided(RNG.standard_normal((5, n, n)), kind)
    av, bv, vv = RNG.standard_normal((3, n)), RNG.standard_normal((n, 2)), RNG.standard_normal(n)
    rows = [
        [av @ x, x @ bv, x @ vv, y @ vv, y.T @ bv, av @ y, vv @ y.T, x @ x, y @ x]
        for x, y in zip(xv, yv, strict=True)
    ]
    _map_case(fn, [xs, ys], [a, b, v], [xv, yv], [av, bv, vv], rows)


def test_map_reductions_indexing_shapes():
    xs, c = T.dmatrix("xs"), T.dvector("c")

    def fn(x, c_):
        m = x.dimshuffle(0, "x") * c_.dimshuffle("x", 0)  # (k, k)
        return [
            m.sum(axis=0),
            m.max(axis=1),
            m.prod(),
            m.min(axis=-1),
            x[1:3] * 2,
            T.inc_subtensor(x[::2], c_[::2]),
            T.set_subtensor(c_[1:], x[:-1]),
            T.alloc(x[0], 2, 3),
            T.reshape(m, (-1,)),
            T.concatenate([x, c_]),
            x.shape[0] * x + T.cast(x.shape[0], "float64"),
        ]

    k = 4
    xv, cv = RNG.standard_normal((6, k)), RNG.standard_normal(k)
    rows = []
    for x in xv:
        m = np.outer(x, cv)
        inc = x.copy()
        inc[::2] += cv[::2]
        sett = cv.copy()
        sett[1:] = x[:-1]
        rows.append(
            [
                m.sum(0),
                m.max(1),
                m.prod(),
                m.min(-1),
                x[1:3] * 2,
                inc,
                sett,
                np.full((2, 3), x[0]),
                m.reshape(-1),
                np.concatenate([x, cv]),
                k * x + k,
            ]
        )
    _map_case(fn, [xs], [c], [xv], [cv], rows)


def test_map_split_and_int_dtype():
    xs = T.lmatrix("xs")

    def fn(x):
        a, b = T.split(x, [2, 3], 2, axis=0)
        return [a.sum() * 3, b // 2]

    xv = RNG.integers(-50, 50, size=(5, 5))
    rows = [[x[:2].sum() * 3, x[2:] // 2] for x in xv]
    _map_case(fn, [xs], [], [xv], [], rows)


def test_map_output_not_depending_on_the_sequence():
    xs, c = T.dvector("xs"), T.dvector("c")
    outs, _ = labsym.map(lambda x, c_: [x * 2, c_ * 3], sequences=xs, non_sequences=c)
    vec, loop = _both([xs, c], outs)
    xv, cv = RNG.standard_normal(4), RNG.standard_normal(3)
    _check(vec, loop, [xv, cv], [2 * xv, np.tile(3 * cv, (4, 1))])


def test_map_over_empty_sequence():
    xs, w = T.dmatrix("xs"), T.dmatrix("w")
    outs, _ = labsym.map(lambda x, w_: T.tanh(T.dot(w_, x)), sequences=xs, non_sequences=w)
    vec, loop = _both([xs, w], outs)
    xv, wv = np.zeros((0, 3)), RNG.standard_normal((2, 3))
    # no step ran, so the loop cannot know a row's length; the batched graph can
    assert vec(xv, wv).shape == (0, 2)
    assert loop(xv, wv).shape[0] == 0


def test_scan_with_fewer_steps_than_the_sequence():
    xs = T.dvector("xs")
    out, _ = labsym.scan(lambda x: x * 2, sequences=xs, n_steps=3)
    vec, loop = _both([xs], out)
    xv = RNG.standard_normal(6)
    _check(vec, loop, [xv], [2 * xv[:3]])


# ---------------------------------------------------------------- what stays a Scan
def _scan_count(outputs, inputs, mode=FAST):
    return _scans(labsym.function(inputs, outputs, mode=mode))


def test_recurrent_scan_stays():
    x0 = T.dvector("x0")
    out, _ = labsym.scan(lambda h: T.tanh(h) * 2, outputs_info=x0, n_steps=4)
    f = labsym.function([x0], out, mode=FAST)
    assert _scans(f) == 1
    xv = RNG.standard_normal(3)
    h, rows = xv, []
    for _ in range(4):
        h = np.tanh(h) * 2
        rows.append(h)
    np.testing.assert_allclose(f(xv), np.stack(rows), rtol=1e-14)


def test_map_with_a_per_step_index_stays():
    """x[i] with i the step's value is a gather no rule batches: the Scan stays, values right."""
    i, x = T.lvector("i"), T.dvector("x")
    out, _ = labsym.map(lambda i_, x_: x_[i_] * 2, sequences=i, non_sequences=x)
    f = labsym.function([i, x], out, mode=FAST)
    assert _scans(f) == 1
    xv = RNG.standard_normal(5)
    np.testing.assert_allclose(f(np.array([4, 0, 2]), xv), 2 * xv[[4, 0, 2]])


def test_map_with_an_unbatchable_op_stays():
    xs = T.dmatrix("xs")
    out, _ = labsym.map(lambda x: T.sort(x), sequences=xs)
    f = labsym.function([xs], out, mode=FAST)
    assert _scans(f) == 1
    xv = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(f(xv), np.sort(xv, axis=1))


@pytest.mark.parametrize("name", ["scan_vectorize", "scan", "local_scan_vectorize"])
def test_excluding_turns_it_off(name):
    x = T.dvector("x")
    H = hessian((x**3).sum(), x)
    assert _scan_count(H, [x], FAST.excluding(name)) == 1
    assert _scan_count(H, [x], FAST) == 0


def test_fast_compile_keeps_the_scan():
    x = T.dvector("x")
    assert _scan_count(jacobian(x**2, x), [x], Mode(linker="py", optimizer="fast_compile")) == 1


def test_c_linker_gives_the_loop_values():
    if not compiler_available():
        pytest.skip("no C compiler on PATH")
    w, x = T.dmatrix("w"), T.dvector("x")
    H = hessian(T.tanh(T.dot(w, x)).sum(), x)
    f = labsym.function([w, x], H, mode=Mode(linker="c|py", optimizer="fast_run"))
    assert _scans(f) == 0
    wv, xv = RNG.standard_normal((6, 5)), RNG.standard_normal(5)
    np.testing.assert_allclose(f(wv, xv), labsym.function([w, x], H, mode=LOOP)(wv, xv), 1e-12)
