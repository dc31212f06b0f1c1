"""grad: values from the seeds, options (disconnected, consider_constant, known_grads), Rop/Lop."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.autodiff import DisconnectedInputError, GradientError, Lop, Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops import math as m
from labsym.core.shared import shared


def test_seed_gradients():
    x = C["scalar"]("x")
    g = grad(x**2, x)
    assert function([x], g)(-2) == -4.0
    x1, x2 = C["scalars"](2)
    gs = grad(x1 * x2, [x1, x2])
    assert [float(v) for v in function([x1, x2], gs)(2, 4)] == [4.0, 2.0]
    a, b = C["matrices"](2)
    ga = grad((a * b).sum(), a)
    np.testing.assert_array_equal(
        function([a, b], ga)([[1, 2], [3, 4]], [[2, 4], [6, 8]]), [[2, 4], [6, 8]]
    )


def test_grad_returns_the_structure_of_wrt():
    x, y = C["dscalars"]("x", "y")
    assert isinstance(grad(x * y, (x, y)), tuple)
    assert isinstance(grad(x * y, [x, y]), list)
    assert not isinstance(grad(x * y, x), (list, tuple))


def test_non_scalar_cost_is_a_clear_error():
    v = C["dvector"]("v")
    with pytest.raises(
        GradientError, match=r"cost must be a scalar .*TensorType\(float64, vector\)"
    ):
        grad(v * 2, v)


def test_disconnected_inputs():
    x, y = C["dscalars"]("x", "y")
    with pytest.raises(DisconnectedInputError, match="not part of the computational graph.*y"):
        grad(x * 2, y)
    assert grad(x * 2, y, disconnected_inputs="ignore", return_disconnected="None") is None
    zero = grad(x * 2, y, disconnected_inputs="ignore")
    assert function([y], zero)(3.0) == 0.0
    with pytest.warns(UserWarning):
        grad(x * 2, y, disconnected_inputs="warn")


def test_consider_constant_and_known_grads():
    x = C["dscalar"]("x")
    h = x * x
    g = grad(h * x, x, consider_constant=[h])
    assert function([x], g)(3.0) == 9.0  # d(h*x)/dx with h fixed = h
    y = m.exp(x)
    g2 = grad(None, x, known_grads={y: 2.0})
    assert np.isclose(function([x], g2)(0.5), 2.0 * np.exp(0.5))


def test_gradient_through_broadcasting_sums_back():
    x = C["dmatrix"]("x")
    b = C["dvector"]("b")
    cost = (x + b).sum()
    gb = grad(cost, b)
    np.testing.assert_array_equal(
        function([x, b], gb)(np.ones((4, 3)), np.zeros(3)), [4.0, 4.0, 4.0]
    )


def test_gradient_dtype_follows_wrt():
    f = C["fvector"]("f")
    assert grad((f * 2.0).sum(), f).dtype == "float32"


def test_second_derivative():
    x = C["dscalar"]("x")
    d1 = grad(m.sin(x) * x, x)
    d2 = grad(d1, x)
    value = 0.7
    assert np.isclose(function([x], d2)(value), 2 * np.cos(value) - value * np.sin(value))


def test_shared_variable_gradient_and_names():
    w = shared(np.array([1.0, 2.0]), name="w")
    x = C["dvector"]("x")
    cost = ((w * x) ** 2).sum()
    cost.name = "cost"
    gw = grad(cost, w)
    assert gw.name == "(dcost/dw)"
    np.testing.assert_allclose(function([x], gw)(np.array([1.0, 1.0])), [2.0, 4.0])


def test_rop_matches_finite_differences():
    x = C["dvector"]("x")
    v = C["dvector"]("v")
    y = m.tanh(x) * m.exp(x)
    jv = Rop(y, x, v)
    f = function([x, v], jv)
    xv = np.array([0.1, -0.3, 0.5])
    vv = np.array([1.0, 0.5, -2.0])
    eps = 1e-6
    fy = function([x], y)
    fd = (fy(xv + eps * vv) - fy(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(f(xv, vv), fd, rtol=1e-6)


def test_lop_is_vector_jacobian_product():
    x = C["dvector"]("x")
    u = C["dvector"]("u")
    y = x * x
    vj = Lop(y, x, u)
    np.testing.assert_allclose(
        function([x, u], vj)(np.array([1.0, 2.0]), np.array([3.0, 4.0])), [6.0, 16.0]
    )


def test_rop_tutorial_keeps_wrt_in_the_graph():
    # doc/tutorial/gradients.txt: Theano's R_op gives x a zeros_like direction, so the
    # product still reads W and function([W, V, x], ...) has no unused input
    from labsym.core.graph import graph_inputs
    from labsym.core.ops.blas import dot

    W, V, x = C["dmatrix"]("W"), C["dmatrix"]("V"), C["dvector"]("x")
    JV = Rop(dot(x, W), W, V)
    assert W in graph_inputs([JV])
    f = function([W, V, x], JV)
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])
    rng = np.random.default_rng(3)
    wv, vv, xv = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    np.testing.assert_allclose(f(wv, vv, xv), xv @ vv, rtol=1e-12)


def test_rop_with_a_direction_for_one_of_several_parameters():
    from labsym.core.ops.blas import dot

    W, b, V, x = C["dmatrix"]("W"), C["dvector"]("b"), C["dmatrix"]("V"), C["dmatrix"]("x")
    y = m.tanh(dot(x, W) + b)
    f = function([W, b, V, x], Rop(y, W, V))
    rng = np.random.default_rng(4)
    wv, bv, vv, xv = (rng.normal(size=s) for s in [(3, 2), (2,), (3, 2), (5, 3)])
    expected = (1 - np.tanh(xv @ wv + bv) ** 2) * (xv @ vv)
    np.testing.assert_allclose(f(wv, bv, vv, xv), expected, rtol=1e-12)
    # the Hessian-vector product of the tutorial, by R_op
    z, v = C["dvector"]("z"), C["dvector"]("v")
    hv = function([z, v], Rop(grad((z**2).sum(), z), z, v))
    np.testing.assert_array_equal(hv([4, 4], [2, 2]), [4.0, 4.0])


def test_rop_zero_terms_cost_no_matrix_product():
    # the zeros_like(x) direction's dot(0, W) is removed (Theano's local_0_dot_x): one product
    from labsym.core.ops.blas import dot

    W, V, x = C["dmatrix"]("W"), C["dmatrix"]("V"), C["dmatrix"]("x")
    f = function([W, V, x], Rop(dot(x, W), W, V), mode="FAST_RUN")
    products = [
        n for n in f.maker.fgraph.toposort() if type(n.op).__name__ in ("Dot", "Gemm", "Gemv")
    ]
    assert len(products) == 1
    rng = np.random.default_rng(5)
    wv, vv, xv = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(f(wv, vv, xv), xv @ vv, rtol=1e-12)


def test_rop_of_a_convolution_wrt_its_filters_runs_one_convolution():
    from labsym.core.ops.conv import conv2d

    x, w, v = C["dtensor4"]("x"), C["dtensor4"]("w"), C["dtensor4"]("v")
    f = function([x, w, v], Rop(conv2d(x, w), w, v), mode="FAST_RUN")
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()].count("Conv2d") == 1
    rng = np.random.default_rng(6)
    xv, wv, vv = (
        rng.normal(size=(2, 3, 5, 5)),
        rng.normal(size=(4, 3, 2, 2)),
        rng.normal(size=(4, 3, 2, 2)),
    )
    np.testing.assert_allclose(f(xv, wv, vv), function([x, w], conv2d(x, w))(xv, vv), rtol=1e-10)
