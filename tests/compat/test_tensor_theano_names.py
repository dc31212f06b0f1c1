"""Theano 1.0 names of theano.tensor / tensor.nnet / tensor.xlogx / gradient that labsym lacked.

Programs in the style of the Theano docs, run with `import labsym as theano`.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import labsym as theano
import labsym.tensor as T
from labsym.tensor import nnet

TENSOR_NAMES = [
    "gamma",
    "gammaln",
    "psi",
    "tri_gamma",
    "erfinv",
    "erfcinv",
    "erfcx",
    "i0",
    "i1",
    "j0",
    "j1",
    "jv",
    "iv",
    "chi2sf",
    "gammainc",
    "gammaincc",
    "gammau",
    "gammal",
    "inv",
    "trunc",
    "iround",
    "deg2rad",
    "rad2deg",
    "ptp",
    "cov",
    "largest",
    "smallest",
    "divmod",
    "allclose",
    "isclose",
    "swapaxes",
    "diagonal",
    "tri",
    "tril",
    "triu",
    "horizontal_stack",
    "vertical_stack",
    "nonzero",
    "flatnonzero",
    "nonzero_values",
    "choose",
    "permute_row_elements",
    "inverse_permutation",
    "topk",
    "argtopk",
    "topk_and_argtopk",
    "bartlett",
    "fill_diagonal_offset",
    "ceil_intdiv",
    "mod_check",
    "extract_constant",
    "numeric_grad",
    "AsTensorError",
    "Nonzero",
    "Choose",
    "PermuteRowElements",
    "real",
    "imag",
    "angle",
    "conj",
    "complex",
    "complex_from_polar",
    "batched_tensordot",
    "get_vector_length",
    "makeKeepDims",
    "round_half_away_from_zero",
]

NNET_NAMES = [
    "h_softmax",
    "confusion_matrix",
    "softmax_graph",
    "CrossentropySoftmaxArgmax1HotWithBias",
    "CrossentropySoftmax1HotWithBiasDx",
    "crossentropy_softmax_argmax_1hot_with_bias",
    "crossentropy_softmax_1hot_with_bias_dx",
    "crossentropy_softmax_max_and_argmax_1hot",
    "crossentropy_softmax_max_and_argmax_1hot_with_bias",
    "prepend_scalar_to_each_row",
    "prepend_0_to_each_row",
    "prepend_1_to_each_row",
    "separable_conv2d",
    "conv2d_grad_wrt_inputs",
    "abstract_conv2d",
    "crossentropy_categorical_1hot_grad",
    "conv3d",
]


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_theano_tensor_names_exist_and_star_import_them(name):
    namespace: dict = {}
    exec("from labsym.tensor import *", namespace)
    assert name in namespace
    assert namespace[name] is getattr(theano.tensor, name)


@pytest.mark.parametrize("name", NNET_NAMES)
def test_theano_nnet_names_exist(name):
    assert name in nnet.__all__
    assert getattr(theano.tensor.nnet, name) is not None


def test_extra_ops_and_xlogx_and_gradient_modules():
    from labsym.tensor.xlogx import xlogx, xlogy0

    assert T.extra_ops.bartlett is T.bartlett
    assert T.extra_ops.fill_diagonal_offset is T.fill_diagonal_offset
    assert T.xlogx.xlogx is xlogx and str(xlogy0) == "xlogy0"
    assert theano.gradient.numeric_grad is T.numeric_grad
    assert T.extra_ops.compress is not None

    # `from theano.tensor.sort import ...`, while T.sort stays the sort function (as Theano)
    import sys

    import labsym.tensor.sort  # noqa: F401 - must not rebind T.sort to the module
    from labsym.tensor.sort import argtopk, topk, topk_and_argtopk

    assert T.sort is sys.modules["labsym.tensor.sort"].sort
    assert (topk, argtopk) == (T.topk, T.argtopk) and topk_and_argtopk is T.topk_and_argtopk


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # d/dp at p = 0
def test_entropy_with_xlogx_program():
    # H(p) = -sum p log p, with 0 log 0 = 0 for the empty bins
    p = T.dvector("p")
    entropy = -T.xlogx.xlogx(p).sum()
    f = theano.function([p], [entropy, T.grad(entropy, p)])
    h, g = f(np.array([0.5, 0.25, 0.25, 0.0]))
    print(round(float(h), 6))
    assert round(float(h), 6) == round(1.5 * np.log(2), 6)
    np.testing.assert_allclose(g[:3], -(1 + np.log([0.5, 0.25, 0.25])))


def test_poisson_regression_with_gammaln_program():
    # negative log-likelihood of a Poisson GLM, trained by gradient descent as in the tutorials
    rng = np.random.RandomState(0)
    features = rng.randn(20, 3)
    counts = rng.poisson(np.exp(features @ [0.3, -0.2, 0.1])).astype("float64")
    x, y = T.dmatrix("x"), T.dvector("y")
    w = theano.shared(np.zeros(3), name="w")
    eta = T.dot(x, w)
    nll = T.mean(T.exp(eta) - y * eta + T.gammaln(y + 1))
    train = theano.function([x, y], nll, updates=[(w, w - 0.5 * T.grad(nll, w))])
    losses = [float(train(features, counts)) for _ in range(30)]
    # the same steps in NumPy/SciPy
    wn, want = np.zeros(3), []
    for _ in range(30):
        e = features @ wn
        want.append(np.mean(np.exp(e) - counts * e + scipy.special.gammaln(counts + 1)))
        wn = wn - 0.5 * features.T @ (np.exp(e) - counts) / len(counts)
    np.testing.assert_allclose(losses, want, rtol=1e-10)
    np.testing.assert_allclose(w.get_value(), wn, rtol=1e-10)
    assert losses[-1] < losses[0]


def test_numeric_grad_agrees_with_symbolic_special_function_gradients():
    x = T.dvector("x")
    cost = (T.psi(x) * T.erfinv(x / 4) + T.i0(x)).sum()
    f = theano.function([x], cost)
    g = theano.function([x], T.grad(cost, x))
    point = np.array([0.5, 1.2, 2.0])
    numeric = T.numeric_grad(f, [point])
    index, _, abs_err, _ = numeric.max_err([g(point)], 1e-4, 1e-4)
    assert index == 0 and abs_err < 1e-4
    np.testing.assert_allclose(numeric.gf[0], g(point), rtol=1e-5)
    single = T.numeric_grad(f, point)  # one array in, one array out
    np.testing.assert_allclose(single.gf, numeric.gf[0])
    with pytest.raises(ValueError, match="argument element 0 has wrong shape"):
        numeric.max_err([np.zeros(2)], 1e-4, 1e-4)


def test_numeric_grad_of_mixed_dtypes_works_in_the_most_precise_one():
    # Theano: the float64 working dtype, the float32 step 3e-4
    numeric = T.numeric_grad(
        lambda a, b: (a * b * b).sum(), [np.ones(2, "float32"), np.full(2, 3.0)]
    )
    assert [g.dtype for g in numeric.gf] == [np.float64, np.float64]
    np.testing.assert_allclose(numeric.gf[0], [9.0, 9.0], rtol=1e-9)
    np.testing.assert_allclose(numeric.gf[1], [6.0 + 3e-4, 6.0 + 3e-4], rtol=1e-9)


def test_extract_constant_and_as_tensor_error():
    x = T.dvector("x")
    two = T.constant(2.0) * T.constant(1.0)
    assert float(T.extract_constant(two)) == 2.0
    assert T.extract_constant(x) is x
    assert float(T.extract_constant(T.fill(x, 3.0))) == 3.0
    assert T.extract_constant(T.fill(x, 3.0), elemwise=False) is not None
    with pytest.raises(T.AsTensorError):
        T.as_tensor_variable(object())


def test_classifier_output_layer_with_the_argmax_crossentropy_op():
    # the Deep Learning Tutorials' logistic regression, written with Theano's compound op
    rng = np.random.RandomState(1)
    data, labels = rng.randn(30, 4), rng.randint(0, 3, size=30)
    x, y = T.dmatrix("x"), T.lvector("y")
    W = theano.shared(np.zeros((4, 3)), name="W")  # noqa: N806
    b = theano.shared(np.zeros(3), name="b")
    nll, p_y, y_pred = nnet.crossentropy_softmax_argmax_1hot_with_bias(T.dot(x, W), b, y)
    cost = nll.mean()
    errors = T.mean(T.neq(y_pred, y))
    gW, gb = T.grad(cost, [W, b])  # noqa: N806
    train = theano.function([x, y], [cost, errors], updates=[(W, W - 0.5 * gW), (b, b - 0.5 * gb)])
    first = train(data, labels)
    for _ in range(50):
        last = train(data, labels)
    print(f"cost {float(first[0]):.4f} -> {float(last[0]):.4f}, errors {float(last[1]):.3f}")
    assert round(float(first[0]), 4) == round(np.log(3), 4)
    assert float(last[0]) < float(first[0]) and float(last[1]) < 2 / 3
    # same model written with softmax + categorical crossentropy gives the same trained weights
    W2 = theano.shared(np.zeros((4, 3)))  # noqa: N806
    b2 = theano.shared(np.zeros(3))
    cost2 = nnet.categorical_crossentropy(nnet.softmax(T.dot(x, W2) + b2), y).mean()
    g2 = T.grad(cost2, [W2, b2])
    step = theano.function([x, y], cost2, updates=[(W2, W2 - 0.5 * g2[0]), (b2, b2 - 0.5 * g2[1])])
    for _ in range(51):
        step(data, labels)
    np.testing.assert_allclose(W.get_value(), W2.get_value(), rtol=1e-9, atol=1e-12)
