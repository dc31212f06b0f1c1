"""Reduction kernels (sum, prod, max, min, all, any, argmax, argmin, max-and-argmax) along every
axis combination, on strided and transposed inputs with NaN, against perform; PTX via NVRTC."""

import itertools

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops import reduce as R
from labsym.core.type import TensorType

from .conftest import assert_matches, ptx_entries, reference, requires_nvrtc, run, run_all

OPS = [R.Sum, R.Prod, R.ProdWithoutZeros, R.Max, R.Min, R.All, R.Any]
OPS += [R.Argmax, R.Argmin, R.MaxAndArgmax]
DTYPES = ["float32", "float64", "int8", "int32", "uint16", "int64", "bool"]
AXES_3D = [None] + [c for n in (1, 2, 3) for c in itertools.combinations(range(3), n)]


def _values(op, dtype, shape, rng, nan):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        lo = 0 if dtype.startswith("uint") else -2
        hi = 3 if op in (R.Prod, R.ProdWithoutZeros) else 50
        return rng.integers(lo, hi, shape).astype(dtype)
    v = rng.normal(0, 1, shape)
    if op in (R.Prod, R.ProdWithoutZeros):
        v = np.sign(v) * (0.8 + 0.4 * rng.random(shape))  # products stay near 1
        v.flat[::7] = 0.0
    if nan:
        v.flat[5::11] = np.nan
    return v.astype(dtype)


def _layouts(values):
    """The same values as a C-contiguous array, a negatively strided view and a transpose."""
    yield "contiguous", values
    flipped = np.ascontiguousarray(values[::-1])[::-1]
    yield "negative strides", flipped
    yield "transposed", np.ascontiguousarray(values.T).T


def _cases():
    for op, dtype in itertools.product(OPS, DTYPES):
        if dtype == "bool" and op in (R.Prod, R.ProdWithoutZeros):
            continue
        for shape, axes_list in (((4, 5, 6), AXES_3D), ((3, 150), [None, (0,), (1,)])):
            for axis in axes_list:
                yield op, dtype, shape, axis


CASES = list(_cases())


def _node(op, dtype, shape, axis):
    x = TensorType(dtype, (None,) * len(shape))()
    return op(axis).make_node(x)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_reduction_matches_perform(runtime, op):
    rng = np.random.default_rng(1)
    nodes, inputs = [], []
    for case_op, dtype, shape, axis in CASES:
        if case_op is op:
            node = _node(op, dtype, shape, axis)
            assert kernels.supports(node), node
            for nan in (False, True) if dtype.startswith("float") else (False,):
                values = _values(op, dtype, shape, rng, nan)
                for layout, array in _layouts(values):
                    nodes.append((node, f"{dtype} {shape} axis={axis} {layout} nan={nan}"))
                    inputs.append(array)
    plans = [kernels.plan(n, [kernels.ArrayMeta.of(a)]) for (n, _), a in zip(nodes, inputs)]
    runtime.compile_many(k for p in plans for k in p.kernels)
    for (node, context), array, plan in zip(nodes, inputs, plans):
        got = kernels.run_on(runtime, plan, [array])
        want = reference(node, [array])
        rtol = 1e-4 if node.outputs[0].dtype == "float32" else None
        for g, w in zip(got, want):
            assert_matches(g, w, rtol=rtol, context=f"{op.__name__} {context}")


def test_both_strategies_are_used():
    """Short reductions run a thread per output, long ones a block with a shared-memory tree."""
    short = kernels.plan(_node(R.Sum, "float32", (4, 5, 6), (1,)), [_meta((4, 5, 6))])
    long = kernels.plan(_node(R.Sum, "float32", (3, 150), (1,)), [_meta((3, 150))])
    assert "__syncthreads" not in short.kernels[0].source
    assert "__syncthreads" in long.kernels[0].source
    assert long.launches[0].block == (256, 1, 1) and long.launches[0].grid == (3, 1, 1)


def _meta(shape, dtype="float32"):
    return kernels.ArrayMeta.contiguous(shape, dtype)


