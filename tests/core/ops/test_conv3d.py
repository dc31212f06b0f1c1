"""nnet.conv3d (core.ops.conv3d) against SciPy's n-d convolution, with gradients."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import convolve, correlate

from labsym.compile import function
from labsym.core.ops.conv3d import conv3d
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(17)


def _t(name: str, dtype: str = "float64"):
    return TensorType(dtype, (None,) * 5)(name)


def _reference(x, w, mode="valid", flip=True):
    op = convolve if flip else correlate
    return np.array(
        [
            [sum(op(x[n, c], w[o, c], mode) for c in range(x.shape[1])) for o in range(w.shape[0])]
            for n in range(x.shape[0])
        ]
    )


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("flip", [True, False])
def test_conv3d_matches_scipy(mode, flip):
    xv, wv = RNG.standard_normal((2, 3, 5, 6, 7)), RNG.standard_normal((4, 3, 2, 3, 2))
    x, w = _t("x"), _t("w")
    out = conv3d(x, w, filter_shape=wv.shape, border_mode=mode, filter_flip=flip)
    got = function([x, w], out)(xv, wv)
    np.testing.assert_allclose(got, _reference(xv, wv, mode, flip), rtol=1e-10, atol=1e-12)


def test_conv3d_strides_dilation_half_and_explicit_padding():
    xv, wv = RNG.standard_normal((1, 2, 6, 5, 7)), RNG.standard_normal((3, 2, 2, 3, 2))
    x = _t("x")
    strided = function([x], conv3d(x, wv, subsample=(2, 1, 2)))(xv)
    np.testing.assert_allclose(strided, _reference(xv, wv)[:, :, ::2, :, ::2], rtol=1e-10)
    dilated_kernel = np.zeros((3, 2, 3, 3, 2))
    dilated_kernel[:, :, ::2] = wv
    dilated = function([x], conv3d(x, wv, filter_dilation=(2, 1, 1)))(xv)
    np.testing.assert_allclose(dilated, _reference(xv, dilated_kernel), rtol=1e-10)
    half = function([x], conv3d(x, wv, border_mode="half"))(xv)
    assert half.shape == (1, 3, 7, 5, 8)  # length + 2 * (kernel // 2) - kernel + 1
    padded = function([x], conv3d(x, wv, border_mode=(1, 0, 1)))(xv)
    want = _reference(np.pad(xv, ((0, 0), (0, 0), (1, 1), (0, 0), (1, 1))), wv)
    np.testing.assert_allclose(padded, want, rtol=1e-10)


def test_conv3d_keeps_float32():
    x = _t("x", "float32")
    wv = RNG.standard_normal((2, 1, 2, 2, 2)).astype("float32")
    out = conv3d(x, wv, border_mode="full")
    assert out.dtype == "float32"
    xv = RNG.standard_normal((1, 1, 3, 3, 3)).astype("float32")
    np.testing.assert_allclose(function([x], out)(xv), _reference(xv, wv, "full"), rtol=1e-5)


def test_conv3d_gradients():
    verify_grad(
        lambda a, b: conv3d(a, b, filter_shape=(2, 2, 2, 2, 2), border_mode=(1, 0, 1)),
        [RNG.standard_normal((1, 2, 3, 3, 3)), RNG.standard_normal((2, 2, 2, 2, 2))],
        rng=RNG,
    )
    verify_grad(
        lambda a: conv3d(a, np.ones((1, 1, 2, 1, 2)), subsample=(2, 1, 1)),
        [RNG.standard_normal((2, 1, 5, 2, 3))],
        rng=RNG,
    )


def test_conv3d_errors_name_the_problem():
    x, w = _t("x"), _t("w")
    with pytest.raises(ValueError, match="the kernel depth must be known"):
        conv3d(x, w)
    with pytest.raises(TypeError, match="input and filters must be 5-d"):
        conv3d(TensorType("float64", (None,) * 4)("x"), w, filter_shape=(1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="subsample must be an int or three ints"):
        conv3d(x, w, filter_shape=(1, 1, 1, 1, 1), subsample=(1, 1))
    with pytest.raises(ValueError, match="border_mode must be 'valid', 'full', 'half'"):
        conv3d(x, w, filter_shape=(1, 1, 1, 1, 1), border_mode="same")
    with pytest.raises(NotImplementedError, match="num_groups > 1"):
        conv3d(x, w, filter_shape=(1, 1, 1, 1, 1), num_groups=2)
    f = function([x], conv3d(x, np.ones((1, 2, 1, 1, 1)), input_shape=(None, 2, None, None, None)))
    with pytest.raises(ValueError, match=r"SpecifyShape: expected shape \(None, 2, None"):
        f(np.ones((1, 3, 2, 2, 2)))
