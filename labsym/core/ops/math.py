"""Elementwise math: one Python function per scalar-table record, plus cast, fill and *_like.

These are the functions users call (`T.exp`, `T.switch`, ...) and the namespace scalar
gradients are written in. May import core.scalar, core.ops.elemwise, core.variable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from labsym.core import dtypes
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS, cast_op


@lru_cache(maxsize=None)
def elemwise_op(name: str) -> Elemwise:
    """The (shared) Elemwise op for a scalar-table record."""
    return Elemwise(SCALAR_OPS[name])


def _apply(name: str, *inputs: Any):
    return elemwise_op(name)(*inputs)


# arithmetic ---------------------------------------------------------------------------------
def add(*terms: Any):
    """Elementwise sum; more than two terms are added left to right."""
    out = terms[0]
    for term in terms[1:]:
        out = _apply("add", out, term)
    return out if len(terms) > 1 else _apply("add", out, 0)


def sub(x: Any, y: Any):
    return _apply("sub", x, y)


def mul(*factors: Any):
    """Elementwise product; more than two factors are multiplied left to right."""
    out = factors[0]
    for factor in factors[1:]:
        out = _apply("mul", out, factor)
    return out if len(factors) > 1 else _apply("mul", out, 1)


def true_div(x: Any, y: Any):
    return _apply("true_div", x, y)


def int_div(x: Any, y: Any):
    return _apply("int_div", x, y)


def mod(x: Any, y: Any):
    return _apply("mod", x, y)


def pow(x: Any, y: Any):  # noqa: A001 - Theano's name
    return _apply("pow", x, y)


def maximum(x: Any, y: Any):
    return _apply("maximum", x, y)


def minimum(x: Any, y: Any):
    return _apply("minimum", x, y)


def arctan2(y: Any, x: Any):
    return _apply("arctan2", y, x)


def second(a: Any, b: Any):
    """`b` broadcast to the shape of `a` (Theano's `second`/`fill`)."""
    return _apply("second", a, b)


def neg(x: Any):
    return _apply("neg", x)


def abs(x: Any):  # noqa: A001 - Theano's name (exported also as abs_)
    return _apply("abs", x)


def _unary(name: str):
    def fn(x: Any):
        return _apply(name, x)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}(x)."
    return fn


sqr = _unary("sqr")
sqrt = _unary("sqrt")
exp = _unary("exp")
exp2 = _unary("exp2")
expm1 = _unary("expm1")
log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
log1p = _unary("log1p")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
arcsinh = _unary("arcsinh")
arccosh = _unary("arccosh")
arctanh = _unary("arctanh")
sigmoid = _unary("sigmoid")
softplus = _unary("softplus")
erf = _unary("erf")
erfc = _unary("erfc")
ceil = _unary("ceil")
floor = _unary("floor")
sgn = _unary("sgn")
isnan = _unary("isnan")
isinf = _unary("isinf")
invert = _unary("invert")


def round(x: Any, mode: str = "half_to_even"):  # noqa: A001 - Theano's name
    """Round to the nearest integer; `mode` is 'half_to_even' (NumPy) or 'half_away_from_zero'."""
    if mode not in ("half_to_even", "half_away_from_zero"):
        raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")
    return _apply(f"round_{mode}", x)


def clip(x: Any, a_min: Any, a_max: Any):
    return _apply("clip", x, a_min, a_max)


def switch(cond: Any, if_true: Any, if_false: Any):
    """Elementwise choice: `if_true` where `cond` holds, else `if_false` (both computed)."""
    return _apply("switch", cond, if_true, if_false)


# comparisons and logic -------------------------------------------------------------------------
def lt(x: Any, y: Any):
    return _apply("lt", x, y)


def gt(x: Any, y: Any):
    return _apply("gt", x, y)


def le(x: Any, y: Any):
    return _apply("le", x, y)


def ge(x: Any, y: Any):
    return _apply("ge", x, y)


def eq(x: Any, y: Any):
    return _apply("eq", x, y)


def neq(x: Any, y: Any):
    return _apply("neq", x, y)


def and_(x: Any, y: Any):
    return _apply("and_", x, y)


def or_(x: Any, y: Any):
    return _apply("or_", x, y)


def xor(x: Any, y: Any):
    return _apply("xor", x, y)


# dtype and filling -------------------------------------------------------------------------
def cast(x: Any, dtype: Any):
    """`x` converted to `dtype` ('floatX' allowed); returns `x` itself when nothing changes."""
    from labsym.core.variable import as_tensor_variable

    x = as_tensor_variable(x)
    dtype = dtypes.canonical_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Elemwise(cast_op(dtype))(x)


def fill(model: Any, value: Any):
    """`value` broadcast to the shape of `model`."""
    return second(model, value)


def zeros_like(x: Any, dtype: Any = None):
    """Zeros with the shape (and, unless given, the dtype) of `x`."""
    from labsym.core.variable import as_tensor_variable, constant

    x = as_tensor_variable(x)
    return second(x, constant(0, dtype=dtypes.canonical_dtype(dtype or x.dtype)))


def ones_like(x: Any, dtype: Any = None):
    """Ones with the shape (and, unless given, the dtype) of `x`."""
    from labsym.core.variable import as_tensor_variable, constant

    x = as_tensor_variable(x)
    return second(x, constant(1, dtype=dtypes.canonical_dtype(dtype or x.dtype)))
