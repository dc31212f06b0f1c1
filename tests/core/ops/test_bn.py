"""Batch normalization (train, test and Theano's old API) against NumPy, with gradients."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.ops.bn import (
    batch_normalization,
    batch_normalization_test,
    batch_normalization_train,
)
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(3)
AXES = [("per-activation", (0,)), ("spatial", (0, 2, 3)), ((0, 1), (0, 1)), ([3, 0], (0, 3))]


def tensor(ndim, dtype="float64", name="x", shape=None):
    return TensorType(dtype, shape or (None,) * ndim)(name)


def param_shape(x_shape, axes, full):
    return (
        tuple(1 if a in axes else n for a, n in enumerate(x_shape))
        if full
        else tuple(n for a, n in enumerate(x_shape) if a not in axes)
    )


def expand(p, axes, full):
    return p if full else np.expand_dims(p, axes)


def np_bn_train(x, gamma, beta, axes, eps, running=None, factor=0.1):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    out = (x - mean) * invstd * gamma + beta
    if running is None:
        return out, mean, invstd
    n = np.prod([x.shape[a] for a in axes])
    rm, rv = running
    return (
        out,
        mean,
        invstd,
        rm * (1 - factor) + mean * factor,
        rv * (1 - factor) + var * n / (n - 1) * factor,
    )


# ---------------------------------------------------------------------- training
@pytest.mark.parametrize(("axes", "axes_tuple"), AXES)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("static", [False, True])
def test_batch_normalization_train_matches_numpy(axes, axes_tuple, full, static):
    x_shape = (5, 3, 4, 2)
    pshape = param_shape(x_shape, axes_tuple, full)
    x = tensor(4, shape=x_shape if static else None)
    gamma, beta, rm, rv = (tensor(len(pshape), name=n) for n in ["g", "b", "rm", "rv"])
    outs = batch_normalization_train(x, gamma, beta, axes, 1e-3, 0.2, rm, rv)
    assert len(outs) == 5 and all(o.ndim == len(pshape) for o in outs[1:])
    values = [RNG.normal(size=x_shape)] + [RNG.normal(size=pshape) for _ in range(2)]
    values += [RNG.normal(size=pshape), RNG.uniform(1, 2, size=pshape)]
    got = function([x, gamma, beta, rm, rv], list(outs))(*values)
    x_v, g_v, b_v, rm_v, rv_v = values
    full_params = [expand(p, axes_tuple, full) for p in values[1:]]
    expected = np_bn_train(x_v, *full_params[:2], axes_tuple, 1e-3, full_params[2:], 0.2)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e.reshape(g.shape), rtol=1e-10, atol=1e-12)
    assert got[1].shape == pshape


def test_train_without_running_averages_and_float32():
    x = tensor(2, "float32")
    gamma, beta = tensor(1, "float32", "g"), tensor(1, "float32", "b")
    out, mean, invstd = batch_normalization_train(x, gamma, beta)
    assert out.dtype == mean.dtype == invstd.dtype == "float32"
    x_v = RNG.normal(size=(6, 3)).astype("float32")
    g_v, b_v = np.full(3, 2.0, "float32"), np.full(3, 0.5, "float32")
    got = function([x, gamma, beta], [out, mean, invstd])(x_v, g_v, b_v)
    expected = np_bn_train(x_v.astype(np.float64), g_v, b_v, (0,), 1e-4)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e.reshape(g.shape), rtol=1e-5)
    # normalized: mean 0 and std ~1 before the scale and shift
    np.testing.assert_allclose((got[0] - 0.5).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose((got[0] - 0.5).std(axis=0) / 2, 1, rtol=1e-3)


@pytest.mark.parametrize("full", [False, True])
def test_running_averages_update_shared_variables(full):
    x = tensor(4)
    pshape = param_shape((8, 2, 3, 3), (0, 2, 3), full)
    gamma, beta = shared(np.ones(pshape)), shared(np.zeros(pshape))
    rm, rv = shared(np.zeros(pshape)), shared(np.ones(pshape))
    out, _, _, new_rm, new_rv = batch_normalization_train(
        x, gamma, beta, "spatial", running_mean=rm, running_var=rv
    )
    train = function([x], out, updates=[(rm, new_rm), (rv, new_rv)])
    batch = RNG.normal(loc=3.0, scale=2.0, size=(8, 2, 3, 3))
    for _ in range(30):
        train(batch)
    # 1 - 0.9**30 of the way to the batch statistics
    mean = batch.mean(axis=(0, 2, 3)).reshape(pshape)
    var = batch.var(axis=(0, 2, 3), ddof=1).reshape(pshape)
    np.testing.assert_allclose(rm.get_value(), mean * (1 - 0.9**30), rtol=1e-10)
    np.testing.assert_allclose(rv.get_value(), 0.9**30 + var * (1 - 0.9**30), rtol=1e-10)


@pytest.mark.parametrize(("axes", "axes_tuple"), AXES[:2])
def test_train_gradients(axes, axes_tuple):
    x_v = RNG.normal(size=(4, 3, 2, 2))
    pshape = param_shape(x_v.shape, axes_tuple, False)
    g_v, b_v = RNG.normal(size=pshape), RNG.normal(size=pshape)
    for index in range(3):  # out, mean, invstd

        def bn(x, g, b, index=index):
            return batch_normalization_train(x, g, b, axes, epsilon=1e-3)[index]

        verify_grad(bn, [x_v, g_v, b_v], rng=RNG)


# ---------------------------------------------------------------------- inference
@pytest.mark.parametrize(("axes", "axes_tuple"), AXES)
@pytest.mark.parametrize("full", [False, True])
def test_batch_normalization_test_matches_numpy(axes, axes_tuple, full):
    x_shape = (3, 4, 2, 5)
    pshape = param_shape(x_shape, axes_tuple, full)
    x = tensor(4)
    params = [tensor(len(pshape), name=n) for n in ["g", "b", "m", "v"]]
    out = batch_normalization_test(x, *params, axes=axes, epsilon=1e-2)
    values = [RNG.normal(size=x_shape)] + [RNG.normal(size=pshape) for _ in range(3)]
    values.append(RNG.uniform(0.5, 2, size=pshape))
    g, b, m, v = (expand(p, axes_tuple, full) for p in values[1:])
    expected = (values[0] - m) * g / np.sqrt(v + 1e-2) + b
    np.testing.assert_allclose(function([x, *params], out)(*values), expected, rtol=1e-12)


def test_test_mode_gradients():
    values = [RNG.normal(size=(3, 2, 2, 2))] + [RNG.normal(size=(2,)) for _ in range(3)]
    values.append(RNG.uniform(0.5, 2, size=(2,)))
    verify_grad(lambda *a: batch_normalization_test(*a, axes="spatial"), values, rng=RNG)


def test_old_batch_normalization():
    x = tensor(2)
    params = [tensor(1, name=n) for n in "gbms"]
    values = [RNG.normal(size=(4, 3))] + [RNG.normal(size=3) for _ in range(3)]
    values.append(RNG.uniform(0.5, 2, size=3))
    for mode in ("low_mem", "high_mem"):
        got = function([x, *params], batch_normalization(x, *params, mode=mode))(*values)
        x_v, g, b, m, s = values
        np.testing.assert_allclose(got, (x_v - m) * (g / s) + b, rtol=1e-12)
    verify_grad(batch_normalization, values, rng=RNG)
    with pytest.raises(ValueError, match='mode must be either "low_mem", "high_mem"'):
        batch_normalization(x, *params, mode="fast")


# ---------------------------------------------------------------------- errors
def test_errors_name_the_problem():
    x, v = tensor(4), tensor(1, name="v")
    with pytest.raises(ValueError, match="invalid axes 'channel'"):
        batch_normalization_train(x, v, v, axes="channel")
    with pytest.raises(ValueError, match="at least one normalization axis"):
        batch_normalization_train(x, v, v, axes=())
    with pytest.raises(ValueError, match=r"axes \(0, 4\) must be in the range \[0, 3\]"):
        batch_normalization_train(x, v, v, axes=(0, 4))
    with pytest.raises(
        ValueError, match="gamma and beta dimensionality must match .* got 1 and 2 instead of 1"
    ):
        batch_normalization_train(tensor(2), v, tensor(2, name="b"))
    with pytest.raises(ValueError, match="running_mean and running_var must either both be given"):
        batch_normalization_train(tensor(2), v, v, running_mean=v)
    with pytest.raises(
        ValueError, match="running_mean and running_var dimensionality .* got 2 and 1"
    ):
        batch_normalization_train(tensor(2), v, v, running_mean=tensor(2), running_var=v)
    with pytest.raises(ValueError, match="epsilon must be at least 1e-05, got 1e-06"):
        batch_normalization_train(tensor(2), v, v, epsilon=1e-6)
    with pytest.raises(ValueError, match="gamma, beta, mean and var dimensionality"):
        batch_normalization_test(tensor(2), v, v, v, tensor(3))
    with pytest.raises(ValueError, match="epsilon must be at least"):
        batch_normalization_test(tensor(2), v, v, v, v, epsilon=0.0)
