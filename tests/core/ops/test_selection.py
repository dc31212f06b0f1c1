"""Nonzero, Choose, PermuteRowElements and Bartlett (core.ops.selection) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.ops import selection as sel
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(5)


def _t(dtype: str, ndim: int, name: str = "x"):
    return TensorType(dtype, (None,) * ndim)(name)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 3, 2)])
def test_nonzero_forms_match_numpy(dtype, shape):
    value = (RNG.integers(-1, 2, size=shape) * RNG.integers(0, 2, size=shape)).astype(dtype)
    x = _t(dtype, len(shape))
    vectors = function([x], list(sel.nonzero(x)))(value)
    for got, want in zip(vectors, np.nonzero(value), strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int64
    matrix = function([x], sel.nonzero(x, return_matrix=True))(value)
    np.testing.assert_array_equal(matrix, np.array(np.nonzero(value)).reshape(len(shape), -1))
    flat = function([x], sel.flatnonzero(x))(value)
    np.testing.assert_array_equal(flat, np.flatnonzero(value))


def test_nonzero_of_nothing_and_its_shape():
    x = _t("float64", 2)
    f = function([x], [sel.nonzero(x, True), sel.nonzero(x, True).shape])
    found, shape = f(np.zeros((2, 3)))
    assert found.shape == (2, 0) and found.dtype == np.int64
    np.testing.assert_array_equal(shape, [2, 0])
    np.testing.assert_array_equal(f(np.eye(3)[:2])[1], [2, 2])


def test_nonzero_refuses_scalars():
    with pytest.raises(ValueError, match="Nonzero only supports non-scalar arrays."):
        sel.nonzero(_t("float64", 0))
    with pytest.raises(ValueError, match="Nonzero only supports non-scalar arrays."):
        sel.flatnonzero(_t("float64", 0))


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_matches_numpy(mode):
    a = _t("int32", 2, "a")
    choices = [_t("float64", 2, f"c{i}") for i in range(3)]
    index = RNG.integers(0, 3, size=(3, 4)).astype("int32")
    if mode != "raise":
        index[0, 0], index[1, 1] = 5, -2  # out of range: wrapped or clipped
    values = [RNG.standard_normal((3, 4)) for _ in choices]
    got = function([a, *choices], sel.choose(a, choices, mode=mode))(index, *values)
    np.testing.assert_array_equal(got, np.choose(index, values, mode=mode))


def test_choose_broadcasts_index_against_a_tensor_of_choices():
    a, c = _t("int64", 1, "a"), _t("float32", 3, "c")
    out = sel.choose(a, c)
    assert out.dtype == "float32" and out.ndim == 2
    index, table = np.array([0, 1, 1]), RNG.standard_normal((2, 4, 3)).astype("float32")
    f = function([a, c], [out, out.shape])
    got, shape = f(index, table)
    np.testing.assert_array_equal(got, np.choose(index, table))
    np.testing.assert_array_equal(shape, [4, 3])


def test_choose_errors_name_the_problem():
    with pytest.raises(TypeError, match=r"must have an \[u\]int\* dtype. Got float64."):
        sel.choose(_t("float64", 1), [_t("float64", 1)])
    with pytest.raises(ValueError, match="mode must be 'raise', 'wrap' or 'clip'"):
        sel.choose(_t("int64", 1), [_t("float64", 1)], mode="nearest")
    with pytest.raises(TypeError, match="out argument is not supported"):
        sel.choose(_t("int64", 1), [_t("float64", 1)], out=np.zeros(2))
    a = _t("int32", 1)
    f = function([a], sel.choose(a, [np.array([1.0, 2.0]), np.array([3.0, 4.0])]))
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        f(np.array([5, 0], dtype="int32"))


def _permutations(n_rows: int, n: int) -> np.ndarray:
    return np.array([RNG.permutation(n) for _ in range(n_rows)], dtype="int32")


def test_permute_row_elements_one_permutation_for_every_row():
    x, p = _t("float64", 2), _t("int32", 1, "p")
    xv, pv = RNG.standard_normal((3, 4)), _permutations(1, 4)[0]
    f = function([x, p], [sel.permute_row_elements(x, p), sel.permute_row_elements(x, p, True)])
    forward, inverse = f(xv, pv)
    np.testing.assert_array_equal(forward, xv[:, pv])
    np.testing.assert_array_equal(inverse[:, pv], xv)


def test_permute_row_elements_one_permutation_per_row_and_vector_broadcast():
    x, p = _t("float64", 2), _t("int32", 2, "p")
    xv, pv = RNG.standard_normal((3, 4)), _permutations(3, 4)
    got = function([x, p], sel.permute_row_elements(x, p))(xv, pv)
    np.testing.assert_array_equal(got, np.take_along_axis(xv, pv, axis=1))
    v = _t("float32", 1, "v")
    vv = np.arange(4, dtype="float32")
    out = sel.permute_row_elements(v, p)
    assert out.dtype == "float32" and out.ndim == 2
    np.testing.assert_array_equal(function([v, p], out)(vv, pv), vv[pv])


def test_permute_row_elements_gradient_with_permutations():
    pv = _permutations(3, 4)
    for inverse in (False, True):
        verify_grad(
            lambda x, _i=inverse: sel.permute_row_elements(x, pv, _i),
            [RNG.standard_normal((3, 4))],
            rng=RNG,
        )
        # x broadcast over the rows of the permutation matrix: gradients add up
        verify_grad(
            lambda x, _i=inverse: (
                sel.permute_row_elements(x, pv, _i) * np.arange(12.0).reshape(3, 4)
            ),
            [RNG.standard_normal(4)],
            rng=RNG,
        )


def test_inverse_permutation():
    p = _t("int64", 1, "p")
    for pv in (np.array([2, 0, 3, 1]), RNG.permutation(7)):
        got = function([p], sel.inverse_permutation(p))(pv)
        np.testing.assert_array_equal(got, np.argsort(pv))
        assert got.dtype == np.int64
    rows = _t("int32", 2, "rows")
    pv = _permutations(3, 5)
    got = function([rows], sel.inverse_permutation(rows))(pv)
    np.testing.assert_array_equal(got, np.argsort(pv, axis=1))
    with pytest.raises(TypeError, match="perm must have an integer dtype"):
        sel.inverse_permutation(_t("float64", 1))


def test_permute_row_elements_checks_lengths():
    x, p = _t("float64", 2), _t("int32", 1, "p")
    f = function([x, p], sel.permute_row_elements(x, p))
    with pytest.raises(ValueError, match="rows of length 4 and permutations of length 3"):
        f(np.zeros((2, 4)), np.array([0, 1, 2], dtype="int32"))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8])
def test_bartlett_matches_numpy(n):
    m = TensorType("int64", ())("m")
    window, shape = function([m], [sel.bartlett(m), sel.bartlett(m).shape])(n)
    np.testing.assert_allclose(window, np.bartlett(n))
    assert window.dtype == np.float64
    np.testing.assert_array_equal(shape, [n])


def test_bartlett_refuses_non_integer_or_non_scalar():
    with pytest.raises(TypeError, match="Bartlett only works on integer input"):
        sel.bartlett(TensorType("float64", ())("m"))
    with pytest.raises(TypeError, match="Bartlett only works on scalar input"):
        sel.bartlett(_t("int64", 1))
