"""conv2d and its gradient ops against a direct (loop-per-output-pixel) reference, and a LeNet."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.conv import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    conv2d,
    conv2d_transpose,
)
from labsym.core.ops.nnet import relu
from labsym.core.ops.nnet_fused import CrossentropySoftmax1Hot
from labsym.core.ops.pool import pool_2d
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(7)
BORDER_MODES = ["valid", "full", "half", 1, (2, 1), (0, 3)]
SUBSAMPLES = [(1, 1), (2, 2), (3, 2)]
DILATIONS = [(1, 1), (2, 1)]


# ---------------------------------------------------------------------- direct reference
def ref_padding(border_mode, kernel, dilation):
    dilated = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return (dilated[0] - 1, dilated[1] - 1)
    if border_mode == "half":
        return (dilated[0] // 2, dilated[1] // 2)
    return (border_mode, border_mode) if isinstance(border_mode, int) else tuple(border_mode)


def ref_conv2d(x, w, border_mode="valid", subsample=(1, 1), filter_flip=True, dilation=(1, 1)):
    """Sum over channels and kernel taps, computed separately for every output pixel."""
    kh, kw = w.shape[2:]
    if filter_flip:
        w = w[:, :, ::-1, ::-1]
    ph, pw = ref_padding(border_mode, (kh, kw), dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dkh, dkw = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    oh = (xp.shape[2] - dkh) // subsample[0] + 1
    ow = (xp.shape[3] - dkw) // subsample[1] + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for r in range(oh):
        for c in range(ow):
            r0, c0 = r * subsample[0], c * subsample[1]
            patch = xp[:, :, r0 : r0 + dkh : dilation[0], c0 : c0 + dkw : dilation[1]]
            out[:, :, r, c] = np.einsum("ncij,fcij->nf", patch, w)
    return out


def tensor4(dtype="float64", shape=(None,) * 4, name="x"):
    return TensorType(dtype, shape)(name)


def conv_fn(**params):
    x, w = tensor4(name="x"), tensor4(name="w")
    return function([x, w], conv2d(x, w, **params))


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize("border_mode", BORDER_MODES)
@pytest.mark.parametrize("subsample", SUBSAMPLES)
@pytest.mark.parametrize("dilation", DILATIONS)
@pytest.mark.parametrize("filter_flip", [True, False])
def test_conv2d_matches_direct_reference(border_mode, subsample, dilation, filter_flip):
    params = dict(border_mode=border_mode, subsample=subsample, filter_flip=filter_flip)
    f = conv_fn(filter_dilation=dilation, **params)
    for x_shape, w_shape in [((2, 3, 9, 8), (4, 3, 3, 2)), ((1, 1, 7, 7), (2, 1, 1, 3))]:
        x, w = RNG.normal(size=x_shape), RNG.normal(size=w_shape)
        expected = ref_conv2d(x, w, border_mode, subsample, filter_flip, dilation)
        got = f(x, w)
        assert got.shape == expected.shape and got.flags.c_contiguous
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64")])
def test_conv2d_dtypes(dtypes):
    x, w = tensor4(dtypes[0], name="x"), tensor4(dtypes[1], name="w")
    out = conv2d(x, w, border_mode="half")
    assert out.dtype == np.result_type(*dtypes).name
    xv, wv = RNG.normal(size=(2, 2, 6, 5)).astype(dtypes[0]), RNG.normal(size=(3, 2, 3, 3))
    got = function([x, w], out)(xv, wv.astype(dtypes[1]))
    assert got.dtype == out.dtype
    np.testing.assert_allclose(
        got, ref_conv2d(xv, wv.astype(dtypes[1]), "half"), rtol=1e-4, atol=1e-4
    )


def test_filter_flip_is_a_true_convolution():
    # a delta image convolved with a kernel reproduces the kernel, unflipped
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(conv_fn(border_mode="half")(x, w)[0, 0, 1:4, 1:4], w[0, 0])
    flipped = conv_fn(border_mode="half", filter_flip=False)(x, w)[0, 0, 1:4, 1:4]
    np.testing.assert_array_equal(flipped, w[0, 0, ::-1, ::-1])


@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(4, 8), st.integers(4, 8),
    st.integers(1, 3), st.integers(1, 3), st.sampled_from(BORDER_MODES),
    st.sampled_from(SUBSAMPLES), st.sampled_from(DILATIONS),
)  # fmt: skip
def test_conv2d_random_geometry(n, c, f, h, wd, kh, kw, border_mode, subsample, dilation):
    x, w = RNG.normal(size=(n, c, h, wd)), RNG.normal(size=(f, c, kh, kw))
    f = conv_fn(border_mode=border_mode, subsample=subsample, filter_dilation=dilation)
    pad = ref_padding(border_mode, (kh, kw), dilation)
    if min(h + 2 * pad[0] - (kh - 1) * dilation[0], wd + 2 * pad[1] - (kw - 1) * dilation[1]) < 1:
        with pytest.raises(ValueError, match="does not fit the padded image"):
            f(x, w)
        return
    expected = ref_conv2d(x, w, border_mode, subsample, True, dilation)
    np.testing.assert_allclose(f(x, w), expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- shapes
def test_static_output_shape_and_infer_shape():
    x = tensor4(shape=(None, 3, 28, 27), name="x")
    w = tensor4(shape=(6, 3, 5, 4), name="w")
    cases = {("valid", (1, 1)): (24, 24), ("full", (1, 1)): (32, 30), ("half", (2, 2)): (14, 14)}
    for (border_mode, subsample), spatial in cases.items():
        out = conv2d(x, w, border_mode=border_mode, subsample=subsample)
        assert out.type.shape == (None, 6, *spatial)
        node = out.owner
        assert node.op.infer_shape(None, node, [(2, 3, 28, 27), (6, 3, 5, 4)]) == [(2, 6, *spatial)]
    # symbolic lengths: the shape is computed without running the convolution
    xs, ws = tensor4(name="x"), tensor4(name="w")
    out = conv2d(xs, ws, border_mode="half", subsample=(2, 3), filter_dilation=(2, 1))
    assert out.type.shape == (None,) * 4
    lengths = out.owner.op.infer_shape(None, out.owner, [xs.shape, ws.shape])[0]
    shape_fn = function([xs, ws], list(lengths))
    xv, wv = np.zeros((2, 3, 11, 10)), np.zeros((5, 3, 3, 4))
    expected = ref_conv2d(xv, wv, "half", (2, 3), True, (2, 1)).shape
    assert tuple(int(v) for v in shape_fn(xv, wv)) == expected


def test_shape_hints_give_static_shapes_and_are_checked():
    x, w = tensor4(name="x"), tensor4(name="w")
    out = conv2d(x, w, input_shape=(None, 1, 28, 28), filter_shape=(4, 1, 5, 5))
    assert out.type.shape == (None, 4, 24, 24)
    legacy = conv2d(x, w, image_shape=(2, 1, 8, 8))
    assert legacy.type.shape == (2, None, None, None)
    f = function([x, w], out)
    with pytest.raises(ValueError, match="SpecifyShape: expected shape"):
        f(np.zeros((1, 1, 27, 28)), np.zeros((4, 1, 5, 5)))
    with pytest.raises(ValueError, match="input_shape or its old name image_shape"):
        conv2d(x, w, input_shape=(1, 1, 8, 8), image_shape=(1, 1, 8, 8))
    with pytest.raises(ValueError, match="input_shape must have 4 entries"):
        conv2d(x, w, input_shape=(28, 28))


# ---------------------------------------------------------------------- errors
def test_graph_build_errors_name_the_problem():
    x, w = tensor4(name="x"), tensor4(name="w")
    with pytest.raises(TypeError, match=r"input must be a 4-d tensor \(NCHW layout\)"):
        conv2d(C["dmatrix"]("m"), w)
    with pytest.raises(TypeError, match="filters must be a float tensor, got dtype int32"):
        conv2d(x, tensor4("int32", name="k"))
    with pytest.raises(ValueError, match="input channels and filter channels disagree: 3 != 2"):
        conv2d(tensor4(shape=(None, 3, None, None)), tensor4(shape=(4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"kernel \(5, 5\) does not fit the image \(3, 8\)"):
        conv2d(tensor4(shape=(1, 1, 3, 8)), tensor4(shape=(1, 1, 5, 5)))
    with pytest.raises(ValueError, match="border_mode must be 'valid', 'full', 'half'"):
        conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="border_mode entries must be >= 0"):
        conv2d(x, w, border_mode=(-1, 0))
    with pytest.raises(ValueError, match="subsample entries must be >= 1"):
        conv2d(x, w, subsample=(0, 1))
    with pytest.raises(ValueError, match="filter_dilation must be an int or a pair of ints"):
        conv2d(x, w, filter_dilation=(1, 2, 3))


def test_runtime_errors_name_the_shapes():
    f = conv_fn()
    with pytest.raises(ValueError, match=r"input has 3 channels but the filters expect 2"):
        f(np.zeros((1, 3, 5, 5)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"does not fit the padded image \(2, 5\)"):
        f(np.zeros((1, 1, 2, 5)), np.zeros((1, 1, 3, 3)))
    w, gz, x = tensor4(name="w"), tensor4(name="g"), tensor4(name="x")
    g_inputs = function([w, gz], Conv2dGradInputs()(w, gz, 5, 5))
    with pytest.raises(
        ValueError, match=r"gradient has shape \(1, 1, 2, 2\), expected \(1, 1, 3, 3\)"
    ):
        g_inputs(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)))
    g_weights = function([x, gz], Conv2dGradWeights()(x, gz, 3, 3))
    with pytest.raises(
        ValueError, match=r"gradient has shape \(2, 1, 3, 3\), expected \(1, 1, 3, 3\)"
    ):
        g_weights(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)))


# ---------------------------------------------------------------------- gradients
GRAD_CASES = list(
    itertools.product(["valid", "full", "half", (1, 2)], SUBSAMPLES[:2] + [(2, 3)], DILATIONS)
)


@pytest.mark.parametrize(("border_mode", "subsample", "dilation"), GRAD_CASES)
def test_conv2d_gradients(border_mode, subsample, dilation):
    x, w = RNG.normal(size=(2, 2, 6, 7)), RNG.normal(size=(3, 2, 2, 3))

    def conv(a, b):
        return conv2d(a, b, border_mode=border_mode, subsample=subsample, filter_dilation=dilation)

    verify_grad(conv, [x, w], rng=RNG)
    flipped = Conv2d(border_mode, subsample, False, dilation)
    verify_grad(flipped, [x, w], rng=RNG)


@pytest.mark.parametrize(
    ("border_mode", "subsample"), [("valid", (1, 1)), ("half", (2, 3)), ((1, 0), (2, 1))]
)
def test_gradient_ops_are_differentiable(border_mode, subsample):
    props = (border_mode, subsample, True, (1, 1))
    x, w = RNG.normal(size=(2, 2, 6, 7)), RNG.normal(size=(3, 2, 2, 3))
    out_shape = ref_conv2d(x, w, border_mode, subsample).shape
    gz = RNG.normal(size=out_shape)
    verify_grad(lambda a, b: Conv2dGradInputs(*props)(a, b, 6, 7), [w, gz], rng=RNG)
    verify_grad(lambda a, b: Conv2dGradWeights(*props)(a, b, 2, 3), [x, gz], rng=RNG)


def test_gradients_are_the_adjoints_of_the_convolution():
    # <g, conv(x, w)> = <grad_inputs(w, g), x> = <grad_weights(x, g), w>
    props = ((1, 2), (2, 1), True, (1, 2))
    xs, ws, gs = tensor4(name="x"), tensor4(name="w"), tensor4(name="g")
    f = function(
        [xs, ws, gs],
        [
            Conv2d(*props)(xs, ws),
            Conv2dGradInputs(*props)(ws, gs, 7, 6),
            Conv2dGradWeights(*props)(xs, gs, 3, 2),
        ],
    )
    x, w = RNG.normal(size=(2, 3, 7, 6)), RNG.normal(size=(4, 3, 3, 2))
    g = RNG.normal(size=ref_conv2d(x, w, (1, 2), (2, 1), True, (1, 2)).shape)
    out, gx, gw = f(x, w, g)
    assert gx.shape == x.shape and gw.shape == w.shape
    np.testing.assert_allclose(np.vdot(gx, x), np.vdot(g, out), rtol=1e-10)
    np.testing.assert_allclose(np.vdot(gw, w), np.vdot(g, out), rtol=1e-10)


def test_second_derivative_through_conv2d():
    def squared_weight_grad(a, b):
        cost = (conv2d(a, b, border_mode="half", subsample=(2, 2)) ** 2).sum()
        return (grad(cost, b) ** 2).sum()

    verify_grad(
        squared_weight_grad, [RNG.normal(size=(1, 2, 5, 5)), RNG.normal(size=(2, 2, 3, 3))], rng=RNG
    )


def test_rop_is_the_sum_of_both_linear_terms():
    x, w, vx, vw = (tensor4(name=n) for n in ["x", "w", "vx", "vw"])
    out = conv2d(x, w, border_mode="full")
    f = function([x, w, vx, vw], Rop(out, [x, w], [vx, vw]))
    xv, wv, vxv, vwv = (RNG.normal(size=s) for s in [(1, 2, 4, 4), (2, 2, 2, 2)] * 2)
    expected = ref_conv2d(vxv, wv, "full") + ref_conv2d(xv, vwv, "full")
    np.testing.assert_allclose(f(xv, wv, vxv, vwv), expected, rtol=1e-10)


def test_conv2d_transpose_is_the_input_gradient():
    x, w = tensor4(name="x"), tensor4(name="w")
    up = conv2d_transpose(x, w, (None, None, 7, 7), input_dilation=(2, 2), border_mode="half")
    assert up.type.shape == (None, None, 7, 7)
    xv, wv = RNG.normal(size=(1, 2, 4, 4)), RNG.normal(size=(2, 3, 3, 3))
    got = function([x, w], up)(xv, wv)
    # column k of the transpose is the conv2d of the k-th unit image
    image = np.zeros((1, 3, 7, 7))
    dense = []
    for k in range(image.size):
        image.flat[k] = 1.0
        dense.append(ref_conv2d(image, wv, "half", (2, 2)).ravel())
        image.flat[k] = 0.0
    np.testing.assert_allclose(got.ravel(), np.array(dense) @ xv.ravel(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="output_shape must have 4 entries"):
        conv2d_transpose(x, w, (7, 7))


# ---------------------------------------------------------------------- a LeNet trains
def test_lenet_trains_on_synthetic_digits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=32).astype("int32")
    images = rng.normal(scale=0.3, size=(32, 1, 28, 28)).astype("float32")
    for i, label in enumerate(labels):  # each class lights up its own block of pixels
        images[i, 0, 2 * label : 2 * label + 8, 4:24] += 1.0

    def param(*shape, scale):
        return shared(rng.normal(scale=scale, size=shape).astype("float32"))

    w1, w2 = param(4, 1, 5, 5, scale=0.2), param(8, 4, 5, 5, scale=0.1)
    w3, b3 = param(128, 10, scale=0.1), param(10, scale=0.0)
    x, y = TensorType("float32", (32, 1, 28, 28))("x"), C["ivector"]("y")
    h1 = pool_2d(relu(conv2d(x, w1, filter_shape=(4, 1, 5, 5))), ws=(2, 2))
    h2 = pool_2d(relu(conv2d(h1, w2, filter_shape=(8, 4, 5, 5))), ws=(2, 2))
    assert h2.type.shape == (32, 8, 4, 4)
    logits = h2.flatten(2).dot(w3) + b3
    loss = CrossentropySoftmax1Hot()(logits, y).mean()
    params = [w1, w2, w3, b3]
    grads = grad(loss, params)
    step = function(
        [x, y],
        loss,
        updates=[(p, p - np.float32(0.1) * g) for p, g in zip(params, grads, strict=True)],
    )

    # the first loss is the direct reference's forward pass
    def np_forward():
        a1 = np.maximum(ref_conv2d(images, w1.get_value()), 0)
        p1 = a1.reshape(32, 4, 12, 2, 12, 2).max(axis=(3, 5))
        a2 = np.maximum(ref_conv2d(p1, w2.get_value()), 0)
        z = a2.reshape(32, 8, 4, 2, 4, 2).max(axis=(3, 5)).reshape(32, -1) @ w3.get_value()
        z = z - z.max(axis=1, keepdims=True)
        return np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(32), labels])

    expected_first = np_forward()
    losses = [float(step(images, labels)) for _ in range(5)]
    assert losses[0] == pytest.approx(expected_first, rel=1e-4)
    assert all(b < a for a, b in zip(losses[:-1], losses[1:], strict=True)), losses
    assert losses[-1] < 0.8 * losses[0]
    assert w1.get_value().dtype == np.float32
