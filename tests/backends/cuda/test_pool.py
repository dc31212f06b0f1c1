"""Pooling kernels (max/sum/average with padding, strides, partial border windows) and their
gradients against the pool ops' perform, on the emulator; PTX via NVRTC."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops import pool as P
from labsym.core.type import TensorType

from .conftest import assert_matches, ptx_entries, reference, requires_nvrtc, run, run_all

GEOMETRIES = [
    dict(ws=(2, 2)),
    dict(ws=(3, 2), stride=(1, 2)),
    dict(ws=(3, 3), stride=(2, 2), pad=(1, 2)),
    dict(ws=(2, 3), ignore_border=False),
    dict(ws=(3, 2), stride=(2, 3), ignore_border=False),
]
MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]
SHAPE = (2, 3, 7, 8)


def _t(dtype, ndim=4):
    return TensorType(dtype, (None,) * ndim)()


def _x(dtype, rng, shape=SHAPE):
    if dtype.startswith("float"):
        x = rng.normal(size=shape).astype(dtype)
        x.flat[::9] = x.flat[1::9]  # ties inside windows
        return x
    return rng.integers(-20, 20, shape).astype(dtype)


def _geometry_cases():
    for geo in GEOMETRIES:
        for mode in MODES:
            if (
                mode.startswith("average")
                and geo.get("pad", (0, 0)) == (0, 0)
                and mode == "average_exc_pad"
            ):
                continue
            yield geo, mode


def _grad_nodes(geo, mode, dtype):
    """The gradient nodes of Pool(mode, **geo): max's grad and grad-grad, or the average grad."""
    params = (geo["ws"], geo.get("ignore_border", True), geo.get("stride"), geo.get("pad", (0, 0)))
    if mode == "max":
        return [
            P.MaxPoolGrad(*params).make_node(_t(dtype), _t(dtype), _t(dtype)),
            P.DownsampleFactorMaxGradGrad(*params).make_node(_t(dtype), _t(dtype), _t(dtype)),
        ]
    return [P.AveragePoolGrad(*params, mode=mode).make_node(_t(dtype), _t(dtype))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_pool_forward_matches_perform(runtime, dtype):
    rng = np.random.default_rng(0)
    cases = []
    for geo, mode in _geometry_cases():
        node = P.Pool(mode=mode, **geo).make_node(_t(dtype))
        for x in (_x(dtype, rng), _x(dtype, rng)[:, ::-1, ::-1]):
            cases.append((node, [x]))
    for (node, arrays), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, arrays)
        assert_matches(got, want, context=f"{node.op}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool_gradients_match_perform(runtime, dtype):
    rng = np.random.default_rng(1)
    cases = []
    for geo, mode in _geometry_cases():
        forward = P.Pool(mode=mode, **geo).make_node(_t(dtype))
        x = _x(dtype, rng)
        (pooled,) = reference(forward, [x])
        gz = rng.normal(size=pooled.shape).astype(dtype)
        if mode == "max":
            inputs = [[x, pooled, gz], [x, pooled, rng.normal(size=x.shape).astype(dtype)]]
        else:
            inputs = [[x, gz]]
        for node, arrays in zip(_grad_nodes(geo, mode, dtype), inputs, strict=True):
            for layout in (arrays, [a[::-1] for a in arrays]):
                cases.append((node, layout))
    for (node, arrays), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, arrays)
        assert_matches(got, want, context=f"{node.op}")


def test_pool_of_a_plain_image_and_shape_errors(runtime):
    node = P.Pool(ws=(2, 2)).make_node(_t("float64", 2))
    x = np.arange(16.0).reshape(4, 4)
    (got,) = run(runtime, node, [x])
    np.testing.assert_array_equal(got, [[5, 7], [13, 15]])
    grad = P.MaxPoolGrad((2, 2)).make_node(_t("float64", 2), _t("float64", 2), _t("float64", 2))
    metas = [
        kernels.ArrayMeta.of(x),
        kernels.ArrayMeta.of(got),
        kernels.ArrayMeta.contiguous((3, 2), "float64"),
    ]
    with pytest.raises(ValueError, match="gz has shape"):
        kernels.plan(grad, metas)


def test_pool_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for dtype in ("float32", "float64"):
        for geo, mode in _geometry_cases():
            x = kernels.ArrayMeta.contiguous(SHAPE, dtype)
            node = P.Pool(mode=mode, **geo).make_node(_t(dtype))
            plan = kernels.plan(node, [x])
            kernel_list += plan.kernels
            pooled = plan.outputs[0]
            metas = [[x, pooled, pooled], [x, pooled, x]] if mode == "max" else [[x, pooled]]
            for grad, grad_metas in zip(_grad_nodes(geo, mode, dtype), metas, strict=True):
                kernel_list += kernels.plan(grad, grad_metas).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
