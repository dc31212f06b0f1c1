"""numpy.linalg ops (inverse, pinv, det, eig, eigh, svd, qr, lstsq, diagonals) and expressions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import GradientError, Rop, grad
from labsym.core.ops import nlinalg as nl
from tests.core.ops.helpers import check_grad, check_infer_shape, run, tensor

RNG = np.random.default_rng(7)
TOL = {"float64": 1e-10, "float32": 1e-4}


def well_conditioned(n: int, dtype: str = "float64") -> np.ndarray:
    return (RNG.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)


def symmetric(n: int, dtype: str = "float64") -> np.ndarray:
    a = RNG.normal(size=(n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


# ------------------------------------------------------------------------------ inverse, det
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_matrix_inverse_and_det_match_numpy(dtype, n):
    a = well_conditioned(n, dtype)
    np.testing.assert_allclose(run(nl.matrix_inverse, a), np.linalg.inv(a), rtol=TOL[dtype] * 10)
    np.testing.assert_allclose(run(nl.det, a), np.linalg.det(a), rtol=TOL[dtype] * 10)


def test_integer_matrices_are_computed_in_float64():
    x = tensor("int32", 2)
    assert nl.det(x).dtype == "float64" and nl.matrix_inverse(x).dtype == "float64"
    assert run(nl.det, np.array([[2, 1], [1, 3]], "int32")) == pytest.approx(5.0)


def test_inverse_and_det_gradients():
    a = well_conditioned(3)
    check_grad(nl.matrix_inverse, a)
    check_grad(nl.det, a)


def test_inverse_rop_matches_the_directional_derivative():
    x, v = tensor("float64", 2, "x"), tensor("float64", 2, "v")
    a, direction = well_conditioned(3), RNG.normal(size=(3, 3))
    out = function([x, v], Rop(nl.matrix_inverse(x), x, v))(a, direction)
    eps = 1e-6
    numeric = (np.linalg.inv(a + eps * direction) - np.linalg.inv(a - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(out, numeric, rtol=1e-5, atol=1e-8)


def test_square_ops_reject_bad_inputs_with_clear_messages():
    with pytest.raises(ValueError, match=r"MatrixInverse: expected a square matrix.*\(2, 3\)"):
        nl.matrix_inverse(tensor("float64", 2, shape=(2, 3)))
    with pytest.raises(TypeError, match="Det: expected a 2-d tensor, got .*vector"):
        nl.det(tensor("float64", 1))
    with pytest.raises(TypeError, match="MatrixInverse: complex inputs are not supported"):
        nl.matrix_inverse(tensor("complex128", 2))


def test_static_shapes_propagate():
    x = tensor("float64", 2, shape=(None, 4))
    assert nl.matrix_inverse(x).type.shape == (4, 4)
    assert nl.pinv(tensor("float32", 2, shape=(2, 5))).type.shape == (5, 2)
    u, s, vt = nl.svd(tensor("float64", 2, shape=(2, 5)), full_matrices=False)
    assert (u.type.shape, s.type.shape, vt.type.shape) == ((2, 2), (2,), (2, 5))


# ------------------------------------------------------------------------------ pinv
@pytest.mark.parametrize("shape", [(3, 2), (2, 4), (3, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pinv_matches_numpy(shape, dtype):
    a = RNG.normal(size=shape).astype(dtype)
    np.testing.assert_allclose(run(nl.pinv, a), np.linalg.pinv(a), rtol=TOL[dtype] * 100, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3)])
def test_pinv_gradient_for_full_rank_matrices(shape):
    check_grad(nl.pinv, RNG.normal(size=shape))


def test_pinv_hermitian_flag():
    a = symmetric(3)
    np.testing.assert_allclose(run(lambda x: nl.pinv(x, hermitian=True), a), np.linalg.inv(a))
    assert str(nl.MatrixPinv(True)) == "MatrixPinv{hermitian=True}"


# ------------------------------------------------------------------------------ eig, eigh
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_eig_gives_complex_eigenpairs(dtype):
    a = RNG.normal(size=(4, 4)).astype(dtype)
    w, v = run(nl.eig, a)
    assert w.dtype == ("complex64" if dtype == "float32" else "complex128")
    np.testing.assert_allclose(a @ v, v * w, atol=1e-4 if dtype == "float32" else 1e-10)
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(np.linalg.eigvals(a)), rtol=1e-4)


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_eigh_matches_numpy_and_reads_one_triangle(uplo, dtype):
    a = symmetric(4, dtype)
    garbage = a + (np.triu(np.ones_like(a), 1) if uplo == "L" else np.tril(np.ones_like(a), -1))
    w, v = run(lambda x: nl.eigh(x, uplo), garbage)
    w_ref, v_ref = np.linalg.eigh(a)
    np.testing.assert_allclose(w, w_ref, rtol=TOL[dtype] * 10)
    np.testing.assert_allclose(np.abs(v), np.abs(v_ref), atol=1e-4 if dtype == "float32" else 1e-8)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gradients_of_values_and_vectors(uplo):
    a = symmetric(3)
    check_grad(lambda x: nl.eigh(x, uplo)[0], a)
    check_grad(lambda x: nl.eigh(x, uplo)[1] ** 2, a)  # squared: independent of the sign choice
    check_grad(lambda x: nl.eigh(x, uplo)[0].sum() + (nl.eigh(x, uplo)[1] ** 2)[0].sum(), a)


def test_eigh_rejects_bad_uplo():
    with pytest.raises(ValueError, match="Eigh: UPLO must be 'L' or 'U', got 'X'"):
        nl.eigh(tensor("float64", 2), "X")


def test_eig_infer_shape():
    x = tensor("float64", 2)
    w, v = nl.eig(x)
    check_infer_shape([x], w, [RNG.normal(size=(3, 3))])
    check_infer_shape([x], v, [RNG.normal(size=(3, 3))])


# ------------------------------------------------------------------------------ svd, qr
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_matches_numpy(shape, full_matrices):
    a = RNG.normal(size=shape)
    x = tensor("float64", 2)
    u, s, vt = nl.svd(x, full_matrices)
    got = function([x], [u, s, vt])(a)
    for g, r in zip(got, np.linalg.svd(a, full_matrices), strict=True):
        np.testing.assert_allclose(np.abs(g), np.abs(r), atol=1e-10)
    for out in (u, s, vt):
        check_infer_shape([x], out, [a])


@pytest.mark.parametrize("shape", [(3, 5), (4, 2)])
def test_singular_values_alone_and_their_gradient(shape):
    a = RNG.normal(size=shape).astype("float32")
    s = run(lambda x: nl.svd(x, compute_uv=False), a)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), rtol=1e-5)
    check_grad(lambda x: nl.svd(x, compute_uv=False), a)


def test_svd_with_vectors_has_no_gradient():
    x = tensor("float64", 2)
    with pytest.raises(GradientError, match="compute_uv=True has no gradient"):
        grad(nl.svd(x)[1].sum(), x)


@pytest.mark.parametrize("mode", ["reduced", "complete", "r", "raw"])
@pytest.mark.parametrize("shape", [(4, 2), (2, 4)])
def test_qr_matches_numpy(mode, shape):
    a = RNG.normal(size=shape)
    x = tensor("float64", 2)
    out = nl.qr(x, mode)
    outs = out if isinstance(out, list) else [out]
    ref = np.linalg.qr(a, mode)
    ref = [ref] if mode == "r" else list(ref)
    for got, expected, var in zip(function([x], outs)(a), ref, outs, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-12)
        check_infer_shape([x], var, [a])


def test_qr_rejects_unknown_mode():
    with pytest.raises(ValueError, match="QRFull: mode must be reduced, complete, r or raw"):
        nl.qr(tensor("float64", 2), "economic")


# ------------------------------------------------------------------------------ lstsq
@pytest.mark.parametrize("b_shape", [(5,), (5, 2)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lstsq_matches_numpy(b_shape, dtype):
    a, b = RNG.normal(size=(5, 3)).astype(dtype), RNG.normal(size=b_shape).astype(dtype)
    got = run(nl.lstsq, a, b)
    ref = np.linalg.lstsq(a, b, rcond=None)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=TOL[dtype] * 100, atol=1e-5)
    assert got[2].dtype == "int64" and int(got[2]) == 3


def test_lstsq_infer_shape_and_errors():
    a, b = tensor("float64", 2, "a"), tensor("float64", 2, "b")
    values = [RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))]
    for out in nl.lstsq(a, b):
        check_infer_shape([a, b], out, values)
    with pytest.raises(ValueError, match="Lstsq: a has 4 rows but b has 3"):
        nl.lstsq(tensor("float64", 2, shape=(4, 2)), tensor("float64", 1, shape=(3,)))
    with pytest.raises(TypeError, match="Lstsq: expected a 1-d or 2-d tensor"):
        nl.lstsq(a, tensor("float64", 3))


# ------------------------------------------------------------------------------ diagonals, trace
@pytest.mark.parametrize(
    ("shape", "offset", "axes"),
    [((3, 3), 0, (0, 1)), ((3, 5), 1, (0, 1)), ((5, 3), -2, (0, 1)), ((2, 3, 4), 1, (2, 0))],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_extract_diag_matches_numpy_with_its_gradient(shape, offset, axes, dtype):
    a = (RNG.normal(size=shape) * 3).astype(dtype)
    got = run(lambda x: nl.extract_diag(x, offset, *axes), a)
    np.testing.assert_array_equal(got, np.diagonal(a, offset, *axes))
    if dtype == "float64":
        check_grad(lambda x: nl.extract_diag(x, offset, *axes), a)
        x = tensor("float64", len(shape))
        check_infer_shape([x], nl.extract_diag(x, offset, *axes), [a])


@given(
    rows=st.integers(0, 5), cols=st.integers(0, 5), offset=st.integers(-6, 6), known=st.booleans()
)
@settings(max_examples=40, deadline=None)
def test_extract_diag_static_length_follows_numpy(rows, cols, offset, known):
    x = tensor("float64", 2, shape=(rows, cols) if known else (None, None))
    length = nl.extract_diag(x, offset).type.shape[0]
    assert length == (np.diagonal(np.zeros((rows, cols)), offset).shape[0] if known else None)


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_alloc_diag_and_diag(offset):
    v = RNG.normal(size=3)
    np.testing.assert_array_equal(run(lambda x: nl.alloc_diag(x, offset), v), np.diag(v, offset))
    np.testing.assert_array_equal(run(lambda x: nl.diag(x, offset), v), np.diag(v, offset))
    m = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(run(lambda x: nl.diag(x, offset), m), np.diag(m, offset))
    check_grad(lambda x: nl.alloc_diag(x, offset), v)
    x = tensor("float64", 1)
    check_infer_shape([x], nl.alloc_diag(x, offset), [v])


def test_diagonal_errors():
    with pytest.raises(ValueError, match="diag: expected a vector or a matrix"):
        nl.diag(tensor("float64", 3))
    with pytest.raises(TypeError, match="ExtractDiag: expected a tensor of 2 or more dims"):
        nl.extract_diag(tensor("float64", 1))
    with pytest.raises(ValueError, match=r"ExtractDiag: axes \(1, 1\) are not two distinct axes"):
        nl.extract_diag(tensor("float64", 2), 0, 1, 1)
    with pytest.raises(TypeError, match="trace: expected a matrix"):
        nl.trace(tensor("float64", 1))


def test_extract_diag_is_a_view_and_the_function_output_is_not():
    x = tensor("float64", 2)
    assert nl.ExtractDiag.view_map == {0: [0]}
    a = np.arange(9.0).reshape(3, 3)
    out = function([x], nl.extract_diag(x))(a)
    out[0] = 100.0  # writable: the function copied the view
    assert a[0, 0] == 0.0


@pytest.mark.parametrize("shape", [(3, 3), (2, 4)])
def test_trace(shape):
    a = RNG.normal(size=shape)
    assert run(nl.trace, a) == pytest.approx(np.trace(a))
    check_grad(nl.trace, a)


# ------------------------------------------------------------------------------ norm
VECTOR_ORDS = [None, 2, 1, 3, 0.5, np.inf, -np.inf, "inf", "-inf", 0]
MATRIX_ORDS = [None, "fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norms_match_numpy(ord):
    v = np.array([3.0, -4.0, 0.0, 1.5])
    reference = np.linalg.norm(v, {"inf": np.inf, "-inf": -np.inf}.get(ord, ord))
    assert run(lambda x: nl.norm(x, ord), v) == pytest.approx(reference)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matrix_norms_match_numpy(ord, dtype):
    a = RNG.normal(size=(3, 4)).astype(dtype)
    out = run(lambda x: nl.norm(x, ord), a)
    assert out.dtype == dtype
    assert out == pytest.approx(np.linalg.norm(a, ord), rel=1e-5)


@pytest.mark.parametrize(("ndim", "ord"), [(1, None), (1, 3), (2, None), (2, 1), (2, "nuc")])
def test_norm_gradients(ndim, ord):
    check_grad(lambda x: nl.norm(x, ord), RNG.normal(size=(3, 4)[:ndim]) + 0.1)


def test_norm_errors():
    with pytest.raises(ValueError, match="norm: invalid order 'abc' for a vector"):
        nl.norm(tensor("float64", 1), "abc")
    with pytest.raises(ValueError, match="norm: invalid order 3 for a matrix"):
        nl.norm(tensor("float64", 2), 3)
    with pytest.raises(TypeError, match="norm: expected a 1-d or 2-d tensor"):
        nl.norm(tensor("float64", 3))


# ------------------------------------------------------------------------------ matrix_power, dot
@pytest.mark.parametrize("n", [-2, -1, 0, 1, 2, 5, 6])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matrix_power_matches_numpy(n, dtype):
    a = (well_conditioned(3) / 3).astype(dtype)
    out = run(lambda x: nl.matrix_power(x, n), a)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, np.linalg.matrix_power(a, n), rtol=TOL[dtype] * 100)


def test_matrix_power_gradient_and_errors():
    check_grad(lambda x: nl.matrix_power(x, 3), RNG.normal(size=(3, 3)))
    check_grad(lambda x: nl.matrix_power(x, -1), well_conditioned(3))
    with pytest.raises(TypeError, match="matrix_power: the exponent must be an int"):
        nl.matrix_power(tensor("float64", 2), 1.5)
    with pytest.raises(ValueError, match="matrix_power: expected a square matrix"):
        nl.matrix_power(tensor("float64", 2, shape=(2, 3)), 2)
    ints = np.array([[1, 1], [0, 1]], "int64")
    np.testing.assert_array_equal(run(lambda x: nl.matrix_power(x, 3), ints), [[1, 3], [0, 1]])


def test_matrix_dot_chains_products():
    a, b, c = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    np.testing.assert_allclose(run(nl.matrix_dot, a, b, c), a @ b @ c)
    with pytest.raises(TypeError, match="matrix_dot: give at least one matrix"):
        nl.matrix_dot()


def test_infer_shapes_of_square_ops():
    x = tensor("float64", 2)
    a = well_conditioned(4)
    for out in (nl.matrix_inverse(x), nl.pinv(x), nl.det(x), *nl.eigh(x)):
        check_infer_shape([x], out, [a])
    y = tensor("float64", 2)
    check_infer_shape([y], nl.pinv(y), [RNG.normal(size=(2, 5))])


def test_eigh_grad_op_infers_the_input_shape():
    x, gw, gv = tensor("float64", 2, "x"), tensor("float64", 1, "gw"), tensor("float64", 2, "gv")
    w, v = nl.eigh(x)
    out = nl.EighGrad()(x, w, v, gw, gv)
    check_infer_shape([x, gw, gv], out, [symmetric(3), np.ones(3), np.ones((3, 3))])
