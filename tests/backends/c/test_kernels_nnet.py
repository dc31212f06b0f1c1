"""Softmax-family C kernels vs perform: axes, dtypes, layouts, extreme values, target checks."""

import numpy as np
import pytest

from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.module import compile_nodes
from labsym.core.ops import nnet, nnet_fused
from labsym.core.type import TensorType

pytestmark = [
    pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH"),
    pytest.mark.filterwarnings("ignore:labsym generates no C code"),
]


def _var(dtype, ndim=2):
    return TensorType(dtype, (None,) * ndim)()


def _nodes():
    nodes = {}
    for dtype in ("float64", "float32"):
        for cls in (nnet.Softmax, nnet.LogSoftmax):
            for ndim, axes in ((1, [-1, None]), (2, [-1, 0, None]), (3, [0, 1, 2, None])):
                for axis in axes:
                    nodes[f"{cls.__name__}-{dtype}-{ndim}d-{axis}"] = cls(axis).make_node(
                        _var(dtype, ndim)
                    )
        for ndim, axis in ((2, -1), (2, 0), (3, 1), (2, None)):
            nodes[f"SoftmaxGrad-{dtype}-{ndim}d-{axis}"] = nnet.SoftmaxGrad(axis).make_node(
                _var(dtype, ndim), _var(dtype, ndim)
            )
        nodes[f"SoftmaxWithBias-{dtype}"] = nnet.SoftmaxWithBias().make_node(
            _var(dtype), _var(dtype, 1)
        )
        nodes[f"CE1Hot-{dtype}"] = nnet.CrossentropyCategorical1Hot().make_node(
            _var(dtype), _var("int32", 1)
        )
        nodes[f"CE1HotGrad-{dtype}"] = nnet.CrossentropyCategorical1HotGrad().make_node(
            _var(dtype, 1), _var(dtype), _var("int64", 1)
        )
        nodes[f"CESoftmax-{dtype}"] = nnet_fused.CrossentropySoftmax1Hot().make_node(
            _var(dtype), _var("int64", 1)
        )
        nodes[f"CESoftmaxDx-{dtype}"] = nnet_fused.CrossentropySoftmax1HotDx().make_node(
            _var(dtype, 1), _var(dtype), _var("uint8", 1)
        )
    nodes["SoftmaxGrad-mixed"] = nnet.SoftmaxGrad(-1).make_node(_var("float32"), _var("float64"))
    nodes["SoftmaxWithBias-mixed"] = nnet.SoftmaxWithBias().make_node(
        _var("float32"), _var("float64", 1)
    )
    nodes["CE1HotGrad-mixed"] = nnet.CrossentropyCategorical1HotGrad().make_node(
        _var("float64", 1), _var("float32"), _var("int16", 1)
    )
    return nodes


NODES = _nodes()


@pytest.fixture(scope="module")
def thunks():
    names = list(NODES)
    return dict(zip(names, compile_nodes([NODES[n] for n in names]), strict=True))


def _perform(node, inputs):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, [np.array(a, copy=True) for a in inputs], storage)
    return np.asarray(storage[0][0])


def _assert_close(out, ref, where):
    assert out.dtype == ref.dtype and out.shape == ref.shape, (
        f"{where}: {out.dtype}{out.shape} vs {ref.dtype}{ref.shape}"
    )
    single = out.dtype == np.float32
    # sums of exp reassociated by the vector reduction; exp/log within a few ulps (libmvec)
    np.testing.assert_allclose(
        out, ref, rtol=2e-5 if single else 1e-12, atol=1e-6 if single else 1e-13, err_msg=where
    )


def _logits(rng, shape, dtype, extreme=False):
    x = rng.normal(0, 3, shape)
    if extreme and x.size >= 4:
        flat = x.reshape(-1)
        flat[:2] = [800.0, -800.0]  # overflow without the max shift
    return x.astype(dtype)


def _views(x):
    yield "contiguous", x
    if x.ndim >= 2:
        yield "transposed", np.ascontiguousarray(np.swapaxes(x, 0, -1)).swapaxes(0, -1)
    if x.ndim >= 1 and x.shape[-1] > 1:
        yield "reversed", x[..., ::-1]


SHAPES = {1: [(7,), (1,), (0,)], 2: [(4, 9), (1, 300), (3, 0)], 3: [(2, 3, 5), (3, 1, 4)]}


