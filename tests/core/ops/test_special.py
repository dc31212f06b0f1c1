"""Special functions of core.ops.special: Theano's gradients, dtypes, errors, fusion, pickling.

Values over shapes and dtypes are checked by the op table (tests/op_table.py SPECIAL).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import scipy.special
import scipy.stats

from labsym.compile import function
from labsym.core.autodiff import GradientError, NullTypeGradError, grad
from labsym.core.ops import special as sp
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

X = np.array([0.3, 0.7, 1.6, 2.9])


def _vector(dtype: str = "float64"):
    return TensorType(dtype, (None,))("x")


def _grad_of(op, values):
    x = _vector()
    return function([x], grad(op(x).sum(), x))(values)


@pytest.mark.parametrize(
    "op,derivative",
    [
        (sp.gammaln, scipy.special.psi),  # gammaln' = psi
        (sp.psi, lambda x: scipy.special.polygamma(1, x)),  # psi' = tri_gamma
        (sp.gamma, lambda x: scipy.special.gamma(x) * scipy.special.psi(x)),
        (sp.i0, scipy.special.i1),  # i0' = i1
        (sp.j0, lambda x: -scipy.special.j1(x)),  # j0' = -j1
        (sp.j1, lambda x: scipy.special.jvp(1, x)),
        (sp.i1, lambda x: scipy.special.ivp(1, x)),
        (sp.erfcx, lambda x: 2 * x * scipy.special.erfcx(x) - 2 / math.sqrt(math.pi)),
        (sp.inv, lambda x: -1 / x**2),
        (sp.deg2rad, lambda x: np.full_like(x, math.pi / 180)),
        (sp.rad2deg, lambda x: np.full_like(x, 180 / math.pi)),
        (sp.xlogx, lambda x: 1 + np.log(x)),
        (sp.trunc, np.zeros_like),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_gradients_are_theanos_formulas(op, derivative):
    np.testing.assert_allclose(_grad_of(op, X), derivative(X), rtol=1e-10, atol=1e-12)


def test_inverse_error_function_gradients():
    # erfinv'(x) = sqrt(pi)/2 * exp(erfinv(x)**2); erfcinv' is its negative at erfcinv
    x = np.array([-0.8, -0.1, 0.4, 0.9])
    want = math.sqrt(math.pi) / 2 * np.exp(scipy.special.erfinv(x) ** 2)
    np.testing.assert_allclose(_grad_of(sp.erfinv, x), want, rtol=1e-10)
    want_c = -math.sqrt(math.pi) / 2 * np.exp(scipy.special.erfcinv(x + 1) ** 2)
    np.testing.assert_allclose(_grad_of(sp.erfcinv, x + 1), want_c, rtol=1e-10)


def test_bessel_of_real_order_differentiates_in_x_only():
    v, x = TensorType("float64", ())("v"), _vector()
    gx = function([v, x], grad(sp.jv(v, x).sum(), x))(2.5, X)
    np.testing.assert_allclose(gx, scipy.special.jvp(2.5, X), rtol=1e-10)
    gi = function([v, x], grad(sp.iv(v, x).sum(), x))(1.5, X)
    np.testing.assert_allclose(gi, scipy.special.ivp(1.5, X), rtol=1e-10)
    with pytest.raises(NullTypeGradError, match=r"Elemwise\{jv,no_inplace\} for input 0 is not"):
        grad(sp.jv(v, x).sum(), v)
    with pytest.raises(NullTypeGradError, match=r"Elemwise\{iv,no_inplace\} for input 0 is not"):
        grad(sp.iv(v, x).sum(), v)


@pytest.mark.parametrize(
    "build",
    [
        lambda x: sp.tri_gamma(x),
        lambda x: sp.chi2sf(x, 3.0),
        lambda x: sp.gammainc(2.0, x),
        lambda x: sp.gammaincc(x, 1.0),
        lambda x: sp.gammau(x, 1.0),
        lambda x: sp.gammal(x, 1.0),
    ],
    ids=["tri_gamma", "chi2sf", "gammainc", "gammaincc", "gammau", "gammal"],
)
def test_ops_theano_gave_no_gradient_refuse_to_differentiate(build):
    x = _vector()
    with pytest.raises(GradientError, match="has no gradient"):
        grad(build(x).sum(), x)


@pytest.mark.parametrize(
    "dtype,want", [("int8", "float32"), ("int16", "float32"), ("int32", "float64")]
)
def test_integer_inputs_upgrade_to_float_like_theano(dtype, want):
    x = _vector(dtype)
    for op in (sp.gamma, sp.gammaln, sp.psi, sp.erfinv, sp.j0, sp.i1, sp.inv, sp.trunc):
        assert op(x).dtype == want
    got = function([x], sp.inv(x))(np.array([2, 4], dtype=dtype))
    np.testing.assert_array_equal(got, np.array([0.5, 0.25], dtype=want))


def test_chi2sf_is_float64_whatever_the_input():
    x = _vector("float32")
    out = sp.chi2sf(x, 2)
    assert out.dtype == "float64"
    values = np.array([0.0, 1.0, 5.0, 0.1], dtype="float32")
    got = function([x], out)(values)
    # computed in float64, as Theano: exact to double precision for the float32 inputs
    np.testing.assert_allclose(got, scipy.stats.chi2.sf(values.astype("float64"), 2), rtol=1e-14)
    assert str(out.owner.op) == "Elemwise{chi2sf,no_inplace}"


def test_xlogx_and_xlogy0_are_zero_where_x_is_zero():
    x, y = _vector(), TensorType("float64", (None,))("y")
    f = function([x, y], [sp.xlogx(x), sp.xlogy0(x, y)])
    got_x, got_y = f(np.array([0.0, 0.5, 2.0]), np.array([0.0, 3.0, 0.5]))
    np.testing.assert_allclose(got_x, [0.0, 0.5 * math.log(0.5), 2 * math.log(2)])
    np.testing.assert_allclose(got_y, [0.0, 0.5 * math.log(3), 2 * math.log(0.5)])
    gx, gy = function([x, y], grad(sp.xlogy0(x, y).sum(), [x, y]))(X, X + 1)
    np.testing.assert_allclose(gx, np.log(X + 1))
    np.testing.assert_allclose(gy, X / (X + 1))


def test_names_print_as_theano():
    assert str(sp.gamma) == "Elemwise{gamma,no_inplace}"
    assert str(sp.erfinv) == "Elemwise{erfinv,no_inplace}"
    assert str(sp.jv) == "Elemwise{jv,no_inplace}"
    assert str(sp.xlogx) == "xlogx"
    assert str(sp.xlogy0) == "xlogy0"


def test_fused_graph_of_special_functions_matches_scipy():
    x = _vector()
    out = sp.gammaln(x) * 2 + sp.psi(x) - sp.i0(x)
    want = scipy.special.gammaln(X) * 2 + scipy.special.psi(X) - scipy.special.i0(X)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        np.testing.assert_allclose(function([x], out, mode=mode)(X), want, rtol=1e-12)


def test_graphs_with_special_functions_pickle():
    x = _vector()
    out = pickle.loads(pickle.dumps(sp.erfcx(x) + sp.gamma(x)))
    x2 = out.owner.inputs[0].owner.inputs[0]  # erfcx's input, as unpickled
    got = function([x2], out)(X)
    np.testing.assert_allclose(got, scipy.special.erfcx(X) + scipy.special.gamma(X))


# ------------------------------------------------------------------------------ complex numbers
Z = np.array([1 + 2j, -3 - 1j, -0.5 + 0.1j, 2 - 0j])


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_complex_parts_match_numpy(dtype):
    z = _vector(dtype)
    values = Z.astype(dtype)
    outs = [sp.real(z), sp.imag(z), sp.angle(z), sp.conj(z)]
    part = "float64" if dtype == "complex128" else "float32"
    assert [o.dtype for o in outs] == [part, part, "float64", dtype]
    got = function([z], outs)(values)
    for g, want in zip(got, [values.real, values.imag, np.angle(values), np.conj(values)]):
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_conj_of_real_tensors_is_the_identity():
    for dtype, values in (("int8", [1, -2]), ("float32", [0.5, -1.0]), ("bool", [True, False])):
        x = _vector(dtype)
        got = function([x], sp.conj(x))(np.array(values, dtype=dtype))
        np.testing.assert_array_equal(got, values)
        assert got.dtype == np.dtype(dtype)


@pytest.mark.parametrize(
    "dtypes_in,want",
    [
        (("float64", "float64"), "complex128"),
        (("float32", "float32"), "complex64"),
        (("int32", "float32"), "complex128"),
        (("int8", "int16"), "complex64"),
    ],
)
def test_complex_dtype_rule_is_theanos(dtypes_in, want):
    x, y = (TensorType(d, (None,))() for d in dtypes_in)
    assert sp.complex(x, y).dtype == want
    assert sp.complex_from_polar(x, y).dtype == want


def test_complex_and_polar_values():
    x, y = _vector(), TensorType("float64", (None,))("y")
    built = function([x, y], sp.complex(x, y))
    re, im = np.array([1.0, np.inf, 0.0]), np.array([np.inf, 2.0, -1.5])
    got = built(re, im)
    np.testing.assert_array_equal(got.real, re)  # no nan from 1j * inf
    np.testing.assert_array_equal(got.imag, im)
    f = function([x, y], sp.complex_from_polar(x, y))
    r, theta = np.array([1.0, 2.0, 0.0]), np.array([0.5, np.pi, 1.0])
    np.testing.assert_allclose(f(r, theta), r * np.exp(1j * theta), atol=1e-15)
    with pytest.raises(ValueError, match="polar radius must be non-negative"):
        f(np.array([-1.0]), np.array([0.0]))
    with pytest.raises(TypeError, match="the real and imaginary parts must be real"):
        sp.complex(_vector("complex128"), x)


def test_complex_gradients_follow_theanos_convention():
    # dC/dz = dC/dx + i dC/dy for a real cost C of z = x + i y
    z = _vector("complex128")
    g = function([z], grad((sp.real(z) ** 2 + 3 * sp.imag(z) + sp.angle(z)).sum(), z))(Z)
    x, y = Z.real, Z.imag
    np.testing.assert_allclose(g, (2 * x - y / abs(Z) ** 2) + 1j * (3 + x / abs(Z) ** 2))
    with pytest.raises(GradientError, match=r"Elemwise\{conj,no_inplace\} has no gradient"):
        grad(sp.real(sp.conj(z)).sum(), z)


def test_complex_builders_differentiate_through_real_costs():
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 2, 4) * np.array([1, -1, 1, -1])
    b = rng.uniform(0.5, 2, 4) * np.array([1, 1, -1, -1])
    verify_grad(lambda x, y: sp.real(sp.complex(x, y)) ** 2 + 3 * sp.imag(sp.complex(x, y)), [a, b])
    verify_grad(lambda x, y: sp.angle(sp.complex(x, y)), [a, b])
    verify_grad(
        lambda r, t: (
            2 * sp.real(sp.complex_from_polar(r, t)) + sp.imag(sp.complex_from_polar(r, t)) ** 2
        ),
        [np.abs(a), b],
    )


def test_round_half_away_from_zero_is_theanos_elemwise():
    x = _vector()
    got = function([x], sp.round_half_away_from_zero(x))(np.array([0.5, 1.5, -0.5, -2.5]))
    np.testing.assert_array_equal(got, [1.0, 2.0, -1.0, -3.0])
    assert str(sp.round_half_away_from_zero) == "Elemwise{round_half_away_from_zero,no_inplace}"


def test_fused_xlogx_prints_theanos_scalar_name():
    from labsym.printing import debugprint

    x = _vector()
    text = debugprint(function([x], sp.xlogx(x) + 1), file="str")
    assert "scalar_xlogx(i0)" in text
