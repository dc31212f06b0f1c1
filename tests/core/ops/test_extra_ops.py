"""Theano's extra_ops against NumPy: cumulative ops, diff, counting, sorting, views."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labsym.tensor.extra_ops as facade
from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.ops import basic
from labsym.core.ops import extra_ops as eo
from labsym.core.variable import constant
from tests.core.ops.helpers import (
    array_maker,
    check_grad,
    check_infer_shape,
    check_rop,
    run,
    tensor,
)

RNG = np.random.default_rng(5)
random_array = array_maker(RNG, 0, 5)


SHAPES_AXES = [((5,), 0), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 2), 1), ((3, 4), None)]


# ------------------------------------------------------------------------------ cumsum, cumprod
@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize(("fn", "ref"), [(eo.cumsum, np.cumsum), (eo.cumprod, np.cumprod)])
def test_cumulative_ops_match_numpy(shape, axis, dtype, fn, ref):
    a = random_array(shape, dtype)
    out = run(lambda x: fn(x, axis), a)
    assert out.dtype == dtype  # Theano keeps the input dtype
    np.testing.assert_allclose(out, ref(a, axis=axis), rtol=1e-5)


@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
def test_cumulative_gradients(shape, axis):
    a = RNG.uniform(0.5, 1.5, size=shape) * RNG.choice([-1, 1], size=shape)
    check_grad(lambda x: eo.cumsum(x, axis), a)
    check_grad(lambda x: eo.cumprod(x, axis), a)


def _cumprod_jacobian(x: np.ndarray) -> np.ndarray:
    """J[j, i] = d cumprod(x)[j] / d x[i] of a 1-D x, as products of the other factors."""
    n = len(x)
    jac = np.zeros((n, n))
    for j in range(n):
        for i in range(j + 1):
            jac[j, i] = np.prod(np.delete(x[: j + 1], i))
    return jac


def _cumprod_products(x, g, axis, transpose):
    """g @ J (the gradient) or J @ g (the R_op) along `axis`, for every other index."""
    if axis is None:
        return _cumprod_products(x.ravel(), g.ravel(), 0, transpose).reshape(
            x.shape if transpose else -1
        )
    xs, gs = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    out = np.empty(xs.shape)
    for idx in np.ndindex(*xs.shape[:-1]):
        jac = _cumprod_jacobian(xs[idx])
        out[idx] = gs[idx] @ jac if transpose else jac @ gs[idx]
    return np.moveaxis(out, -1, axis)


WITH_ZEROS = [
    np.array([2.0, 0.0, 3.0]),
    np.array([0.0, 0.0, 3.0, 4.0]),
    np.array([1.5, -2.0, 0.0, 3.0, 0.0, 2.0]),
    np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [2.0, 3.0, 0.0], [0.0, 0.0, 0.0]]),
    np.array([[[1.0, 0.0], [2.0, 3.0], [0.0, 4.0]], [[5.0, 6.0], [0.0, 0.5], [2.0, 0.0]]]),
]


def test_cumprod_gradient_at_a_zero_is_exact():
    x = tensor("float64", 1)
    g = function([x], grad(eo.cumprod(x).sum(), x))
    np.testing.assert_array_equal(g(np.array([2.0, 0.0, 3.0])), [1.0, 8.0, 0.0])
    np.testing.assert_array_equal(g(np.array([0.0, 0.0, 3.0])), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(g(np.array([2.0, 3.0, 0.0])), [4.0, 2.0, 6.0])


@pytest.mark.parametrize("value", WITH_ZEROS, ids=lambda v: f"shape{v.shape}")
def test_cumprod_gradient_and_rop_with_zeros_match_the_products_of_other_factors(value):
    x, g = tensor("float64", value.ndim), tensor("float64", value.ndim, "g")
    for axis in [None, *range(value.ndim)]:
        out = eo.cumprod(x, axis)
        gz = RNG.normal(size=np.cumprod(value, axis=axis).shape)
        gv = RNG.normal(size=value.shape)
        grad_fn = function([x, g], grad((out * g.flatten() if axis is None else out * g).sum(), x))
        got = grad_fn(value, gz if axis is not None else gz.reshape(value.shape))
        np.testing.assert_allclose(got, _cumprod_products(value, gz, axis, True), rtol=1e-12)
        jvp = function([x, g], Rop(out, x, g))(value, gv)
        np.testing.assert_allclose(jvp, _cumprod_products(value, gv, axis, False), rtol=1e-12)
        check_grad(lambda x, axis=axis: eo.cumprod(x, axis), value)


@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
def test_cumprod_second_derivatives(shape, axis):
    a = RNG.uniform(0.5, 1.5, size=shape) * RNG.choice([-1, 1], size=shape)
    a.flat[0] = 0.0
    check_grad(lambda x: grad((eo.cumprod(x, axis) ** 2).sum(), x), a)
    check_rop(lambda x: eo.cumprod(x, axis), a, RNG.normal(size=shape))


def test_cumsum_of_bool_counts_and_errors():
    np.testing.assert_array_equal(run(eo.cumsum, np.array([True, False, True])), [1, 1, 2])
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range"):
        eo.cumsum(tensor("float64", 2), 2)
    with pytest.raises(ValueError, match="CumOp: mode must be 'add' or 'mul'"):
        eo.CumOp(0, "max")
    x = tensor("float64", 2)
    check_infer_shape([x], eo.cumsum(x, 1), [random_array((2, 3))])


# ------------------------------------------------------------------------------ diff
@pytest.mark.parametrize(("shape", "axis"), [s for s in SHAPES_AXES if s[1] is not None])
@pytest.mark.parametrize("n", [0, 1, 2, 4])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_diff_matches_numpy(shape, axis, n, dtype):
    a = random_array(shape, dtype)
    np.testing.assert_array_equal(run(lambda x: eo.diff(x, n, axis), a), np.diff(a, n, axis))


@pytest.mark.parametrize(("shape", "axis", "n"), [((5,), 0, 1), ((3, 4), 1, 2), ((3, 4), 0, 5)])
def test_diff_gradient_and_shape(shape, axis, n):
    a = random_array(shape)
    check_grad(lambda x: eo.diff(x, n, axis), a)
    x = tensor("float64", len(shape))
    check_infer_shape([x], eo.diff(x, n, axis), [a])
    assert eo.diff(tensor("float64", 1, shape=(5,)), 2).type.shape == (3,)
    assert eo.diff(tensor("float64", 1, shape=(1,)), 2).type.shape == (0,)


def test_diff_of_order_zero_is_a_copy_not_an_alias():
    x = tensor("float64", 1)
    a = np.array([1.0, 2.0])
    out = function([x], eo.diff(x, 0))(a)
    np.testing.assert_array_equal(out, a)
    assert not np.shares_memory(out, a)


def test_diff_errors():
    with pytest.raises(ValueError, match="DiffOp: the order n must be non-negative, got -1"):
        eo.diff(tensor("float64", 1), -1)
    with pytest.raises(TypeError, match="diff: axis must be an int"):
        eo.diff(tensor("float64", 1), 1, 0.5)


# ------------------------------------------------------------------------------ bincount
@pytest.mark.parametrize("minlength", [None, 0, 8])
@pytest.mark.parametrize("dtype", ["int64", "int8", "uint16"])
def test_bincount_matches_numpy(minlength, dtype):
    x = RNG.integers(0, 6, size=10).astype(dtype)
    w = RNG.normal(size=10)
    counts = run(lambda v: eo.bincount(v, minlength=minlength), x)
    np.testing.assert_array_equal(counts, np.bincount(x, minlength=minlength or 0))
    assert counts.dtype == "int64"
    weighted = run(lambda v, ww: eo.bincount(v, ww, minlength), x, w.astype("float32"))
    np.testing.assert_allclose(weighted, np.bincount(x, w, minlength or 0), rtol=1e-6)
    assert weighted.dtype == "float32"


def test_bincount_weights_gradient_and_shape():
    idx = np.array([0, 3, 3, 1])
    check_grad(lambda w: eo.bincount(constant(idx), w), RNG.normal(size=4))
    x = tensor("int64", 1)
    check_infer_shape([x], eo.bincount(x), [idx])
    with pytest.raises(TypeError, match="bincount: x must be integers"):
        eo.bincount(tensor("float64", 1))
    with pytest.raises(TypeError, match="bincount: x must be a vector"):
        eo.bincount(tensor("int64", 2))


# ------------------------------------------------------------------------------ searchsorted
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("v_shape", [(), (4,), (2, 3)])
def test_searchsorted_matches_numpy(side, v_shape):
    x = np.array([1.0, 2.0, 2.0, 5.0])
    v = RNG.integers(0, 7, size=v_shape).astype("float64")
    out = run(lambda a, b: eo.searchsorted(a, b, side), x, v)
    np.testing.assert_array_equal(out, np.searchsorted(x, v, side))
    unsorted, sorter = np.array([5.0, 1.0, 2.0]), np.array([1, 2, 0])
    got = run(lambda a, b, s: eo.searchsorted(a, b, side, s), unsorted, v, sorter)
    np.testing.assert_array_equal(got, np.searchsorted(unsorted, v, side, sorter))


def test_searchsorted_has_no_gradient_and_checks_inputs():
    x, v = tensor("float64", 1, "x"), tensor("float64", 1, "v")
    g = grad(eo.searchsorted(x, v).sum() + v.sum(), v)  # only the direct term connects
    np.testing.assert_array_equal(function([x, v], g)(np.arange(3.0), np.ones(2)), [1.0, 1.0])
    with pytest.raises(TypeError, match="searchsorted: x must be a sorted vector"):
        eo.searchsorted(tensor("float64", 2), v)
    with pytest.raises(ValueError, match="searchsorted: side must be 'left' or 'right'"):
        eo.searchsorted(x, v, "middle")


# ------------------------------------------------------------------------------ unique
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, True), (False, True, False)])
@pytest.mark.parametrize("shape", [(7,), (3, 4)])
def test_unique_matches_numpy(flags, shape):
    a = RNG.integers(0, 4, size=shape).astype("int32")
    got = run(lambda x: eo.unique(x, *flags), a)
    ref = np.unique(a, *flags)
    got, ref = (got, ref) if any(flags) else ([got], [ref])
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_array_equal(g, np.reshape(r, -1))
    x = tensor("int32", len(shape))
    outs = eo.unique(x, *flags)
    for out in outs if any(flags) else [outs]:
        check_infer_shape([x], out, [a])


# ------------------------------------------------------------------------------ sort, argsort
@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("kind", ["quicksort", "stable"])
def test_sort_and_argsort_match_numpy(shape, axis, dtype, kind):
    a = random_array(shape, dtype)
    np.testing.assert_array_equal(run(lambda x: eo.sort(x, axis, kind), a), np.sort(a, axis, kind))
    idx = run(lambda x: eo.argsort(x, axis, "stable"), a)
    np.testing.assert_array_equal(idx, np.argsort(a, axis, "stable"))
    assert idx.dtype == "int64"


@pytest.mark.parametrize(("shape", "axis"), SHAPES_AXES)
def test_sort_gradient(shape, axis):
    check_grad(
        lambda x: (
            eo.sort(x, axis)
            * np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape if axis is not None else -1)
        ),
        random_array(shape),
    )


def test_sort_errors_and_argsort_is_not_differentiable():
    x = tensor("float64", 1)
    with pytest.raises(ValueError, match="sort: order .* is not supported"):
        eo.sort(x, order="f")
    with pytest.raises(ValueError, match="SortOp: kind must be one of"):
        eo.SortOp(0, "bogo")
    assert eo.ArgSortOp(0).connection_pattern(eo.argsort(x).owner) == [[False]]
    check_infer_shape([x], eo.sort(x), [random_array((4,))])


# ------------------------------------------------------------------------------ fill_diagonal
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5), (3, 3, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_fill_diagonal_matches_numpy(shape, dtype):
    a = random_array(shape, dtype)
    expected = a.copy()
    np.fill_diagonal(expected, 7)
    np.testing.assert_array_equal(run(lambda x: eo.fill_diagonal(x, 7), a), expected)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 2, 2)])
def test_fill_diagonal_gradients(shape):
    check_grad(eo.fill_diagonal, random_array(shape), np.array(2.0))
    x = tensor("float64", len(shape))
    check_infer_shape([x], eo.fill_diagonal(x, 1.0), [random_array(shape)])


def test_fill_diagonal_errors():
    with pytest.raises(
        TypeError, match="fill_diagonal: val of dtype float64 does not fit a's dtype int32"
    ):
        eo.fill_diagonal(tensor("int32", 2), tensor("float64", 0))
    with pytest.raises(TypeError, match="fill_diagonal: a must have 2 or more dims"):
        eo.fill_diagonal(tensor("float64", 1), 0.0)
    with pytest.raises(TypeError, match="fill_diagonal: val must be a scalar"):
        eo.fill_diagonal(tensor("float64", 2), tensor("float64", 1))
    with pytest.raises(ValueError, match="a tensor of 3\\+ dims must be a cube"):
        eo.fill_diagonal(tensor("float64", 3, shape=(2, 3, 2)), 0.0)


# ------------------------------------------------------------------------------ to_one_hot
@pytest.mark.parametrize("dtype", ["float64", "int8"])
def test_to_one_hot(dtype):
    y = np.array([2, 0, 1, 2], "int32")
    out = run(lambda v: eo.to_one_hot(v, 3, dtype), y)
    np.testing.assert_array_equal(out, np.eye(3, dtype=dtype)[y])
    with pytest.raises(TypeError, match="to_one_hot: labels must be integers"):
        eo.to_one_hot(tensor("float64", 1), 3)
    with pytest.raises(TypeError, match="to_one_hot: y must be a vector"):
        eo.to_one_hot(tensor("int64", 2), 3)


# ------------------------------------------------------------------------------ ravel/unravel
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_ravel_multi_index_matches_numpy(order, mode):
    dims = (3, 4)
    i, j = np.array([0, 2, 1]), np.array([3, 1, 5 if mode != "raise" else 0])
    out = run(lambda a, b: eo.ravel_multi_index((a, b), dims, mode, order), i, j)
    np.testing.assert_array_equal(out, np.ravel_multi_index((i, j), dims, mode, order))
    a, b = tensor("int64", 1, "a"), tensor("int64", 1, "b")
    check_infer_shape([a, b], eo.ravel_multi_index((a, b), dims), [i, j % 4])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("idx_shape", [(), (5,), (2, 3)])
def test_unravel_index_matches_numpy(order, idx_shape):
    idx = RNG.integers(0, 24, size=idx_shape)
    got = run(lambda k: eo.unravel_index(k, (2, 3, 4), order), idx)
    for g, r in zip(got, np.unravel_index(idx, (2, 3, 4), order), strict=True):
        np.testing.assert_array_equal(g, r)
    dims = tensor("int32", 1, "d", shape=(2,))
    k = tensor("int64", len(idx_shape), "k")
    row, col = eo.unravel_index(k, dims)
    got = function([k, dims], [row, col])(idx % 12, np.array([3, 4], "int32"))
    np.testing.assert_array_equal(got, np.unravel_index(idx % 12, (3, 4)))
    check_infer_shape([k, dims], col, [idx % 12, np.array([3, 4], "int32")])


def test_index_helpers_errors():
    with pytest.raises(TypeError, match="unravel_index: dims must be a vector of known length"):
        eo.unravel_index(tensor("int64", 1), tensor("int64", 1))
    with pytest.raises(ValueError, match="ravel_multi_index: 1 index arrays for 2 dims"):
        eo.ravel_multi_index((tensor("int64", 1),), (2, 3))
    with pytest.raises(TypeError, match="ravel_multi_index: multi_index must be integers"):
        eo.ravel_multi_index((tensor("float64", 1), tensor("int64", 1)), (2, 3))


# ------------------------------------------------------------------------------ squeeze, flip, roll
def test_squeeze_drops_broadcastable_or_named_axes():
    a = random_array((1, 3, 1))
    x = tensor("float64", 3, shape=(1, None, 1))
    assert eo.squeeze(x).type.shape == (None,)
    assert eo.squeeze(x, 2).type.shape == (1, None)
    y = tensor("float64", 3)
    np.testing.assert_array_equal(function([y], eo.squeeze(y, (0, -1)))(a), a.squeeze())
    with pytest.raises(ValueError, match="SpecifyShape|shape"):
        function([y], eo.squeeze(y, 1))(a)  # axis 1 has length 3 at run time
    with pytest.raises(ValueError, match="squeeze: axis 0 of .* has length 2, not 1"):
        eo.squeeze(tensor("float64", 2, shape=(2, None)), 0)
    check_grad(lambda t: eo.squeeze(t, 0), random_array((1, 3)))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
def test_flip_matches_numpy_with_gradient(axis):
    a = random_array((3, 4))
    np.testing.assert_array_equal(run(lambda x: eo.flip(x, axis), a), np.flip(a, axis))
    check_grad(lambda x: eo.flip(x, axis), a)


@pytest.mark.parametrize("shift", [0, 1, -1, 3, 7, -9])
@pytest.mark.parametrize(("shape", "axis"), [((5,), None), ((5,), 0), ((3, 4), 1), ((3, 4), None)])
def test_roll_matches_numpy(shift, shape, axis):
    a = random_array(shape)
    np.testing.assert_array_equal(
        run(lambda x: eo.roll(x, shift, axis), a), np.roll(a, shift, axis)
    )
    x, s = tensor("float64", len(shape)), tensor("int64", 0, "s")
    got = function([x, s], eo.roll(x, s, axis))(a, shift)
    np.testing.assert_array_equal(got, np.roll(a, shift, axis))


def test_roll_gradient_and_errors():
    check_grad(lambda x: eo.roll(x, 2, 1), random_array((2, 3)))
    with pytest.raises(TypeError, match="roll: shift must be integers"):
        eo.roll(tensor("float64", 1), 1.5)
    with pytest.raises(ValueError, match="roll: axis 2 is out of range"):
        eo.roll(tensor("float64", 1), 1, 2)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
@settings(max_examples=15, deadline=None)
def test_flip_and_roll_keep_static_shapes(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = tensor("float64", len(shape), shape=tuple(shape))
    assert eo.flip(x, axis).type.shape == tuple(shape)
    assert eo.roll(x, data.draw(st.integers(-5, 5)), axis).type.shape == tuple(shape)


# ------------------------------------------------------------------------------ facade
def test_facade_reexports_repeat_and_clip_from_their_modules():
    from labsym.core.ops.math import clip
    from labsym.core.ops.repeat import repeat

    assert facade.repeat is repeat and facade.clip is clip
    assert basic.repeat is repeat  # TensorVariable.repeat still finds it in basic
    assert set(facade.__all__) <= set(dir(facade))
