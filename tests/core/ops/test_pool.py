"""pool_2d and its gradient ops against a direct transcription of Theano's Pool.perform loops."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.ops.pool import (
    AveragePoolGrad,
    DownsampleFactorMaxGradGrad,
    MaxPoolGrad,
    Pool,
    max_pool_2d_same_size,
    pool_2d,
)
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(11)
MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


# ---------------------------------------------------------------------- direct reference
def ref_out_length(length, ws, stride, pad, ignore_border):
    padded = length + 2 * pad
    if ignore_border:
        return max(0, (padded - ws) // stride + 1)
    if stride >= ws:
        return (padded - 1) // stride + 1
    return max(0, (padded - 1 - ws + stride) // stride) + 1


def ref_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """One window at a time: Theano's Pool.perform, with its clipping rules."""
    stride = stride or ws
    h, w = x.shape[-2:]
    rows, cols = h + 2 * pad[0], w + 2 * pad[1]
    out_r = ref_out_length(h, ws[0], stride[0], pad[0], ignore_border)
    out_c = ref_out_length(w, ws[1], stride[1], pad[1], ignore_border)
    y = np.zeros(x.shape[:-2] + (rows, cols))
    y[..., pad[0] : pad[0] + h, pad[1] : pad[1] + w] = x
    func = {"max": np.max, "sum": np.sum}.get(mode, np.mean)
    out = np.zeros(x.shape[:-2] + (out_r, out_c))
    for r, c in itertools.product(range(out_r), range(out_c)):
        r0, c0 = r * stride[0], c * stride[1]
        r1, c1 = min(r0 + ws[0], rows), min(c0 + ws[1], cols)
        if mode != "average_inc_pad":  # only the image itself
            r0, c0 = max(r0, pad[0]), max(c0, pad[1])
            r1, c1 = min(r1, h + pad[0]), min(c1, w + pad[1])
        out[..., r, c] = func(y[..., r0:r1, c0:c1], axis=(-2, -1))
    return out


def tensor(ndim, dtype="float64", name="x"):
    return TensorType(dtype, (None,) * ndim)(name)


