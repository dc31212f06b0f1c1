"""Special functions and Theano's other scalar-table Elemwise ops beyond core.ops.math.

gamma, psi, erfinv, Bessel functions, xlogx...: each is the Elemwise of one scalar-table
record, so fusion and the renderers see them like exp. May import core.ops.math/elemwise.
"""

from __future__ import annotations

from typing import Any

from labsym.core.autodiff import grad_not_implemented
from labsym.core.ops.elemwise import Elemwise, function_op_name
from labsym.core.ops.math import elemwise_op
from labsym.core.scalar import SCALAR_OPS

gamma = elemwise_op("gamma")
gammaln = elemwise_op("gammaln")
psi = elemwise_op("psi")  # digamma: d/dx gammaln(x)
tri_gamma = elemwise_op("tri_gamma")  # polygamma(1, x): d/dx psi(x)
erfinv = elemwise_op("erfinv")
erfcinv = elemwise_op("erfcinv")
erfcx = elemwise_op("erfcx")  # exp(x**2) * erfc(x) without overflow
j0 = elemwise_op("j0")
j1 = elemwise_op("j1")
i0 = elemwise_op("i0")
i1 = elemwise_op("i1")
gammainc = elemwise_op("gammainc")  # gammainc(k, x): regularized lower incomplete gamma
gammaincc = elemwise_op("gammaincc")  # gammaincc(k, x): regularized upper incomplete gamma
gammau = elemwise_op("gammau")  # gammau(k, x): upper incomplete gamma
gammal = elemwise_op("gammal")  # gammal(k, x): lower incomplete gamma
inv = elemwise_op("inv")  # 1.0 / x, a float even for integer x (NumPy's reciprocal is not)
trunc = elemwise_op("trunc")
round_half_away_from_zero = elemwise_op("round_half_away_from_zero")  # Theano's T name
deg2rad = elemwise_op("deg2rad")
rad2deg = elemwise_op("rad2deg")
chi2sf = elemwise_op("chi2sf")  # chi2sf(x, k): 1 - CDF of chi-squared, float64 (as Theano)

# complex numbers
real = elemwise_op("real")
imag = elemwise_op("imag")
angle = elemwise_op("angle")  # the argument of z, always float64 (as Theano)
conj = elemwise_op("conj")
complex = elemwise_op("complex")  # noqa: A001 - Theano's name: complex(real, imag)
complex_from_polar = elemwise_op("complex_from_polar")  # complex_from_polar(abs, angle)


class BesselOrderElemwise(Elemwise):
    """jv(v, x) / iv(v, x): differentiable in x; the gradient in the order v is not implemented.

    The scalar record marks v as having no gradient; this says so as Theano did
    (grad_not_implemented), so asking for d/dv raises instead of reading as disconnected.
    """

    def L_op(self, inputs: Any, outputs: Any, output_grads: Any) -> list:
        grads = super().L_op(inputs, outputs, output_grads)
        return [grad_not_implemented(self, 0, inputs[0]), grads[1]]


jv = BesselOrderElemwise(SCALAR_OPS["jv"], name=function_op_name(SCALAR_OPS["jv"]))
"""jv(v, x): Bessel function of the first kind of real order v."""
iv = BesselOrderElemwise(SCALAR_OPS["iv"], name=function_op_name(SCALAR_OPS["iv"]))
"""iv(v, x): modified Bessel function of the first kind of real order v."""

# Theano named these two Elemwise ops themselves (theano.tensor.xlogx), over scalar_xlogx/y0
xlogx = Elemwise(SCALAR_OPS["scalar_xlogx"], name="xlogx")  # x * log(x), 0 at x = 0
xlogy0 = Elemwise(SCALAR_OPS["scalar_xlogy0"], name="xlogy0")  # x * log(y), 0 where x = 0