@pytest.mark.parametrize("name", [n for n in NODES if n.startswith(("Softmax-", "LogSoftmax-"))])
def test_softmax_and_log_softmax(thunks, name):
    node = NODES[name]
    rng = np.random.default_rng(0)
    dtype, ndim = node.inputs[0].dtype, node.inputs[0].ndim
    for shape in SHAPES[ndim]:
        for label, x in _views(_logits(rng, shape, dtype, extreme=True)):
            _assert_close(thunks[name](x), _perform(node, [x]), f"{node.op} {shape} {label}")


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_softmax_propagates_nan_and_infinities(thunks):
    x = np.array([[1.0, np.nan, 2.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf]])
    node = NODES["Softmax-float64-2d--1"]
    np.testing.assert_array_equal(thunks["Softmax-float64-2d--1"](x), _perform(node, [x]))
    node = NODES["LogSoftmax-float64-2d-0"]
    np.testing.assert_array_equal(thunks["LogSoftmax-float64-2d-0"](x), _perform(node, [x]))


@pytest.mark.parametrize("name", [n for n in NODES if n.startswith("SoftmaxGrad")])
def test_softmax_grad(thunks, name):
    node = NODES[name]
    rng = np.random.default_rng(1)
    ndim = node.inputs[0].ndim
    for shape in SHAPES[ndim]:
        dy = rng.normal(size=shape).astype(node.inputs[0].dtype)
        sm = rng.uniform(0, 1, size=shape).astype(node.inputs[1].dtype)
        for (label, d), (_, s) in zip(_views(dy), _views(sm), strict=True):
            _assert_close(thunks[name](d, s), _perform(node, [d, s]), f"{node.op} {shape} {label}")
    with pytest.raises(ValueError):
        thunks[name](np.ones((2,) * ndim), np.ones((3,) * ndim))


@pytest.mark.parametrize("name", [n for n in NODES if n.startswith("SoftmaxWithBias")])
def test_softmax_with_bias(thunks, name):
    node = NODES[name]
    rng = np.random.default_rng(2)
    for shape in [(5, 8), (1, 300), (0, 4), (3, 1)]:
        x = _logits(rng, shape, node.inputs[0].dtype, extreme=True)
        b = rng.normal(size=shape[1]).astype(node.inputs[1].dtype)
        for label, xv in _views(x):
            _assert_close(
                thunks[name](xv, b[::-1]), _perform(node, [xv, b[::-1]]), f"{shape} {label}"
            )
    with pytest.raises(ValueError, match="entries for x with"):
        thunks[name](np.ones((2, 3)), np.ones(4))


def _targets(rng, rows, classes, dtype):
    return rng.integers(0, classes, rows).astype(dtype)


@pytest.mark.parametrize("name", [n for n in NODES if n.startswith("CE")])
def test_crossentropy_family(thunks, name):
    node = NODES[name]
    rng = np.random.default_rng(3)
    t_dtype = node.inputs[-1].dtype
    for rows, classes in [(6, 5), (1, 300), (0, 3)]:
        t = _targets(rng, rows, classes, t_dtype)
        if name.startswith("CE1Hot"):
            m = rng.uniform(0.01, 1, (rows, classes)).astype(node.inputs[-2].dtype)
            m[:, 0] = 0.0  # -log(0) = inf, -g / 0 = inf
            t[: min(rows, 2)] = 0
        else:
            m = _logits(rng, (rows, classes), node.inputs[-2].dtype, extreme=True)
        if name.endswith(("Grad", "Dx")) or "Grad-" in name or "Dx-" in name:
            g = rng.normal(size=rows).astype(node.inputs[0].dtype)
            inputs = [g, m, t]
        else:
            inputs = [m, t]
        for label, view in _views(m):
            args = inputs[:-2] + [view, t]
            with np.errstate(divide="ignore"):
                ref = _perform(node, args)
            _assert_close(thunks[name](*args), ref, f"{node.op} {(rows, classes)} {label}")
    good = [np.ones(3, node.inputs[0].dtype)] if len(node.inputs) == 3 else []
    coding = np.full((3, 4), 0.25, dtype=node.inputs[-2].dtype)
    with pytest.raises(IndexError, match="target 4 in row 1 is out of range for 4 classes"):
        thunks[name](*good, coding, np.array([0, 4, 1], dtype=t_dtype))
    with pytest.raises(ValueError, match="2 targets for a coding distribution of 3 rows"):
        thunks[name](*good, coding, np.array([0, 1], dtype=t_dtype))
    if good:
        with pytest.raises(ValueError):
            thunks[name](np.ones(2, node.inputs[0].dtype), coding, np.array([0, 1, 2], t_dtype))


def test_mixed_or_half_dtypes_stay_on_python():
    dx = nnet_fused.CrossentropySoftmax1HotDx().make_node(
        _var("float64", 1), _var("float32"), _var("int64", 1)
    )
    assert kernel_for(dx) is None
    assert kernel_for(nnet.Softmax(-1).make_node(_var("float16"))) is None
