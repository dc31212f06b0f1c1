"""Theano 1.0's remaining nnet names (core.ops.nnet_helpers) against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve2d

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.ops import conv
from labsym.core.ops import nnet_helpers as nh
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(21)


def _t(dtype: str, ndim: int, name: str = "x"):
    return TensorType(dtype, (None,) * ndim)(name)


def _np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_crossentropy_softmax_argmax_matches_numpy(dtype):
    x, b, y = _t(dtype, 2), _t(dtype, 1, "b"), _t("int64", 1, "y")
    xv = RNG.standard_normal((5, 4)).astype(dtype) * 3
    bv = RNG.standard_normal(4).astype(dtype)
    yv = np.array([0, 3, 1, 1, 2])
    outs = nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    assert [o.dtype for o in outs] == [dtype, dtype, "int64"]
    nll, sm, am = function([x, b, y], list(outs))(xv, bv, yv)
    want_sm = _np_softmax((xv + bv).astype("float64"))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(sm, want_sm, rtol=tol, atol=tol)
    np.testing.assert_allclose(nll, -np.log(want_sm[np.arange(5), yv]), rtol=tol, atol=tol)
    np.testing.assert_array_equal(am, (xv + bv).argmax(axis=1))


def test_crossentropy_softmax_argmax_is_finite_for_large_logits():
    x, b, y = _t("float64", 2), _t("float64", 1, "b"), _t("int64", 1, "y")
    nll = nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0]
    got = function([x, b, y], nll)(np.array([[1000.0, -1000.0]]), np.zeros(2), np.array([1]))
    np.testing.assert_allclose(got, [2000.0])


def test_crossentropy_softmax_argmax_gradients():
    xv, bv, yv = RNG.standard_normal((4, 3)), RNG.standard_normal(3), np.array([0, 2, 1, 1])

    def nll_and_softmax(x, b):
        nll, sm, _ = nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, yv)
        return nll.sum() + (sm * np.arange(12.0).reshape(4, 3)).sum()

    verify_grad(nll_and_softmax, [xv, bv], rng=RNG)
    verify_grad(
        lambda x, b: nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, yv)[0], [xv, bv], rng=RNG
    )


def test_crossentropy_dx_op_values_and_gradients():
    sm = _np_softmax(RNG.standard_normal((4, 3)))
    yv = np.array([2, 0, 1, 2])
    dy = RNG.standard_normal(4)
    got = nh.crossentropy_softmax_1hot_with_bias_dx(dy, sm, yv).eval()
    np.testing.assert_allclose(got, dy[:, None] * (sm - np.eye(3)[yv]))
    scalar_dy = nh.crossentropy_softmax_1hot_with_bias_dx(np.array(2.0), sm, yv).eval()
    np.testing.assert_allclose(scalar_dy, 2.0 * (sm - np.eye(3)[yv]))
    verify_grad(lambda d, s: nh.crossentropy_softmax_1hot_with_bias_dx(d, s, yv), [dy, sm])
    verify_grad(
        lambda d, s: nh.crossentropy_softmax_1hot_with_bias_dx(d, s, yv), [np.array(0.3), sm]
    )


def test_crossentropy_ops_name_bad_inputs():
    x, b = _t("float64", 2), _t("float64", 1, "b")
    with pytest.raises(TypeError, match="integer vector of class indices"):
        nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, _t("float64", 1, "y"))
    with pytest.raises(ValueError, match="x must be a matrix and b a vector"):
        nh.crossentropy_softmax_argmax_1hot_with_bias(x, x, _t("int32", 1, "y"))
    y = _t("int64", 1, "y")
    f = function([x, b, y], nh.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0])
    with pytest.raises(ValueError, match="b has 3 entries for x with 2 columns"):
        f(np.zeros((1, 2)), np.zeros(3), np.array([0]))
    with pytest.raises(IndexError, match="target 5 in row 0 is out of range for 2 classes"):
        f(np.zeros((1, 2)), np.zeros(2), np.array([5]))


def test_crossentropy_softmax_max_and_argmax():
    x, y = _t("float64", 2), _t("int64", 1, "y")
    xv, yv = RNG.standard_normal((3, 4)), np.array([1, 0, 3])
    nll, sm, max_pr, argmax = function(
        [x, y], list(nh.crossentropy_softmax_max_and_argmax_1hot(x, y))
    )(xv, yv)
    want = _np_softmax(xv)
    np.testing.assert_allclose(sm, want)
    np.testing.assert_allclose(nll, -np.log(want[np.arange(3), yv]))
    np.testing.assert_allclose(max_pr, want.max(axis=1))
    np.testing.assert_array_equal(argmax, want.argmax(axis=1))


def test_softmax_graph_is_the_written_out_formula():
    x = _t("float32", 2)
    xv = RNG.standard_normal((2, 5)).astype("float32")
    out = nh.softmax_graph(x)
    assert out.dtype == "float32"
    np.testing.assert_allclose(function([x], out)(xv), _np_softmax(xv), rtol=1e-6)
    verify_grad(nh.softmax_graph, [RNG.standard_normal((2, 3))], rng=RNG)


def test_confusion_matrix_as_theano_documents_it():
    a, p = _t("float64", 1, "a"), _t("float64", 1, "p")
    matrix, order = function([a, p], nh.confusion_matrix(a, p))(
        np.array([2, 0, 2, 2, 0, 1.0]), np.array([0, 0, 2, 2, 0, 2.0])
    )
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(order, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="actual must be 1-d tensor variable"):
        nh.confusion_matrix(_t("float64", 2), p)


def _h_softmax_reference(x, w1, b1, w2, b2, n_outputs):
    class_probs = _np_softmax(x @ w1 + b1)
    output_probs = _np_softmax(np.einsum("bf,cfp->bcp", x, w2) + b2)
    return (class_probs[:, :, None] * output_probs).reshape(len(x), -1)[:, :n_outputs]


def test_h_softmax_all_outputs_and_targets():
    batch, features, classes, per_class, n_outputs = 4, 5, 3, 3, 8
    xv = RNG.standard_normal((batch, features))
    w1, b1 = RNG.standard_normal((features, classes)), RNG.standard_normal(classes)
    w2 = RNG.standard_normal((classes, features, per_class))
    b2 = RNG.standard_normal((classes, per_class))
    want = _h_softmax_reference(xv, w1, b1, w2, b2, n_outputs)
    x, target = _t("float64", 2), _t("int32", 1, "target")
    args = (batch, n_outputs, classes, per_class, w1, b1, w2, b2)
    got = function([x], nh.h_softmax(x, *args))(xv)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    targets = np.array([0, 7, 4, 2], dtype="int32")
    picked = function([target, x], nh.h_softmax(x, *args, target=target))(targets, xv)
    np.testing.assert_allclose(picked, want[np.arange(batch), targets], rtol=1e-12)
    column = _t("int32", 2, "column")
    as_column = function([column, x], nh.h_softmax(x, *args, target=column))(targets[:, None], xv)
    np.testing.assert_allclose(as_column, picked)
    verify_grad(
        lambda xs, w: nh.h_softmax(
            xs, batch, n_outputs, classes, per_class, w1, b1, w, b2, targets
        ),
        [xv, w2],
        rng=RNG,
    )


def test_prepend_to_each_row():
    x = _t("float32", 2)
    xv = RNG.standard_normal((3, 2)).astype("float32")
    zeros, ones, sevens = function(
        [x],
        [
            nh.prepend_0_to_each_row(x),
            nh.prepend_1_to_each_row(x),
            nh.prepend_scalar_to_each_row(7, x),
        ],
    )(xv)
    np.testing.assert_array_equal(zeros, np.hstack([np.zeros((3, 1)), xv]))
    np.testing.assert_array_equal(ones, np.hstack([np.ones((3, 1)), xv]))
    np.testing.assert_array_equal(sevens, np.hstack([np.full((3, 1), 7.0), xv]))
    assert zeros.dtype == np.float32
    with pytest.raises(TypeError, match="mat must be a matrix"):
        nh.prepend_0_to_each_row(_t("float32", 1))


def test_separable_conv2d_is_depthwise_then_pointwise():
    xv = RNG.standard_normal((2, 3, 6, 7))
    depthwise = RNG.standard_normal((6, 1, 3, 2))  # depth multiplier 2
    pointwise = RNG.standard_normal((4, 6, 1, 1))
    want_depthwise = np.zeros((2, 6, 4, 6))
    for n in range(2):
        for c in range(3):
            for k in range(2):
                want_depthwise[n, 2 * c + k] = convolve2d(
                    xv[n, c], depthwise[2 * c + k, 0], "valid"
                )
    want = np.einsum("nchw,oc->nohw", want_depthwise, pointwise[:, :, 0, 0])
    x = _t("float64", 4)
    got = function([x], nh.separable_conv2d(x, depthwise, pointwise, 3))(xv)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(TypeError, match="num_channels must be a positive int"):
        nh.separable_conv2d(x, depthwise, pointwise, 0)


def test_conv2d_grad_wrt_inputs_is_the_gradient_of_conv2d():
    x, w, g = _t("float64", 4), _t("float64", 4, "w"), _t("float64", 4, "g")
    xv, wv = RNG.standard_normal((1, 2, 7, 7)), RNG.standard_normal((3, 2, 3, 3))
    out = conv.conv2d(x, w, subsample=(2, 2), border_mode="half")
    gv = RNG.standard_normal((1, 3, 4, 4))
    want = function([x, w, g], grad((out * g).sum(), x))(xv, wv, gv)
    got = function(
        [w, g],
        nh.conv2d_grad_wrt_inputs(g, w, (1, 2, 7, 7), border_mode="half", subsample=(2, 2)),
    )(wv, gv)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="grouped"):
        nh.conv2d_grad_wrt_inputs(g, w, (1, 2, 7, 7), num_groups=2)


@pytest.mark.parametrize("kwargs", [{"num_groups": 2}, {"unshared": True}])
def test_grouped_and_unshared_convolutions_are_refused_by_name(kwargs):
    from labsym.core.ops import abstract_conv, nnet_helpers

    x, w = (TensorType("float64", (None,) * 4)(name) for name in "xw")
    calls = [
        ("conv2d", lambda: abstract_conv.conv2d(x, w, **kwargs)),
        (
            "conv2d_grad_wrt_inputs",
            lambda: nnet_helpers.conv2d_grad_wrt_inputs(x, w, (1, 1, 5, 5), **kwargs),
        ),
    ]
    for name, call in calls:
        with pytest.raises(NotImplementedError, match=f"{name}: grouped .* not supported"):
            call()
