"""Reduction C kernels vs perform: CAReduce family (axes, dtypes), argmax/argmin, FusedReduce."""

import warnings

import numpy as np
import pytest

import labsym
from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.config import config
from labsym.core.ops import math as m
from labsym.core.ops import reduce as red
from labsym.core.ops.composite import Composite
from labsym.core.ops.fused_reduce import FusedReduce
from labsym.core.type import TensorType
from tests.backends.c.kernel_checks import thunks_with_openmp

pytestmark = [
    pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH"),
    pytest.mark.filterwarnings("ignore:labsym generates no C code"),
]

AXES = [None, (0,), (1,), (2,), (0, 2)]
OPS = {
    "sum": (red.Sum, ["float64", "float32", "int32", "uint8", "bool"]),
    "prod": (red.Prod, ["float64", "float32", "int16", "uint8"]),
    "prodnz": (red.ProdWithoutZeros, ["float64", "int32"]),
    "max": (red.Max, ["float64", "float32", "int16", "uint8", "bool"]),
    "min": (red.Min, ["float64", "float32", "int64", "uint8"]),
    "all": (red.All, ["float64", "int8", "bool"]),
    "any": (red.Any, ["float32", "uint16", "bool"]),
    "argmax": (red.Argmax, ["float64", "float32", "int16", "uint8"]),
    "argmin": (red.Argmin, ["float64", "float32", "int32"]),
    "max_and_argmax": (red.MaxAndArgmax, ["float64", "float32", "int64"]),
}


def _var(dtype, shape=(None, None, None)):
    return TensorType(dtype, shape)()


def _nodes():
    nodes = {}
    for name, (cls, dtypes) in OPS.items():
        for dtype in dtypes:
            for axis in AXES:
                nodes[f"{name}-{dtype}-{axis}"] = cls(axis).make_node(_var(dtype))
    x32 = _var("float32")
    nodes["sum-f32-acc64-out32"] = red.Sum((1,), "float32", "float64").make_node(x32)
    nodes["sum-int8-default"] = red.Sum((0, 1)).make_node(_var("int8"))
    nodes["prod-int8-float64"] = red.Prod(None, "float64", "float64").make_node(_var("int8"))
    for name in ("sum", "max", "argmax"):
        nodes[f"{name}-0d"] = OPS[name][0](None).make_node(_var("float64", ()))
    return nodes


def _fused(reduce_op, inputs, output):
    return FusedReduce(reduce_op, Composite.from_graph(inputs, [output])).make_node(*inputs)


def _fused_nodes():
    out = {}
    x, mx = _var("float64", (None, None)), _var("float64", (None, 1))
    out["logsumexp-rows"] = _fused(red.Sum((1,), "float64", "float64"), [x, mx], m.exp(x - mx))
    y, r = _var("float32", (None, None)), _var("float32", (1, None))
    out["sum-axis0-row"] = _fused(red.Sum((0,), "float32", "float32"), [y, r], m.tanh(y * r))
    a, b = _var("float64", (None, None)), _var("float64", (None, None))
    out["max-all"] = _fused(red.Max(None), [a, b], abs(a * b) - 1)
    i = _var("int32", (None, None))
    out["all-gt"] = _fused(red.All((1,)), [i], m.gt(i, -50))
    out["sum-int-mixed"] = _fused(red.Sum(None, "float64", "float64"), [i, a], i * a)
    t = _var("float32", (None, None, None))
    out["prod-3d"] = _fused(
        red.Prod((0, 2), "float32", "float32"), [t], m.exp(t * np.float32(0.01))
    )
    return out


FUZZ_AXES = [(0,), (2,), (1, 3), (0, 2, 3), None]


def _fuzz_nodes():
    out = {}
    for axis in FUZZ_AXES:
        out[f"sum-{axis}"] = red.Sum(axis, "float64", "float64").make_node(
            _var("float64", (None,) * 4)
        )
        out[f"max-{axis}"] = red.Max(axis).make_node(_var("float32", (None,) * 4))
        out[f"argmin-{axis}"] = red.Argmin(axis).make_node(_var("int16", (None,) * 4))
        a, b = _var("float64", (None,) * 4), _var("float64", (1, None, 1, None))
        out[f"fused-{axis}"] = _fused(red.Sum(axis, "float64", "float64"), [a, b], m.exp(a) * b)
    return out


