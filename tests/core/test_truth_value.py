"""Theano's variable semantics: truth value, repr with test values, softmax of a vector as a row."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import labsym as theano
from labsym import tensor as T
from labsym.config import config
from labsym.gradient import verify_grad


# ---------------------------------------------------------------------- truth value
class HiddenLayer:
    """The Deep Learning Tutorials' constructor idiom: weights default to None."""

    def __init__(self, n_in, n_out, W=None, b=None):
        if not W:
            W = theano.shared(np.full((n_in, n_out), 0.5), name="W")
        if not b:
            b = theano.shared(np.zeros(n_out), name="b")
        self.W, self.b = W, b


def test_default_argument_idiom_keeps_a_given_variable():
    given = theano.shared(np.ones((2, 3)), name="given")
    layer = HiddenLayer(2, 3, W=given)
    assert layer.W is given and layer.b.name == "b"
    fresh = HiddenLayer(2, 3)
    np.testing.assert_array_equal(fresh.W.get_value(), np.full((2, 3), 0.5))


def test_every_variable_is_truthy():
    x, y = T.dvectors("x", "y")
    assert bool(x) and bool(x + y) and bool(T.constant(0.0)) and bool(theano.shared(0.0))
    # the functions (not the operators) give ordinary variables, as in Theano
    assert bool(T.lt(x, y)) and bool(T.eq(x, y)) and bool(x.sum())
    assert (x if x else None) is x


@pytest.mark.parametrize("compare", ["<", "<=", ">", ">="])
def test_operator_comparisons_have_no_truth_value(compare):
    a, b = T.dscalars("a", "b")
    result = eval(f"a {compare} b")  # noqa: S307 - the operator itself is under test
    with pytest.raises(TypeError, match=r"^Variables do not support boolean operations\.$"):
        bool(result)
    with pytest.raises(TypeError, match="Variables do not support boolean operations"):
        if result:
            pass


def test_chained_comparison_fails_loudly():
    a, b, c = T.dscalars("abc")
    with pytest.raises(TypeError, match="Variables do not support boolean operations"):
        a < b < c  # noqa: B015 - Python evaluates (a < b) and (b < c)
    # the comparison still computes elementwise values
    assert theano.function([a, b], a < b)(1.0, 2.0) == np.bool_(True)


# ---------------------------------------------------------------------- repr with test values
def test_repr_appends_the_test_value_when_print_test_value_is_on():
    a = T.dscalar("a")
    W = theano.shared(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    a.tag.test_value = 2.0
    plain = T.dvector("plain")
    assert repr(a) == "a"
    with config.change_flags(print_test_value=True):
        assert repr(a) == "a\narray(2.)"
        assert repr(W) == "W\narray([[1., 2.],\n       [3., 4.]])"
        assert repr(plain) == "plain"  # no test value: the name alone
        assert str(a) == "a"  # str is unchanged; only repr shows the value
    assert repr(W) == "W"


def test_repr_shows_computed_test_values():
    with config.change_flags(compute_test_value="raise", print_test_value=True):
        a = T.dvector("a")
        a.tag.test_value = np.array([1.0, 2.0])
        doubled = a * 2
        doubled.name = "doubled"
        assert repr(doubled) == "doubled\narray([2., 4.])"
        assert repr([doubled]) == "[doubled\narray([2., 4.])]"


# ---------------------------------------------------------------------- softmax rows
def test_softmax_of_a_vector_is_a_row():
    v = T.dvector("v")
    sm = T.nnet.softmax(v)
    assert sm.ndim == 2 and sm.broadcastable == (True, False)
    value = np.array([1.0, 2.0, 3.0])
    got = theano.function([v], sm)(value)
    assert got.shape == (1, 3)
    np.testing.assert_allclose(got, scipy.special.softmax(value)[None, :], rtol=1e-12)


def test_log_softmax_of_a_vector_is_a_row():
    v = T.dvector("v")
    value = np.array([0.5, -1.0, 2.0, 0.0])
    expected = scipy.special.log_softmax(value)[None, :]
    f = theano.function([v], [T.nnet.logsoftmax(v), T.nnet.log_softmax(v)])
    for got in f(value):
        assert got.shape == (1, 4)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_softmax_of_a_vector_gradient():
    v = T.dvector("v")
    weights = np.array([0.3, -1.2, 2.0])
    cost = (T.nnet.softmax(v)[0] * weights).sum()
    value = np.array([0.1, 0.7, -0.4])
    got = theano.function([v], T.grad(cost, v))(value)
    s = scipy.special.softmax(value)
    np.testing.assert_allclose(got, s * (weights - (s * weights).sum()), rtol=1e-12)
    verify_grad(T.nnet.softmax, [value], rng=np.random.default_rng(0))


def test_softmax_with_a_named_axis_keeps_the_vector():
    v = T.dvector("v")
    assert T.nnet.softmax(v, axis=-1).ndim == 1
    assert T.nnet.softmax(T.dmatrix()).ndim == 2


def test_rnn_step_with_softmax_over_vectors_inside_scan():
    # the slot-filling RNN of the Deep Learning Tutorials: softmax(h_t . W) is a 1 x n row per
    # step, so the scan output is (steps, 1, n_classes) and the program reads s[:, 0, :]
    x = T.dmatrix("x")
    W = theano.shared(np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]]), name="W")

    def step(x_t):
        return T.nnet.softmax(T.dot(x_t, W))

    s, _ = theano.scan(step, sequences=x)
    p = s[:, 0, :]
    value = np.array([[1.0, 0.0], [0.5, 1.0], [0.0, -1.0], [2.0, 2.0]])
    got_s, got_p = theano.function([x], [s, p])(value)
    assert got_s.shape == (4, 1, 3)
    np.testing.assert_allclose(got_p, scipy.special.softmax(value @ W.get_value(), axis=1))


def test_softmax_with_bias_values_and_gradients():
    x, b = T.dmatrix("x"), T.dvector("b")
    out = T.nnet.softmax_with_bias(x, b)
    assert isinstance(out.owner.op, T.nnet.SoftmaxWithBias)
    x_v = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]])
    b_v = np.array([0.1, -0.2, 0.3])
    got = theano.function([x, b], out)(x_v, b_v)
    np.testing.assert_allclose(got, scipy.special.softmax(x_v + b_v, axis=1), rtol=1e-12)
    verify_grad(T.nnet.softmax_with_bias, [x_v, b_v], rng=np.random.default_rng(1))


def test_softmax_with_bias_errors():
    with pytest.raises(ValueError, match=r"x must be a matrix and b a vector, got"):
        T.nnet.softmax_with_bias(T.dvector(), T.dvector())
    x, b = T.dmatrix("x"), T.dvector("b")
    f = theano.function([x, b], T.nnet.softmax_with_bias(x, b))
    with pytest.raises(ValueError, match=r"b has 2 entries for x with 3 columns"):
        f(np.ones((2, 3)), np.ones(2))
