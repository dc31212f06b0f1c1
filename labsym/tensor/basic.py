"""Theano's `theano.tensor.basic`: tensor functions, op classes, type tuples, stacklists, mgrid.

Facade: re-exports, plus Theano's small graph builders stacklists and mgrid/ogrid, written
with labsym's stack/arange/reshape so they add no op of their own.
"""

from __future__ import annotations

import builtins as _builtins
import typing

import numpy as _np

from labsym.core import dtypes as _dtypes
from labsym.core.autodiff import (
    Lop,
    Rop,
    grad,
    grad_not_implemented,
    grad_undefined,
    hessian,
    jacobian,
)
from labsym.core.constructors import CONSTRUCTORS as _CONSTRUCTORS
from labsym.core.constructors import tensor
from labsym.core.gradient_ops import zero_grad
from labsym.core.graph import Apply, Constant, Type, Variable
from labsym.core.numeric_grad import numeric_grad
from labsym.core.op import Op
from labsym.core.ops.array_funcs import (
    allclose,
    argtopk,
    batched_tensordot,
    ceil_intdiv,
    cov,
    diagonal,
    divmod,
    get_vector_length,
    horizontal_stack,
    iround,
    isclose,
    largest,
    makeKeepDims,
    mod_check,
    ptp,
    smallest,
    swapaxes,
    topk,
    topk_and_argtopk,
    tri,
    tril,
    triu,
    vertical_stack,
)
from labsym.core.ops.basic import (
    Alloc,
    ARange,
    Eye,
    Join,
    Split,
    TensorCopy,
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
from labsym.core.ops.blas import Dot, batched_dot, dot, matmul, outer, tensordot
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.extra_ops import (
    DiffOp,
    argsort,
    bincount,
    cumprod,
    cumsum,
    diff,
    fill_diagonal,
    ravel_multi_index,
    roll,
    sort,
    squeeze,
    unravel_index,
)
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
from labsym.core.ops.nlinalg import AllocDiag, ExtractDiag, diag, trace
from labsym.core.ops.reduce import (
    All,
    Any,
    Argmax,
    Argmin,
    CAReduce,
    CAReduceDtype,
    Max,
    MaxAndArgmax,
    Min,
    Prod,
    ProdWithoutZeros,
    Sum,
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
from labsym.core.ops.selection import (
    Choose,
    Nonzero,
    PermuteRowElements,
    choose,
    flatnonzero,
    inverse_permutation,
    nonzero,
    permute_row_elements,
)
from labsym.core.ops.shape import (
    MakeVector,
    Rebroadcast,
    Reshape,
    Shape,
    Shape_i,
    SpecifyShape,
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
from labsym.core.ops.special import (
    angle,
    chi2sf,
    complex,
    complex_from_polar,
    conj,
    deg2rad,
    erfcinv,
    erfcx,
    erfinv,
    gamma,
    gammainc,
    gammaincc,
    gammal,
    gammaln,
    gammau,
    i0,
    i1,
    imag,
    inv,
    iv,
    j0,
    j1,
    jv,
    psi,
    rad2deg,
    real,
    round_half_away_from_zero,
    tri_gamma,
    trunc,
)
from labsym.core.ops.subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    IncSubtensor,
    Subtensor,
    inc_subtensor,
    set_subtensor,
    take,
)
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.core.variable import TensorConstant, TensorVariable, as_tensor_variable, constant
from labsym.core.variable import _TensorOperators as _tensor_py_operators
from labsym.gradient_check import verify_grad

globals().update(_CONSTRUCTORS)  # scalar, dmatrix, fvectors, ... (Theano's constructor names)

# Theano's other spellings of the same operations
abs_ = abs
as_tensor = as_tensor_variable
true_divide = true_div
floor_div = int_div
power = pow
square = sqr
where = switch
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
bitwise_not = invert
invert_ = invert
isnan_ = isnan
isinf_ = isinf
nonzero_values = TensorVariable.nonzero_values
round_half_to_even = round
consider_constant = zero_grad  # Theano's ConsiderConstant: the value, with a zero gradient


class Default(Op):
    """Theano's Default: `x`, or a copy of `default` where x's value is None.

    labsym never binds None to a tensor input (a call without the value fails first), so on
    every value it accepts the result is `x` itself (a view); `default` stays in the graph.
    """

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: typing.Any, default: typing.Any) -> Apply:
        x, default = as_tensor_variable(x), as_tensor_variable(default)
        if x.type != default.type:
            raise TypeError(
                f"Default: both arguments must have the same type ({x.type}, {default.type})"
            )
        return Apply(self, [x, default], [x.type()])

    def perform(self, node: Apply, inputs: typing.Any, output_storage: typing.Any) -> None:
        x, default = inputs
        output_storage[0][0] = default.copy() if x is None else x

    def infer_shape(self, fgraph: typing.Any, node: Apply, input_shapes: typing.Any) -> list:
        return [input_shapes[0]]


default = Default()


# Theano's as_tensor_variable raised AsTensorError, a TypeError; labsym's raises TypeError,
# so `except T.AsTensorError` catches the same failures
AsTensorError = TypeError

# Theano's op instances for advanced indexing with an integer vector
advanced_subtensor1 = AdvancedSubtensor1()
advanced_inc_subtensor1 = AdvancedIncSubtensor1()
advanced_set_subtensor1 = AdvancedIncSubtensor1(set_instead_of_inc=True)

# Theano's dtype names and type tuples (types are the dtype-fixed constructors)
all_dtypes = _dtypes.ALL_DTYPES
int_dtypes = _dtypes.INT_DTYPES
uint_dtypes = _dtypes.UINT_DTYPES
float_dtypes = _dtypes.FLOAT_DTYPES
complex_dtypes = _dtypes.COMPLEX_DTYPES
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ("bool",) + integer_dtypes
continuous_dtypes = float_dtypes + complex_dtypes


def _types(kind: str, prefixes: str) -> tuple:
    return tuple(_CONSTRUCTORS[p + kind] for p in prefixes)


int_scalar_types = int_types = _types("scalar", "bwil")
float_scalar_types = float_types = _types("scalar", "fd")
complex_scalar_types = complex_types = _types("scalar", "cz")
int_vector_types = _types("vector", "bwil")
float_vector_types = _types("vector", "fd")
complex_vector_types = _types("vector", "cz")
int_matrix_types = _types("matrix", "bwil")
float_matrix_types = _types("matrix", "fd")
complex_matrix_types = _types("matrix", "cz")


def stacklists(arg: typing.Any) -> typing.Any:
    """Nested lists of tensors stacked into one tensor of the same nesting (Theano's stacklists).

    `stacklists([[a, b], [c, d]])` of scalars is a 2 x 2 matrix; of matrices, a 2 x 2 grid of them.
    """
    if isinstance(arg, (list, tuple)):
        return stack([stacklists(item) for item in arg])
    return arg


class _NdGrid:
    """`mgrid[0:5, 0:3]` / `ogrid[...]`: NumPy's dense or open grids as symbolic tensors."""

    def __init__(self, sparse: bool = False) -> None:
        self.sparse = sparse

    def __getitem__(self, key: typing.Any) -> list:
        slices = key if isinstance(key, tuple) else (key,)
        for item in slices:
            if not isinstance(item, slice):
                raise TypeError(f"mgrid/ogrid take slices like 0:5, got {item!r}")
            if isinstance(item.step, _builtins.complex):  # T.complex shadows the builtin
                raise NotImplementedError("Not implemented for slices whose step is complex")
        ndim = len(slices)
        ranges = [arange(s.start or 0, s.stop, s.step or 1) for s in slices]
        # range j varies along axis j and has length 1 on every other axis
        open_grid = [
            r.dimshuffle(*["x" if axis != j else 0 for axis in range(ndim)])
            for j, r in enumerate(ranges)
        ]
        if self.sparse:
            return open_grid
        dense = []
        for j, grid in enumerate(open_grid):
            for k, other in enumerate(open_grid):
                if k != j:
                    grid = grid * ones_like(other)
            dense.append(grid)
        return dense


mgrid = _NdGrid()
ogrid = _NdGrid(sparse=True)


# the elementwise ops Theano's get_scalar_constant_value evaluates on constants
_CONSTANT_ELEMWISES = frozenset(
    ("switch", "neq", "eq", "lt", "gt", "le", "ge", "sub", "add", "mod", "mul", "int_div")
    + ("true_div", "minimum", "maximum")
)


class NotScalarConstantError(Exception):
    """get_scalar_constant_value: the variable is not known to hold one constant value."""


class EmptyConstantError(NotScalarConstantError):
    """get_scalar_constant_value: the constant has no element."""


def get_scalar_constant_value(
    orig_v: typing.Any,
    elemwise: bool = True,
    only_process_constants: bool = False,
    max_recur: int = 10,
) -> _np.ndarray:
    """The one value every element of `orig_v` is known to have, as a 0-d array (Theano's).

    Sees through DimShuffle, Alloc, fill/second, casts and copies, and (with `elemwise`) the
    arithmetic and comparisons Theano evaluated, up to `max_recur` deep; otherwise raises
    NotScalarConstantError.
    User rewrites call it to test for constant inputs (`0 == get_scalar_constant_value(x)`).
    """
    v = orig_v
    if isinstance(v, (_np.integer, _np.floating, int, float)):
        return _np.asarray(v)
    if isinstance(v, _np.ndarray):
        return _unique_value(v)
    while isinstance(v, Variable):
        if isinstance(v, Constant):
            return _unique_value(_np.asarray(v.data))
        node = v.owner
        if node is None or only_process_constants:
            break
        op = node.op
        name = getattr(getattr(op, "scalar_op", None), "name", "")
        if isinstance(op, (DimShuffle, Alloc, TensorCopy)):
            v = node.inputs[0]
        elif isinstance(op, Elemwise) and name == "second":
            v = node.inputs[1]
        elif isinstance(op, Elemwise) and (
            name.startswith("convert_to_") or (elemwise and name in _CONSTANT_ELEMWISES)
        ):
            if max_recur <= 0:
                break
            values = [
                get_scalar_constant_value(i, elemwise, False, max_recur - 1) for i in node.inputs
            ]
            with _np.errstate(all="ignore"):
                out = op.scalar_op.impl(*values)
            return _np.asarray(out, dtype=node.outputs[0].dtype)
        else:
            break
    raise NotScalarConstantError(f"{orig_v} is not known to be a scalar constant")


def extract_constant(
    x: typing.Any, elemwise: bool = True, only_process_constants: bool = False
) -> typing.Any:
    """get_scalar_constant_value(x) when x is known to be one constant, else x itself.

    Rewrites use it to read a constant when there is one without a try/except.
    """
    try:
        return get_scalar_constant_value(x, elemwise, only_process_constants)
    except NotScalarConstantError:
        return x


def _unique_value(data: _np.ndarray) -> _np.ndarray:
    if data.size == 0:
        raise EmptyConstantError("the constant has no element")
    first = data.reshape(-1)[0]
    if not bool((data == first).all()):
        raise NotScalarConstantError("the constant's elements differ")
    return _np.array(first)


__all__ = [
    "ARange",
    "AdvancedIncSubtensor",
    "AdvancedIncSubtensor1",
    "AdvancedSubtensor",
    "AdvancedSubtensor1",
    "All",
    "Alloc",
    "AllocDiag",
    "Any",
    "Apply",
    "Argmax",
    "Argmin",
    "CAReduce",
    "CAReduceDtype",
    "Constant",
    "DiffOp",
    "DimShuffle",
    "EmptyConstantError",
    "Dot",
    "Elemwise",
    "ExtractDiag",
    "Eye",
    "IncSubtensor",
    "Join",
    "Lop",
    "MakeVector",
    "NotScalarConstantError",
    "Max",
    "MaxAndArgmax",
    "Min",
    "Op",
    "Prod",
    "ProdWithoutZeros",
    "Rebroadcast",
    "Reshape",
    "Rop",
    "Shape",
    "Shape_i",
    "SpecifyShape",
    "Split",
    "Subtensor",
    "Sum",
    "TensorConstant",
    "TensorCopy",
    "TensorType",
    "TensorVariable",
    "Type",
    "Variable",
    "_tensor_py_operators",
    "abs",
    "abs_",
    "add",
    "addbroadcast",
    "advanced_inc_subtensor1",
    "advanced_set_subtensor1",
    "advanced_subtensor1",
    "all",
    "all_dtypes",
    "alloc",
    "and_",
    "any",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "argsort",
    "as_tensor",
    "as_tensor_variable",
    "batched_dot",
    "bincount",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "cast",
    "ceil",
    "clip",
    "complex_dtypes",
    "complex_matrix_types",
    "complex_scalar_types",
    "complex_types",
    "complex_vector_types",
    "concatenate",
    "consider_constant",
    "constant",
    "continuous_dtypes",
    "cos",
    "cosh",
    "cumprod",
    "cumsum",
    "diag",
    "diff",
    "discrete_dtypes",
    "dot",
    "eq",
    "erf",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "eye",
    "fill",
    "fill_diagonal",
    "get_scalar_constant_value",
    "Default",
    "default",
    "flatten",
    "float_dtypes",
    "float_matrix_types",
    "float_scalar_types",
    "float_types",
    "float_vector_types",
    "floor",
    "floor_div",
    "ge",
    "grad",
    "grad_not_implemented",
    "grad_undefined",
    "gt",
    "hessian",
    "identity_like",
    "inc_subtensor",
    "int_div",
    "int_dtypes",
    "int_matrix_types",
    "int_scalar_types",
    "int_types",
    "int_vector_types",
    "integer_dtypes",
    "invert",
    "invert_",
    "isinf",
    "isinf_",
    "isnan",
    "isnan_",
    "jacobian",
    "join",
    "le",
    "log",
    "log10",
    "log1p",
    "log2",
    "lt",
    "matmul",
    "max",
    "max_and_argmax",
    "maximum",
    "mean",
    "mgrid",
    "min",
    "minimum",
    "mod",
    "mul",
    "neg",
    "neq",
    "nonzero_values",
    "ogrid",
    "ones",
    "ones_like",
    "or_",
    "outer",
    "patternbroadcast",
    "pow",
    "power",
    "prod",
    "ravel_multi_index",
    "repeat",
    "reshape",
    "roll",
    "round",
    "round_half_to_even",
    "second",
    "set_subtensor",
    "sgn",
    "shape",
    "shape_padaxis",
    "shape_padleft",
    "shape_padright",
    "shared",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sort",
    "specify_shape",
    "split",
    "sqr",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "stacklists",
    "std",
    "sub",
    "sum",
    "switch",
    "take",
    "tan",
    "tanh",
    "tensor",
    "tensor_copy",
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "true_div",
    "true_divide",
    "uint_dtypes",
    "unbroadcast",
    "unravel_index",
    "var",
    "verify_grad",
    "where",
    "xor",
    "zeros",
    "zeros_like",
    # Theano 1.0 names added for issue 7
    "batched_tensordot",
    "get_vector_length",
    "makeKeepDims",
    "round_half_away_from_zero",
    "angle",
    "complex",
    "complex_from_polar",
    "conj",
    "imag",
    "real",
    "AsTensorError",
    "numeric_grad",
    "Choose",
    "Nonzero",
    "PermuteRowElements",
    "allclose",
    "argtopk",
    "ceil_intdiv",
    "chi2sf",
    "choose",
    "cov",
    "deg2rad",
    "diagonal",
    "divmod",
    "erfcinv",
    "erfcx",
    "erfinv",
    "extract_constant",
    "flatnonzero",
    "gamma",
    "gammainc",
    "gammaincc",
    "gammal",
    "gammaln",
    "gammau",
    "horizontal_stack",
    "i0",
    "i1",
    "inv",
    "inverse_permutation",
    "iround",
    "isclose",
    "iv",
    "j0",
    "j1",
    "jv",
    "largest",
    "mod_check",
    "nonzero",
    "permute_row_elements",
    "psi",
    "ptp",
    "rad2deg",
    "smallest",
    "swapaxes",
    "topk",
    "topk_and_argtopk",
    "tri",
    "tri_gamma",
    "tril",
    "triu",
    "trunc",
    "vertical_stack",
]
__all__ += list(_CONSTRUCTORS)