NODES = _nodes()
FUSED = _fused_nodes()
FUZZ = _fuzz_nodes()
ALL = {**NODES, **FUSED, **FUZZ}


def _openmp_nodes():
    x, mx = _var("float64", (None, None)), _var("float64", (None, 1))
    return {
        "omp-sum-rows": red.Sum((1,), "float64", "float64").make_node(
            _var("float64", (None, None))
        ),
        "omp-max-cols": red.Max((0,)).make_node(_var("float32", (None, None))),
        "omp-fused": _fused(red.Sum((1,), "float64", "float64"), [x, mx], m.exp(x - mx)),
    }


OPENMP = _openmp_nodes()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the flag's notice from before the C backend existed
    with config.change_flags(openmp=True, openmp_elemwise_minsize=1000):
        OPENMP_KERNELS = {name: kernel_for(node) for name, node in OPENMP.items()}


@pytest.fixture(scope="module")
def thunks():
    return thunks_with_openmp(ALL, OPENMP, OPENMP_KERNELS, "red")


def _values(dtype, shape, rng, specials=True):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100) + 1, shape).astype(dtype)
    v = rng.normal(0, 1.5, shape)
    if specials and v.size > 8:
        flat = v.reshape(-1)
        flat[rng.permutation(flat.size)[:3]] = [np.nan, np.inf, -np.inf]
    return v.astype(dtype)


def _layouts(shape, dtype, rng, specials):
    big = tuple(2 * d for d in shape)
    yield "contiguous", _values(dtype, shape, rng, specials)
    yield "transposed", np.ascontiguousarray(_values(dtype, shape[::-1], rng, specials)).T
    yield "step", _values(dtype, big, rng, specials)[::2, ::-2, 1::2]
    yield "zeros", np.zeros(shape, dtype)


def _perform(node, inputs):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, [np.array(a, copy=True) for a in inputs], storage)
    return [np.asarray(s[0]) for s in storage]


def _assert_close(out, ref, where, n_reduced, magnitude):
    assert out.dtype == ref.dtype and out.shape == ref.shape, (
        f"{where}: {out.dtype}{out.shape} != {ref.dtype}{ref.shape}"
    )
    if out.dtype.kind != "f":
        np.testing.assert_array_equal(out, ref, err_msg=where)
        return
    eps = np.finfo(out.dtype).eps
    # reassociated sums: within length * eps of the magnitudes summed (NumPy's is pairwise)
    tol = 4 * eps * max(n_reduced, 1) * magnitude
    both_nan = np.isnan(out) & np.isnan(ref)
    with np.errstate(invalid="ignore"):
        ok = both_nan | (out == ref) | (np.abs(out - ref) <= tol)
    if not ok.all():
        k = tuple(np.argwhere(~ok)[0])
        raise AssertionError(f"{where}: at {k} C {out[k]!r}, perform {ref[k]!r}")


def _magnitude(node, inputs):
    """|values| reduced like the node, for the tolerance of reassociated float sums."""
    if isinstance(node.op, red.Prod | red.ProdWithoutZeros):
        return np.abs(_perform(node, inputs)[0]).astype(float)
    if isinstance(node.op, red.Sum):
        with np.errstate(all="ignore"):
            return np.sum(np.abs(inputs[0].astype(float)), axis=node.op.axis)
    return 0.0


