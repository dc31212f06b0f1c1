"""elu, selu, softsign and crossentropy_softmax_1hot against NumPy, with gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.activations import (
    SELU_ALPHA,
    SELU_SCALE,
    crossentropy_softmax_1hot,
    crossentropy_softmax_1hot_with_bias,
    elu,
    selu,
    softsign,
)
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import tensor

RNG = np.random.default_rng(5)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


ACTIVATIONS = [
    (elu, np_elu),
    (lambda x: elu(x, 0.3), lambda x: np_elu(x, 0.3)),
    (selu, lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA)),
    (softsign, lambda x: x / (1 + np.abs(x))),
]


@pytest.mark.parametrize(("build", "reference"), ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_activations_match_numpy(build, reference, dtype, shape):
    x = tensor(dtype, len(shape))
    out = build(x)
    assert out.dtype == dtype
    value = (RNG.normal(size=shape) * 3).astype(dtype)
    got = function([x], out)(value)
    assert got.dtype == dtype and got.shape == shape
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, reference(value.astype(np.float64)), rtol=tol, atol=tol)


def test_selu_constants_and_known_values():
    assert pytest.approx(1.6732632423543772) == SELU_ALPHA
    assert pytest.approx(1.0507009873554805) == SELU_SCALE
    x = tensor("float64", 1)
    np.testing.assert_allclose(function([x], elu(x))(np.array([-np.inf, 0.0, 1.0])), [-1, 0, 1])
    np.testing.assert_allclose(
        function([x], softsign(x))(np.array([-3.0, 0.0, 1.0])), [-0.75, 0, 0.5]
    )


@pytest.mark.parametrize(("build", "reference"), ACTIVATIONS)
def test_activation_gradients(build, reference):
    value = RNG.normal(size=(3, 4)) * 2
    value[np.abs(value) < 0.05] = 0.3  # away from the kink at 0
    verify_grad(build, [value], rng=RNG)


def test_elu_gradient_stays_finite_for_large_inputs():
    x = tensor("float64", 1)
    g = function([x], grad(elu(x).sum(), x))(np.array([1000.0, -1000.0, -1.0]))
    np.testing.assert_allclose(g, [1.0, 0.0, np.exp(-1.0)])


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=st.floats(-50, 50))
)
def test_softsign_is_odd_and_bounded(value):
    x = tensor("float64", value.ndim)
    got = function([x], [softsign(x), softsign(-x)])(value)
    assert np.all(np.abs(got[0]) < 1)
    np.testing.assert_allclose(got[0], -got[1])


# ---------------------------------------------------------------------- crossentropy_softmax_1hot
def np_xent_softmax(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_sm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_sm[np.arange(len(y)), y], np.exp(log_sm)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropy_softmax_1hot_matches_numpy(dtype):
    x, y = tensor(dtype, 2), C["lvector"]("y")
    xent, sm = crossentropy_softmax_1hot(x, y)
    assert xent.dtype == sm.dtype == dtype
    x_v, y_v = (RNG.normal(size=(5, 4)) * 4).astype(dtype), RNG.integers(0, 4, size=5)
    got_xent, got_sm = function([x, y], [xent, sm])(x_v, y_v)
    exp_xent, exp_sm = np_xent_softmax(x_v.astype(np.float64), y_v)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got_xent, exp_xent, rtol=tol)
    np.testing.assert_allclose(got_sm, exp_sm, rtol=tol, atol=tol)


def test_crossentropy_softmax_1hot_is_finite_for_extreme_logits():
    x, y = tensor("float64", 2), C["lvector"]("y")
    xent, _ = crossentropy_softmax_1hot(x, y)
    got = function([x, y], xent)(np.array([[1000.0, -1000.0]]), np.array([1]))
    np.testing.assert_allclose(got, [2000.0])


def test_crossentropy_softmax_1hot_gradient():
    y_v = np.array([0, 2, 1])
    x_v = RNG.normal(size=(3, 4))
    verify_grad(lambda a: crossentropy_softmax_1hot(a, y_v)[0], [x_v], rng=RNG)
    verify_grad(lambda a: crossentropy_softmax_1hot(a, y_v)[1], [x_v], rng=RNG)
    x, y = tensor("float64", 2), C["lvector"]("y")
    g = function([x, y], grad(crossentropy_softmax_1hot(x, y)[0].sum(), x))(x_v, y_v)
    _, sm = np_xent_softmax(x_v, y_v)
    np.testing.assert_allclose(g, sm - np.eye(4)[y_v], rtol=1e-12)


def test_crossentropy_softmax_1hot_with_bias():
    x, b, y = tensor("float64", 2), tensor("float64", 1, "b"), C["lvector"]("y")
    xent, sm = crossentropy_softmax_1hot_with_bias(x, b, y)
    x_v, b_v, y_v = RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.integers(0, 3, size=4)
    got = function([x, b, y], [xent, sm])(x_v, b_v, y_v)
    for g, e in zip(got, np_xent_softmax(x_v + b_v, y_v), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    verify_grad(lambda a, c: crossentropy_softmax_1hot_with_bias(a, c, y_v)[0], [x_v, b_v], rng=RNG)
    with pytest.raises(TypeError, match="b must be a vector, got"):
        crossentropy_softmax_1hot_with_bias(x, x, y)


def test_crossentropy_softmax_1hot_errors():
    x = tensor("float64", 2)
    with pytest.raises(TypeError, match="targets must be an integer vector of class indices"):
        crossentropy_softmax_1hot(x, tensor("float64", 1, "y"))
    with pytest.raises(TypeError, match="x must be a matrix of logits"):
        crossentropy_softmax_1hot(tensor("float64", 3), C["lvector"]("y"))
    f = function([x, y := C["lvector"]("y")], crossentropy_softmax_1hot(x, y)[0])
    with pytest.raises(IndexError, match="target 3 in row 0 is out of range for 3 classes"):
        f(np.zeros((1, 3)), np.array([3]))
