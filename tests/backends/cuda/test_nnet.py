"""Softmax-family and crossentropy kernels against the core ops' perform, on the emulator
(float32/float64, every axis, strided inputs, large logits), and compiled to PTX."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops import nnet, nnet_fused
from labsym.core.type import TensorType

from .conftest import assert_matches, ptx_entries, reference, run, run_all

FLOATS = ["float32", "float64"]


def _t(dtype, ndim):
    return TensorType(dtype, (None,) * ndim)()


def _strided(a, rng):
    """`a`'s values in a negatively strided view (every other element of a larger array)."""
    big = np.empty(tuple(2 * d for d in a.shape), a.dtype)
    view = big[tuple(slice(None, None, -2) for _ in a.shape)]
    view[...] = a
    return view


def _logits(rng, shape, dtype):
    x = rng.normal(0, 3, shape)
    x.flat[::13] = 80.0  # large logits: exp overflows without the max shift
    return x.astype(dtype)


def _cases():
    for dtype in FLOATS:
        for shape, axes in (((4, 5, 6), [-1, 0, 1, None]), ((3, 300), [-1, 0]), ((7,), [0])):
            for axis in axes:
                for op in (nnet.Softmax, nnet.LogSoftmax):
                    yield op(axis).make_node(_t(dtype, len(shape))), shape
                yield (
                    nnet.SoftmaxGrad(axis).make_node(_t(dtype, len(shape)), _t(dtype, len(shape))),
                    shape,
                )


CASES = list(_cases())


def _inputs(node, shape, rng):
    dtype = node.inputs[0].dtype
    if isinstance(node.op, nnet.SoftmaxGrad):
        (sm,) = reference(
            nnet.Softmax(node.op.axis).make_node(node.inputs[1]), [_logits(rng, shape, dtype)]
        )
        return [rng.normal(size=shape).astype(dtype), sm]
    return [_logits(rng, shape, dtype)]


@pytest.mark.parametrize("strided", [False, True])
def test_softmax_family_matches_perform(runtime, strided):
    rng = np.random.default_rng(3)
    cases = []
    for node, shape in CASES:
        arrays = _inputs(node, shape, rng)
        cases.append((node, [_strided(a, rng) for a in arrays] if strided else arrays))
    for (node, arrays), (got,) in zip(cases, run_all(runtime, cases)):
        shape = arrays[0].shape
        (want,) = reference(node, arrays)
        assert np.isfinite(got).all()
        assert_matches(
            got,
            want,
            rtol=1e-4 if got.dtype == np.float32 else 1e-10,
            context=f"{node.op} {shape} strided={strided}",
        )


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_with_bias(runtime, dtype):
    rng = np.random.default_rng(4)
    node = nnet.SoftmaxWithBias().make_node(_t(dtype, 2), _t(dtype, 1))
    for rows, cols in ((5, 10), (2, 300), (1, 1)):
        x, b = _logits(rng, (rows, cols), dtype), rng.normal(size=cols).astype(dtype)
        for arrays in ([x, b], [_strided(x, rng), _strided(b, rng)]):
            (got,) = run(runtime, node, arrays)
            (want,) = reference(node, arrays)
            assert_matches(got, want, rtol=1e-4 if dtype == "float32" else 1e-10)
    with pytest.raises(ValueError, match="entries"):
        kernels.plan(
            node,
            [
                kernels.ArrayMeta.of(np.zeros((2, 3), dtype)),
                kernels.ArrayMeta.of(np.zeros(4, dtype)),
            ],
        )


def _xent_nodes(dtype, idx_dtype):
    x, y, g = _t(dtype, 2), TensorType(idx_dtype, (None,))(), _t(dtype, 1)
    return [
        nnet.CrossentropyCategorical1Hot().make_node(x, y),
        nnet.CrossentropyCategorical1HotGrad().make_node(g, x, y),
        nnet_fused.CrossentropySoftmax1Hot().make_node(x, y),
        nnet_fused.CrossentropySoftmax1HotDx().make_node(g, x, y),
    ]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("idx_dtype", ["int64", "int32", "uint8"])
def test_crossentropy_matches_perform(runtime, dtype, idx_dtype):
    rng = np.random.default_rng(5)
    cases = []
    for rows, cols in ((6, 10), (3, 300), (4, 1)):
        logits = _logits(rng, (rows, cols), dtype)
        (probs,) = reference(nnet.Softmax(-1).make_node(_t(dtype, 2)), [logits])
        targets = rng.integers(0, cols, rows).astype(idx_dtype)
        g = rng.normal(size=rows).astype(dtype)
        for node in _xent_nodes(dtype, idx_dtype):
            x = (
                logits
                if isinstance(
                    node.op,
                    (nnet_fused.CrossentropySoftmax1Hot, nnet_fused.CrossentropySoftmax1HotDx),
                )
                else probs
            )
            arrays = [x, targets] if len(node.inputs) == 2 else [g, x, targets]
            cases += [(node, arrays), (node, [_strided(a, rng) for a in arrays])]
    for (node, arrays), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, arrays)
        rtol = 1e-4 if dtype == "float32" else 1e-10
        assert_matches(got, want, rtol=rtol, context=f"{node.op} {arrays[-2].shape}")


def test_crossentropy_bad_target_gives_nan(runtime):
    """The host op raises IndexError; a kernel cannot, so the row's result is NaN."""
    node = _xent_nodes("float64", "int64")[2]
    (got,) = run(runtime, node, [np.zeros((2, 3)), np.array([1, 7])])
    assert np.isfinite(got[0]) and np.isnan(got[1])


def test_nnet_kernels_compile_to_ptx():
    from .conftest import requires_nvrtc

    requires_nvrtc()
    kernel_list = []
    for node, shape in CASES:
        metas = [kernels.ArrayMeta.contiguous(shape, v.dtype) for v in node.inputs]
        kernel_list += kernels.plan(node, metas).kernels
    for dtype in FLOATS:
        for node in _xent_nodes(dtype, "int64"):
            metas = [
                kernels.ArrayMeta.contiguous((4, 5) if v.ndim == 2 else (4,), v.dtype)
                for v in node.inputs
            ]
            kernel_list += kernels.plan(node, metas).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}


@pytest.mark.parametrize("shape", [(0, 5), (3, 0)])
def test_empty_rows_have_no_launch(shape):
    node = nnet.Softmax(-1).make_node(_t("float32", 2))
    plan = kernels.plan(node, [kernels.ArrayMeta.contiguous(shape, "float32")])
    assert plan.launches == () and plan.outputs[0].shape == shape
    xent = _xent_nodes("float32", "int64")[2]
    metas = [
        kernels.ArrayMeta.contiguous((3, 0), "float32"),
        kernels.ArrayMeta.contiguous((3,), "int64"),
    ]
    with pytest.raises(ValueError, match="zero length"):
        kernels.plan(xent, metas)