def distinct(shape):
    """Values without ties (so max pooling's gradient is defined), spaced by 0.1."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) / 10.0


CASES = [
    (ws, stride, ignore_border, pad)
    for ws, stride, ignore_border, pad in itertools.product(
        [(2, 2), (3, 2), (1, 1)],
        [None, (1, 1), (2, 3), (3, 3)],
        [True, False],
        [(0, 0), (1, 0), (1, 1)],
    )
    if (pad == (0, 0) or ignore_border) and pad[0] < ws[0] and pad[1] < ws[1]
]


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("ws", "stride", "ignore_border", "pad"), CASES)
def test_pool_matches_direct_reference(ws, stride, ignore_border, pad, mode):
    x = tensor(4)
    f = function([x], pool_2d(x, ws, ignore_border, stride, pad, mode))
    for shape in [(2, 3, 7, 8), (1, 1, 5, 5), (1, 2, 4, 3)]:
        value = RNG.normal(size=shape)
        expected = ref_pool(value, ws, ignore_border, stride, pad, mode)
        np.testing.assert_allclose(f(value), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 6), (3, 5, 6), (2, 1, 3, 5, 6)])
@pytest.mark.parametrize("mode", MODES)
def test_pool_acts_on_the_last_two_axes_of_any_ndim(shape, mode):
    x = tensor(len(shape))
    out = pool_2d(x, (2, 3), ignore_border=False, mode=mode)
    value = RNG.normal(size=shape)
    got = function([x], out)(value)
    np.testing.assert_allclose(got, ref_pool(value, (2, 3), False, mode=mode), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
@pytest.mark.parametrize("mode", MODES)
def test_pool_keeps_the_dtype(dtype, mode):
    x = tensor(2, dtype)
    out = pool_2d(x, (2, 2), stride=(1, 1), mode=mode)
    assert out.dtype == dtype
    value = RNG.integers(-20, 20, size=(5, 4)).astype(dtype)
    got = function([x], out)(value)
    assert got.dtype == dtype
    # integer averages are truncated to the dtype, as Theano stores them
    expected = ref_pool(value.astype(np.float64), (2, 2), True, (1, 1), mode=mode).astype(dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_max_pool_with_padding_never_picks_the_padding():
    x = tensor(2)
    got = function([x], pool_2d(x, (2, 2), pad=(1, 1)))(-np.ones((2, 2)))
    np.testing.assert_array_equal(got, -np.ones((2, 2)))


def test_average_modes_differ_only_on_padded_windows():
    x = tensor(2)
    value = np.ones((3, 3))
    inc = function([x], pool_2d(x, (2, 2), pad=(1, 1), mode="average_inc_pad"))(value)
    exc = function([x], pool_2d(x, (2, 2), pad=(1, 1), mode="average_exc_pad"))(value)
    np.testing.assert_allclose(inc, [[0.25, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(exc, np.ones((2, 2)))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4),
    st.integers(1, 4), st.integers(1, 4), st.booleans(), st.sampled_from(MODES),
)  # fmt: skip
def test_pool_random_geometry(h, w, ws0, ws1, st0, st1, ignore_border, mode):
    x = tensor(3)
    out = pool_2d(x, (ws0, ws1), ignore_border, (st0, st1), mode=mode)
    value = RNG.normal(size=(2, h, w))
    expected = ref_pool(value, (ws0, ws1), ignore_border, (st0, st1), mode=mode)
    got = function([x], out)(value)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- shapes
def test_static_shape_and_infer_shape():
    x = TensorType("float32", (None, 3, 28, 27))("x")
    out = pool_2d(x, (2, 2), ignore_border=False)
    assert out.type.shape == (None, 3, 14, 14)
    assert pool_2d(x, (3, 2), stride=(2, 3), pad=(1, 1)).type.shape == (None, 3, 14, 10)
    assert pool_2d(tensor(2), (2, 2)).type.shape == (None, None)
    # symbolic lengths: the shape is computed without pooling
    for ignore_border in (True, False):
        xs = tensor(4)
        node = pool_2d(xs, (3, 2), ignore_border, (2, 1)).owner
        lengths = function([xs], list(node.op.infer_shape(None, node, [xs.shape])[0]))
        for shape in [(1, 2, 7, 6), (1, 1, 2, 1)]:
            expected = ref_pool(np.zeros(shape), (3, 2), ignore_border, (2, 1)).shape
            assert tuple(int(v) for v in lengths(np.zeros(shape))) == expected


def test_infer_shape_with_int_lengths():
    for ws, stride, ignore_border in [
        ((3, 2), (2, 1), True),
        ((3, 2), (2, 1), False),
        ((2, 2), None, False),
    ]:
        node = pool_2d(tensor(4), ws, ignore_border, stride).owner
        for shape in [(1, 2, 7, 6), (1, 1, 2, 1), (3, 1, 1, 4)]:
            expected = ref_pool(np.zeros(shape), ws, ignore_border, stride).shape
            assert node.op.infer_shape(None, node, [shape]) == [expected]


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("ws", "stride", "ignore_border", "pad"), CASES[::3])
def test_pool_gradients(ws, stride, ignore_border, pad, mode):
    verify_grad(
        lambda a: pool_2d(a, ws, ignore_border, stride, pad, mode),
        [distinct((1, 2, 5, 6))],
        rng=RNG,
    )


def test_max_pool_gradient_goes_to_every_tied_maximum():
    x = tensor(2)
    g = function([x], grad(pool_2d(x, (2, 2)).sum(), x))
    np.testing.assert_array_equal(g([[1.0, 3.0], [3.0, 0.0]]), [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    ("ws", "stride", "ignore_border", "pad"),
    [((2, 2), None, True, (1, 1)), ((3, 2), (1, 2), False, (0, 0))],
)
def test_second_order_gradient_ops(ws, stride, ignore_border, pad):
    params = (ws, ignore_border, stride, pad)
    x = distinct((2, 5, 6))
    xs = tensor(3)
    maxout = function([xs], Pool(*params)(xs))(x)
    gz = RNG.normal(size=maxout.shape)
    ggx = RNG.normal(size=x.shape)
    # MaxPoolGrad and DownsampleFactorMaxGradGrad are linear in their last input
    verify_grad(lambda g: MaxPoolGrad(*params)(x, maxout, g), [gz], rng=RNG)
    verify_grad(lambda g: DownsampleFactorMaxGradGrad(*params)(x, maxout, g), [ggx], rng=RNG)
    for mode in MODES[1:]:
        verify_grad(lambda g, mode=mode: AveragePoolGrad(*params, mode=mode)(x, g), [gz], rng=RNG)
    # and transposes of each other: <MaxPoolGrad(gz), ggx> = <gz, GradGrad(ggx)>
    gs, ggs = tensor(3, name="g"), tensor(3, name="gg")
    f = function(
        [gs, ggs],
        [MaxPoolGrad(*params)(x, maxout, gs), DownsampleFactorMaxGradGrad(*params)(x, maxout, ggs)],
    )
    back, forth = f(gz, ggx)
    np.testing.assert_allclose(np.vdot(back, ggx), np.vdot(gz, forth), rtol=1e-12)


def test_second_derivative_through_pooling():
    def cost(a):
        pooled = pool_2d(a**3, (2, 2), mode="max") + pool_2d(a**3, (2, 2), mode="average_exc_pad")
        return (grad(pooled.sum(), a) ** 2).sum()

    verify_grad(cost, [distinct((1, 4, 4)) + 0.5], rng=RNG)


def test_int_input_has_no_gradient_path():
    x = tensor(2, "int32")
    op = Pool((2, 2))
    node = op.make_node(x)
    assert op.L_op(node.inputs, node.outputs, [tensor(2)]) == [None]


# ---------------------------------------------------------------------- helpers and errors
def test_max_pool_2d_same_size():
    x = tensor(3)
    value = distinct((2, 4, 6))
    got = function([x], max_pool_2d_same_size(x, (2, 3)))(value)
    maxima = value.reshape(2, 2, 2, 2, 3).max(axis=(2, 4))
    expected = np.where(value == np.kron(maxima, np.ones((2, 3))), value, 0.0)
    np.testing.assert_array_equal(got, expected)


def test_legacy_argument_names():
    x = tensor(2)
    with pytest.warns(DeprecationWarning) as record:
        old = pool_2d(x, ds=(2, 2), st=(1, 1), padding=(1, 1), mode="sum")
    assert [str(w.message) for w in record] == [
        f"pool_2d: {name} is deprecated, use {new}"
        for name, new in [("ds", "ws"), ("st", "stride"), ("padding", "pad")]
    ]
    assert old.owner.op == Pool((2, 2), True, (1, 1), (1, 1), "sum")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="give ws or its old name ds, not both"):
            pool_2d(x, ws=(2, 2), ds=(2, 2))
        with pytest.raises(ValueError, match="give pad or its old name padding, not both"):
            pool_2d(x, ws=(2, 2), pad=(1, 1), padding=(1, 1))
    assert Pool((2, 2), mode="max_deterministic") == Pool((2, 2))


def test_errors_name_the_problem():
    x = tensor(2)
    with pytest.raises(ValueError, match="give the window size ws"):
        pool_2d(x)
    with pytest.raises(ValueError, match="padding works only with ignore_border=True"):
        pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match=r"pad \(2, 0\) must be smaller than ws \(2, 2\)"):
        pool_2d(x, (2, 2), pad=(2, 0))
    with pytest.raises(ValueError, match="mode must be one of max, sum, average_inc_pad"):
        pool_2d(x, (2, 2), mode="average")
    with pytest.raises(ValueError, match="ws entries must be >= 1"):
        pool_2d(x, (0, 2))
    with pytest.raises(ValueError, match="stride must be a pair of ints"):
        pool_2d(x, (2, 2), stride=(1, 1, 1))
    with pytest.raises(TypeError, match="input must have at least 2 dimensions"):
        pool_2d(tensor(1), (2, 2))
    with pytest.raises(TypeError, match="input must be real numbers, got dtype complex128"):
        pool_2d(tensor(2, "complex128"), (2, 2))
    with pytest.raises(ValueError, match="MaxPoolGrad: mode must be 'max'"):
        MaxPoolGrad((2, 2), mode="sum")
    with pytest.raises(ValueError, match="AveragePoolGrad: mode must be 'sum'"):
        AveragePoolGrad((2, 2), mode="max")
    with pytest.raises(TypeError, match="inputs must have the same ndim"):
        MaxPoolGrad((2, 2))(tensor(2), tensor(3), tensor(2))
    g = function([x, gz := tensor(2, name="gz")], AveragePoolGrad((2, 2))(x, gz))
    with pytest.raises(ValueError, match=r"gz has shape \(1, 1\), but pooling gives \(2, 2\)"):
        g(np.zeros((4, 4)), np.zeros((1, 1)))
