"""Fused crossentropy-of-softmax ops against NumPy references: values, shapes, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.nnet_fused import CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(7)


def np_nll(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -scipy.special.log_softmax(x.astype(np.float64), axis=1)[np.arange(len(y)), y]


def np_dx(dy: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    onehot = np.eye(x.shape[1])[y]
    return (scipy.special.softmax(x.astype(np.float64), axis=1) - onehot) * dy[:, None]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("y_dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (7, 10)])
def test_values_match_numpy(dtype, y_dtype, shape):
    x, y, dy = (
        TensorType(dtype, (None, None))("x"),
        TensorType(y_dtype, (None,))("y"),
        C["vector"](dtype=dtype),
    )
    f = function(
        [x, y, dy], [CrossentropySoftmax1Hot()(x, y), CrossentropySoftmax1HotDx()(dy, x, y)]
    )
    xv = (RNG.normal(size=shape) * 5).astype(dtype)
    yv = RNG.integers(0, shape[1], size=shape[0]).astype(y_dtype)
    dyv = RNG.normal(size=shape[0]).astype(dtype)
    nll, dx = f(xv, yv, dyv)
    assert nll.dtype == dtype and nll.shape == (shape[0],)
    assert dx.dtype == dtype and dx.shape == shape
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(nll, np_nll(xv, yv), rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, np_dx(dyv, xv, yv), rtol=tol, atol=tol)


def test_extreme_logits_stay_finite():
    x, y, dy = C["dmatrix"]("x"), C["lvector"]("y"), C["dvector"]("dy")
    f = function(
        [x, y, dy], [CrossentropySoftmax1Hot()(x, y), CrossentropySoftmax1HotDx()(dy, x, y)]
    )
    xv = np.array([[1000.0, 0.0, -1000.0], [-1e300, 1e300, 0.0]])
    nll, dx = f(xv, np.array([2, 1]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(nll, [2000.0, 0.0])
    np.testing.assert_allclose(dx, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])


def test_static_shapes_and_infer_shape():
    x = TensorType("float32", (5, 3))("x")
    y, dy = C["lvector"]("y"), C["fvector"]("dy")
    nll = CrossentropySoftmax1Hot()(x, y)
    dx = CrossentropySoftmax1HotDx()(dy, x, y)
    assert nll.type == TensorType("float32", (5,))
    assert dx.type == TensorType("float32", (5, 3))
    assert nll.owner.op.infer_shape(None, nll.owner, [(5, 3), (5,)]) == [(5,)]
    assert dx.owner.op.infer_shape(None, dx.owner, [(5,), (5, 3), (5,)]) == [(5, 3)]
    assert str(nll.owner.op) == "CrossentropySoftmax1Hot"
    assert CrossentropySoftmax1Hot() == CrossentropySoftmax1Hot()


def test_gradients_match_finite_differences():
    x = RNG.normal(size=(4, 5)) * 3
    y = np.array([0, 4, 2, 2])
    dy = RNG.normal(size=4)
    verify_grad(lambda a: CrossentropySoftmax1Hot()(a, y), [x], rng=np.random.default_rng(0))
    verify_grad(
        lambda g, a: CrossentropySoftmax1HotDx()(g, a, y), [dy, x], rng=np.random.default_rng(1)
    )


def test_grad_is_the_dx_op_and_targets_have_none():
    x, y = C["dmatrix"]("x"), C["lvector"]("y")
    gx = grad(CrossentropySoftmax1Hot()(x, y).sum(), x)
    assert any(
        isinstance(n.op, CrossentropySoftmax1HotDx)
        for n in function([x, y], gx).maker.fgraph.toposort()
    )
    assert CrossentropySoftmax1Hot().grad([x, y], [C["dvector"]()])[1] is None


def test_bad_inputs_raise_clear_errors():
    x, y = C["dmatrix"]("x"), C["lvector"]("y")
    with pytest.raises(TypeError, match="CrossentropySoftmax1Hot.*x must be a matrix"):
        CrossentropySoftmax1Hot()(C["dvector"](), y)
    with pytest.raises(TypeError, match="must be a float tensor"):
        CrossentropySoftmax1Hot()(C["lmatrix"](), y)
    with pytest.raises(TypeError, match="integer vector of class indices"):
        CrossentropySoftmax1Hot()(x, C["dvector"]())
    with pytest.raises(ValueError, match="disagree on the number of rows"):
        CrossentropySoftmax1Hot()(TensorType("float64", (3, 2))(), TensorType("int64", (4,))())
    with pytest.raises(TypeError, match="dy must be a vector"):
        CrossentropySoftmax1HotDx()(x, x, y)


def test_bad_values_raise_clear_errors():
    x, y, dy = C["dmatrix"]("x"), C["lvector"]("y"), C["dvector"]("dy")
    f = function([x, y], CrossentropySoftmax1Hot()(x, y))
    with pytest.raises(IndexError, match="target 3 in row 1 is out of range for 3 classes"):
        f(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="1 targets for a coding distribution of 2 rows"):
        f(np.zeros((2, 3)), np.array([0]))
    g = function([dy, x, y], CrossentropySoftmax1HotDx()(dy, x, y))
    with pytest.raises(ValueError, match=r"dy has shape \(3,\), y_idx \(2,\)"):
        g(np.ones(3), np.zeros((2, 3)), np.array([0, 1]))
