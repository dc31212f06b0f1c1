"""Theano's `theano.tensor` namespace (`import labsym.tensor as T`): constructors, math, shapes.

Facade: re-exports only (plus Theano's alternative spellings of the same functions).
"""

from labsym.core.autodiff import Lop, Rop, grad, hessian, jacobian
from labsym.core.constructors import CONSTRUCTORS as _CONSTRUCTORS
from labsym.core.constructors import tensor
from labsym.core.ops.basic import (
    alloc,
    arange,
    concatenate,
    eye,
    identity_like,
    join,
    ones,
    split,
    stack,
    tensor_copy,
    tile,
    zeros,
)
from labsym.core.ops.blas import batched_dot, dot, matmul, outer, tensordot
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.math import (
    abs,
    add,
    and_,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cast,
    ceil,
    clip,
    cos,
    cosh,
    eq,
    erf,
    erfc,
    exp,
    exp2,
    expm1,
    fill,
    floor,
    ge,
    gt,
    int_div,
    invert,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    lt,
    maximum,
    minimum,
    mod,
    mul,
    neg,
    neq,
    ones_like,
    or_,
    pow,
    round,
    second,
    sgn,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqr,
    sqrt,
    sub,
    switch,
    tan,
    tanh,
    true_div,
    xor,
    zeros_like,
)
from labsym.core.ops.reduce import (
    all,
    any,
    argmax,
    argmin,
    max,
    max_and_argmax,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from labsym.core.ops.repeat import repeat
from labsym.core.ops.shape import (
    addbroadcast,
    flatten,
    patternbroadcast,
    reshape,
    shape,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    specify_shape,
    transpose,
    unbroadcast,
)
from labsym.core.ops.subtensor import inc_subtensor, set_subtensor, take
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.core.variable import TensorConstant, TensorVariable, as_tensor_variable, constant

globals().update(_CONSTRUCTORS)  # scalar, dmatrix, fvectors, ... (180 Theano constructor names)

# Theano's other spellings of the same operations
abs_ = abs
as_tensor = as_tensor_variable
true_divide = true_div
floor_div = int_div
power = pow
where = switch
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
bitwise_not = invert
invert_ = invert
nonzero_values = TensorVariable.nonzero_values
round_half_to_even = round

from labsym.core.ops.extra_ops import (  # noqa: E402 - Theano exposed these on T too
    argsort,
    cumprod,
    cumsum,
    diff,
    fill_diagonal,
    roll,
    sort,
    squeeze,
)
from labsym.core.ops.nlinalg import diag, trace  # noqa: E402
from labsym.tensor import (  # noqa: E402 - the Theano submodules
    extra_ops,
    nlinalg,
    nnet,
    opt,
    shared_randomstreams,
    signal,
    slinalg,
)

_SUBMODULES = ("extra_ops", "nlinalg", "nnet", "opt", "shared_randomstreams", "signal", "slinalg")
__all__ = sorted(
    [name for name in globals() if not name.startswith("_") and name not in _SUBMODULES]
    + list(_CONSTRUCTORS)
)