@pytest.mark.parametrize("name", list(NODES))
def test_reduction_matches_perform(thunks, name):
    node = NODES[name]
    thunk = thunks[name]
    assert thunk is not None, f"no C kernel for {node.op}"
    rng = np.random.default_rng(0)
    x = node.inputs[0]
    shapes = [(3, 4, 5), (1, 7, 2), (2, 0, 3)] if x.ndim == 3 else [()]
    # sums/products of inf and nan depend on order only in NaN vs inf: keep specials for extrema
    specials = not isinstance(node.op, red.Sum | red.Prod | red.ProdWithoutZeros)
    for shape in shapes:
        layouts = _layouts(shape, x.dtype, rng, specials) if x.ndim else [("0d", np.array(1.5))]
        for label, value in layouts:
            where = f"{node.op}({x.dtype}) {shape} {label}"
            try:
                refs = _perform(node, [value])
            except ValueError as exc:  # empty max/argmax: C raises the same
                if "cannot reshape" in str(exc):
                    continue  # perform's multi-axis argmax of an empty array fails to reshape
                with pytest.raises(ValueError, match=str(exc).split(" which")[0][:30]):
                    thunk(value)
                continue
            outs = thunk(value)
            outs = list(outs) if isinstance(outs, tuple) else [outs]
            n_reduced = int(np.prod([value.shape[a] for a in (node.op.axis or range(x.ndim))]))
            magnitude = _magnitude(node, [value])
            for o, r in zip(outs, refs, strict=True):
                _assert_close(np.asarray(o), r, where, n_reduced, magnitude)


def test_extrema_of_infinities_and_nans(thunks):
    neg = np.full((2, 3, 4), -np.inf)
    assert np.all(thunks["max-float64-(2,)"](neg) == -np.inf)
    assert np.all(thunks["min-float64-(0,)"](-neg) == np.inf)
    x = np.arange(24.0).reshape(2, 3, 4)
    x[1, 2, 1] = np.nan
    x[1, 2, 3] = np.nan
    assert np.isnan(thunks["max-float64-None"](x))
    assert thunks["argmax-float64-None"](x) == 21  # the first NaN, as np.argmax
    assert thunks["argmin-float64-(2,)"](x)[1, 2] == 1
    top, where = thunks["max_and_argmax-float64-(0, 2)"](x)
    np.testing.assert_array_equal(where, [7, 7, 5])
    assert np.isnan(top[2])


def test_unaligned_input(thunks):
    values = np.random.default_rng(11).standard_normal((3, 4, 5))
    raw = np.zeros(values.nbytes + 1, np.uint8)[1:].view(np.float64).reshape(3, 4, 5)
    raw[...] = values
    assert not raw.flags.aligned
    np.testing.assert_allclose(thunks["sum-float64-(2,)"](raw), values.sum(axis=2), rtol=1e-14)
    assert thunks["argmax-float64-None"](raw) == values.argmax()


def test_empty_reductions(thunks):
    assert thunks["sum-float64-(1,)"](np.zeros((2, 0, 3))).tolist() == [[0.0] * 3] * 2
    assert thunks["prod-float64-None"](np.zeros((0, 2, 2))) == 1.0
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        thunks["max-float64-(1,)"](np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="argmax of an empty sequence"):
        thunks["argmax-float64-(1,)"](np.zeros((2, 0, 3)))
    assert thunks["max-float64-(1,)"](np.zeros((0, 4, 3))).shape == (0, 3)


def _fused_inputs(node, rng, shape):
    arrays = []
    for v in node.inputs:
        s = tuple(1 if st == 1 else d for st, d in zip(v.type.shape, shape))
        arrays.append(_values(v.type.dtype, s, rng, specials=False))
    return arrays


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_reduce_matches_perform(thunks, name):
    node = FUSED[name]
    assert thunks[name] is not None
    rng = np.random.default_rng(1)
    ndim = node.inputs[0].ndim
    for shape in [(5, 7, 3)[:ndim], (300, 70, 2)[:ndim], (1, 1, 1)[:ndim], (0, 4, 2)[:ndim]]:
        for flip in (False, True):
            inputs = _fused_inputs(node, rng, shape)
            if flip:
                inputs = [a[::-1] for a in inputs]
            try:
                ref = _perform(node, inputs)[0]
            except ValueError:  # the max of nothing
                with pytest.raises(ValueError, match="zero-size array"):
                    thunks[name](*inputs)
                continue
            out = np.asarray(thunks[name](*inputs))
            # the values reduced are the elementwise program's: bounded by their magnitude
            inner = node.op.scalar_node(node)
            values = np.abs(_perform(inner, inputs)[0].astype(float))
            axis = node.op.reduce_op.axis
            if isinstance(node.op.reduce_op, red.Prod):
                magnitude = np.abs(ref.astype(float))
            else:
                magnitude = values.sum(axis=axis) if values.size else 0.0
            n = values.size // max(ref.size, 1)
            _assert_close(out, ref, f"{node.op} {shape} flip={flip}", n, magnitude)


