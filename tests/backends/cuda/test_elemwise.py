"""Elementwise plans beyond single records: fused Composite programs (several outputs, inlined
constants, mixed dtypes), axis collapsing, 0-d and 8-d arrays, Theano's broadcast check,
Alloc and Join, all run on the emulator against perform."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.backends.cuda.kernels import common, elemwise
from labsym.core.ops.basic import Alloc, ARange, Join
from labsym.core.ops.composite import Composite, ScalarConstant
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS as S
from labsym.core.type import TensorType
from labsym.core.variable import constant

from .conftest import assert_matches, ptx_entries, reference, requires_nvrtc, run


def _composite():
    """out0 = exp(x * y) + c, out1 = max(out0, z) with x f32, y int16, z f64; c a constant."""
    program = [
        (S["mul"], (("input", 0), ("input", 1))),
        (S["exp"], (("step", 0),)),
        (S["add"], (("step", 1), ("constant", ScalarConstant("float32", 1.5)))),
        (S["maximum"], (("step", 2), ("input", 2))),
        (S["switch"], (("constant", ScalarConstant("bool", True)), ("step", 3), ("input", 0))),
    ]
    return Composite(3, program, [2, 4])


@pytest.mark.parametrize("layout", ["contiguous", "broadcast", "negative", "transposed"])
def test_fused_composite_with_two_outputs(runtime, layout):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 6)).astype("float32")
    y = rng.integers(-3, 3, (5, 6)).astype("int16")
    z = rng.normal(size=(5, 6)) * 3
    z[0, 0], z[1, 1] = np.nan, np.inf
    patterns = [(None, None)] * 3
    if layout == "broadcast":
        y, z = y[:1], z[:, :1]
        patterns = [(None, None), (1, None), (None, 1)]
    elif layout == "negative":
        x, z = x[::-1, ::-1], z[:, ::-1]
    elif layout == "transposed":
        x = np.ascontiguousarray(x.T).T
    node = _composite().make_node(
        *[TensorType(a.dtype.name, p)() for a, p in zip((x, y, z), patterns)]
    )
    got = run(runtime, node, [x, y, z])
    want = reference(node, [x, y, z])
    assert [g.dtype for g in got] == ["float32", "float64"]
    for g, w in zip(got, want):
        assert_matches(g, w, rtol=1e-6)  # out1 is float64 of float32 steps: float32 ulps


@pytest.mark.parametrize(
    "value,dtype",
    [
        (np.nan, "float64"),
        (-np.inf, "float32"),
        (-0.0, "float64"),
        (-(2**63), "int64"),
        (2**64 - 1, "uint64"),
        (1e-45, "float32"),
    ],
)
def test_constants_are_exact(runtime, value, dtype):
    c = ScalarConstant(dtype, value)
    node = Composite(1, [(S["second"], (("input", 0), ("constant", c)))], [0]).make_node(
        TensorType(dtype, (None,))()
    )
    (got,) = run(runtime, node, [np.zeros(3, dtype)])
    want = np.full(3, value, dtype)
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got).tolist() == np.signbit(want).tolist()


def test_collapse_merges_axes_every_operand_walks_as_one():
    shape, strides = common.collapse((2, 3, 4), [(12, 4, 1), (0, 4, 1)])
    assert shape == (2, 12) and strides == [(12, 1), (0, 1)]
    assert common.collapse((2, 1, 3), [(-3, 7, -1)]) == ((6,), [(-1,)])
    assert common.collapse((1, 1), [(5, 5)]) == ((1,), [(0,)])


def test_contiguous_operands_use_the_dense_kernel():
    node = Elemwise(S["add"])(
        TensorType("float32", (None, None))(), TensorType("float32", (None, None))()
    ).owner
    dense = kernels.plan(node, [kernels.ArrayMeta.contiguous((4, 5), "float32")] * 2)
    assert "ls_map_c_" in dense.kernels[0].name
    view = kernels.ArrayMeta((4, 5), (12, 2), "float32")  # rows padded: no single run
    strided = kernels.plan(node, [view, kernels.ArrayMeta.contiguous((4, 5), "float32")])
    assert "ls_map2_" in strided.kernels[0].name


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2, 1, 2, 1, 2, 3)])
def test_scalars_and_eight_dims(runtime, shape):
    rng = np.random.default_rng(1)
    ndim = len(shape)
    a = rng.normal(size=shape)
    b = np.asarray(rng.normal(size=shape))
    if ndim == 8:
        a = np.ascontiguousarray(np.moveaxis(a, 0, -1)).transpose(7, 0, 1, 2, 3, 4, 5, 6)
    node = Elemwise(S["arctan2"])(
        TensorType("float64", shape)(), TensorType("float64", (None,) * ndim)()
    ).owner
    (got,) = run(runtime, node, [a, b])
    assert_matches(got, np.arctan2(a, b))


def test_nine_dims_are_not_supported():
    node = Elemwise(S["neg"])(TensorType("float32", (None,) * 9)()).owner
    assert not kernels.supports(node)


def test_length_one_axes_broadcast_only_when_the_type_says_so():
    x, y = TensorType("float32", (None,))(), TensorType("float32", (None,))()
    node = Elemwise(S["add"])(x, y).owner
    metas = [
        kernels.ArrayMeta.contiguous((1,), "float32"),
        kernels.ArrayMeta.contiguous((4,), "float32"),
    ]
    with pytest.raises(ValueError, match="mis-match"):
        kernels.plan(node, metas)


def test_zero_size_has_no_launch(runtime):
    node = Elemwise(S["exp"])(TensorType("float32", (None, None))()).owner
    plan = kernels.plan(node, [kernels.ArrayMeta.contiguous((0, 4), "float32")])
    assert plan.launches == () and plan.outputs[0].shape == (0, 4)


def test_alloc_broadcasts_a_strided_value(runtime):
    value = TensorType("float32", (1, None))()
    n, m, k = (constant(np.int64(v)) for v in (2, 3, 4))
    node = Alloc().make_node(value, n, m, k)
    assert kernels.host_inputs(node) == (1, 2, 3)
    v = np.arange(8, dtype="float32")[::-2][None, :]
    (got,) = run(runtime, node, [v, 0, 0, 0], host_values={1: 2, 2: 3, 3: 4})
    np.testing.assert_array_equal(got, np.broadcast_to(v, (2, 3, 4)))
    with pytest.raises(ValueError, match="broadcast"):
        kernels.plan(node, [kernels.ArrayMeta.of(v)], {1: 2, 2: 3, 3: 5})


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_join_upcasts_and_places_each_input(runtime, axis):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 4)).astype("float32")[::-1]
    b = rng.integers(0, 9, (3, 4)).astype("int16").T.copy().T
    e = np.zeros((3, 4), "float64")[:, :0] if axis != 0 else np.zeros((0, 4))
    node = Join().make_node(
        constant(np.int64(axis)), *[TensorType(x.dtype.name, (None, None))() for x in (a, b, e)]
    )
    (got,) = run(runtime, node, [0, a, b, e], host_values={0: axis})
    (want,) = reference(node, [np.int64(axis), a, b, e])
    assert_matches(got, want)
    with pytest.raises(ValueError, match="must match"):
        bad = [kernels.ArrayMeta.of(x) for x in (a, np.zeros((2, 5)), e)]
        kernels.plan(node, [kernels.ArrayMeta((), (), "int64"), *bad], {0: axis})


def test_composite_alloc_and_join_kernels_compile_to_ptx():
    requires_nvrtc()
    comp = _composite().make_node(
        *[TensorType(d, (None, None))() for d in ("float32", "int16", "float64")]
    )
    metas = [kernels.ArrayMeta.contiguous((4, 5), d) for d in ("float32", "int16", "float64")]
    strided = [kernels.ArrayMeta((4, 5), (-10, 2), m.dtype) for m in metas]
    kernel_list = list(kernels.plan(comp, metas).kernels + kernels.plan(comp, strided).kernels)
    alloc = Alloc().make_node(
        TensorType("float64", (1,))(), constant(np.int64(3)), constant(np.int64(4))
    )
    kernel_list += kernels.plan(
        alloc, [kernels.ArrayMeta((1,), (0,), "float64")], {1: 3, 2: 4}
    ).kernels
    join = Join().make_node(
        constant(np.int64(1)),
        TensorType("int8", (None, None))(),
        TensorType("float32", (None, None))(),
    )
    parts = [
        kernels.ArrayMeta((), (), "int64"),
        kernels.ArrayMeta.contiguous((2, 3), "int8"),
        kernels.ArrayMeta.contiguous((2, 5), "float32"),
    ]
    kernel_list += kernels.plan(join, parts, {0: 1}).kernels
    assert len(kernel_list) == 5
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}


@pytest.mark.parametrize(
    "start,stop,step,dtype",
    [(0, 10, 1, "int64"), (5, -3, -2, "int64"), (0.5, 3.2, 0.3, "float64"), (1, 2, 0.1, "float32"),
     (3, 3, 1, "int64"), (-2.5, 40.0, 0.7, "float32")],
)  # fmt: skip
def test_arange_matches_numpy(runtime, start, stop, step, dtype):
    (got,) = kernels.run_on(runtime, elemwise.plan_arange(dtype, start, stop, step), [])
    np.testing.assert_array_equal(got, np.arange(start, stop, step, dtype=dtype))
    node = ARange(dtype).make_node(*[constant(np.asarray(v)) for v in (start, stop, step)])
    assert not kernels.supports(node)  # host scalars only: the linker calls plan_arange


def test_a_records_cuda_template_overrides_its_c_template(runtime):
    from labsym.core.scalar import ScalarOp

    spec = ScalarOp("probe", 1, np.negative, "c_only_function({0})", "upcast", cuda="(-{0})")
    node = Elemwise(spec)(TensorType("float64", (None,))()).owner
    plan = kernels.plan(node, [kernels.ArrayMeta.contiguous((3,), "float64")])
    assert "c_only_function" not in plan.kernels[0].source
    (got,) = kernels.run_on(runtime, plan, [np.array([1.0, -2.0, 0.5])])
    np.testing.assert_array_equal(got, [-1.0, 2.0, -0.5])
