"""Elementwise math: one Elemwise op per scalar-table record, plus round, cast, fill and *_like.

These are the functions users call (`T.exp`, `T.switch`, ...) and the namespace scalar
gradients are written in. May import core.scalar, core.ops.elemwise, core.variable.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from labsym.core import dtypes
from labsym.core.ops.elemwise import Elemwise, function_op_name
from labsym.core.scalar import SCALAR_OPS, cast_op


@cache
def elemwise_op(name: str) -> Elemwise:
    """The (shared) Elemwise op for a scalar-table record, named as Theano's `T.<name>`."""
    spec = SCALAR_OPS[name]
    return Elemwise(spec, name=function_op_name(spec))


def _apply(name: str, *inputs: Any):
    return elemwise_op(name)(*inputs)


# Each name is the Elemwise op itself (as in Theano, where `T.exp` is an op), so user rewrites
# can test `node.op == T.exp`; calling it applies it. add/mul/and_/... take several terms.
add = elemwise_op("add")
sub = elemwise_op("sub")
mul = elemwise_op("mul")
true_div = elemwise_op("true_div")
int_div = elemwise_op("int_div")
mod = elemwise_op("mod")
pow = elemwise_op("pow")  # noqa: A001 - Theano's name
maximum = elemwise_op("maximum")
minimum = elemwise_op("minimum")
arctan2 = elemwise_op("arctan2")
second = elemwise_op("second")  # `b` broadcast to the shape of `a` (Theano's second/fill)
neg = elemwise_op("neg")
abs = elemwise_op("abs")  # noqa: A001 - Theano's name (exported also as abs_)
sqr = elemwise_op("sqr")
sqrt = elemwise_op("sqrt")
exp = elemwise_op("exp")
exp2 = elemwise_op("exp2")
expm1 = elemwise_op("expm1")
log = elemwise_op("log")
log2 = elemwise_op("log2")
log10 = elemwise_op("log10")
log1p = elemwise_op("log1p")
sin = elemwise_op("sin")
cos = elemwise_op("cos")
tan = elemwise_op("tan")
arcsin = elemwise_op("arcsin")
arccos = elemwise_op("arccos")
arctan = elemwise_op("arctan")
sinh = elemwise_op("sinh")
cosh = elemwise_op("cosh")
tanh = elemwise_op("tanh")
arcsinh = elemwise_op("arcsinh")
arccosh = elemwise_op("arccosh")
arctanh = elemwise_op("arctanh")
sigmoid = elemwise_op("sigmoid")
softplus = elemwise_op("softplus")
erf = elemwise_op("erf")
erfc = elemwise_op("erfc")
ceil = elemwise_op("ceil")
floor = elemwise_op("floor")
sgn = elemwise_op("sgn")
isnan = elemwise_op("isnan")
isinf = elemwise_op("isinf")
invert = elemwise_op("invert")
clip = elemwise_op("clip")
switch = elemwise_op("switch")  # elementwise choice; both branches are computed
lt = elemwise_op("lt")
gt = elemwise_op("gt")
le = elemwise_op("le")
ge = elemwise_op("ge")
eq = elemwise_op("eq")
neq = elemwise_op("neq")
and_ = elemwise_op("and_")
or_ = elemwise_op("or_")
xor = elemwise_op("xor")


def round(x: Any, mode: str = "half_to_even"):  # noqa: A001 - Theano's name
    """Round to the nearest integer; `mode` is 'half_to_even' (NumPy) or 'half_away_from_zero'."""
    if mode not in ("half_to_even", "half_away_from_zero"):
        raise ValueError(
            f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}"
        )
    return _apply(f"round_{mode}", x)


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


def scalar_like(value: Any, like: Any) -> Any:
    """A Python number as a constant of `like`'s float dtype; other values unchanged.

    Library code (elu's alpha, batch norm's epsilon) must not upcast float32 inputs the way a
    user's `fvector * 0.1` does under Theano's autocast rules.
    """
    from labsym.core.variable import as_tensor_variable, constant

    like = as_tensor_variable(like)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and like.dtype[0] == "f":
        return constant(value, dtype=like.dtype)
    return value


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
