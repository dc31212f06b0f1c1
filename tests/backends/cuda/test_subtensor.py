"""basic_view against NumPy's own views, and IncSubtensor / set_subtensor kernels on the
emulator against perform (slices with steps, negative indices, broadcast values)."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops.subtensor import IncSubtensor
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
