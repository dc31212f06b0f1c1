"""basic_view against NumPy's own views, and IncSubtensor / set_subtensor kernels on the
emulator against perform (slices with steps, negative indices, broadcast values)."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops.subtensor import AdvancedIncSubtensor1, AdvancedSubtensor1, IncSubtensor
from labsym.core.type import TensorType
from labsym.core.variable import constant

from .conftest import ptx_entries, reference, requires_nvrtc, run

KEYS = [
    (1,),
    (-1, slice(None, None, -2)),
    (slice(1, None), None, 2),
    (Ellipsis, slice(3, 0, -1)),
    (slice(None), slice(5, 5)),
    (None, Ellipsis, None),
]


@pytest.mark.parametrize("key", KEYS, ids=str)
@pytest.mark.parametrize("flip", [False, True])
def test_basic_view_matches_numpy(key, flip):
    base = np.arange(4 * 5 * 6, dtype="float64").reshape(4, 5, 6)
    if flip:
        base = base[::-1, :, ::-2]
    view, offset = kernels.basic_view(kernels.ArrayMeta.of(base), key)
    want = base[key]
    assert view.shape == want.shape
    if want.size:
        item = base.itemsize
        assert (
            offset * item
            == want.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        )
        assert all(
            s * item == w for s, w, d in zip(view.strides, want.strides, want.shape) if d > 1
        )


def test_basic_view_refuses_out_of_bounds_indices():
    with pytest.raises(IndexError, match="out of bounds"):
        kernels.basic_view(kernels.ArrayMeta.contiguous((3, 4), "float32"), (3,))


def _node(idx_list, x, y, index, set_):
    return IncSubtensor(idx_list, set_).make_node(x, y, *[constant(np.int64(v)) for v in index])


CASES = [
    # idx_list, index values, x shape, y static shape, y runtime shape
    ((slice("int64", None, None),), (1,), (5, 4), (None, None), (4, 4)),
    (("int64", slice(None, None, "int64")), (-2, -1), (3, 6), (None,), (6,)),
    ((slice("int64", "int64", "int64"), "int64"), (4, 0, -2, 2), (6, 3), (1,), (1,)),
    ((slice(None), slice("int64", None)), (1,), (3, 4, 2), (None, 1, None), (3, 1, 2)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("set_", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_inc_and_set_subtensor_match_perform(runtime, case, set_, dtype):
    idx_list, index, x_shape, y_static, y_shape = CASES[case]
    rng = np.random.default_rng(case)
    node = _node(
        idx_list,
        TensorType(dtype, (None,) * len(x_shape))(),
        TensorType(dtype, y_static)(),
        index,
        set_,
    )
    assert kernels.host_inputs(node) == tuple(range(2, 2 + len(index)))
    x = (rng.normal(size=x_shape) * 10).astype(dtype)
    y = (rng.normal(size=y_shape) * 10).astype(dtype)
    for xs in (x, x[::-1]):  # the output is a fresh contiguous array either way
        host_values = {2 + k: v for k, v in enumerate(index)}
        (got,) = run(runtime, node, [xs, y, *([0] * len(index))], host_values)
        (want,) = reference(node, [xs, y, *[np.int64(v) for v in index]])
        np.testing.assert_array_equal(got, want)
        assert not np.shares_memory(got, xs)


def test_a_length_one_value_axis_broadcasts_only_when_declared():
    node = _node(
        (slice(None),),
        TensorType("float32", (None, None))(),
        TensorType("float32", (None, None))(),
        (),
        False,
    )
    metas = [
        kernels.ArrayMeta.contiguous((3, 4), "float32"),
        kernels.ArrayMeta.contiguous((1, 4), "float32"),
    ]
    with pytest.raises(ValueError, match="not broadcastable"):
        kernels.plan(node, metas, {})


def test_subtensor_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for idx_list, index, x_shape, y_static, y_shape in CASES:
        for set_ in (False, True):
            node = _node(
                idx_list,
                TensorType("float32", (None,) * len(x_shape))(),
                TensorType("float32", y_static)(),
                index,
                set_,
            )
            metas = [
                kernels.ArrayMeta.contiguous(x_shape, "float32"),
                kernels.ArrayMeta.contiguous(y_shape, "float32"),
            ]
            plan = kernels.plan(node, metas, {2 + k: v for k, v in enumerate(index)})
            kernel_list += plan.kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}


def _take_node(x_type, idx_dtype):
    return AdvancedSubtensor1().make_node(x_type, TensorType(idx_dtype, (None,))())


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 5)])
def test_take_rows_matches_numpy(runtime, dtype, shape):
    rng = np.random.default_rng(3)
    x = (rng.normal(size=shape) * 5).astype(dtype)
    idx = np.array([3, -1, 0, 3, 6, -7], dtype="int32")
    node = _take_node(TensorType(dtype, (None,) * len(shape))(), "int32")
    for xs, ids in ((x, idx), (x[::-1], idx[::-1]), (np.ascontiguousarray(x.T).T, idx[::2])):
        (got,) = run(runtime, node, [xs, ids])
        np.testing.assert_array_equal(got, xs[ids])


def test_take_out_of_range_rows_are_nan(runtime):
    node = _take_node(TensorType("float64", (None, None))(), "int64")
    (got,) = run(runtime, node, [np.ones((3, 2)), np.array([0, 3, -4])])
    assert np.isfinite(got[0]).all() and np.isnan(got[1:]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("set_", [False, True])
def test_scatter_rows_match_perform(runtime, dtype, set_):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(6, 4)) * 5).astype(dtype)
    idx = np.array([1, 4, 1, -1, 1], dtype="int64")
    if set_:
        idx = np.array([1, 4, -1], dtype="int64")  # repeated rows keep an unordered value
    y = (rng.normal(size=(len(idx), 4)) * 5).astype(dtype)
    for y_type, ys in (
        (TensorType(dtype, (None, None))(), y),
        (TensorType(dtype, (1,))(), y[0, :1]),
    ):
        node = AdvancedIncSubtensor1(set_).make_node(
            TensorType(dtype, (None, None))(), y_type, TensorType("int64", (None,))()
        )
        assert kernels.supports(node)
        for xs in (x, x[::-1, ::-1]):
            (got,) = run(runtime, node, [xs, ys, idx])
            (want,) = reference(node, [xs, ys, idx])
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_scatter_add_needs_an_atomic_dtype():
    node = AdvancedIncSubtensor1().make_node(
        TensorType("int8", (None,))(), TensorType("int8", (None,))(), TensorType("int64", (None,))()
    )
    assert not kernels.supports(node)
    set_node = AdvancedIncSubtensor1(True).make_node(*[v.type() for v in node.inputs])
    assert kernels.supports(set_node)


def test_gather_scatter_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for dtype in ("float32", "float64", "int32", "int64", "uint32", "uint64"):
        x = TensorType(dtype, (None, None))()
        idx = TensorType("int64", (None,))()
        metas = [
            kernels.ArrayMeta.contiguous((5, 3), dtype),
            kernels.ArrayMeta.contiguous((4,), "int64"),
        ]
        kernel_list += kernels.plan(_take_node(x, "int64"), metas).kernels
        for set_ in (False, True):
            node = AdvancedIncSubtensor1(set_).make_node(x, x.type(), idx)
            metas3 = [metas[0], kernels.ArrayMeta.contiguous((4, 3), dtype), metas[1]]
            kernel_list += kernels.plan(node, metas3).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
