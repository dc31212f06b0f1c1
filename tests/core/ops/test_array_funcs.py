"""Theano's NumPy-style helpers (core.ops.array_funcs): semantics the op table does not cover.

Values and gradients over shapes and dtypes: tests/op_table.py (_shaped_theano_helpers).
"""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.config import config
from labsym.core.ops import array_funcs as af
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(9)


def _t(dtype: str, ndim: int, name: str = "x"):
    return TensorType(dtype, (None,) * ndim)(name)


# the examples of Theano 1.0's isclose docstring (as bool, Theano 1.0's comparison dtype)
@pytest.mark.parametrize(
    "a,b,equal_nan,want",
    [
        ([1e10, 1e-7], [1.00001e10, 1e-8], False, [True, False]),
        ([1e10, 1e-8], [1.00001e10, 1e-9], False, [True, True]),
        ([1e10, 1e-8], [1.0001e10, 1e-9], False, [False, True]),
        ([1.0, np.nan], [1.0, np.nan], False, [True, False]),
        ([1.0, np.nan], [1.0, np.nan], True, [True, True]),
        ([1.0, np.inf], [1.0, -np.inf], False, [True, False]),
        ([1.0, np.inf], [1.0, np.inf], False, [True, True]),
    ],
)
@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")  # inf - inf
def test_isclose_as_theano_documents_it(a, b, equal_nan, want):
    x, y = _t("float64", 1), _t("float64", 1, "y")
    out = af.isclose(x, y, equal_nan=equal_nan)
    assert out.dtype == "bool"
    got = function([x, y], out)(np.array(a), np.array(b))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, np.isclose(a, b, equal_nan=equal_nan))
    all_close = function([x, y], af.allclose(x, y, equal_nan=equal_nan))(np.array(a), np.array(b))
    assert bool(all_close) == all(want)


def test_isclose_tolerances_are_not_symmetric():
    x, y = _t("float64", 1), _t("float64", 1, "y")
    f = function([x, y], af.isclose(x, y, rtol=0.5, atol=0.0))
    np.testing.assert_array_equal(f(np.array([1.0]), np.array([2.0])), [True])  # 1 <= 0.5 * 2
    np.testing.assert_array_equal(f(np.array([2.0]), np.array([1.0])), [False])  # 1 > 0.5 * 1


def test_iround_is_int64_half_to_even_by_default():
    x = _t("float32", 1)
    values = np.array([0.5, 1.5, 2.5, -0.5, -1.7], dtype="float32")
    out = af.iround(x)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(function([x], out)(values), [0, 2, 2, 0, -2])
    away = function([x], af.iround(x, "half_away_from_zero"))(values)
    np.testing.assert_array_equal(away, [1, 2, 3, -1, -2])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float64"])