def test_mean_is_sum_then_division(runtime):
    """mean() builds Sum then true_div; both nodes run as kernels and give NumPy's mean."""
    x = np.random.default_rng(2).normal(size=(5, 80)).astype("float32")
    node = _node(R.Sum, "float32", x.shape, (1,))
    (total,) = run(runtime, node, [x])
    from labsym.core.ops.elemwise import Elemwise
    from labsym.core.scalar import SCALAR_OPS

    t = TensorType("float32", (None,))()
    n = TensorType("float32", (1,))()
    div = Elemwise(SCALAR_OPS["true_div"])(t, n).owner
    (mean,) = run(runtime, div, [total, np.array([80.0], "float32")])
    np.testing.assert_allclose(mean, x.mean(axis=1), rtol=1e-5)


def test_empty_reductions():
    x = _node(R.Sum, "float64", (0, 3), (0,))
    plan = kernels.plan(x, [_meta((0, 3), "float64")])
    assert plan.outputs[0].shape == (3,) and len(plan.launches) == 1
    with pytest.raises(ValueError, match="zero-size"):
        kernels.plan(_node(R.Max, "float64", (0, 3), (0,)), [_meta((0, 3), "float64")])


def test_sum_over_empty_axis_is_zero(runtime):
    (got,) = run(runtime, _node(R.Sum, "float64", (0, 3), (0,)), [np.zeros((0, 3))])
    np.testing.assert_array_equal(got, np.zeros(3))


def test_reduction_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for op, dtype, shape, axis in CASES:
        node = _node(op, dtype, shape, axis)
        kernel_list += kernels.plan(node, [_meta(shape, dtype)]).kernels
    found = ptx_entries(kernel_list)
    assert found == {k.name for k in kernel_list}


def _fused(reduce_op, program, in_types):
    from labsym.core.ops.composite import Composite
    from labsym.core.ops.fused_reduce import FusedReduce

    composite = Composite(len(in_types), program, [len(program) - 1])
    return FusedReduce(reduce_op, composite).make_node(*in_types)


def _fused_cases():
    """sum(exp(x - m), axis=1) with m broadcast, sum(sqr(w)), max(abs(x * y) + 0.5) on
    strided inputs."""
    from labsym.core.ops.composite import ScalarConstant
    from labsym.core.scalar import SCALAR_OPS as S

    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 90)).astype("float32")
    m = x.max(axis=1, keepdims=True)
    w = rng.normal(size=(7, 8))[::-1, ::2]
    y = rng.normal(size=(6, 90)).astype("float32")[:, ::-1]
    f32, f64 = "float32", "float64"
    cases = [
        (
            _fused(R.Sum((1,), f32, f32), [(S["sub"], (("input", 0), ("input", 1))),
                                           (S["exp"], (("step", 0),))],
                   [TensorType(f32, (None, None))(), TensorType(f32, (None, 1))()]),
            [x, m],
        ),
        (
            _fused(R.Sum(None, f64, f64), [(S["sqr"], (("input", 0),))],
                   [TensorType(f64, (None, None))()]),
            [w],
        ),
        (
            _fused(R.Max((0,)), [(S["mul"], (("input", 0), ("input", 1))),
                                 (S["abs"], (("step", 0),)),
                                 (S["add"], (("step", 1), ("constant", ScalarConstant(f32, 0.5))))],
                   [TensorType(f32, (None, None))(), TensorType(f32, (None, None))()]),
            [x, y],
        ),
    ]  # fmt: skip
    return cases


def test_fused_reduce_computes_while_reading(runtime):
    """One kernel per FusedReduce, reading its inputs directly (no temporary), as perform."""
    cases = _fused_cases()
    for node, arrays in cases:
        assert kernels.supports(node), node.op
        plan = kernels.plan(node, [kernels.ArrayMeta.of(a) for a in arrays])
        assert len(plan.launches) == 1 and not plan.workspace
    for (node, arrays), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, arrays)
        assert_matches(
            got, want, rtol=1e-5 if got.dtype == np.float32 else None, context=str(node.op)
        )


def test_fused_reduce_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for node, arrays in _fused_cases():
        kernel_list += kernels.plan(node, [kernels.ArrayMeta.of(a) for a in arrays]).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
