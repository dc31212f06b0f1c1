"""Numerical stability: forms that overflow or cancel are replaced by stable equivalents.

Each rule is proved in tests by an input where the naive graph gives inf/nan.
May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import call_infer_shape
from labsym.core.ops import math as m
from labsym.core.ops.basic import alloc
from labsym.core.ops.blas import Dot, MatMul, TensorDot
from labsym.core.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
)
from labsym.core.ops.nnet_fused import CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx
from labsym.core.ops.reduce import Max, Sum, _keepdims_order
from labsym.core.ops.shape import shape_i
from labsym.core.variable import constant
from labsym.optim.patterns import Rule, constant_value

PHASE = ("stabilize",)


# ---------------------------------------------------------------------- graph reading helpers
def _scalar_node(var: Variable, name: str) -> Apply | None:
    """var's owner if it is the non-inplace Elemwise of scalar record `name`."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name == name:
        return None if node.op.inplace_pattern else node
    return None


def _reduced_axes(axis: tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else tuple(a % ndim for a in axis)


def _kept_sum(var: Variable) -> Apply | None:
    """The Sum node under `var` when var is sum(..., keepdims=True) (a re-inserting DimShuffle)."""
    ds = var.owner
    if ds is None or not isinstance(ds.op, DimShuffle):
        return None
    node = ds.inputs[0].owner
    if node is None or type(node.op) is not Sum:
        return None
    ndim = node.inputs[0].ndim
    axes = _reduced_axes(node.op.axis, ndim)
    return node if ds.op.new_order == _keepdims_order(axes, ndim) else None


def _single_axis(axes: tuple[int, ...], ndim: int) -> int | None | str:
    """The `axis` argument of Softmax for reduced `axes`: an int, None (all), or 'no'."""
    if len(axes) == 1:
        return axes[0] - ndim
    return None if len(axes) == ndim else "no"


# ---------------------------------------------------------------------- softmax family
def softmax_from_exp_ratio(fgraph: Any, node: Apply) -> list | None:
    """exp(u) / sum(exp(u), axis, keepdims=True) -> softmax(u, axis)."""
    if _scalar_node(node.outputs[0], "true_div") is None:
        return None
    num, den = node.inputs
    total = _kept_sum(den)
    if _scalar_node(num, "exp") is None or total is None or total.inputs[0] is not num:
        return None
    u = num.owner.inputs[0]
    axis = _single_axis(_reduced_axes(total.op.axis, u.ndim), u.ndim)
    if axis == "no" or total.outputs[0].dtype != num.dtype or not dtypes.is_float(u.dtype):
        return None
    return [Softmax(axis)(u)]


def softmax_shift_invariance(fgraph: Any, node: Apply) -> list | None:
    """softmax(a - c) -> softmax(a) when c is constant along the axis (e.g. c = max(a))."""
    diff = node.inputs[0]
    if _scalar_node(diff, "sub") is None:
        return None
    a, c = diff.owner.inputs
    axes = _reduced_axes(None if node.op.axis is None else (node.op.axis,), diff.ndim)
    if a.dtype != diff.dtype or any(c.type.shape[i] != 1 for i in axes):
        return None
    return [type(node.op)(node.op.axis)(a)]


def log_softmax_from_log(fgraph: Any, node: Apply) -> list | None:
    """log(softmax(x, axis)) -> log_softmax(x, axis)."""
    sm = node.inputs[0].owner
    if _scalar_node(node.outputs[0], "log") is None or sm is None or type(sm.op) is not Softmax:
        return None
    return [LogSoftmax(sm.op.axis)(sm.inputs[0])]


def _row_softmax_input(var: Variable) -> Variable | None:
    """x when var is softmax(x) over the rows of a matrix, else None."""
    node = var.owner
    if node is None or type(node.op) is not Softmax or node.op.axis not in (-1, 1):
        return None
    return node.inputs[0]


def crossentropy_softmax_1hot(fgraph: Any, node: Apply) -> list | None:
    """crossentropy_categorical_1hot(softmax(x), y) -> CrossentropySoftmax1Hot(x, y)."""
    x = _row_softmax_input(node.inputs[0])
    return None if x is None else [CrossentropySoftmax1Hot()(x, node.inputs[1])]


def crossentropy_softmax_1hot_grad(fgraph: Any, node: Apply) -> list | None:
    """SoftmaxGrad(CrossentropyCategorical1HotGrad(gz, sm, y), sm) -> Dx(gz, x, y), sm = softmax(x).

    Theano's local_crossentropy_to_crossentropy_with_softmax_grad: no -gz / sm division.
    """
    dy, sm = node.inputs
    inner = dy.owner
    if node.op.axis not in (-1, 1) or inner is None:
        return None
    if type(inner.op) is not CrossentropyCategorical1HotGrad or inner.inputs[1] is not sm:
        return None
    x = _row_softmax_input(sm)
    if x is None:
        return None
    gz, _, y_idx = inner.inputs
    return [CrossentropySoftmax1HotDx()(gz, x, y_idx)]


def softmax_grad_of_log(fgraph: Any, node: Apply) -> list | None:
    """SoftmaxGrad(±g / sm, sm) -> ±(g - sm * sum(g, axis, keepdims=True)): log(sm)'s gradient."""
    dy, sm = node.inputs
    negated = _scalar_node(dy, "neg") is not None
    ratio = dy.owner.inputs[0] if negated else dy
    if _scalar_node(ratio, "true_div") is None or ratio.owner.inputs[1] is not sm:
        return None
    g = ratio.owner.inputs[0]
    if any(gd == 1 and sd != 1 for gd, sd in zip(g.type.shape, sm.type.shape, strict=True)):
        g = m.second(sm, g)  # sum over the full rows, not over g's broadcast axes
    out = g - sm * g.sum(axis=node.op.axis, keepdims=True)
    return [-out if negated else out]


# ---------------------------------------------------------------------- logsumexp
def _shifted_by_max(u: Variable, axes: tuple[int, ...]) -> bool:
    """Whether u = a - f(max(a, axes)): exp(u) already cannot overflow."""
    if _scalar_node(u, "sub") is None:
        return False
    a, shift = u.owner.inputs
    frontier, depth = [shift], 0
    while frontier and depth < 4:
        nodes = [v.owner for v in frontier if v.owner is not None]
        for found in nodes:
            if type(found.op) is Max and found.inputs[0] is a:
                return _reduced_axes(found.op.axis, a.ndim) == axes
        frontier, depth = [i for n in nodes for i in n.inputs], depth + 1
    return False


def logsumexp(fgraph: Any, node: Apply) -> list | None:
    """log(sum(exp(u), axes)) -> M + log(sum(exp(u - M), axes)), M = max(u, axes) where finite."""
    if _scalar_node(node.outputs[0], "log") is None:
        return None
    total, shuffle = node.inputs[0].owner, None
    if total is not None and isinstance(total.op, DimShuffle):
        shuffle, total = total.op, total.inputs[0].owner
    if total is None or type(total.op) is not Sum or _scalar_node(total.inputs[0], "exp") is None:
        return None
    u = total.inputs[0].owner.inputs[0]
    axes = _reduced_axes(total.op.axis, u.ndim)
    if not dtypes.is_float(u.dtype) or _shifted_by_max(u, axes):
        return None
    big = Max(total.op.axis)(u)
    # an all -inf (or +inf) group keeps the naive answer: shift by 0 there, not by inf
    big = m.switch(m.isinf(big), m.zeros_like(big), big)
    shifted = u - DimShuffle(big.ndim, _keepdims_order(axes, u.ndim))(big)
    out = big + m.log(total.op(m.exp(shifted)))
    return [out if shuffle is None else shuffle(out)]


# ---------------------------------------------------------------------- products
def _any_scalar_node(var: Variable, names: tuple[str, ...]) -> Apply | None:
    return next((n for n in (_scalar_node(var, name) for name in names) if n is not None), None)


def _owned_by(fgraph: Any, var: Variable, names: tuple[str, ...]) -> Apply | None:
    """var's owner if it is one of these scalar ops and var has no other client (a tree node)."""
    return _any_scalar_node(var, names) if len(fgraph.clients.get(var, ())) == 1 else None


def _product_factors(fgraph: Any, var: Variable) -> list[Variable]:
    """The factors of a tree of binary muls under var, left to right."""
    node = var.owner
    return [f for inp in node.inputs for f in _factor_leaves(fgraph, inp)]


def _factor_leaves(fgraph: Any, var: Variable) -> list[Variable]:
    node = _owned_by(fgraph, var, ("mul",))
    return [var] if node is None else _product_factors(fgraph, var)


def _signed_terms(
    fgraph: Any, var: Variable, sign: int = 1, root: bool = True
) -> list[tuple[int, Variable]]:
    """The terms of a tree of add/sub/neg rooted at var, each with its sign."""
    names = ("add", "sub", "neg")
    node = _any_scalar_node(var, names) if root else _owned_by(fgraph, var, names)
    if node is None:
        return [(sign, var)]
    if node.op.scalar_op.name == "neg":
        return _signed_terms(fgraph, node.inputs[0], -sign, False)
    second_sign = -sign if node.op.scalar_op.name == "sub" else sign
    first = _signed_terms(fgraph, node.inputs[0], sign, False)
    return first + _signed_terms(fgraph, node.inputs[1], second_sign, False)


def _cancelled_term(term: Variable, others: list[Variable]) -> Variable | None:
    """n * (others without d) when term = n / d and d is one of `others`, else None."""
    ratio = _scalar_node(term, "true_div")
    if ratio is None:
        return None
    numerator, denominator = ratio.inputs
    for j, other in enumerate(others):
        if other is denominator:
            rest = [numerator] + others[:j] + others[j + 1 :]
            return rest[0] if len(rest) == 1 else m.mul(*rest)
    return None


def cancel_div_in_product(fgraph: Any, node: Apply) -> list | None:
    """(a / s ± b / t) * s * t -> a * t ± b * s: no s / s, which is nan where s underflows to 0."""
    if _scalar_node(node.outputs[0], "mul") is None:
        return None
    factors = _product_factors(fgraph, node.outputs[0])
    for i, factor in enumerate(factors):
        others = factors[:i] + factors[i + 1 :]
        terms = [(sign, _cancelled_term(t, others)) for sign, t in _signed_terms(fgraph, factor)]
        if any(t is None for _, t in terms):
            continue
        out = terms[0][1] if terms[0][0] > 0 else -terms[0][1]
        for sign, term in terms[1:]:
            out = out + term if sign > 0 else out - term
        return [out]
    return None


def zero_product(fgraph: Any, node: Apply) -> list | None:
    """A product linear in each of its first two inputs, one of them zero -> zeros of its
    shape, so R_op's zeros_like terms cost nothing (Theano's local_0_dot_x, for every such op)."""
    if constant_value(node.inputs[0]) != 0 and constant_value(node.inputs[1]) != 0:
        return None
    shapes = [
        tuple(n if n is not None else shape_i(v, k) for k, n in enumerate(v.type.shape))
        for v in node.inputs
    ]
    out = node.outputs[0]
    dims = call_infer_shape(node.op, fgraph, node, shapes)[0]
    return [alloc(constant(0, dtype=out.dtype), *dims)]


RULES = [
    Rule(
        "local_0_dot_x",
        PHASE,
        node_rule=zero_product,
        tracks=(Dot, TensorDot, MatMul, Conv2d, Conv2dGradInputs, Conv2dGradWeights),
        math="dot(0, y) -> zeros(shape of dot(0, y)); likewise dot(x, 0), conv(0, w), ...",
    ),
    Rule(
        "sigmoid_from_exp",
        PHASE,
        ("true_div", 1, ("add", 1, ("exp", "x"))),
        ("sigmoid", ("neg", "x")),
        math="1 / (1 + exp(x)) -> sigmoid(-x)",
    ),
    Rule(
        "sigmoid_from_exp_ratio",
        PHASE,
        ("true_div", ("exp", "x"), ("add", 1, ("exp", "x"))),
        ("sigmoid", "x"),
        math="exp(x) / (1 + exp(x)) -> sigmoid(x)",
    ),
    Rule(
        "one_minus_sigmoid",
        PHASE,
        ("sub", 1, ("sigmoid", "x")),
        ("sigmoid", ("neg", "x")),
        math="1 - sigmoid(x) -> sigmoid(-x)",
    ),
    Rule(
        "sigmoid_times_exp",
        PHASE,
        ("mul", ("true_div", "g", ("add", 1, ("exp", "u"))), ("exp", "u")),
        ("mul", "g", ("sigmoid", "u")),
        math="g / (1 + exp(u)) * exp(u) -> g * sigmoid(u)",
    ),
    Rule(
        "log_sigmoid",
        PHASE,
        ("log", ("sigmoid", "x")),
        ("neg", ("softplus", ("neg", "x"))),
        math="log(sigmoid(x)) -> -softplus(-x)",
    ),
    Rule(
        "softplus_from_log_exp",
        PHASE,
        ("log", ("add", 1, ("exp", "x"))),
        ("softplus", "x"),
        math="log(1 + exp(x)) -> softplus(x)",
    ),
    Rule(
        "log1p_from_log",
        PHASE,
        ("log", ("add", 1, "x")),
        ("log1p", "x"),
        math="log(1 + x) -> log1p(x)",
    ),
    Rule(
        "log1p_from_log_sub",
        PHASE,
        ("log", ("sub", 1, "x")),
        ("log1p", ("neg", "x")),
        math="log(1 - x) -> log1p(-x)",
    ),
    Rule(
        "expm1_from_exp",
        PHASE,
        ("sub", ("exp", "x"), 1),
        ("expm1", "x"),
        math="exp(x) - 1 -> expm1(x)",
    ),
    Rule(
        "softmax_from_exp_ratio",
        PHASE,
        node_rule=softmax_from_exp_ratio,
        tracks=("true_div",),
        math="exp(u) / sum(exp(u), axis, keepdims=True) -> softmax(u, axis)",
    ),
    Rule(
        "softmax_shift_invariance",
        PHASE,
        node_rule=softmax_shift_invariance,
        tracks=(Softmax, LogSoftmax),
        math="softmax(a - c) -> softmax(a) when c is constant along the axis",
    ),
    Rule(
        "log_softmax_from_log",
        PHASE,
        node_rule=log_softmax_from_log,
        tracks=("log",),
        math="log(softmax(x)) -> log_softmax(x)",
    ),
    Rule(
        "crossentropy_softmax_1hot",
        PHASE,
        node_rule=crossentropy_softmax_1hot,
        tracks=(CrossentropyCategorical1Hot,),
        math="crossentropy_categorical_1hot(softmax(x), y) -> CrossentropySoftmax1Hot(x, y)",
    ),
    Rule(
        "crossentropy_softmax_1hot_grad",
        PHASE,
        node_rule=crossentropy_softmax_1hot_grad,
        tracks=(SoftmaxGrad,),
        math="SoftmaxGrad(CrossentropyCategorical1HotGrad(gz, sm, y), sm) -> "
        "CrossentropySoftmax1HotDx(gz, x, y) with sm = softmax(x)",
    ),
    Rule(
        "softmax_grad_of_log",
        PHASE,
        node_rule=softmax_grad_of_log,
        tracks=(SoftmaxGrad,),
        math="SoftmaxGrad(g / sm, sm) -> g - sm * sum(g, axis, keepdims=True)",
    ),
    Rule(
        "logsumexp",
        PHASE,
        node_rule=logsumexp,
        tracks=("log",),
        math="log(sum(exp(u))) -> M + log(sum(exp(u - M))), M = max(u)",
    ),
    Rule(
        "cancel_div_in_product",
        PHASE,
        node_rule=cancel_div_in_product,
        tracks=("mul",),
        math="(a / s + b / t) * s * t -> a * t + b * s; (a / s) * s -> a",
    ),
]