def test_divmod_and_ceil_intdiv_follow_python(dtype):
    x, y = _t(dtype, 1), _t(dtype, 1, "y")
    a = np.array([7, -7, 7, -7, 6, 0], dtype=dtype)
    b = np.array([2, 2, -2, -2, 3, 5], dtype=dtype)
    q, r = function([x, y], list(af.divmod(x, y)))(a, b)
    np.testing.assert_array_equal(q, np.floor_divide(a, b))
    np.testing.assert_array_equal(r, np.mod(a, b))
    if dtype != "float64":
        got = function([x, y], af.ceil_intdiv(x, y))(a, b)
        np.testing.assert_array_equal(got, -(-a // b))
        assert got.dtype == np.dtype(dtype)


def test_mod_check_refuses_complex():
    with pytest.raises(NotImplementedError, match=r"mod operator \(%\) on complex numbers"):
        af.mod_check(_t("complex128", 1), 2)


def test_tri_defaults_to_floatx_and_takes_symbolic_sizes():
    n = TensorType("int64", ())("n")
    with config.change_flags(floatX="float32"):
        out = af.tri(n, k=-1)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(function([n], out)(3), np.tri(3, k=-1, dtype="float32"))
    got = function([n], af.tri(n, n + 2, 1, dtype="int8"))(3)
    np.testing.assert_array_equal(got, np.tri(3, 5, 1, dtype="int8"))
    assert got.dtype == np.int8


def test_tril_triu_keep_dtype_and_differentiate():
    x = _t("int32", 2)
    values = RNG.integers(-5, 5, size=(3, 4)).astype("int32")
    lower, upper = function([x], [af.tril(x, 1), af.triu(x, -1)])(values)
    np.testing.assert_array_equal(lower, np.tril(values, 1))
    np.testing.assert_array_equal(upper, np.triu(values, -1))
    assert lower.dtype == upper.dtype == np.int32
    verify_grad(lambda m: af.tril(m, 0) + af.triu(m, 2), [RNG.standard_normal((4, 4))], rng=RNG)


def test_stacks_take_matrices_only():
    with pytest.raises(TypeError, match="horizontal_stack: every argument must be a matrix"):
        af.horizontal_stack(_t("float64", 2), _t("float64", 1))
    with pytest.raises(TypeError, match="vertical_stack: needs at least two matrices, got 1"):
        af.vertical_stack(_t("float64", 2))


def test_largest_and_smallest_of_many():
    xs = [_t("float64", 1, n) for n in "abcd"]
    values = [RNG.standard_normal(5) for _ in xs]
    big, small = function(xs, [af.largest(*xs), af.smallest(*xs)])(*values)
    np.testing.assert_array_equal(big, np.max(values, axis=0))
    np.testing.assert_array_equal(small, np.min(values, axis=0))


def test_ptp_axis_and_cov_options():
    x = _t("float64", 3)
    values = RNG.standard_normal((2, 3, 4))
    got = function([x], af.ptp(x, axis=(0, 2)))(values)
    np.testing.assert_allclose(got, np.ptp(values, axis=(0, 2)))
    m = _t("float64", 2, "m")
    data = RNG.standard_normal((3, 6))
    got = function([m], af.cov(m, ddof=2))(data)
    np.testing.assert_allclose(got, np.cov(data, ddof=2))
    with pytest.raises(NotImplementedError, match="fweights are not implemented"):
        af.cov(m, fweights=np.ones(6))


def test_topk_semantics_of_theano_1_0():
    x = _t("float64", 2)
    with pytest.raises(NotImplementedError, match="Use sorted=False for now."):
        af.topk(x, 2)
    with pytest.raises(TypeError, match='"idx_dtype" parameter must be an integer dtype'):
        af.argtopk(x, 2, sorted=False, idx_dtype="float32")
    with pytest.raises(ValueError, match="Cannot take scalar as input"):
        af.topk(_t("float64", 0), 1, sorted=False)
    with pytest.raises(IndexError, match=r"expected integer within \[-2, 1\]"):
        af.topk(x, 1, axis=2, sorted=False)
    values = RNG.permutation(12).reshape(3, 4).astype("float64")
    k = TensorType("int64", ())("k")
    f = function([x, k], list(af.topk_and_argtopk(x, k, sorted=False, idx_dtype="int32")))
    top, idx = f(values, 2)
    np.testing.assert_array_equal(np.sort(top, axis=1), np.sort(values, axis=1)[:, -2:])
    assert idx.dtype == np.int32
    np.testing.assert_array_equal(np.take_along_axis(values, idx, 1), top)
    bottom, _ = f(values, -3)  # kth < 0: the smallest
    np.testing.assert_array_equal(np.sort(bottom, axis=1), np.sort(values, axis=1)[:, :3])
    flat = function([x], af.topk(x, 3, axis=None, sorted=False))(values)
    np.testing.assert_array_equal(np.sort(flat), [9.0, 10.0, 11.0])


def test_topk_gradient_reaches_the_chosen_elements():
    verify_grad(lambda x: af.topk(x, 2, sorted=False), [RNG.standard_normal((3, 5))], rng=RNG)


def test_fill_diagonal_offset_checks_and_gradients():
    a = _t("float64", 2)
    k = TensorType("int32", ())("k")
    values = RNG.standard_normal((3, 5))
    f = function([a, k], af.fill_diagonal_offset(a, 7.0, k))
    for offset in (-2, 0, 3, 6):
        want = values.copy()
        rows = np.arange(3)
        keep = (rows + offset >= 0) & (rows + offset < 5)
        want[rows[keep], rows[keep] + offset] = 7.0
        np.testing.assert_array_equal(f(values, offset), want)
    with pytest.raises(TypeError, match="offset must be an integer"):
        af.fill_diagonal_offset(a, 1.0, 0.5)
    with pytest.raises(TypeError, match="a must be a matrix"):
        af.fill_diagonal_offset(_t("float64", 1), 1.0, 0)
    verify_grad(lambda m, v: af.fill_diagonal_offset(m, v, -1), [values, np.array(0.5)], rng=RNG)


@pytest.mark.parametrize(
    "x_shape,y_shape,axes,spec",
    [
        ((2, 3, 4), (2, 4, 5), 1, "bij,bjk->bik"),
        ((2, 3, 4, 5), (2, 3, 4), [[1, 2], [1, 2]], "bijk,bij->bk"),
        ((2, 3, 4, 5), (2, 6, 4), [[2], [2]], "bijk,blj->bikl"),
        ((3, 4, 5), (3, 4, 5), 2, "bij,bij->b"),
    ],
)
def test_batched_tensordot_matches_einsum(x_shape, y_shape, axes, spec):
    x, y = _t("float64", len(x_shape)), _t("float64", len(y_shape), "y")
    xv, yv = RNG.standard_normal(x_shape), RNG.standard_normal(y_shape)
    out = af.batched_tensordot(x, y, axes)
    got = function([x, y], out)(xv, yv)
    np.testing.assert_allclose(got, np.einsum(spec, xv, yv), rtol=1e-12)
    assert out.ndim == got.ndim
    verify_grad(lambda a, b: af.batched_tensordot(a, b, axes), [xv, yv], rng=RNG)
    with pytest.raises(ValueError, match="must pair equally many non-batch axes"):
        af.batched_tensordot(x, y, [[0], [1]])


def test_make_keep_dims_and_get_vector_length():
    from labsym.core.ops import basic

    x = _t("float64", 3)
    kept = af.makeKeepDims(x, x.sum(axis=(0, 2)), (0, -1))
    got = function([x], kept)(np.ones((2, 3, 4)))
    np.testing.assert_array_equal(got, np.full((1, 3, 1), 8.0))
    assert af.makeKeepDims(x, x.max(), None).type.shape == (1, 1, 1)
    assert af.get_vector_length(x.shape) == 3
    assert af.get_vector_length(np.arange(5)) == 5
    assert af.get_vector_length(basic.stack([x.sum(), x.max()])) == 2
    with pytest.raises(ValueError, match="length not known: v"):
        af.get_vector_length(_t("float64", 1, "v"))
    with pytest.raises(TypeError, match="argument must be symbolic vector"):
        af.get_vector_length(x)


def test_compress_matches_numpy():
    c, x = _t("int8", 1, "c"), _t("float64", 2)
    values = np.arange(12.0).reshape(3, 4)
    condition = np.array([1, 0, 1], dtype="int8")
    f = function([c, x], [af.compress(c, x, axis=0), af.compress(c, x)])
    rows, flat = f(condition, values)
    np.testing.assert_array_equal(rows, np.compress(condition, values, axis=0))
    np.testing.assert_array_equal(flat, np.compress(condition, values))
