"""Gemm, Gemv and Ger against NumPy: dtypes, shapes, memory layouts, errors and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import Mode, function
from labsym.core.op import call_infer_shape
from labsym.core.ops.gemm import Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace, ger
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(7)
NO_REWRITES = Mode(linker="py", optimizer=None)
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}


def tensor(ndim, dtype="float64"):
    return TensorType(dtype, (None,) * ndim)()


def random(shape, dtype="float64"):
    return RNG.normal(size=shape).astype(dtype)


def layouts(arr):
    """The same values C-ordered, Fortran-ordered, and as a strided (non-contiguous) view."""
    strided = np.repeat(arr, 2, axis=-1)[..., ::2]
    return [np.ascontiguousarray(arr), np.asfortranarray(arr), strided]


def compiled(op, ndims, dtype, mode=NO_REWRITES):
    inputs = [tensor(n, dtype) for n in ndims]
    return function(inputs, op(*inputs), mode=mode)


# ---------------------------------------------------------------------------- values
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "m, k, n", [(3, 4, 5), (1, 1, 1), (6, 1, 2), (2, 7, 1), (0, 3, 2), (3, 0, 2)]
)
def test_gemm_matches_numpy_for_every_layout(dtype, m, k, n):
    f = compiled(gemm_no_inplace, (2, 0, 2, 2, 0), dtype)
    a, b = np.asarray(0.75, dtype), np.asarray(-1.5, dtype)
    z0, x0, y0 = random((m, n), dtype), random((m, k), dtype), random((k, n), dtype)
    for z, x, y in zip(layouts(z0), layouts(x0), layouts(y0)[::-1], strict=True):
        before = z.copy()
        out = f(z, a, x, y, b)
        assert out.dtype == dtype and out.shape == (m, n)
        np.testing.assert_allclose(out, b * z0 + a * (x0 @ y0), **TOL[dtype])
        np.testing.assert_array_equal(z, before)  # the input is never modified


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_reads_transposed_views_without_changing_the_result(dtype):
    z, x, y = tensor(2, dtype), tensor(2, dtype), tensor(2, dtype)
    f = function([z, x, y], gemm_no_inplace(z.T, 2.0, x.T, y.T, 0.5), mode=NO_REWRITES)
    zv, xv, yv = random((4, 3), dtype), random((5, 3), dtype), random((4, 5), dtype)
    np.testing.assert_allclose(f(zv, xv, yv), 0.5 * zv.T + 2.0 * (xv.T @ yv.T), **TOL[dtype])


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(1, 6),
    st.floats(-3, 3),
    st.floats(-3, 3),
    st.booleans(),
)
def test_gemm_any_shape_and_scales(m, k, n, a, b, fortran):
    f = compiled(gemm_no_inplace, (2, 0, 2, 2, 0), "float64")
    z, x, y = random((m, n)), random((m, k)), random((k, n))
    if fortran:
        z, x = np.asfortranarray(z), np.asfortranarray(x)
    out = f(z, np.asarray(a), x, y, np.asarray(b))
    np.testing.assert_allclose(out, b * z + a * (x @ y), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, n", [(3, 4), (1, 5), (5, 1), (0, 3), (3, 0)])
def test_gemv_matches_numpy_for_every_layout(dtype, m, n):
    f = compiled(gemv_no_inplace, (1, 0, 2, 1, 0), dtype)
    a, b = np.asarray(-0.5, dtype), np.asarray(2.0, dtype)
    y0, big_a, x0 = random((m,), dtype), random((m, n), dtype), random((n,), dtype)
    for matrix in layouts(big_a):
        y, x = y0.copy(), np.repeat(x0, 2)[::2]
        out = f(y, a, matrix, x, b)
        assert out.dtype == dtype and out.shape == (m,)
        np.testing.assert_allclose(out, b * y0 + a * (big_a @ x0), **TOL[dtype])
        np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, n", [(3, 4), (1, 5), (5, 1), (0, 3)])
def test_ger_matches_numpy_for_every_layout(dtype, m, n):
    f = compiled(ger, (2, 0, 1, 1, 0), dtype)
    a, b = np.asarray(1.25, dtype), np.asarray(0.5, dtype)
    big_a, x, y = random((m, n), dtype), random((m,), dtype), random((n,), dtype)
    for matrix in layouts(big_a):
        before, x_before, y_before = matrix.copy(), x.copy(), y.copy()
        out = f(matrix, a, x, y, b)
        assert out.dtype == dtype and out.shape == (m, n)
        np.testing.assert_allclose(out, b * big_a + a * np.outer(x, y), **TOL[dtype])
        for arr, copy in ((matrix, before), (x, x_before), (y, y_before)):
            np.testing.assert_array_equal(arr, copy)


def test_ger_takes_theano_four_inputs_with_b_one():
    big_a, x, y = tensor(2), tensor(1), tensor(1)
    f = function([big_a, x, y], ger(big_a, 3.0, x, y), mode=NO_REWRITES)
    av, xv, yv = random((2, 3)), random(2), random(3)
    np.testing.assert_allclose(f(av, xv, yv), av + 3.0 * np.outer(xv, yv))


@pytest.mark.parametrize(
    "op, ndims, shapes",
    [
        (gemm_no_inplace, (2, 0, 2, 2, 0), [(2, 2), (), (2, 3), (3, 2), ()]),
        (gemv_no_inplace, (1, 0, 2, 1, 0), [(2,), (), (2, 3), (3,), ()]),
        (ger, (2, 0, 1, 1, 0), [(2, 3), (), (2,), (3,), ()]),
    ],
)
def test_b_zero_does_not_read_the_accumulated_input(op, ndims, shapes):
    f = compiled(op, ndims, "float64")
    values = [random(s) for s in shapes]
    values[0][...] = np.nan
    values[4] = np.asarray(0.0)
    assert np.all(np.isfinite(f(*values)))


def test_symbolic_scales_and_python_numbers():
    z, x, y = tensor(2, "float32"), tensor(2, "float32"), tensor(2, "float32")
    a = TensorType("float32", ())()
    out = gemm_no_inplace(z, a, x, y, 3)
    assert out.dtype == "float32"
    f = function([z, a, x, y], out, mode=NO_REWRITES)
    zv, xv, yv = random((2, 2), "float32"), random((2, 3), "float32"), random((3, 2), "float32")
    np.testing.assert_allclose(f(zv, np.float32(-2), xv, yv), 3 * zv - 2 * (xv @ yv), rtol=1e-5)


def test_names_follow_theano():
    assert str(gemm_no_inplace) == "Gemm{no_inplace}"
    assert str(gemv_no_inplace) == "Gemv{no_inplace}"
    assert str(ger) == "Ger{non-destructive}"
    assert Gemm() == gemm_no_inplace and hash(Gemv()) == hash(gemv_no_inplace)


# ---------------------------------------------------------------------------- errors
def test_integer_operands_are_refused():
    z, x, y = tensor(2, "int64"), tensor(2, "int64"), tensor(2, "int64")
    with pytest.raises(
        TypeError, match=r"Gemm\{no_inplace\}: operands must all be float32 or all float64"
    ):
        gemm_no_inplace(z, 1, x, y, 1)


def test_mixed_dtypes_are_refused():
    with pytest.raises(
        TypeError, match=r"Gemv\{no_inplace\}: .*y: float32, A: float64, x: float32"
    ):
        gemv_no_inplace(tensor(1, "float32"), 1, tensor(2), tensor(1, "float32"), 1)


def test_wrong_ndim_is_refused():
    with pytest.raises(TypeError, match=r"Ger\{non-destructive\}: x must have 1 dims"):
        ger(tensor(2), 1, tensor(2), tensor(1))
    with pytest.raises(TypeError, match=r"Gemm\{no_inplace\}: a must be a scalar"):
        gemm_no_inplace(tensor(2), tensor(1), tensor(2), tensor(2), 1)


def test_scale_that_would_lose_precision_is_refused():
    a64 = TensorType("float64", ())()
    with pytest.raises(TypeError, match="b has dtype float64, which float32 cannot hold"):
        gemm_no_inplace(tensor(2, "float32"), 1, tensor(2, "float32"), tensor(2, "float32"), a64)


def test_static_shape_mismatch_is_refused():
    z, x, y = (
        TensorType("float64", (2, 3))(),
        TensorType("float64", (2, 4))(),
        TensorType("float64", (5, 3))(),
    )
    with pytest.raises(
        ValueError, match=r"x's columns and y's rows have different static lengths \[4, 5\]"
    ):
        gemm_no_inplace(z, 1, x, y, 1)


def test_run_time_shape_mismatch_names_the_op_and_shapes():
    f = compiled(gemm_no_inplace, (2, 0, 2, 2, 0), "float64")
    with pytest.raises(
        ValueError, match=r"Gemm\{no_inplace\}: shapes do not match: z \(2, 2\), x \(2, 3\)"
    ):
        f(random((2, 2)), np.asarray(1.0), random((2, 3)), random((3, 4)), np.asarray(1.0))
    g = compiled(gemv_no_inplace, (1, 0, 2, 1, 0), "float64")
    with pytest.raises(ValueError, match=r"Gemv\{no_inplace\}: shapes do not match: y \(3,\)"):
        g(random(3), np.asarray(1.0), random((2, 2)), random(2), np.asarray(1.0))


# ---------------------------------------------------------------------------- shapes, gradients
def test_static_shapes_and_infer_shape():
    z, x, y = TensorType("float64", (None, None))(), TensorType("float64", (2, 3))(), tensor(2)
    node = gemm_no_inplace(z, 1, x, y, 1).owner
    assert node.outputs[0].type.shape == (2, None)
    assert call_infer_shape(node.op, None, node, [("m", "n"), (), (2, 3), (3, "n"), ()]) == [
        ("m", "n")
    ]
    node = ger(TensorType("float64", (None, 4))(), 1, tensor(1), tensor(1)).owner
    assert node.outputs[0].type.shape == (None, 4)
    node = gemv_no_inplace(tensor(1), 1, TensorType("float64", (5, None))(), tensor(1), 1).owner
    assert node.outputs[0].type.shape == (5,)


@pytest.mark.parametrize(
    "op, shapes",
    [
        (Gemm(), [(2, 3), (), (2, 4), (4, 3), ()]),
        (Gemv(), [(3,), (), (3, 4), (4,), ()]),
        (Ger(), [(3, 4), (), (3,), (4,), ()]),
    ],
)
def test_gradients_match_finite_differences(op, shapes):
    verify_grad(op, [random(s) for s in shapes], rng=np.random.default_rng(0))
