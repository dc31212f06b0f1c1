"""scipy.linalg ops (cholesky, solve, eigvalsh, expm, block_diag) and kron, against scipy/NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.core.ops import slinalg as sl
from tests.core.ops.helpers import check_grad, check_infer_shape, run, tensor

RNG = np.random.default_rng(3)
RTOL = {"float64": 1e-9, "float32": 1e-4}


def spd(n: int, dtype: str = "float64") -> np.ndarray:
    a = RNG.normal(size=(n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def with_garbage(a: np.ndarray, lower: bool) -> np.ndarray:
    """`a` with the triangle a lower (upper) routine must not read replaced by noise."""
    noise = RNG.normal(size=a.shape).astype(a.dtype)
    return np.where(
        np.tri(*a.shape, -1, dtype=bool).T if lower else np.tri(*a.shape, -1, dtype=bool), noise, a
    )


# ------------------------------------------------------------------------------ cholesky
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_cholesky_matches_scipy_and_reads_one_triangle(lower, dtype, n):
    a = spd(n, dtype)
    out = run(lambda x: sl.Cholesky(lower)(x), with_garbage(a, lower))
    np.testing.assert_allclose(out, scipy.linalg.cholesky(a, lower=lower), rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_gradient(lower):
    check_grad(lambda x: sl.cholesky(x, lower), spd(4))


def test_cholesky_errors_and_nan_mode():
    not_spd = -np.eye(2)
    with pytest.raises(np.linalg.LinAlgError):
        run(sl.cholesky, not_spd)
    assert np.isnan(run(lambda x: sl.Cholesky(on_error="nan")(x), not_spd)).all()
    with pytest.raises(ValueError, match="Cholesky: on_error must be 'raise' or 'nan'"):
        sl.Cholesky(on_error="ignore")
    with pytest.raises(ValueError, match=r"Cholesky: expected a square matrix.*\(2, 3\)"):
        sl.cholesky(tensor("float64", 2, shape=(2, 3)))
    assert sl.cholesky(tensor("int32", 2)).dtype == "float64"


# ------------------------------------------------------------------------------ solve
@pytest.mark.parametrize("b_shape", [(4,), (4, 2)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("structure", ["general", "symmetric"])
def test_solve_matches_scipy(b_shape, dtype, structure):
    a, b = spd(4, dtype), RNG.normal(size=b_shape).astype(dtype)
    out = run(lambda x, y: sl.solve(x, y, structure), a, b)
    np.testing.assert_allclose(out, scipy.linalg.solve(a, b), rtol=RTOL[dtype] * 10, atol=1e-6)


@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular_reads_one_triangle(b_shape, lower):
    a = spd(3)
    tri = np.tril(a) if lower else np.triu(a)
    b = RNG.normal(size=b_shape)
    out = run(lambda x, y: sl.solve_triangular(x, y, lower), with_garbage(a, lower), b)
    np.testing.assert_allclose(out, np.linalg.solve(tri, b))
    named = sl.solve_lower_triangular if lower else sl.solve_upper_triangular
    np.testing.assert_allclose(run(named, tri, b), out)


@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
@pytest.mark.parametrize("structure", ["general", "lower_triangular", "upper_triangular"])
def test_solve_gradients_in_a_and_b(b_shape, structure):
    a, b = spd(3) + RNG.normal(size=(3, 3)), RNG.normal(size=b_shape)
    check_grad(lambda x, y: sl.Solve(structure, structure == "lower_triangular")(x, y), a, b)


def test_solve_symmetric_and_errors():
    a, b = spd(3), RNG.normal(size=3)
    np.testing.assert_allclose(run(sl.solve_symmetric, a, b), np.linalg.solve(a, b))
    with pytest.raises(ValueError, match="Solve: A is 3 x 3 but b has 2 rows"):
        sl.solve(tensor("float64", 2, shape=(3, 3)), tensor("float64", 1, shape=(2,)))
    with pytest.raises(ValueError, match="Solve: A_structure must be one of"):
        sl.Solve("banded")
    with pytest.raises(TypeError, match="Solve: expected a 1-d or 2-d tensor"):
        sl.solve(tensor("float64", 2), tensor("float64", 3))
    out = sl.solve(tensor("float32", 2), tensor("float64", 1))
    assert out.dtype == "float64" and out.type.shape == (None,)


def test_solve_infer_shape():
    a, b = tensor("float64", 2, "a"), tensor("float64", 2, "b")
    check_infer_shape([a, b], sl.solve(a, b), [spd(3), RNG.normal(size=(3, 2))])


# ------------------------------------------------------------------------------ eigvalsh
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_eigvalsh_matches_scipy(lower, dtype):
    a, b = spd(4, dtype), spd(4, dtype)
    out = run(lambda x: sl.eigvalsh(x, lower=lower), with_garbage(a, lower))
    np.testing.assert_allclose(out, scipy.linalg.eigvalsh(a), rtol=RTOL[dtype] * 10)
    general = run(lambda x, y: sl.eigvalsh(x, y, lower), a, b)
    np.testing.assert_allclose(general, scipy.linalg.eigh(a, b, eigvals_only=True), rtol=1e-4)


@pytest.mark.parametrize("lower", [True, False])
def test_eigvalsh_gradients(lower):
    check_grad(lambda x: sl.eigvalsh(x, lower=lower), spd(3))
    check_grad(lambda x, y: sl.eigvalsh(x, y, lower), spd(3), spd(3))


def test_eigvalsh_errors_and_shape():
    with pytest.raises(ValueError, match="Eigvalsh: a is 3 x 3 but b is 2 x 2"):
        sl.eigvalsh(tensor("float64", 2, shape=(3, 3)), tensor("float64", 2, shape=(2, 2)))
    a = tensor("float64", 2)
    check_infer_shape([a], sl.eigvalsh(a), [spd(3)])


# ------------------------------------------------------------------------------ expm
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [1, 3])
def test_expm_matches_scipy(dtype, n):
    a = (RNG.normal(size=(n, n)) / 2).astype(dtype)
    np.testing.assert_allclose(run(sl.expm, a), scipy.linalg.expm(a), rtol=RTOL[dtype] * 100)


def test_expm_gradient_also_for_a_defective_matrix():
    check_grad(sl.expm, RNG.normal(size=(3, 3)) / 2)
    check_grad(sl.expm, np.array([[1.0, 1.0], [0.0, 1.0]]))  # repeated eigenvalue, one vector
    a = tensor("float64", 2)
    check_infer_shape([a], sl.expm(a), [np.eye(3)])


# ------------------------------------------------------------------------------ kron
KRON_SHAPES = [
    ((2,), (3,)),
    ((2, 3), (2, 2)),
    ((3,), (2, 2)),
    ((2, 2), (3,)),
    ((), (2, 3)),
    ((1, 2, 2), (2, 1, 3)),
]


@pytest.mark.parametrize(("sa", "sb"), KRON_SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_kron_matches_numpy(sa, sb, dtype):
    a, b = (RNG.normal(size=sa) * 3).astype(dtype), (RNG.normal(size=sb) * 3).astype(dtype)
    np.testing.assert_allclose(run(sl.kron, a, b), np.kron(a, b), rtol=RTOL.get(dtype, 0))


@pytest.mark.parametrize(("sa", "sb"), KRON_SHAPES[:4])
def test_kron_gradient(sa, sb):
    check_grad(sl.kron, RNG.normal(size=sa), RNG.normal(size=sb))


@given(
    sa=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    sb=st.lists(st.integers(1, 3), min_size=1, max_size=3),
)
@settings(max_examples=15, deadline=None)
def test_kron_static_shape_follows_numpy(sa, sb):
    out = sl.kron(
        tensor("float64", len(sa), shape=tuple(sa)), tensor("float64", len(sb), shape=tuple(sb))
    )
    assert out.type.shape == np.kron(np.zeros(sa), np.zeros(sb)).shape


# ------------------------------------------------------------------------------ block_diag
@pytest.mark.parametrize("shapes", [[(2, 3)], [(2, 2), (1, 3)], [(1, 1), (3, 2), (2, 4)]])
def test_block_diag_matches_scipy_with_gradient(shapes):
    values = [RNG.normal(size=s) for s in shapes]
    np.testing.assert_array_equal(run(sl.block_diag, *values), scipy.linalg.block_diag(*values))
    check_grad(sl.block_diag, *values)
    xs = [tensor("float64", 2, f"m{i}") for i in range(len(shapes))]
    check_infer_shape(xs, sl.block_diag(*xs), values)


def test_block_diag_dtypes_static_shape_and_errors():
    out = sl.block_diag(tensor("int32", 2, shape=(2, 3)), tensor("float32", 2, shape=(1, 1)))
    assert out.dtype == "float64" and out.type.shape == (3, 4)
    assert sl.block_diag(
        tensor("float32", 2, shape=(None, 3)), tensor("float32", 2)
    ).type.shape == (None, None)
    with pytest.raises(TypeError, match="BlockDiagonal: every input must be a matrix"):
        sl.block_diag(tensor("float64", 2), tensor("float64", 1))
    with pytest.raises(TypeError, match=r"expected 2 matrices, got 1"):
        sl.BlockDiagonal(2)(tensor("float64", 2))


def test_gradient_ops_infer_their_input_shapes():
    x, y, g = tensor("float64", 2, "x"), tensor("float64", 2, "y"), tensor("float64", 2, "g")
    a, dz = spd(3), RNG.normal(size=(3, 3))
    check_infer_shape([x, g], sl.CholeskyGrad()(x, sl.cholesky(x), g), [a, dz])
    check_infer_shape([x, g], sl.ExpmGrad()(x, g), [a, dz])
    w = tensor("float64", 1, "w")
    ga, gb = sl.EigvalshGrad()(x, y, w)
    check_infer_shape([x, y, w], gb, [a, spd(3), np.ones(3)])
    check_infer_shape([x, w], sl.EigvalshGrad()(x, w), [a, np.ones(3)])
