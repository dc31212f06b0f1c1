"""The scalar table: one record per elementwise operation.

Each record holds the NumPy implementation, a C expression template, the output dtype rule
and the gradient written with other table operations. Elemwise, fusion and the C and CUDA
renderers all read this one table, so a new elementwise op is one record here.
May import numpy, scipy.special and core.dtypes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labsym.core import dtypes

ZERO = "zero"  # gradient marker: connected, but identically zero (floor, comparisons...)


@dataclass(frozen=True, eq=False)
class ScalarOp:
    """One elementwise operation.

    `grad(m, inputs, output, gz)` returns one entry per input: a tensor expression built with
    the math namespace `m`, ZERO, or None (no gradient: discrete input).
    `output` is the dtype rule: 'upcast' (NumPy promotion), 'float' (ints computed as floats),
    'bool', 'fixed' (the dtype in `params[0]`, for casts), 'real' (a complex dtype's real
    part dtype, others unchanged), 'complex' (Theano's rule for building complex numbers) or
    'float64'. Only inputs from `dtype_from` on decide the dtype (switch's condition and fill's
    model do not).
    """

    name: str
    nin: int
    impl: Callable[..., Any]
    c: str | None = None
    output: str = "upcast"
    grad: Callable[..., list] | None = None
    identity: Any = None
    commutative: bool = False
    associative: bool = False
    params: tuple = field(default=())
    accepts_bool: bool = True  # NumPy refuses `-` on booleans (neg, sub)
    dtype_from: int = 0
    cuda: str | None = None  # CUDA expression, only where it differs from `c`

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalarOp) and (self.name, self.params) == (
            other.name,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((ScalarOp, self.name, self.params))

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple:
        # pickled by name: the table (with its lambdas) is rebuilt on import
        return (scalar_op_named, (self.name, self.params))

    def output_dtype(self, input_dtypes: list[str]) -> str:
        """The output dtype for these input dtypes, by this op's rule."""
        if self.output == "bool":
            return "bool"
        if self.output == "fixed":
            return self.params[0]
        if self.output == "float64":
            return "float64"
        if self.output == "complex":
            return _complex_dtype(input_dtypes)
        common = dtypes.upcast(*input_dtypes[self.dtype_from :])
        if self.output == "float":
            return dtypes.upgrade_to_float(common)
        if self.output == "real":
            return _REAL_PART.get(common, common)
        return common


_REAL_PART = {"complex64": "float32", "complex128": "float64"}


def _complex_dtype(input_dtypes: list[str]) -> str:
    """Theano's dtype for complex(x, y): complex128 from 64-bit or 32-bit ints, else complex64."""
    for dtype in input_dtypes:
        if dtype in dtypes.COMPLEX_DTYPES:
            raise TypeError(f"complex: the real and imaginary parts must be real, got {dtype}")
    common = dtypes.upcast(*input_dtypes)
    wide = ("float64", "int64", "uint64", "int32", "uint32")
    return "complex128" if common in wide else "complex64"


# ---------------------------------------------------------------------- NumPy implementations
def _softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, and faster than logaddexp
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _second(a, b):
    a_shape, b_shape = np.shape(a), np.shape(b)
    if len(a_shape) == len(b_shape) and all(
        bd == 1 or bd == ad for ad, bd in zip(a_shape, b_shape)
    ):
        shape = a_shape
    else:
        shape = np.broadcast_shapes(a_shape, b_shape)
    out = np.empty(shape, dtype=np.result_type(b))
    out[...] = b
    return out


class LazyUfunc:
    """A scipy.special ufunc imported on first use, so `import labsym` stays fast."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fn: Any = None

    def resolve(self) -> Any:
        if self._fn is None:
            import scipy.special

            self._fn = getattr(scipy.special, self.name)
        return self._fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


def _round_half_away_from_zero(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)).astype(
        np.result_type(x), copy=False
    )


def _make_cast(dtype: str) -> Callable[[Any], Any]:
    np_dtype = np.dtype(dtype)

    def cast(x):
        return np.asarray(x).astype(np_dtype)

    return cast


def _tri_gamma(x):
    import scipy.special

    return scipy.special.polygamma(1, x)


def _chi2sf(x, k):
    # the chi-squared survival function P(X > x) for k degrees of freedom, in float64
    import scipy.special

    return scipy.special.chdtrc(np.asarray(k, dtype="float64"), np.asarray(x, dtype="float64"))


def _gammau(k, x):
    # upper incomplete gamma, not regularized
    import scipy.special

    return scipy.special.gammaincc(k, x) * scipy.special.gamma(k)


def _gammal(k, x):
    # lower incomplete gamma, not regularized
    import scipy.special

    return scipy.special.gammainc(k, x) * scipy.special.gamma(k)


def _xlogx(x):
    # x * log(x) with 0 * log(0) = 0
    x = np.asarray(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(x))


def _xlogy0(x, y):
    # x * log(y) with 0 * log(y) = 0 for every y
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def _complex(x, y):
    # x + i y without NumPy's 1j * inf = nan + inf j
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    out = np.empty(x.shape, dtype=np.result_type(x, y, np.complex64))
    out.real, out.imag = x, y
    return out


def _conj(x):
    x = np.asarray(x)
    return x if x.dtype == np.bool_ else np.conj(x)  # NumPy has no conjugate loop for bool


def _complex_from_polar(r, theta):
    r = np.asarray(r)
    if np.any(r < 0):
        raise ValueError("polar radius must be non-negative", r)
    return _complex(r * np.cos(theta), r * np.sin(theta))


# ---------------------------------------------------------------------- gradients
def _g_mul(m, ins, out, gz):
    x, y = ins
    return [gz * y, gz * x]


def _g_true_div(m, ins, out, gz):
    x, y = ins
    return [gz / y, -gz * out / y]


def _g_pow(m, ins, out, gz):
    x, y = ins
    return [gz * y * x ** (y - 1), gz * out * m.log(x)]


def _g_mod(m, ins, out, gz):
    x, y = ins
    return [gz, -gz * m.int_div(x, y)]


def _g_maximum(m, ins, out, gz):
    x, y = ins
    pick_x = m.ge(x, y)
    return [gz * pick_x, gz * m.invert(pick_x)]


def _g_minimum(m, ins, out, gz):
    x, y = ins
    pick_x = m.le(x, y)
    return [gz * pick_x, gz * m.invert(pick_x)]


def _g_arctan2(m, ins, out, gz):
    y, x = ins
    denom = x * x + y * y
    return [gz * x / denom, -gz * y / denom]


def _g_clip(m, ins, out, gz):
    x, lo, hi = ins
    inside = m.and_(m.ge(x, lo), m.le(x, hi))
    return [gz * inside, gz * m.lt(x, lo), gz * m.gt(x, hi)]


def _g_switch(m, ins, out, gz):
    cond, a, b = ins
    zero = m.zeros_like(gz)
    return [None, m.switch(cond, gz, zero), m.switch(cond, zero, gz)]


def _g_cast(m, ins, out, gz):
    (x,) = ins
    return (
        [m.cast(gz, x.dtype)]
        if dtypes.is_float(x.dtype) or x.dtype in dtypes.COMPLEX_DTYPES
        else [None]
    )


def _special(m, name, *args):
    """A special-function Elemwise by table name (the math namespace holds only the basics)."""
    return m.elemwise_op(name)(*args)


def _g_jv(m, ins, out, gz):
    # d/dx J_v(x) = (J_{v-1}(x) - J_{v+1}(x)) / 2; no gradient in the order v (as Theano)
    v, x = ins
    return [None, gz * (_special(m, "jv", v - 1, x) - _special(m, "jv", v + 1, x)) / 2.0]


def _g_iv(m, ins, out, gz):
    # d/dx I_v(x) = (I_{v-1}(x) + I_{v+1}(x)) / 2; no gradient in the order v (as Theano)
    v, x = ins
    return [None, gz * (_special(m, "iv", v - 1, x) + _special(m, "iv", v + 1, x)) / 2.0]


def _g_xlogy0(m, ins, out, gz):
    x, y = ins
    return [gz * m.log(y), gz * x / y]


# Complex gradients follow Theano's convention: the gradient of a real cost C with respect
# to z = x + i y is dC/dx + i dC/dy.
def _g_real(m, ins, out, gz):
    (z,) = ins
    if z.dtype in dtypes.COMPLEX_DTYPES:
        return [_special(m, "complex", gz, m.zeros_like(gz))]
    return [gz]


def _g_imag(m, ins, out, gz):
    (z,) = ins
    if z.dtype in dtypes.COMPLEX_DTYPES:
        return [_special(m, "complex", m.zeros_like(gz), gz)]
    return [ZERO]


def _g_angle(m, ins, out, gz):
    # angle = atan2(y, x): d/dx = -y / r**2, d/dy = x / r**2
    (z,) = ins
    if z.dtype not in dtypes.COMPLEX_DTYPES:
        return [ZERO]
    x, y = _special(m, "real", z), _special(m, "imag", z)
    r2 = x * x + y * y
    return [_special(m, "complex", -gz * y / r2, gz * x / r2)]


def _g_complex(m, ins, out, gz):
    return [_special(m, "real", gz), _special(m, "imag", gz)]


def _g_complex_from_polar(m, ins, out, gz):
    # z = r e^{i theta}: dC/dr = Re(gz e^{-i theta}), dC/dtheta = r Im(gz e^{-i theta})
    r, theta = ins
    rotated = gz * _special(m, "complex_from_polar", m.ones_like(theta), -theta)
    return [_special(m, "real", rotated), r * _special(m, "imag", rotated)]


_SQRT_PI = math.sqrt(math.pi)


def _unary(name, impl, c, grad=None, output="float", **kw) -> ScalarOp:
    return ScalarOp(name, 1, impl, c, output, grad, **kw)


def _binary(name, impl, c, grad=None, output="upcast", **kw) -> ScalarOp:
    return ScalarOp(name, 2, impl, c, output, grad, **kw)


def _zero_grads(n: int) -> Callable[..., list]:
    return lambda m, ins, out, gz: [ZERO] * n


_TABLE = [
    # arithmetic
    _binary(
        "add",
        np.add,
        "{0} + {1}",
        lambda m, i, o, gz: [gz, gz],
        identity=0,
        commutative=True,
        associative=True,
    ),
    _binary("sub", np.subtract, "{0} - {1}", lambda m, i, o, gz: [gz, -gz], accepts_bool=False),
    _binary(
        "mul", np.multiply, "{0} * {1}", _g_mul, identity=1, commutative=True, associative=True
    ),
    _binary("true_div", np.true_divide, "{0} / {1}", _g_true_div, output="float"),
    _binary("int_div", np.floor_divide, "floor_div({0}, {1})", _zero_grads(2)),
    _binary("mod", np.mod, "py_mod({0}, {1})", _g_mod),
    _binary("pow", np.power, "pow({0}, {1})", _g_pow),
    _binary(
        "maximum",
        np.maximum,
        "(({0} > {1} || {0} != {0}) ? {0} : {1})",
        _g_maximum,
        commutative=True,
        associative=True,
    ),
    _binary(
        "minimum",
        np.minimum,
        "(({0} < {1} || {0} != {0}) ? {0} : {1})",
        _g_minimum,
        commutative=True,
        associative=True,
    ),
    _binary("arctan2", np.arctan2, "atan2({0}, {1})", _g_arctan2, output="float"),
    _binary("second", _second, "{1}", lambda m, i, o, gz: [ZERO, gz], dtype_from=1),
    _unary(
        "neg", np.negative, "-{0}", lambda m, i, o, gz: [-gz], output="upcast", accepts_bool=False
    ),
    _unary("abs", np.abs, "fabs({0})", lambda m, i, o, gz: [gz * m.sgn(i[0])], output="upcast"),
    _unary("sqr", np.square, "{0} * {0}", lambda m, i, o, gz: [gz * 2 * i[0]], output="upcast"),
    _unary("sqrt", np.sqrt, "sqrt({0})", lambda m, i, o, gz: [gz * 0.5 / o]),
    _unary("exp", np.exp, "exp({0})", lambda m, i, o, gz: [gz * o]),
    _unary("exp2", np.exp2, "exp2({0})", lambda m, i, o, gz: [gz * o * math.log(2.0)]),
    _unary("expm1", np.expm1, "expm1({0})", lambda m, i, o, gz: [gz * (o + 1)]),
    _unary("log", np.log, "log({0})", lambda m, i, o, gz: [gz / i[0]]),
    _unary("log2", np.log2, "log2({0})", lambda m, i, o, gz: [gz / (i[0] * math.log(2.0))]),
    _unary("log10", np.log10, "log10({0})", lambda m, i, o, gz: [gz / (i[0] * math.log(10.0))]),
    _unary("log1p", np.log1p, "log1p({0})", lambda m, i, o, gz: [gz / (1 + i[0])]),
    _unary("sin", np.sin, "sin({0})", lambda m, i, o, gz: [gz * m.cos(i[0])]),
    _unary("cos", np.cos, "cos({0})", lambda m, i, o, gz: [-gz * m.sin(i[0])]),
    _unary("tan", np.tan, "tan({0})", lambda m, i, o, gz: [gz * (1 + o * o)]),
    _unary("arcsin", np.arcsin, "asin({0})", lambda m, i, o, gz: [gz / m.sqrt(1 - i[0] * i[0])]),
    _unary("arccos", np.arccos, "acos({0})", lambda m, i, o, gz: [-gz / m.sqrt(1 - i[0] * i[0])]),
    _unary("arctan", np.arctan, "atan({0})", lambda m, i, o, gz: [gz / (1 + i[0] * i[0])]),
    _unary("sinh", np.sinh, "sinh({0})", lambda m, i, o, gz: [gz * m.cosh(i[0])]),
    _unary("cosh", np.cosh, "cosh({0})", lambda m, i, o, gz: [gz * m.sinh(i[0])]),
    _unary("tanh", np.tanh, "tanh({0})", lambda m, i, o, gz: [gz * (1 - o * o)]),
    _unary("arcsinh", np.arcsinh, "asinh({0})", lambda m, i, o, gz: [gz / m.sqrt(i[0] * i[0] + 1)]),
    _unary("arccosh", np.arccosh, "acosh({0})", lambda m, i, o, gz: [gz / m.sqrt(i[0] * i[0] - 1)]),
    _unary("arctanh", np.arctanh, "atanh({0})", lambda m, i, o, gz: [gz / (1 - i[0] * i[0])]),
    _unary(
        "sigmoid",
        LazyUfunc("expit"),
        "({0} >= 0 ? 1.0 / (1.0 + exp(-{0})) : exp({0}) / (1.0 + exp({0})))",
        lambda m, i, o, gz: [gz * o * (1 - o)],
    ),
    _unary(
        "softplus",
        _softplus,
        "({0} > 30.0 ? {0} : log1p(exp({0})))",
        lambda m, i, o, gz: [gz * m.sigmoid(i[0])],
    ),
    _unary(
        "erf",
        LazyUfunc("erf"),
        "erf({0})",
        lambda m, i, o, gz: [gz * (2.0 / _SQRT_PI) * m.exp(-i[0] * i[0])],
    ),
    _unary(
        "erfc",
        LazyUfunc("erfc"),
        "erfc({0})",
        lambda m, i, o, gz: [gz * (-2.0 / _SQRT_PI) * m.exp(-i[0] * i[0])],
    ),
    # special functions (scipy.special), with Theano's gradients
    _unary(
        "gamma",
        LazyUfunc("gamma"),
        "tgamma({0})",
        lambda m, i, o, gz: [gz * o * _special(m, "psi", i[0])],
    ),
    _unary(
        "gammaln",
        LazyUfunc("gammaln"),
        "lgamma({0})",
        lambda m, i, o, gz: [gz * _special(m, "psi", i[0])],
    ),
    _unary(
        "psi", LazyUfunc("psi"), None, lambda m, i, o, gz: [gz * _special(m, "tri_gamma", i[0])]
    ),
    _unary("tri_gamma", _tri_gamma, None),  # Theano: no gradient
    _unary(
        "erfinv",
        LazyUfunc("erfinv"),
        None,
        lambda m, i, o, gz: [gz * (_SQRT_PI / 2.0) * m.exp(o * o)],
    ),
    _unary(
        "erfcinv",
        LazyUfunc("erfcinv"),
        None,
        lambda m, i, o, gz: [-gz * (_SQRT_PI / 2.0) * m.exp(o * o)],
    ),
    _unary(
        "erfcx",
        LazyUfunc("erfcx"),
        None,
        lambda m, i, o, gz: [gz * (-2.0 / _SQRT_PI + 2.0 * i[0] * o)],
    ),
    _unary("j0", LazyUfunc("j0"), "j0({0})", lambda m, i, o, gz: [-gz * _special(m, "j1", i[0])]),
    _unary(
        "j1",
        LazyUfunc("j1"),
        "j1({0})",
        lambda m, i, o, gz: [gz * (_special(m, "j0", i[0]) - _special(m, "jv", 2, i[0])) / 2.0],
    ),
    _binary("jv", LazyUfunc("jv"), None, _g_jv, output="float"),
    _unary("i0", LazyUfunc("i0"), None, lambda m, i, o, gz: [gz * _special(m, "i1", i[0])]),
    _unary(
        "i1",
        LazyUfunc("i1"),
        None,
        lambda m, i, o, gz: [gz * (_special(m, "i0", i[0]) + _special(m, "iv", 2, i[0])) / 2.0],
    ),
    _binary("iv", LazyUfunc("iv"), None, _g_iv, output="float"),
    # Theano defines no gradient for these
    _binary("chi2sf", _chi2sf, None, output="float64"),
    _binary("gammainc", LazyUfunc("gammainc"), None, output="float"),
    _binary("gammaincc", LazyUfunc("gammaincc"), None, output="float"),
    _binary("gammau", _gammau, None, output="float"),
    _binary("gammal", _gammal, None, output="float"),
    # Theano's other float-valued scalar ops
    _unary("inv", lambda x: np.true_divide(1, x), "(1.0 / {0})", lambda m, i, o, gz: [-gz * o * o]),
    _unary("trunc", np.trunc, "trunc({0})", _zero_grads(1)),
    _unary(
        "deg2rad",
        np.deg2rad,
        "({0} * (M_PI / 180.0))",
        lambda m, i, o, gz: [gz * (math.pi / 180.0)],
    ),
    _unary(
        "rad2deg",
        np.rad2deg,
        "({0} * (180.0 / M_PI))",
        lambda m, i, o, gz: [gz * (180.0 / math.pi)],
    ),
    _unary(
        "scalar_xlogx",
        _xlogx,
        "({0} == 0.0 ? 0.0 : {0} * log({0}))",
        lambda m, i, o, gz: [gz * (1 + m.log(i[0]))],
    ),
    _binary(
        "scalar_xlogy0", _xlogy0, "({0} == 0.0 ? 0.0 : {0} * log({1}))", _g_xlogy0, output="float"
    ),
    # complex numbers (Theano's real, imag, angle, conj, complex, complex_from_polar)
    _unary("real", np.real, "creal({0})", _g_real, output="real"),
    _unary("imag", np.imag, "cimag({0})", _g_imag, output="real"),
    _unary("angle", np.angle, "carg({0})", _g_angle, output="float64"),
    _unary("conj", _conj, "conj({0})", output="upcast"),  # Theano: no gradient
    _binary("complex", _complex, None, _g_complex, output="complex"),
    _binary(
        "complex_from_polar", _complex_from_polar, None, _g_complex_from_polar, output="complex"
    ),
    # rounding: piecewise constant, zero gradient
    _unary("ceil", np.ceil, "ceil({0})", _zero_grads(1), output="upcast"),
    _unary("floor", np.floor, "floor({0})", _zero_grads(1), output="upcast"),
    _unary("round_half_to_even", np.round, "nearbyint({0})", _zero_grads(1), output="upcast"),
    _unary(
        "round_half_away_from_zero",
        _round_half_away_from_zero,
        "round({0})",
        _zero_grads(1),
        output="upcast",
    ),
    _unary(
        "sgn",
        np.sign,
        "({0} != {0} ? {0} : ({0} > 0) - ({0} < 0))",
        _zero_grads(1),
        output="upcast",
    ),
    ScalarOp("clip", 3, np.clip, "({0} < {1} ? {1} : ({0} > {2} ? {2} : {0}))", "upcast", _g_clip),
    ScalarOp("switch", 3, np.where, "({0} ? {1} : {2})", "upcast", _g_switch, dtype_from=1),
    # comparisons and logic: boolean outputs
    _binary("lt", np.less, "({0} < {1})", _zero_grads(2), output="bool"),
    _binary("gt", np.greater, "({0} > {1})", _zero_grads(2), output="bool"),
    _binary("le", np.less_equal, "({0} <= {1})", _zero_grads(2), output="bool"),
    _binary("ge", np.greater_equal, "({0} >= {1})", _zero_grads(2), output="bool"),
    _binary("eq", np.equal, "({0} == {1})", _zero_grads(2), output="bool", commutative=True),
    _binary("neq", np.not_equal, "({0} != {1})", _zero_grads(2), output="bool", commutative=True),
    _unary("isnan", np.isnan, "isnan({0})", _zero_grads(1), output="bool"),
    _unary("isinf", np.isinf, "isinf({0})", _zero_grads(1), output="bool"),
    _binary(
        "and_", np.bitwise_and, "({0} & {1})", _zero_grads(2), commutative=True, associative=True
    ),
    _binary(
        "or_", np.bitwise_or, "({0} | {1})", _zero_grads(2), commutative=True, associative=True
    ),
    _binary(
        "xor", np.bitwise_xor, "({0} ^ {1})", _zero_grads(2), commutative=True, associative=True
    ),
    _unary("invert", np.invert, "(~{0})", _zero_grads(1), output="upcast", cuda=None),
]

SCALAR_OPS: dict[str, ScalarOp] = {op.name: op for op in _TABLE}


def cast_op(dtype: str) -> ScalarOp:
    """The scalar op converting to `dtype` (one record per target dtype)."""
    dtype = dtypes.canonical_dtype(dtype)
    return ScalarOp(
        f"convert_to_{dtype}",
        1,
        _make_cast(dtype),
        "(({ctype}){{0}})",
        "fixed",
        _g_cast,
        params=(dtype,),
    )


def scalar_op_named(name: str, params: tuple = ()) -> ScalarOp:
    """The table record (or cast) with this name: how pickled graphs find their scalar ops."""
    if name.startswith("convert_to_") and params:
        return cast_op(params[0])
    return SCALAR_OPS[name]
