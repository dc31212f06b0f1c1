"""The gradient-shaping ops (zero_grad, disconnected_grad, undefined_grad, grad_clip, grad_scale):
identities forward, their gradients and R operators."""

from __future__ import annotations

import numpy as np
import pytest

from labsym import gradient
from labsym.compile import function
from labsym.core.autodiff import DisconnectedInputError, Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.gradient_ops import GradClip, GradScale, ZeroGrad
from labsym.core.type import TensorType

RNG = np.random.default_rng(11)

SHAPERS = [
    ("zero_grad", gradient.zero_grad),
    ("disconnected_grad", gradient.disconnected_grad),
    ("undefined_grad", gradient.undefined_grad),
    ("grad_clip", lambda x: gradient.grad_clip(x, -1.0, 1.0)),
    ("grad_scale", lambda x: gradient.grad_scale(x, 3.0)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("name,shaper", SHAPERS, ids=[n for n, _ in SHAPERS])
def test_gradient_shapers_are_the_identity_forward(name, shaper, dtype):
    x = TensorType(dtype, (None, None))("x")
    y = shaper(x)
    assert y.type == x.type
    value = RNG.uniform(-3, 3, size=(2, 3)).astype(dtype)
    got = function([x], y * 1)(value)
    assert got.dtype == value.dtype
    np.testing.assert_array_equal(got, value)


def test_gradient_shapers_change_only_the_gradient():
    x = C["dvector"]("x")
    xv = np.array([-2.0, 0.5, 3.0])
    cost = (x**2).sum()  # gradient 2x = [-4, 1, 6]

    def g(expr, **kwargs):
        return function([x], grad(expr, x, **kwargs), on_unused_input="ignore")(xv)

    np.testing.assert_allclose(g(gradient.zero_grad(cost) + x.sum()), [1.0, 1.0, 1.0])
    # d(c . x) with c = x clipped on the way back: x + clip(x, -1.5, 2)
    np.testing.assert_allclose(g(gradient.grad_clip(x, -1.5, 2.0).dot(x)), [-3.5, 1.0, 5.0])
    np.testing.assert_allclose(g(gradient.grad_scale(cost, -0.5)), [2.0, -0.5, -3.0])
    np.testing.assert_allclose(g(gradient.disconnected_grad(x).dot(x)), xv)
    with pytest.raises(DisconnectedInputError):
        grad(gradient.disconnected_grad(cost), x)
    zero = g(gradient.disconnected_grad(cost), disconnected_inputs="ignore")
    np.testing.assert_array_equal(zero, np.zeros(3))
    # zero_grad keeps x connected: no error, a zero gradient
    np.testing.assert_array_equal(g(gradient.zero_grad(cost)), np.zeros(3))


def test_grad_scale_takes_a_symbolic_multiplier():
    x, k = C["dvector"]("x"), C["dscalar"]("k")
    g = grad((gradient.grad_scale(x, k) ** 2).sum(), x)
    np.testing.assert_allclose(function([x, k], g)([1.0, 2.0], -1.0), [-2.0, -4.0])
    with pytest.raises(TypeError, match="the multiplier must be a scalar"):
        gradient.grad_scale(x, x)
    with pytest.raises(TypeError, match="the multiplier must be a number"):
        gradient.grad_scale(x, "2")


def test_grad_clip_checks_its_bounds():
    x = C["dvector"]("x")
    with pytest.raises(ValueError, match="upper bound -1.0 is below the lower bound 1.0"):
        gradient.grad_clip(x, 1.0, -1.0)
    with pytest.raises(TypeError, match="the bounds must be numbers"):
        gradient.grad_clip(x, C["dscalar"](), 1.0)


def test_gradient_shapers_r_operators_and_identity():
    x, v = C["dvector"]("x"), C["dvector"]("v")
    np.testing.assert_allclose(
        function([x, v], Rop(gradient.grad_scale(x, 5.0) * 2, x, v), on_unused_input="ignore")(
            [1.0, 2.0], [1.0, -1.0]
        ),
        [2.0, -2.0],
    )  # the forward function is the identity
    zero = Rop(gradient.zero_grad(x) * 2, x, v)
    np.testing.assert_array_equal(
        function([x, v], zero, on_unused_input="ignore")([1.0, 2.0], [1.0, -1.0]), [0.0, 0.0]
    )
    # Theano: the constant's zeros_like term makes the product zeros, not disconnected
    cut = Rop(gradient.disconnected_grad(x) * 2, x, v)
    np.testing.assert_array_equal(function([x], cut)([1.0, 2.0]), [0.0, 0.0])
    with pytest.raises(ValueError, match="does not depend"):
        Rop(gradient.disconnected_grad(x), x, v)
    with pytest.raises(ValueError, match="does not depend"):
        Rop(gradient.undefined_grad(x), x, v)
    assert GradScale(2.0) != GradScale(3.0) and GradScale(2) == GradScale(2.0)
    assert GradClip(-1, 1) == GradClip(-1.0, 1.0) and ZeroGrad() == ZeroGrad()
    assert str(GradClip(-1, 1)) == "GradClip{clip_lower_bound=-1.0, clip_upper_bound=1.0}"


def test_gradient_views_are_removed_from_compiled_graphs():
    import labsym
    import labsym.tensor as T
    from labsym.core.gradient_ops import grad_clip, grad_scale, zero_grad

    x = T.dvector("x")
    f = labsym.function([x], grad_clip(grad_scale(zero_grad(x) * 2, 3.0), -1.0, 1.0))
    assert all(
        type(n.op).__name__ not in ("ZeroGrad", "GradClip", "GradScale")
        for n in f.maker.fgraph.toposort()
    )
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
