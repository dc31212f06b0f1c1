"""Stabilize rules: each rewrites to the expected graph, keeps the numbers on ordinary inputs, and
turns an input where the naive graph gives inf/nan into a finite, accurate answer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.core.autodiff import grad
from labsym.core.fgraph import FunctionGraph
from labsym.core.ops.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
    crossentropy_categorical_1hot,
)
from labsym.core.ops.nnet_fused import CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx
from labsym.core.ops.reduce import Max
from labsym.core.type import TensorType
from labsym.optim.rules import stabilize
from tests.optim import rewrite_helpers
from tests.optim.rewrite_helpers import check_rewrite

RNG = np.random.default_rng(42)
# the graph as stabilize leaves it; fusion and inplace would rename the elementwise ops
REWRITE = Mode(linker="py", optimizer="fast_run", excluding=("fusion", "inplace"))
NAIVE = Mode(linker="py", optimizer=None)
BAD_ROWS = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0], [-800.0, 800.0, 0.0]])
BAD_TARGETS = np.array([2, 0, 0])


@pytest.fixture(autouse=True)
def _reference_mode_with_linker(monkeypatch):
    # Mode(optimizer=None) is built without a linker (reported); check_rewrite's reference needs one
    monkeypatch.setattr(rewrite_helpers, "Mode", lambda **kw: Mode(linker="py", **kw))


def _evaluate(inputs, outputs, values, mode):
    with np.errstate(all="ignore"):
        result = function(list(inputs), outputs, mode=mode, on_unused_input="ignore")(*values)
    return result if isinstance(outputs, list) else [result]


def assert_stabilized(inputs, outputs, values, references, rtol=1e-10, atol=1e-12):
    """The naive graph gives inf/nan on `values`; FAST_RUN is finite and matches `references`."""
    naive = _evaluate(inputs, outputs, values, NAIVE)
    assert not all(np.all(np.isfinite(v)) for v in naive), (
        f"naive graph was already finite: {naive}"
    )
    stable = _evaluate(inputs, outputs, values, "FAST_RUN")
    for got, want in zip(stable, references, strict=True):
        assert np.all(np.isfinite(got)), got
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def op_types(fgraph) -> set:
    return {type(node.op) for node in fgraph.toposort()}


def scalar_names(fgraph) -> list[str]:
    return [node.op.scalar_op.name for node in fgraph.toposort() if hasattr(node.op, "scalar_op")]


def _softplus(x):
    return np.logaddexp(0.0, x)


# ---------------------------------------------------------------------- elementwise rules
ELEMENTWISE = {
    "sigmoid_from_exp": (lambda x: 1 / (1 + T.exp(x)), lambda x: T.nnet.sigmoid(-x)),
    "sigmoid_from_exp_ratio": (lambda x: T.exp(x) / (1 + T.exp(x)), T.nnet.sigmoid),
    "one_minus_sigmoid": (lambda x: 1 - T.nnet.sigmoid(x), lambda x: T.nnet.sigmoid(-x)),
    "log_sigmoid": (lambda x: T.log(T.nnet.sigmoid(x)), lambda x: -T.nnet.softplus(-x)),
    "softplus_from_log_exp": (lambda x: T.log(1 + T.exp(x)), T.nnet.softplus),
    "log1p_from_log": (lambda x: T.log(1 + x), T.log1p),
    "log1p_from_log_sub": (lambda x: T.log(1 - x), lambda x: T.log1p(-x)),
    "expm1_from_exp": (lambda x: T.exp(x) - 1, T.expm1),
}


@pytest.mark.parametrize("rule", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elementwise_rule_structure_and_values(rule, dtype):
    naive, expected = ELEMENTWISE[rule]
    x = T.vector("x", dtype=dtype)
    values = [RNG.uniform(-0.9, 0.9, size=6).astype(dtype)]
    rtol = 1e-12 if dtype == "float64" else 1e-5
    check_rewrite([x], naive(x), expected(x), values, mode=REWRITE, rtol=rtol, atol=rtol)


# (naive expression, input where it fails, stable NumPy reference)
ELEMENTWISE_FAILURES = {
    "sigmoid_from_exp": (
        lambda x: T.log(1 / (1 + T.exp(x))),
        [1000.0, -1000.0, 0.5],
        lambda v: -_softplus(v),
    ),
    "sigmoid_from_exp_ratio": (
        lambda x: T.exp(x) / (1 + T.exp(x)),
        [1000.0, -1000.0, 0.5],
        scipy.special.expit,
    ),
    "one_minus_sigmoid": (
        lambda x: T.log(1 - T.nnet.sigmoid(x)),
        [1000.0, 40.0, 0.5],
        lambda v: -_softplus(v),
    ),
    "log_sigmoid": (
        lambda x: T.log(T.nnet.sigmoid(x)),
        [-1000.0, 1000.0, 0.5],
        lambda v: -_softplus(-v),
    ),
    "softplus_from_log_exp": (lambda x: T.log(1 + T.exp(x)), [1000.0, -1000.0, 0.5], _softplus),
    # x / log(1 + x) -> 1 as x -> 0; the naive log(1 + 1e-20) is 0, so the ratio is inf
    "log1p_from_log": (lambda x: x / T.log(1 + x), [1e-20, 1e-300, 0.5], lambda v: v / np.log1p(v)),
    "log1p_from_log_sub": (
        lambda x: x / T.log(1 - x),
        [1e-20, 1e-300, 0.5],
        lambda v: v / np.log1p(-v),
    ),
    "expm1_from_exp": (
        lambda x: x / (T.exp(x) - 1),
        [1e-20, 1e-300, 0.5],
        lambda v: v / np.expm1(v),
    ),
}


@pytest.mark.parametrize("rule", sorted(ELEMENTWISE_FAILURES))
def test_elementwise_rule_fixes_overflow(rule):
    build, values, reference = ELEMENTWISE_FAILURES[rule]
    x = T.dvector("x")
    value = np.array(values)
    assert_stabilized([x], build(x), [value], [reference(value)])


def test_sigmoid_times_exp():
    g, u = T.dvectors("g", "u")
    out = g / (1 + T.exp(u)) * T.exp(u)
    values = [RNG.normal(size=4), RNG.normal(size=4)]
    check_rewrite([g, u], out, g * T.nnet.sigmoid(u), values, mode=REWRITE)
    bad = [np.array([2.0, 3.0]), np.array([1000.0, -1000.0])]
    assert_stabilized([g, u], out, bad, [bad[0] * scipy.special.expit(bad[1])])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_crossentropy_value_and_gradient(dtype):
    # Theano's classic: both log terms and the gradient through sigmoid stay finite
    z, y = T.vector("z", dtype=dtype), T.vector("y", dtype=dtype)
    sig = T.nnet.sigmoid(z)
    cost = (-y * T.log(sig) - (1 - y) * T.log(1 - sig)).sum()
    zv = np.array([1000.0, -1000.0, 1000.0, -1000.0, 3.0], dtype=dtype)
    yv = np.array([0.0, 1.0, 1.0, 0.0, 0.25], dtype=dtype)
    expected_cost = (
        yv * _softplus(-zv.astype(float)) + (1 - yv) * _softplus(zv.astype(float))
    ).sum()
    expected_grad = scipy.special.expit(zv.astype(float)) - yv
    rtol = 1e-12 if dtype == "float64" else 1e-5
    assert_stabilized(
        [z, y], [cost, grad(cost, z)], [zv, yv], [expected_cost, expected_grad], rtol, rtol
    )
    f = function([z, y], grad(cost, z), mode=REWRITE)
    assert "log" not in scalar_names(f.maker.fgraph) and "true_div" not in scalar_names(
        f.maker.fgraph
    )


# ---------------------------------------------------------------------- products
def test_cancel_div_in_product():
    a, b, s = T.dvectors("a", "b", "s")
    out = (a / s) * b * s
    check_rewrite([a, b, s], out, a * b, [RNG.normal(size=3) for _ in range(3)], mode=REWRITE)
    av, bv = np.array([1.5, -2.0]), np.array([3.0, 4.0])
    assert_stabilized([a, b, s], out, [av, bv, np.array([0.0, np.inf])], [av * bv])


def test_cancel_div_distributes_over_a_sum_of_ratios():
    # what grad(-y*log(p) - (1-y)*log(q)) * p * q looks like: (a / s - b / t) * s * t
    a, b, s, t = T.dvectors("a", "b", "s", "t")
    out = (a / s - b / t) * s * t
    values = [RNG.uniform(0.5, 2.0, size=3) for _ in range(4)]
    check_rewrite([a, b, s, t], out, a * t - b * s, values, mode=REWRITE)
    av, bv, tv = np.array([1.5, -2.0]), np.array([3.0, 4.0]), np.array([2.0, 0.5])
    sv = np.array([0.0, 1e-320])  # s / s is nan at 0, and 1 / 1e-320 overflows
    assert_stabilized([a, b, s, t], out, [av, bv, sv, tv], [av * tv - bv * sv])


def test_cancel_div_needs_every_term_to_be_a_cancelling_ratio():
    a, b, s = T.dvectors("a", "b", "s")
    values = [RNG.uniform(0.5, 2.0, size=3) for _ in range(3)]
    for out in [(a / s + b) * s, (a / b) * s]:
        check_rewrite(
            [a, b, s], out, lambda fg: "true_div" in scalar_names(fg), values, mode=REWRITE
        )


def test_cancel_div_stops_at_shared_products():
    # x ** 2 ** k by repeated squaring is a DAG of k nodes; flattening it as a tree is 2 ** k leaves
    x = T.dvector("x")
    power = x
    for _ in range(40):
        power = power * power
    fgraph = FunctionGraph([x], [power], clone=False)
    assert len(stabilize._product_factors(fgraph, power)) == 2
    np.testing.assert_allclose(function([x], power, mode=REWRITE)([1.0, -1.0]), [1.0, 1.0])


def test_cancel_div_keeps_the_broadcast_shape():
    # (row / s) * s is a matrix: dropping s would leave a row, so the rule must not fire
    row, s = T.TensorType("float64", (1, None))("row"), T.dmatrix("s")
    sv = RNG.uniform(1, 2, size=(3, 4))
    rv = RNG.normal(size=(1, 4))
    f = check_rewrite(
        [row, s], (row / s) * s, lambda fg: "true_div" in scalar_names(fg), [rv, sv], mode=REWRITE
    )
    assert f(rv, sv).shape == (3, 4)


# ---------------------------------------------------------------------- softmax
def _keepdims_form(x):
    e = T.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _theano_form(x):
    e = T.exp(x)
    return e / e.sum(axis=1).dimshuffle(0, "x")


def _max_shifted_form(x):
    e = T.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


SOFTMAX_FORMS = {
    "keepdims": (T.dmatrix, _keepdims_form, -1),
    "theano_dimshuffle": (T.dmatrix, _theano_form, -1),
    "max_shifted": (T.dmatrix, _max_shifted_form, -1),
    "columns": (T.dmatrix, lambda x: T.exp(x) / T.exp(x).sum(axis=0, keepdims=True), -2),
    "vector": (T.dvector, lambda x: T.exp(x) / T.exp(x).sum(), -1),
    "all_axes_3d": (T.dtensor3, lambda x: T.exp(x) / T.exp(x).sum(keepdims=True), None),
}


@pytest.mark.parametrize("form", sorted(SOFTMAX_FORMS))
def test_softmax_from_exp_ratio(form):
    make, build, axis = SOFTMAX_FORMS[form]
    x = make("x")
    value = RNG.normal(size=(3, 4, 2)[: x.ndim]) * 3
    check_rewrite([x], build(x), T.nnet.softmax(x, axis=axis), [value], mode=REWRITE)


@pytest.mark.parametrize("build", [_keepdims_form, _theano_form])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_from_exp_ratio_fixes_overflow(build, dtype):
    x = T.matrix("x", dtype=dtype)
    value = BAD_ROWS.astype(dtype)
    reference = scipy.special.softmax(BAD_ROWS, axis=1)
    assert_stabilized(
        [x], build(x), [value], [reference], rtol=1e-6 if dtype == "float32" else 1e-12
    )


def test_softmax_from_exp_ratio_leaves_other_ratios():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    t = T.dtensor3("t")
    other = T.exp(x) / T.exp(y).sum(axis=1, keepdims=True)
    two_axes = T.exp(t) / T.exp(t).sum(axis=(1, 2), keepdims=True)
    values = [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]
    check_rewrite([x, y], other, lambda fg: Softmax not in op_types(fg), values, mode=REWRITE)
    check_rewrite(
        [t],
        two_axes,
        lambda fg: Softmax not in op_types(fg),
        [RNG.normal(size=(2, 3, 4))],
        mode=REWRITE,
    )


@pytest.mark.parametrize("op", [T.nnet.softmax, T.nnet.log_softmax])
def test_softmax_shift_invariance(op):
    x, c, full = T.dmatrix("x"), T.col("c", dtype="float64"), T.dmatrix("full")
    xv, cv, fv = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 1)), RNG.normal(size=(3, 4))
    check_rewrite([x, c], op(x - c), op(x), [xv, cv], mode=REWRITE)
    # a shift that varies along the axis changes the result: no rewrite
    check_rewrite([x, full], op(x - full), op(x - full), [xv, fv], mode=REWRITE)


@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax_from_log(axis):
    x = T.dmatrix("x")
    out = T.log(T.nnet.softmax(x, axis=axis))
    check_rewrite(
        [x], out, T.nnet.log_softmax(x, axis=axis), [RNG.normal(size=(3, 4))], mode=REWRITE
    )
    value = BAD_ROWS if axis == -1 else BAD_ROWS.T
    assert_stabilized([x], out, [value], [scipy.special.log_softmax(value, axis=axis)])


# ---------------------------------------------------------------------- crossentropy
def _onehot_gradient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (scipy.special.softmax(x, axis=1) - np.eye(x.shape[1])[y]) / len(y)


def _nll(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -scipy.special.log_softmax(x, axis=1)[np.arange(len(y)), y]


def test_crossentropy_softmax_1hot_value():
    x, y = T.dmatrix("x"), T.lvector("y")
    out = crossentropy_categorical_1hot(T.nnet.softmax(x), y)
    values = [RNG.normal(size=(4, 3)), np.array([0, 2, 1, 1])]
    check_rewrite([x, y], out, CrossentropySoftmax1Hot()(x, y), values, mode=REWRITE)
    assert_stabilized([x, y], out, [BAD_ROWS, BAD_TARGETS], [_nll(BAD_ROWS, BAD_TARGETS)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_crossentropy_softmax_1hot_gradient(dtype):
    x, y = T.matrix("x", dtype=dtype), T.lvector("y")
    cost = crossentropy_categorical_1hot(T.nnet.softmax(x), y).mean()
    outputs = [cost, grad(cost, x)]
    references = [_nll(BAD_ROWS, BAD_TARGETS).mean(), _onehot_gradient(BAD_ROWS, BAD_TARGETS)]
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert_stabilized([x, y], outputs, [BAD_ROWS.astype(dtype), BAD_TARGETS], references, tol, tol)
    types = op_types(function([x, y], outputs[1], mode=REWRITE).maker.fgraph)
    assert CrossentropySoftmax1HotDx in types
    assert not types & {
        SoftmaxGrad,
        CrossentropyCategorical1HotGrad,
        CrossentropyCategorical1Hot,
        Softmax,
    }


def test_crossentropy_of_column_softmax_is_not_fused():
    x, y = T.dmatrix("x"), T.lvector("y")
    out = crossentropy_categorical_1hot(T.nnet.softmax(x, axis=0), y)
    values = [RNG.normal(size=(3, 3)), np.array([0, 2, 1])]
    check_rewrite(
        [x, y], out, lambda fg: CrossentropyCategorical1Hot in op_types(fg), values, mode=REWRITE
    )


def test_onehot_matrix_crossentropy_value_and_gradient():
    x, onehot = T.dmatrix("x"), T.dmatrix("onehot")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), onehot).mean()
    outputs = [cost, grad(cost, x)]
    onehot_value = np.eye(3)[BAD_TARGETS]
    references = [_nll(BAD_ROWS, BAD_TARGETS).mean(), _onehot_gradient(BAD_ROWS, BAD_TARGETS)]
    assert_stabilized([x, onehot], outputs, [BAD_ROWS, onehot_value], references)
    f = function([x, onehot], outputs, mode=REWRITE)
    assert LogSoftmax in op_types(f.maker.fgraph) and SoftmaxGrad not in op_types(f.maker.fgraph)


def test_indexed_log_softmax_crossentropy_value_and_gradient():
    x, y = T.dmatrix("x"), T.lvector("y")
    cost = -T.log(T.nnet.softmax(x))[T.arange(y.shape[0]), y].mean()
    outputs = [cost, grad(cost, x)]
    references = [_nll(BAD_ROWS, BAD_TARGETS).mean(), _onehot_gradient(BAD_ROWS, BAD_TARGETS)]
    assert_stabilized([x, y], outputs, [BAD_ROWS, BAD_TARGETS], references)


@pytest.mark.parametrize("broadcast", ["row", "col"])
def test_softmax_grad_of_log_with_broadcast_numerator(broadcast):
    # SoftmaxGrad(g / sm, sm) = g - sm * sum(g): g's sum runs over full rows even when g is a column
    x, g = T.dmatrix("x"), getattr(T, broadcast)("g", dtype="float64")
    sm = T.nnet.softmax(x)
    out = SoftmaxGrad(-1)(g / sm, sm)
    g_shape = (1, 3) if broadcast == "row" else (3, 1)
    values = [RNG.normal(size=(3, 3)), RNG.normal(size=g_shape)]
    check_rewrite([x, g], out, lambda fg: SoftmaxGrad not in op_types(fg), values, mode=REWRITE)
    gv = np.array([0.5, -1.0, 2.0]).reshape(g_shape)
    full = np.broadcast_to(gv, BAD_ROWS.shape)
    reference = full - scipy.special.softmax(BAD_ROWS, axis=1) * full.sum(axis=1, keepdims=True)
    assert_stabilized([x, g], out, [BAD_ROWS, gv], [reference])


def test_rewrites_are_recorded_in_history():
    x, y = T.dmatrix("x"), T.lvector("y")
    cost = crossentropy_categorical_1hot(T.nnet.softmax(x), y).mean()
    f = function([x, y], grad(cost, x), mode=REWRITE.with_history())
    counts = f.maker.fgraph.history.by_rule()
    assert (
        counts["crossentropy_softmax_1hot"] == 1 and counts["crossentropy_softmax_1hot_grad"] == 1
    )
    record = next(r for r in f.maker.fgraph.history if r.rule == "crossentropy_softmax_1hot_grad")
    assert record.phase == "stabilize" and "CrossentropySoftmax1HotDx" in record.after


# ---------------------------------------------------------------------- logsumexp
LSE_FORMS = {
    "axis1": (lambda x: T.log(T.exp(x).sum(axis=1)), lambda v: scipy.special.logsumexp(v, axis=1)),
    "keepdims": (
        lambda x: T.log(T.exp(x).sum(axis=1, keepdims=True)),
        lambda v: scipy.special.logsumexp(v, axis=1, keepdims=True),
    ),
    "axis0": (lambda x: T.log(T.exp(x).sum(axis=0)), lambda v: scipy.special.logsumexp(v, axis=0)),
    "all": (lambda x: T.log(T.exp(x).sum()), scipy.special.logsumexp),
}


def _rewritten_once(fgraph) -> bool:
    names = scalar_names(fgraph)
    return Max in op_types(fgraph) and names.count("exp") == 1 and names.count("log") == 1


@pytest.mark.parametrize("form", sorted(LSE_FORMS))
def test_logsumexp(form):
    build, reference = LSE_FORMS[form]
    x = T.dmatrix("x")
    check_rewrite([x], build(x), _rewritten_once, [RNG.normal(size=(3, 4))], mode=REWRITE)
    value = np.array([[1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -1001.0], [1.0, 2.0, 3.0]])
    value = value if form != "axis0" else value.T
    assert_stabilized([x], build(x), [value], [reference(value)])


def test_logsumexp_of_infinite_groups_matches_scipy():
    x = T.dmatrix("x")
    value = np.array([[-np.inf, -np.inf], [np.inf, 0.0], [0.0, -np.inf]])
    with np.errstate(all="ignore"):
        got = function([x], T.log(T.exp(x).sum(axis=1)))(value)
    np.testing.assert_array_equal(got, scipy.special.logsumexp(value, axis=1))


def test_logsumexp_leaves_the_stable_form_alone():
    x = T.dmatrix("x")
    top = x.max(axis=1, keepdims=True)
    out = top + T.log(T.exp(x - top).sum(axis=1, keepdims=True))
    f = check_rewrite([x], out, _rewritten_once, [RNG.normal(size=(3, 4))], mode=REWRITE)
    assert [type(n.op) for n in f.maker.fgraph.toposort()].count(Max) == 1


def test_float32_logsumexp_keeps_dtype():
    x = TensorType("float32", (None, None))("x")
    f = function([x], T.log(T.exp(x).sum(axis=1)))
    value = np.array([[100.0, 100.0]], dtype="float32")  # exp(100) overflows float32
    out = f(value)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [100 + np.log(2)], rtol=1e-6)
