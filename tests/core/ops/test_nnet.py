"""nnet ops: softmax, log_softmax, crossentropies and activations against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
    UltraFastSigmoid,
    binary_crossentropy,
    categorical_crossentropy,
    crossentropy_categorical_1hot,
    hard_sigmoid,
    log_softmax,
    relu,
    sigmoid_binary_crossentropy,
    softmax,
    ultra_fast_sigmoid,
)
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import check_rop, tensor

RNG = np.random.default_rng(1234)
SHAPES_AXES = [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), None)]


# ---------------------------------------------------------------------- NumPy references
def np_log_softmax(x: np.ndarray, axis: int | None) -> np.ndarray:
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim)) if axis is None else axis
    shifted = x - x.max(axis=axes, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axes, keepdims=True))


def np_softmax(x: np.ndarray, axis: int | None) -> np.ndarray:
    return np.exp(np_log_softmax(x, axis))


def np_ultra_fast_sigmoid(x: float) -> float:
    # Theano's UltraFastScalarSigmoid.st_impl, verbatim
    x = 0.5 * x
    if x >= 0:
        z = (
            1.5 * x / (1 + x)
            if x < 1.7
            else (0.935409070603099 + 0.0458812946797165 * (x - 1.7) if x < 3 else 0.99505475368673)
        )
    else:
        xx = -x
        z = (
            1.5 * xx / (1 + xx)
            if xx < 1.7
            else (
                0.935409070603099 + 0.0458812946797165 * (xx - 1.7) if xx < 3 else 0.99505475368673
            )
        )
        z = -z
    return 0.5 * (z + 1.0)


def tolerance(dtype: str) -> dict:
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}


# ---------------------------------------------------------------------- softmax and log_softmax
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
@pytest.mark.parametrize(
    ("build", "reference"), [(softmax, np_softmax), (log_softmax, np_log_softmax)]
)
def test_softmax_family_matches_numpy(build, reference, shape, axis, dtype):
    x = tensor(dtype, len(shape))
    out = build(x, axis=axis)
    assert out.dtype == dtype and out.type.shape == (None,) * len(shape)
    value = (RNG.normal(size=shape) * 5).astype(dtype)
    got = function([x], out)(value)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, reference(value, axis), **tolerance(dtype))


def test_softmax_is_stable_on_extreme_inputs():
    x = C["dmatrix"]("x")
    f = function([x], [softmax(x), log_softmax(x)])
    sm, lsm = f([[1000.0, 0.0], [-1000.0, -1001.0]])
    np.testing.assert_allclose(sm, [[1.0, 0.0], [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))]])
    np.testing.assert_allclose(lsm[0], [0.0, -1000.0])
    np.testing.assert_allclose(lsm[1], np_log_softmax(np.array([-1000.0, -1001.0]), -1))
    # naive log(softmax) is -inf here; log_softmax stays finite in float32 too
    xf = C["fvector"]("x")
    got = function([xf], log_softmax(xf, axis=-1))(np.array([1e4, -1e4], dtype="float32"))
    assert np.all(np.isfinite(got)) and got[1] == np.float32(-2e4)


def test_scalar_and_empty_inputs():
    s = C["dscalar"]("s")
    assert function([s], softmax(s, axis=None))(3.0) == 1.0
    assert function([s], log_softmax(s, axis=None))(3.0) == 0.0
    x = C["dmatrix"]("x")
    sm, lsm = function([x], [softmax(x), log_softmax(x)])(np.zeros((0, 3)))
    assert sm.shape == lsm.shape == (0, 3) and sm.dtype == np.float64


def test_float16_is_computed_in_float32_and_stored_as_float16():
    x = tensor("float16", 1)
    value = np.array([0.0, 1.0, 2.0, 3.0], dtype="float16")
    got = function([x], softmax(x, axis=-1))(value)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, np_softmax(value, -1), rtol=2e-3)


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
        elements=st.floats(-1e5, 1e5),
    ),
    st.data(),
)
def test_softmax_is_a_distribution_for_any_finite_input(value, data):
    axis = data.draw(st.integers(-value.ndim, value.ndim - 1))
    x = tensor("float64", value.ndim)
    sm, lsm = function([x], [softmax(x, axis), log_softmax(x, axis)])(value)
    np.testing.assert_allclose(sm.sum(axis=axis), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(lsm)) and np.all(lsm <= 0)
    np.testing.assert_allclose(sm, np_softmax(value, axis), rtol=1e-9, atol=1e-300)


def test_str_props_and_static_shape():
    assert str(Softmax(-1)) == "Softmax{axis=-1}"
    assert str(SoftmaxGrad(0)) == "SoftmaxGrad{axis=0}"
    assert str(LogSoftmax(None)) == "LogSoftmax{axis=None}"
    assert str(crossentropy_categorical_1hot) == "CrossentropyCategorical1Hot"
    assert Softmax(1) == Softmax(1) and hash(Softmax(1)) == hash(Softmax(1))
    assert Softmax(1) != Softmax(0) and Softmax(1) != LogSoftmax(1)
    x = TensorType("float32", (3, None))("x")
    assert softmax(x).type == TensorType("float32", (3, None))
    assert log_softmax(x, axis=0).type == TensorType("float32", (3, None))


def test_infer_shape():
    x = C["dmatrix"]("x")
    for out in (softmax(x), log_softmax(x), SoftmaxGrad(-1)(x, x)):
        node = out.owner
        shapes = [(3, 4)] * len(node.inputs)
        assert node.op.infer_shape(None, node, shapes) == [(3, 4)]
    y = C["lvector"]("y")
    node = crossentropy_categorical_1hot(x, y).owner
    assert node.op.infer_shape(None, node, [(5, 3), (5,)]) == [(5,)]
    g = C["dvector"]("g")
    node = CrossentropyCategorical1HotGrad()(g, x, y).owner
    assert node.op.infer_shape(None, node, [(5,), (5, 3), (5,)]) == [(5, 3)]
    node = ultra_fast_sigmoid(x).owner
    assert node.op.infer_shape(None, node, [(2, 7)]) == [(2, 7)]


def test_softmax_errors():
    with pytest.raises(
        TypeError, match=r"Softmax\{axis=-1\}: input must be a float tensor, got dtype int32"
    ):
        softmax(C["imatrix"]("i"))
    with pytest.raises(
        TypeError, match=r"LogSoftmax\{axis=-1\}: input must be a float tensor, got dtype int64"
    ):
        log_softmax(C["lvector"]("i"))
    with pytest.raises(
        ValueError, match=r"Softmax\{axis=2\}: axis 2 is out of range for an input of 2 dims"
    ):
        softmax(C["dmatrix"](), axis=2)
    with pytest.raises(ValueError, match=r"axis -1 is out of range for an input of 0 dims"):
        log_softmax(C["dscalar"]())
    with pytest.raises(TypeError, match=r"Softmax: axis must be an int or None, got 'rows'"):
        Softmax("rows")
    with pytest.raises(TypeError, match=r"LogSoftmax: axis must be an int or None, got True"):
        LogSoftmax(True)
    with pytest.raises(TypeError, match=r"SoftmaxGrad\{axis=-1\}: inputs must have the same ndim"):
        SoftmaxGrad(-1)(C["dvector"](), C["dmatrix"]())
    with pytest.raises(ValueError, match=r"static lengths 3 and 4 differ on axis 0"):
        SoftmaxGrad(-1)(TensorType("float64", (3,))(), TensorType("float64", (4,))())
    dy, sm = C["dvector"]("dy"), C["dvector"]("sm")
    f = function([dy, sm], SoftmaxGrad(-1)(dy, sm))
    with pytest.raises(ValueError, match=r"dy has shape \(2,\) but sm has shape \(3,\)"):
        f(np.ones(2), np.ones(3))


def test_softmax_grad_op_matches_formula():
    dy, sm = C["dmatrix"]("dy"), C["dmatrix"]("sm")
    dy_v, sm_v = RNG.normal(size=(3, 4)), np_softmax(RNG.normal(size=(3, 4)), -1)
    got = function([dy, sm], SoftmaxGrad(0)(dy, sm))(dy_v, sm_v)
    np.testing.assert_allclose(got, (dy_v - (dy_v * sm_v).sum(axis=0, keepdims=True)) * sm_v)


@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
def test_softmax_gradients(shape, axis):
    value = RNG.normal(size=shape)
    verify_grad(lambda x: softmax(x, axis), [value], rng=np.random.default_rng(0))
    verify_grad(lambda x: log_softmax(x, axis), [value], rng=np.random.default_rng(1))
    single = value.astype("float32")
    verify_grad(lambda x: softmax(x, axis), [single], rng=np.random.default_rng(2))


def test_softmax_grad_op_gradients_and_second_order():
    dy, sm = RNG.normal(size=(3, 4)), np_softmax(RNG.normal(size=(3, 4)), -1)
    verify_grad(lambda a, b: SoftmaxGrad(-1)(a, b), [dy, sm], rng=np.random.default_rng(2))
    verify_grad(lambda a, b: SoftmaxGrad(None)(a, b), [dy, sm], rng=np.random.default_rng(3))
    weights = RNG.normal(size=(3, 4))
    # the gradient of a gradient goes through SoftmaxGrad.grad and LogSoftmax's symbolic grad
    verify_grad(lambda x: grad((softmax(x) * weights).sum(), x), [dy], rng=np.random.default_rng(4))
    verify_grad(
        lambda x: grad((log_softmax(x, 0) * weights).sum(), x), [dy], rng=np.random.default_rng(5)
    )


@pytest.mark.parametrize("build", [softmax, log_softmax])
def test_rop_matches_finite_differences(build):
    point, direction = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    check_rop(lambda x: build(x, 0), point, direction, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------- categorical crossentropy
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target_dtype", ["int32", "int64", "uint8"])
def test_crossentropy_1hot_matches_numpy(dtype, target_dtype):
    p, y = tensor(dtype, 2, "p"), tensor(target_dtype, 1, "y")
    out = categorical_crossentropy(p, y)
    assert isinstance(out.owner.op, CrossentropyCategorical1Hot) and out.dtype == dtype
    p_v = np_softmax(RNG.normal(size=(6, 5)), -1).astype(dtype)
    y_v = RNG.integers(0, 5, size=6).astype(target_dtype)
    got = function([p, y], out)(p_v, y_v)
    expected = -np.log(p_v.astype(np.float64)[np.arange(6), y_v])
    np.testing.assert_allclose(got, expected, **tolerance(dtype))
    # the one-hot form computes the same values
    onehot = np.eye(5, dtype=dtype)[y_v]
    q = tensor(dtype, 2, "q")
    dense = function([p, q], categorical_crossentropy(p, q))(p_v, onehot)
    np.testing.assert_allclose(dense, expected, **tolerance(dtype))


def test_crossentropy_1hot_zero_probability_is_inf():
    p, y = C["dmatrix"]("p"), C["lvector"]("y")
    got = function([p, y], crossentropy_categorical_1hot(p, y))([[0.0, 1.0]], [0])
    assert got.tolist() == [np.inf]


def test_crossentropy_1hot_grad_op_scatters():
    g, p, y = C["dvector"]("g"), C["dmatrix"]("p"), C["lvector"]("y")
    g_v, p_v, y_v = np.array([2.0, 3.0]), np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]]), [1, 2]
    got = function([g, p, y], CrossentropyCategorical1HotGrad()(g, p, y))(g_v, p_v, y_v)
    np.testing.assert_allclose(got, [[0.0, -8.0, 0.0], [0.0, 0.0, -3.0 / 0.7]])


def test_crossentropy_gradients():
    p_v = RNG.uniform(0.1, 1.0, size=(4, 3))
    targets = np.array([0, 2, 1, 2])
    verify_grad(
        lambda p: crossentropy_categorical_1hot(p, targets), [p_v], rng=np.random.default_rng(6)
    )
    op = CrossentropyCategorical1HotGrad()
    g_v = RNG.normal(size=4)
    verify_grad(lambda g, p: op(g, p, targets), [g_v, p_v], rng=np.random.default_rng(7))
    onehot = np.eye(3)[targets] * 0.8 + 0.05
    verify_grad(categorical_crossentropy, [p_v, onehot], rng=np.random.default_rng(8))
    # softmax + 1-hot crossentropy: d loss / d logits = softmax - onehot
    x, y = C["dmatrix"]("x"), C["lvector"]("y")
    gx = grad(crossentropy_categorical_1hot(softmax(x), y).sum(), x)
    x_v = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(
        function([x, y], gx)(x_v, targets), np_softmax(x_v, -1) - np.eye(3)[targets]
    )


def test_crossentropy_build_errors():
    p, y = C["dmatrix"]("p"), C["lvector"]("y")
    with pytest.raises(
        TypeError, match=r"CrossentropyCategorical1Hot: the targets must be an integer vector"
    ):
        crossentropy_categorical_1hot(p, C["dvector"]("t"))
    with pytest.raises(
        TypeError, match=r"CrossentropyCategorical1Hot: coding_dist must be a matrix"
    ):
        crossentropy_categorical_1hot(C["dtensor3"](), y)
    with pytest.raises(TypeError, match=r"coding_dist must be a float tensor, got dtype int32"):
        crossentropy_categorical_1hot(C["imatrix"](), y)
    with pytest.raises(
        ValueError, match=r"disagree on the number of rows \(static shapes \(3, None\), \(4,\)\)"
    ):
        crossentropy_categorical_1hot(
            TensorType("float64", (3, None))(), TensorType("int64", (4,))()
        )
    with pytest.raises(TypeError, match=r"expected a vector g_y and a matrix coding_dist"):
        CrossentropyCategorical1HotGrad()(p, p, y)
    with pytest.raises(TypeError, match=r"categorical_crossentropy: rank mismatch"):
        categorical_crossentropy(C["dtensor3"](), y)
    assert crossentropy_categorical_1hot(TensorType("float64", (3, None))(), y).type.shape == (3,)


@pytest.mark.parametrize("make_op", [CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad])
def test_crossentropy_runtime_errors(make_op):
    g, p, y = C["dvector"]("g"), C["dmatrix"]("p"), C["lvector"]("y")
    args = [p, y] if make_op is CrossentropyCategorical1Hot else [g, p, y]
    f = function(args, make_op()(*args))
    lead = [] if make_op is CrossentropyCategorical1Hot else [np.ones(2)]
    probs = np.full((2, 3), 1 / 3)
    with pytest.raises(
        IndexError, match=r"target 3 in row 1 is out of range for 3 classes \(valid: 0..2\)"
    ):
        f(*lead, probs, [0, 3])
    with pytest.raises(IndexError, match=r"target -1 in row 0 is out of range"):
        f(*lead, probs, [-1, 0])
    with pytest.raises(ValueError, match=r"3 targets for a coding distribution of 2 rows"):
        f(*lead, probs, [0, 1, 2])


# ---------------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_relu_is_exact(dtype):
    x = tensor(dtype, 2)
    value = (RNG.normal(size=(4, 5)) * 10).astype(dtype)
    got = function([x], relu(x))(value)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.maximum(value, 0))
    if dtype != "int32":
        leaky = function([x], relu(x, alpha=0.1))(value)
        assert leaky.dtype == dtype
        np.testing.assert_array_equal(
            leaky, np.where(value > 0, value, value * np.asarray(0.1, dtype))
        )


def test_relu_huge_values_and_symbolic_alpha():
    x, a = C["dvector"]("x"), C["dscalar"]("a")
    big = np.array([1e308, -1e308, 0.0])
    np.testing.assert_array_equal(function([x], relu(x))(big), [1e308, 0.0, 0.0])
    np.testing.assert_array_equal(function([x, a], relu(x, a))(big, 0.5), [1e308, -5e307, 0.0])
    ga = function([x, a], grad(relu(x, a).sum(), a))([-2.0, 3.0, -1.0], 0.2)
    assert ga == -3.0


def test_relu_gradients():
    value = np.array([[-2.0, -0.5, 0.3], [1.5, -1.2, 2.2]])
    verify_grad(relu, [value], rng=np.random.default_rng(9))
    verify_grad(lambda x: relu(x, 0.3), [value], rng=np.random.default_rng(10))
    verify_grad(lambda x, a: relu(x, a), [value, np.array(0.2)], rng=np.random.default_rng(11))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy(dtype):
    p, t = tensor(dtype, 1, "p"), tensor(dtype, 1, "t")
    p_v = RNG.uniform(0.05, 0.95, size=7).astype(dtype)
    t_v = RNG.uniform(0, 1, size=7).astype(dtype)
    got = function([p, t], binary_crossentropy(p, t))(p_v, t_v)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, -(t_v * np.log(p_v) + (1 - t_v) * np.log(1 - p_v)), rtol=1e-5)
    verify_grad(
        binary_crossentropy,
        [p_v.astype("float64"), t_v.astype("float64")],
        rng=np.random.default_rng(12),
    )


def test_sigmoid_binary_crossentropy_is_stable_and_agrees():
    z, t = C["dvector"]("z"), C["dvector"]("t")
    f = function([z, t], sigmoid_binary_crossentropy(z, t))
    np.testing.assert_allclose(f([1000.0, -1000.0, 1000.0], [0.0, 1.0, 1.0]), [1000.0, 1000.0, 0.0])
    z_v, t_v = RNG.normal(size=6) * 3, RNG.uniform(size=6)
    sig = 1 / (1 + np.exp(-z_v))
    np.testing.assert_allclose(f(z_v, t_v), -(t_v * np.log(sig) + (1 - t_v) * np.log(1 - sig)))
    verify_grad(sigmoid_binary_crossentropy, [z_v, t_v], rng=np.random.default_rng(13))
    gz = function([z, t], grad(sigmoid_binary_crossentropy(z, t).sum(), z))(z_v, t_v)
    np.testing.assert_allclose(gz, sig - t_v)


@pytest.mark.parametrize(
    ("dtype", "out_dtype"),
    [("float32", "float32"), ("float64", "float64"), ("int8", "float32"), ("int32", "float64")],
)
def test_hard_sigmoid(dtype, out_dtype):
    x = tensor(dtype, 1)
    value = np.array([-10, -2, 0, 1, 2, 3, 10]).astype(dtype)
    got = function([x], hard_sigmoid(x))(value)
    assert got.dtype == out_dtype
    expected = np.clip(
        value.astype(out_dtype) * np.asarray(0.2, out_dtype) + np.asarray(0.5, out_dtype), 0, 1
    )
    np.testing.assert_array_equal(got, expected)


def test_hard_sigmoid_gradient():
    verify_grad(
        hard_sigmoid, [np.array([-4.0, -1.0, 0.5, 2.0, 4.0])], rng=np.random.default_rng(14)
    )


@pytest.mark.parametrize(
    ("dtype", "out_dtype"),
    [("float32", "float32"), ("float64", "float64"), ("int16", "float32"), ("int64", "float64")],
)
def test_ultra_fast_sigmoid_matches_theano(dtype, out_dtype):
    x = tensor(dtype, 1)
    value = np.concatenate([np.linspace(-10, 10, 41), [-3.4, 3.4, 6.0, -6.0]]).astype(dtype)
    got = function([x], ultra_fast_sigmoid(x))(value)
    assert got.dtype == out_dtype
    expected = [np_ultra_fast_sigmoid(float(v)) for v in value]
    np.testing.assert_allclose(got, expected, **tolerance(out_dtype))
    # a close approximation of the true sigmoid
    assert np.max(np.abs(got - 1 / (1 + np.exp(-value.astype(np.float64))))) < 0.03


def test_ultra_fast_sigmoid_nan_grad_and_rop():
    x, v = C["dvector"]("x"), C["dvector"]("v")
    assert np.isnan(function([x], ultra_fast_sigmoid(x))([np.nan])[0])
    x_v, v_v = RNG.normal(size=5) * 4, RNG.normal(size=5)
    y = np.array([np_ultra_fast_sigmoid(float(a)) for a in x_v])
    # Theano's gradient: sigmoid's formula y * (1 - y) evaluated at the approximation
    gx = function([x], grad(ultra_fast_sigmoid(x).sum(), x))(x_v)
    np.testing.assert_allclose(gx, y * (1 - y))
    np.testing.assert_allclose(
        function([x, v], Rop(ultra_fast_sigmoid(x), x, v))(x_v, v_v), v_v * y * (1 - y)
    )
    ints = ultra_fast_sigmoid(C["ivector"]("i"))
    assert ints.owner.op.L_op(ints.owner.inputs, [ints], [ints]) == [None]
    with pytest.raises(
        TypeError, match=r"UltraFastSigmoid: input must be real, got dtype complex128"
    ):
        UltraFastSigmoid()(TensorType("complex128", (None,))())


# ---------------------------------------------------------------------- integration
def test_softmax_regression_trains():
    rng = np.random.default_rng(0)
    n, d, k = 60, 4, 3
    centers = rng.normal(size=(k, d)) * 3
    labels = rng.integers(0, k, size=n)
    data = centers[labels] + rng.normal(size=(n, d))
    W = shared(np.zeros((d, k)), name="W")
    b = shared(np.zeros(k), name="b")
    X, y = C["dmatrix"]("X"), C["lvector"]("y")
    logits = (X.dimshuffle(0, 1, "x") * W.dimshuffle("x", 0, 1)).sum(axis=1) + b.dimshuffle("x", 0)
    prob = softmax(logits)
    loss = categorical_crossentropy(prob, y).sum() * (1.0 / n)
    gW, gb = grad(loss, [W, b])
    train = function([X, y], loss, updates=[(W, W - 0.5 * gW), (b, b - 0.5 * gb)])
    losses = [float(train(data, labels)) for _ in range(50)]
    assert losses[0] == pytest.approx(np.log(k))
    assert losses[-1] < 0.3 * losses[0]
    assert all(later <= earlier + 1e-12 for earlier, later in zip(losses, losses[1:], strict=False))
    predict = function([X], prob)
    assert np.mean(predict(data).argmax(axis=1) == labels) > 0.9