def test_fusion_rewrite_makes_one_node_only_for_a_single_client():
    x = labsym.tensor.dmatrix("x")
    mx = x.max(axis=1, keepdims=True)
    lse = labsym.tensor.log(labsym.tensor.sum(labsym.tensor.exp(x - mx), axis=1))
    mode = labsym.compile.get_default_mode().including("fuse_reduce_elemwise")
    f = labsym.function([x], lse, mode=mode)
    ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    assert "FusedReduce" in ops and "Sum" not in ops
    a = np.random.default_rng(2).standard_normal((4, 6))
    np.testing.assert_allclose(f(a), np.log(np.exp(a - a.max(1, keepdims=True)).sum(1)), rtol=1e-14)
    shared_exp = labsym.tensor.exp(x)
    g = labsym.function([x], [shared_exp.sum(axis=0), shared_exp], mode=mode)  # exp(x) is output
    assert "FusedReduce" not in [type(n.op).__name__ for n in g.maker.fgraph.toposort()]
    plain = labsym.function([x], lse)  # FAST_RUN alone keeps Theano's graph
    assert "FusedReduce" not in [type(n.op).__name__ for n in plain.maker.fgraph.toposort()]


def _random_view(rng, shape, dtype):
    """A view with `shape` of a bigger array: axes permuted, stepped, some reversed."""
    order = rng.permutation(len(shape))
    steps = rng.choice([1, 2, -1, -3], size=len(shape))
    base_shape = [shape[i] * abs(int(steps[i])) for i in order]
    base = _values(dtype, base_shape, rng, specials=False).transpose(np.argsort(order))
    return base[tuple(slice(None, None, int(st)) for st in steps)]


def test_random_layouts_and_axes(thunks):
    rng = np.random.default_rng(9)
    for case in range(120):
        axis = FUZZ_AXES[case % len(FUZZ_AXES)]
        shape = tuple(int(d) for d in rng.integers(1, 6, size=4))
        for kind in ("sum", "max", "argmin", "fused"):
            node = FUZZ[f"{kind}-{axis}"]
            inputs = []
            for v in node.inputs:
                s = tuple(1 if st == 1 else d for st, d in zip(v.type.shape, shape))
                inputs.append(_random_view(rng, s, v.type.dtype))
            ref = _perform(node, inputs)[0]
            out = np.asarray(thunks[f"{kind}-{axis}"](*inputs))
            values = np.abs(np.exp(inputs[0]) * inputs[1]) if kind == "fused" else inputs[0]
            magnitude = np.sum(np.abs(values.astype(float)), axis=axis)
            _assert_close(out, ref, f"{node.op} {shape}", values.size, magnitude)


def test_openmp_reductions_match_perform(thunks):
    assert all("-fopenmp" in k.compile_args for k in OPENMP_KERNELS.values())
    rng = np.random.default_rng(10)
    a = rng.standard_normal((700, 300))
    mx = a.max(axis=1, keepdims=True)
    cases = {  # name: (inputs, the magnitude of the summed values per output)
        "omp-sum-rows": ([a[:, ::-1]], np.abs(a).sum(axis=1)),
        "omp-max-cols": ([np.asfortranarray(a.astype(np.float32))], 0.0),
        "omp-fused": ([a, mx], np.exp(a - mx).sum(axis=1)),
    }
    for name, (inputs, magnitude) in cases.items():
        ref = _perform(OPENMP[name], inputs)[0]
        _assert_close(np.asarray(thunks[name](*inputs)), ref, name, a.shape[1], magnitude)
