"""The op table on a real GPU against NumPy: every scalar record x dtype as an Elemwise kernel,
reductions over axes, the softmax family, cuBLAS products; strided and broadcast inputs."""

from __future__ import annotations

import numpy as np
import pytest

import labsym
from labsym import tensor as T
from labsym.backends.cuda import kernels
from labsym.config import config
from labsym.core.ops import nnet
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS
from labsym.core.type import TensorType

DTYPES = ("float32", "float64", "int32")
TOL = {"float32": (2e-5, 1e-6), "float64": (1e-10, 1e-12)}


def _reference(node, arrays):
    storage = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        node.op.perform(node, [np.asarray(a) for a in arrays], storage)
    return [np.asarray(s[0], dtype=v.dtype) for s, v in zip(storage, node.outputs)]


def _check(gpu, node, arrays, context):
    metas = [kernels.ArrayMeta.of(np.asarray(a)) for a in arrays]
    got = kernels.run_on(gpu, kernels.plan(node, metas), arrays)
    for g, w in zip(got, _reference(node, arrays)):
        assert g.shape == w.shape and g.dtype == w.dtype, context
        if g.dtype.kind == "f":
            rtol, atol = TOL[g.dtype.name]
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=context)
        else:
            np.testing.assert_array_equal(g, w, err_msg=context)


def _values(dtype, shape, rng):
    if dtype.startswith("int"):
        v = rng.integers(1, 20, shape) * rng.choice([-1, 1], shape)
        return v.astype(dtype)
    return rng.normal(0, 1.5, shape).astype(dtype)


def _elemwise_nodes():
    for spec in SCALAR_OPS.values():
        for dtype in DTYPES:
            ins = [
                TensorType(dtype, [(None, None), (1, None), (None, 1)][k])()
                for k in range(spec.nin)
            ]
            try:
                node = Elemwise(spec)(*ins).owner
            except (TypeError, ValueError):
                continue
            if kernels.supports(node):
                yield spec.name, dtype, node


def test_every_scalar_record_on_the_device(gpu):
    rng = np.random.default_rng(0)
    checked = 0
    for name, dtype, node in _elemwise_nodes():
        shapes = [(6, 7), (1, 7), (6, 1)][: len(node.inputs)]
        arrays = []
        for k, shape in enumerate(shapes):
            big = _values(dtype, (shape[0] * 2, shape[1]), rng)
            arrays.append(big[::-2] if k == 0 else big[: shape[0]])  # input 0: negative stride
        if name == "clip":  # NumPy's clip with lo > hi is not a rule kernels follow
            arrays[1], arrays[2] = -np.abs(arrays[1]), np.abs(arrays[2])
        try:
            _reference(node, arrays)
        except (TypeError, ValueError):
            continue  # NumPy has no loop for this dtype
        _check(gpu, node, arrays, f"{name} {dtype}")
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_over_axes(gpu, dtype):
    rng = np.random.default_rng(1)
    x = TensorType(dtype, (None, None, None))()
    value = _values(dtype, (4, 5, 300), rng)
    for axis in (None, 0, 1, 2, (0, 2)):
        for expr in (T.sum(x, axis=axis), T.max(x, axis=axis), T.min(x, axis=axis)):
            node = expr.owner
            if kernels.supports(node):
                _check(gpu, node, [value], f"{node.op} {dtype}")
                _check(gpu, node, [value[:, ::-1]], f"{node.op} {dtype} strided")
    argmax = T.argmax(x, axis=1).owner
    if kernels.supports(argmax):
        _check(gpu, argmax, [value], f"argmax {dtype}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family(gpu, dtype):
    rng = np.random.default_rng(2)
    x = TensorType(dtype, (None, None))()
    logits = (rng.normal(0, 3, (64, 1000))).astype(dtype)
    logits[::7, 3] = 80.0  # exp overflows without the max shift
    for op in (nnet.Softmax(-1), nnet.LogSoftmax(-1), nnet.Softmax(0)):
        node = op.make_node(x)
        if kernels.supports(node):
            _check(gpu, node, [logits], f"{op} {dtype}")
    grad = nnet.SoftmaxGrad(-1).make_node(x, TensorType(dtype, (None, None))())
    (sm,) = _reference(nnet.Softmax(-1).make_node(x), [logits])
    if kernels.supports(grad):
        _check(gpu, grad, [rng.normal(size=sm.shape).astype(dtype), sm], f"SoftmaxGrad {dtype}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_functions_match_the_cpu(on_gpu, dtype):
    """Whole functions (fused composites, reductions, cuBLAS dot/gemm, transposes)."""
    rng = np.random.default_rng(3)
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    outs = [
        T.exp(a) * 2 + T.tanh(a) ** 2,
        T.dot(a, b.T),
        T.dot(a.T, a).sum(axis=0),
        T.nnet.softmax(T.dot(a, b.T)),
        (a - a.mean(axis=0)).max(axis=1),
    ]
    av, bv = rng.normal(size=(33, 17)).astype(dtype), rng.normal(size=(9, 17)).astype(dtype)
    got = labsym.function([a, b], outs)(av, bv)
    with config.change_flags(device="cpu"):
        want = labsym.function([a, b], outs)(av, bv)
    rtol = 2e-5 if dtype == "float32" else 1e-10
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)
