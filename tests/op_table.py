"""One record per op: how to build it, its NumPy reference, input domains and dtypes.

tests/core/ops/test_op_table.py turns every record into value checks (several shapes and
dtypes) and gradient checks (verify_grad).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.special

from labsym.core.ops import math as m
from labsym.core.ops import special as sp


@dataclass(frozen=True)
class OpRecord:
    name: str
    build: Callable  # symbolic inputs -> symbolic output
    reference: Callable  # numpy arrays -> array
    nin: int = 1
    domain: tuple[float, float] = (-3.0, 3.0)
    dtypes: tuple[str, ...] = ("float64", "float32")
    grad: bool = True
    int_ok: bool = False  # also check int32 inputs
    shapes: tuple[tuple[int, ...], ...] = ((), (5,), (3, 4), (2, 3, 2))
    extra: dict = field(default_factory=dict)


def _ref_sigmoid(x):
    return scipy.special.expit(x)


def _ref_round_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


UNARY = [
    OpRecord("neg", m.neg, np.negative, int_ok=True),
    OpRecord("abs", m.abs, np.abs, int_ok=True, domain=(0.2, 3.0)),
    OpRecord("abs_negative", m.abs, np.abs, domain=(-3.0, -0.2)),
    OpRecord("sqr", m.sqr, np.square, int_ok=True),
    OpRecord("sqrt", m.sqrt, np.sqrt, domain=(0.1, 4.0)),
    OpRecord("exp", m.exp, np.exp),
    OpRecord("exp2", m.exp2, np.exp2),
    OpRecord("expm1", m.expm1, np.expm1),
    OpRecord("log", m.log, np.log, domain=(0.1, 4.0)),
    OpRecord("log2", m.log2, np.log2, domain=(0.1, 4.0)),
    OpRecord("log10", m.log10, np.log10, domain=(0.1, 4.0)),
    OpRecord("log1p", m.log1p, np.log1p, domain=(-0.5, 4.0)),
    OpRecord("sin", m.sin, np.sin),
    OpRecord("cos", m.cos, np.cos),
    OpRecord("tan", m.tan, np.tan, domain=(-1.2, 1.2)),
    OpRecord("arcsin", m.arcsin, np.arcsin, domain=(-0.9, 0.9)),
    OpRecord("arccos", m.arccos, np.arccos, domain=(-0.9, 0.9)),
    OpRecord("arctan", m.arctan, np.arctan),
    OpRecord("sinh", m.sinh, np.sinh),
    OpRecord("cosh", m.cosh, np.cosh),
    OpRecord("tanh", m.tanh, np.tanh),
    OpRecord("arcsinh", m.arcsinh, np.arcsinh),
    OpRecord("arccosh", m.arccosh, np.arccosh, domain=(1.2, 4.0)),
    OpRecord("arctanh", m.arctanh, np.arctanh, domain=(-0.9, 0.9)),
    OpRecord("sigmoid", m.sigmoid, _ref_sigmoid, domain=(-8.0, 8.0)),
    OpRecord("softplus", m.softplus, lambda x: np.logaddexp(0, x), domain=(-8.0, 8.0)),
    OpRecord("erf", m.erf, scipy.special.erf),
    OpRecord("erfc", m.erfc, scipy.special.erfc),
    OpRecord("ceil", m.ceil, np.ceil, grad=False),
    OpRecord("floor", m.floor, np.floor, grad=False),
    OpRecord("round", m.round, np.round, grad=False),
    OpRecord(
        "round_away", lambda x: m.round(x, "half_away_from_zero"), _ref_round_away, grad=False
    ),
    OpRecord("sgn", m.sgn, np.sign, grad=False, int_ok=True),
    OpRecord("isnan", m.isnan, np.isnan, grad=False),
    OpRecord("isinf", m.isinf, np.isinf, grad=False),
    OpRecord(
        "cast_float32",
        lambda x: m.cast(x, "float32"),
        lambda x: x.astype("float32"),
        dtypes=("float64",),
        grad=True,
    ),
    OpRecord("cast_int32", lambda x: m.cast(x, "int32"), lambda x: x.astype("int32"), grad=False),
]

BINARY = [
    OpRecord("add", m.add, np.add, nin=2, int_ok=True),
    OpRecord("sub", m.sub, np.subtract, nin=2, int_ok=True),
    OpRecord("mul", m.mul, np.multiply, nin=2, int_ok=True),
    OpRecord("true_div", m.true_div, np.true_divide, nin=2, domain=(0.5, 3.0)),
    OpRecord(
        "int_div", m.int_div, np.floor_divide, nin=2, domain=(0.5, 9.0), grad=False, int_ok=True
    ),
    OpRecord("mod", m.mod, np.mod, nin=2, domain=(0.5, 9.0), grad=False, int_ok=True),
    OpRecord("pow", m.pow, np.power, nin=2, domain=(0.5, 2.0)),
    OpRecord("maximum", m.maximum, np.maximum, nin=2, int_ok=True),
    OpRecord("minimum", m.minimum, np.minimum, nin=2, int_ok=True),
    OpRecord("arctan2", m.arctan2, np.arctan2, nin=2, domain=(0.3, 3.0)),
    OpRecord("lt", m.lt, np.less, nin=2, grad=False, int_ok=True),
    OpRecord("gt", m.gt, np.greater, nin=2, grad=False, int_ok=True),
    OpRecord("le", m.le, np.less_equal, nin=2, grad=False, int_ok=True),
    OpRecord("ge", m.ge, np.greater_equal, nin=2, grad=False, int_ok=True),
    OpRecord("eq", m.eq, np.equal, nin=2, grad=False, int_ok=True),
    OpRecord("neq", m.neq, np.not_equal, nin=2, grad=False, int_ok=True),
    OpRecord("and_", m.and_, np.bitwise_and, nin=2, grad=False, int_ok=True, dtypes=()),
    OpRecord("or_", m.or_, np.bitwise_or, nin=2, grad=False, int_ok=True, dtypes=()),
    OpRecord("xor", m.xor, np.bitwise_xor, nin=2, grad=False, int_ok=True, dtypes=()),
]

TERNARY = [
    OpRecord("clip", m.clip, np.clip, nin=3, extra={"sorted_bounds": True}),
    OpRecord(
        "switch",
        lambda c, a, b: m.switch(m.gt(c, 0), a, b),
        lambda c, a, b: np.where(c > 0, a, b),
        nin=3,
    ),
]

# special functions and Theano's other scalar ops (core.ops.special), against SciPy/NumPy
SPECIAL = [
    OpRecord("gamma", sp.gamma, scipy.special.gamma, domain=(0.5, 3.0)),
    OpRecord("gammaln", sp.gammaln, scipy.special.gammaln, domain=(0.5, 4.0)),
    OpRecord("psi", sp.psi, scipy.special.psi, domain=(0.5, 4.0)),
    OpRecord(
        "tri_gamma",
        sp.tri_gamma,
        lambda x: scipy.special.polygamma(1, x),
        domain=(0.5, 4.0),
        grad=False,
    ),
    OpRecord("erfinv", sp.erfinv, scipy.special.erfinv, domain=(-0.9, 0.9)),
    OpRecord("erfcinv", sp.erfcinv, scipy.special.erfcinv, domain=(0.1, 1.9)),
    OpRecord("erfcx", sp.erfcx, scipy.special.erfcx, domain=(-1.0, 3.0)),
    OpRecord("j0", sp.j0, scipy.special.j0),
    OpRecord("j1", sp.j1, scipy.special.j1),
    OpRecord("i0", sp.i0, scipy.special.i0),
    OpRecord("i1", sp.i1, scipy.special.i1),
    OpRecord("jv", lambda x: sp.jv(1.5, x), lambda x: scipy.special.jv(1.5, x), domain=(0.2, 3.0)),
    OpRecord("iv", lambda x: sp.iv(2.5, x), lambda x: scipy.special.iv(2.5, x), domain=(0.2, 3.0)),
    OpRecord("inv", sp.inv, lambda x: np.true_divide(1, x), domain=(0.5, 3.0)),
    OpRecord("trunc", sp.trunc, np.trunc, grad=False, int_ok=True),
    OpRecord("deg2rad", sp.deg2rad, np.deg2rad, int_ok=True),
    OpRecord("rad2deg", sp.rad2deg, np.rad2deg, int_ok=True),
    OpRecord("xlogx", sp.xlogx, lambda x: x * np.log(x), domain=(0.1, 3.0)),
    OpRecord("xlogy0", sp.xlogy0, lambda x, y: x * np.log(y), nin=2, domain=(0.1, 3.0)),
    OpRecord(
        "chi2sf",
        sp.chi2sf,
        lambda x, k: scipy.special.chdtrc(k, x),
        nin=2,
        domain=(0.5, 4.0),
        grad=False,
    ),
    OpRecord("gammainc", sp.gammainc, scipy.special.gammainc, nin=2, domain=(0.5, 3.0), grad=False),
    OpRecord(
        "gammaincc", sp.gammaincc, scipy.special.gammaincc, nin=2, domain=(0.5, 3.0), grad=False
    ),
    OpRecord(
        "gammau",
        sp.gammau,
        lambda k, x: scipy.special.gammaincc(k, x) * scipy.special.gamma(k),
        nin=2,
        domain=(0.5, 3.0),
        grad=False,
    ),
    OpRecord(
        "gammal",
        sp.gammal,
        lambda k, x: scipy.special.gammainc(k, x) * scipy.special.gamma(k),
        nin=2,
        domain=(0.5, 3.0),
        grad=False,
    ),
]

RECORDS = UNARY + BINARY + TERNARY + SPECIAL


# ---------------------------------------------------------------- ops with their own shape rules
@dataclass(frozen=True)
class ShapedRecord:
    """An op whose inputs have given shapes (one tuple of input shapes per case)."""

    name: str
    build: Callable
    reference: Callable
    cases: tuple[tuple[tuple[int, ...], ...], ...]
    dtypes: tuple[str, ...] = ("float64", "float32")
    grad: bool = True
    domain: tuple[float, float] = (-2.0, 2.0)
    int_inputs: tuple[int, ...] = ()  # positions fed integer class indices in [0, 3)


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _shaped():
    from labsym.core.ops import basic, blas, nnet, reduce, shape, subtensor

    return [
        ShapedRecord(
            "sum",
            lambda x: reduce.sum(x, axis=0),
            lambda x: np.sum(x, axis=0),
            (((3, 4),), ((5,),)),
        ),
        ShapedRecord(
            "sum_all_keepdims",
            lambda x: reduce.sum(x, keepdims=True),
            lambda x: np.sum(x, keepdims=True),
            (((3, 4),), ((2, 3, 2),)),
        ),
        ShapedRecord(
            "prod",
            lambda x: reduce.prod(x, axis=-1),
            lambda x: np.prod(x, axis=-1),
            (((3, 4),),),
            domain=(0.5, 1.5),
        ),
        ShapedRecord(
            "mean",
            lambda x: reduce.mean(x, axis=(0, 1)),
            lambda x: np.mean(x, axis=(0, 1)),
            (((2, 3, 4),),),
        ),
        ShapedRecord(
            "var", lambda x: reduce.var(x, axis=1), lambda x: np.var(x, axis=1), (((3, 5),),)
        ),
        ShapedRecord(
            "std", lambda x: reduce.std(x, axis=0), lambda x: np.std(x, axis=0), (((4, 3),),)
        ),
        ShapedRecord(
            "max", lambda x: reduce.max(x, axis=1), lambda x: np.max(x, axis=1), (((3, 4),),)
        ),
        ShapedRecord("min", lambda x: reduce.min(x), lambda x: np.min(x), (((3, 4),),)),
        ShapedRecord(
            "argmax",
            lambda x: reduce.argmax(x, axis=0),
            lambda x: np.argmax(x, axis=0),
            (((3, 4),),),
            grad=False,
        ),
        ShapedRecord("dot_mm", blas.dot, np.dot, (((3, 4), (4, 2)),)),
        ShapedRecord("dot_mv", blas.dot, np.dot, (((3, 4), (4,)),)),
        ShapedRecord("dot_vv", blas.dot, np.dot, (((4,), (4,)),)),
        ShapedRecord(
            "tensordot",
            lambda a, b: blas.tensordot(a, b, 2),
            lambda a, b: np.tensordot(a, b, 2),
            (((2, 3, 4), (3, 4, 2)),),
        ),
        ShapedRecord("outer", blas.outer, np.outer, (((3,), (4,)),)),
        ShapedRecord(
            "batched_dot",
            blas.batched_dot,
            lambda a, b: np.einsum("bij,bjk->bik", a, b),
            (((2, 3, 4), (2, 4, 2)),),
        ),
        ShapedRecord("matmul", blas.matmul, np.matmul, (((2, 3, 4), (2, 4, 5)),)),
        ShapedRecord(
            "reshape", lambda x: shape.reshape(x, (2, -1)), lambda x: x.reshape(2, -1), (((3, 4),),)
        ),
        ShapedRecord(
            "flatten",
            lambda x: shape.flatten(x, 2),
            lambda x: x.reshape(x.shape[0], -1),
            (((2, 3, 4),),),
        ),
        ShapedRecord("transpose", shape.transpose, np.transpose, (((2, 3, 4),),)),
        ShapedRecord(
            "concatenate",
            lambda a, b: basic.concatenate([a, b], axis=1),
            lambda a, b: np.concatenate([a, b], 1),
            (((2, 3), (2, 4)),),
        ),
        ShapedRecord(
            "stack",
            lambda a, b: basic.stack([a, b], axis=1),
            lambda a, b: np.stack([a, b], 1),
            (((2, 3), (2, 3)),),
        ),
        ShapedRecord(
            "tile", lambda x: basic.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1)), (((2, 3),),)
        ),
        ShapedRecord(
            "repeat",
            lambda x: basic.repeat(x, 2, axis=0),
            lambda x: np.repeat(x, 2, axis=0),
            (((2, 3),),),
        ),
        ShapedRecord("subtensor", lambda x: x[1:, ::-2], lambda x: x[1:, ::-2], (((4, 5),),)),
        ShapedRecord(
            "advanced_subtensor1", lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], (((4, 3),),)
        ),
        ShapedRecord(
            "boolean_mask", lambda x: x[x > 0], lambda x: x[x > 0], (((4, 3),),), grad=False
        ),
        ShapedRecord(
            "inc_subtensor",
            lambda x, y: subtensor.inc_subtensor(x[1:3], y),
            lambda x, y: _inc(x, slice(1, 3), y),
            (((4, 3), (2, 3)),),
        ),
        ShapedRecord(
            "set_subtensor",
            lambda x, y: subtensor.set_subtensor(x[0], y),
            lambda x, y: _set(x, 0, y),
            (((4, 3), (3,)),),
        ),
        # Theano's softmax makes a vector a 1 x n row
        ShapedRecord(
            "softmax", nnet.softmax, lambda x: _np_softmax(np.atleast_2d(x)), (((3, 5),), ((4,),))
        ),
        ShapedRecord(
            "log_softmax", nnet.log_softmax, lambda x: np.log(_np_softmax(x)), (((3, 5),),)
        ),
        ShapedRecord("relu", nnet.relu, lambda x: np.maximum(x, 0), (((3, 5),),)),
        ShapedRecord(
            "binary_crossentropy",
            nnet.binary_crossentropy,
            lambda o, t: -(t * np.log(o) + (1 - t) * np.log(1 - o)),
            (((3, 4), (3, 4)),),
            domain=(0.1, 0.9),
        ),
        ShapedRecord(
            "categorical_crossentropy_1hot",
            nnet.categorical_crossentropy,
            lambda p, y: -np.log(p[np.arange(len(y)), y]),
            (((4, 3), (4,)),),
            domain=(0.1, 0.9),
            int_inputs=(1,),
        ),
    ]


def _shaped_theano_helpers():
    """NumPy-style helpers of Theano 1.0 (core.ops.array_funcs, core.ops.selection)."""
    from labsym.core.ops import array_funcs as af
    from labsym.core.ops import selection as sel

    # permute_row_elements needs true permutations: tests/core/ops/test_selection.py
    return [
        ShapedRecord("ptp_axis", lambda x: af.ptp(x, 1), lambda x: np.ptp(x, 1), (((3, 4),),)),
        ShapedRecord("ptp_all", af.ptp, np.ptp, (((3, 4),), ((5,),))),
        ShapedRecord("cov", af.cov, np.cov, (((3, 5),), ((2, 4),))),
        ShapedRecord(
            "cov_columns_bias",
            lambda x, y: af.cov(x, y, rowvar=False, bias=True),
            lambda x, y: np.cov(x, y, rowvar=False, bias=True),
            (((5, 2), (5, 3)),),
        ),
        ShapedRecord(
            "swapaxes",
            lambda x: af.swapaxes(x, 0, 2),
            lambda x: np.swapaxes(x, 0, 2),
            (((2, 3, 4),),),
        ),
        ShapedRecord(
            "diagonal",
            lambda x: af.diagonal(x, 1),
            lambda x: np.diagonal(x, 1),
            (((3, 4),), ((4, 3),)),
        ),
        ShapedRecord(
            "diagonal_axes",
            lambda x: af.diagonal(x, -1, 1, 2),
            lambda x: np.diagonal(x, -1, 1, 2),
            (((2, 3, 4),),),
        ),
        ShapedRecord("tril", lambda x: af.tril(x, -1), lambda x: np.tril(x, -1), (((4, 3),),)),
        ShapedRecord("triu", lambda x: af.triu(x, 1), lambda x: np.triu(x, 1), (((3, 4),),)),
        ShapedRecord(
            "horizontal_stack",
            af.horizontal_stack,
            lambda a, b: np.hstack([a, b]),
            (((2, 3), (2, 4)),),
        ),
        ShapedRecord(
            "vertical_stack", af.vertical_stack, lambda a, b: np.vstack([a, b]), (((2, 3), (4, 3)),)
        ),
        ShapedRecord(
            "largest",
            af.largest,
            lambda a, b, c: np.maximum(np.maximum(a, b), c),
            (((3, 4), (3, 4), (3, 4)),),
        ),
        ShapedRecord("smallest", af.smallest, np.minimum, (((3, 4), (3, 4)),)),
        ShapedRecord(
            "topk",
            lambda x: af.topk(x, 2, sorted=False),
            lambda x: np.sort(x, -1)[:, -2:],
            (((3, 5),),),
        ),
        ShapedRecord(
            "topk_smallest_axis0",
            lambda x: af.topk(x, -2, axis=0, sorted=False),
            lambda x: np.sort(x, 0)[:2],
            (((4, 3),),),
        ),
        ShapedRecord(
            "fill_diagonal_offset",
            lambda a, v: af.fill_diagonal_offset(a, v, 1),
            lambda a, v: a + np.eye(*a.shape, k=1) * (v - a),
            (((3, 4), ()), ((4, 2), ())),
        ),
        ShapedRecord(
            "choose",
            sel.choose,
            np.choose,
            (((3, 4), (3, 3, 4)), ((4,), (3, 2, 4))),
            int_inputs=(0,),
            grad=False,
        ),
    ]


def _inc(x, index, y):
    out = x.copy()
    out[index] += y
    return out


def _set(x, index, y):
    out = x.copy()
    out[index] = y
    return out


SHAPED = _shaped() + _shaped_theano_helpers()
