"""Integer-array indexing on leading axes (x[i, j], x[arange(n), y], broadcast index arrays,
a scalar with a vector) and its inc/set, on the emulator against perform; PTX via NVRTC."""

import numpy as np
import pytest

import labsym.tensor as T
from labsym.backends.cuda import kernels
from labsym.core.type import TensorType

from .conftest import ptx_entries, reference, requires_nvrtc, run_all


def _v(dtype="int64", ndim=1):
    return TensorType(dtype, (None,) * ndim)()


def _cases(dtype):
    """(getter node, x, index values, y for the setters)."""
    rng = np.random.default_rng(0)
    x2 = _v(dtype, 2)
    x3 = _v(dtype, 3)
    i, j = _v(), _v("int32")
    a = (rng.normal(size=(5, 6)) * 5).astype(dtype)
    b = (rng.normal(size=(4, 5, 3)) * 5).astype(dtype)
    i2, j2 = _v(ndim=2), _v(ndim=2)
    s = TensorType("int64", ())()
    return [
        (x2[i, j], [a, np.array([0, 4, -1, 2, 0]), np.array([5, 0, -6, 3, 5], "int32")]),
        (x2[i2, j2], [a, np.array([[0], [3], [-2]]), np.array([[1, 2, -1, 0]])]),
        (x3[i, j], [b, np.array([3, 0, 3]), np.array([4, 4, -5], "int32")]),
        (x3[s, i], [b, np.array(2), np.array([0, 4, 1, 1])]),
        (x2[i], [a, np.array([1, -1, 1])]),
    ]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_gather_matches_perform(runtime, dtype):
    cases = [(v.owner, vals) for v, vals in _cases(dtype)]
    for node, _ in cases:
        assert kernels.supports(node), node.op
    for (node, vals), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, vals)
        np.testing.assert_array_equal(got, want)
        # negatively strided x: same values
    flipped = [(node, [vals[0][::-1, ::-1], *vals[1:]]) for node, vals in cases]
    for (node, vals), (got,) in zip(flipped, run_all(runtime, flipped)):
        np.testing.assert_array_equal(got, reference(node, vals)[0])


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("set_", [False, True])
def test_inc_and_set_match_perform(runtime, dtype, set_):
    rng = np.random.default_rng(1)
    cases = []
    for var, vals in _cases(dtype):
        sub = reference(var.owner, vals)[0]
        if set_:  # repeated index tuples keep an unordered value: use distinct ones
            if var.owner.inputs[1].ndim == 0 or len(vals) == 2:
                continue
            flat = np.ravel_multi_index(
                np.broadcast_arrays(*vals[1:]), vals[0].shape[: len(vals) - 1], mode="wrap"
            )
            if len(np.unique(flat)) != flat.size:
                continue
        y = (rng.normal(size=sub.shape) * 3).astype(dtype)
        fn = T.set_subtensor if set_ else T.inc_subtensor
        node = fn(var, TensorType(dtype, (None,) * y.ndim)()).owner
        assert kernels.supports(node), node.op
        cases.append((node, [vals[0], y, *vals[1:]]))
        cases.append((node, [vals[0][::-1], y[..., ::-1] if y.ndim else y, *vals[1:]]))
    assert len(cases) >= (2 if set_ else 8)
    for (node, vals), (got,) in zip(cases, run_all(runtime, cases)):
        (want,) = reference(node, vals)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_other_index_forms_are_left_to_the_host():
    x, i = _v("float64", 2), _v()
    assert not kernels.supports(x[:, i].owner)
    assert not kernels.supports(x[x > 0].owner)


def test_out_of_range_gathers_give_nan(runtime):
    x, i, j = _v("float64", 2), _v(), _v()
    node = x[i, j].owner
    ((got,),) = run_all(runtime, [(node, [np.ones((2, 3)), np.array([0, 2]), np.array([1, 1])])])
    assert got[0] == 1 and np.isnan(got[1])


def test_advanced_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = []
    for var, vals in _cases("float32"):
        metas = [kernels.ArrayMeta.of(np.asarray(v)) for v in vals]
        kernel_list += kernels.plan(var.owner, metas).kernels
        sub = reference(var.owner, vals)[0]
        for fn in (T.inc_subtensor, T.set_subtensor):
            node = fn(var, TensorType("float32", (None,) * sub.ndim)()).owner
            y = kernels.ArrayMeta.contiguous(sub.shape, "float32")
            kernel_list += kernels.plan(node, [metas[0], y, *metas[1:]]).kernels
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
