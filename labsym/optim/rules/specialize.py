"""Specialized forms: dot chains become BLAS Gemm/Gemv/Ger, small powers become cheap ops.

Also sum(x * y) -> dot(x, y) for vectors. Each rule states its math in `math=`.
May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.ops import math as m
from labsym.core.ops.blas import Dot, dot
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.gemm import BLAS_DTYPES, Gemm, Gemv, Ger
from labsym.core.ops.reduce import Sum
from labsym.core.variable import constant
from labsym.optim.patterns import Rule, constant_value

PHASE = ("specialize",)

# a scale is a sum of monomials: (coefficient, the scalar variables it multiplies)
Monomial = tuple[float, tuple[Variable, ...]]
LINEAR = ("add", "sub", "neg", "mul", "true_div")


# ---------------------------------------------------------------------------- small helpers
def _elemwise_name(node: Apply | None) -> str | None:
    """The scalar name of a non-inplace Elemwise node, else None."""
    if node is None or not isinstance(node.op, Elemwise) or node.op.inplace_pattern:
        return None
    return node.op.scalar_op.name


def _pattern(var: Variable) -> tuple[bool, ...]:
    """Which axes of var broadcast (static length 1)."""
    return tuple(d == 1 for d in var.type.shape)


def _single_client(fgraph: Any, var: Variable) -> bool:
    clients = fgraph.clients.get(var, ())
    return len(clients) == 1 and clients[0][0] != "output"


def _scalar_factor(var: Variable) -> float | Variable | None:
    """var as one number broadcast to a tensor: a float, a 0-d variable, or None if it varies."""
    if not all(_pattern(var)):
        return None
    value = constant_value(var)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 0:
        return node.inputs[0]
    return None


def _split_scalars(node: Apply) -> tuple[float, tuple, Variable] | None:
    """(coef, scalar variables, varying input) when a mul/true_div node scales one input."""
    out = node.outputs[0]
    name = _elemwise_name(node)
    if name == "true_div":
        varying, divisor = node.inputs
        value = _scalar_factor(divisor)
        if not isinstance(value, float) or value == 0:
            return None
        coef, syms, rest = 1.0 / value, (), [varying]
    elif name == "mul":
        coef, syms, rest = 1.0, (), []
        for inp in node.inputs:
            factor = _scalar_factor(inp)
            if factor is None:
                rest.append(inp)
            elif isinstance(factor, float):
                coef *= factor
            else:
                syms += (factor,)
    else:
        return None
    if len(rest) != 1 or rest[0].dtype != out.dtype or _pattern(rest[0]) != _pattern(out):
        return None
    return coef, syms, rest[0]


def _linear_input_of(node: Apply, out: Variable) -> bool:
    """Whether node is an add/sub/neg/scaling of out's dtype and broadcast pattern."""
    var = node.outputs[0]
    name = _elemwise_name(node)
    if name not in LINEAR or var.dtype != out.dtype or _pattern(var) != _pattern(out):
        return False
    return name not in ("mul", "true_div") or _split_scalars(node) is not None


# ---------------------------------------------------------------------------- linear forms
def _expand(fgraph: Any, out: Variable) -> list[tuple[Monomial, Variable]]:
    """(monomial, leaf) pairs whose sum is out, read through private linear nodes, in order."""
    terms = []
    stack: list[tuple[Monomial, Variable, bool]] = [((1.0, ()), out, True)]
    while stack:  # a loop, not recursion: sums of thousands of terms are common
        scale, var, top = stack.pop()
        node = var.owner
        coef, syms = scale
        if (
            node is None
            or not (top or _single_client(fgraph, var))
            or not _linear_input_of(node, out)
        ):
            terms.append((scale, var))
            continue
        name = _elemwise_name(node)
        if name == "add":
            stack.extend((scale, inp, False) for inp in reversed(node.inputs))
        elif name == "sub":
            stack.append(((-coef, syms), node.inputs[1], False))
            stack.append((scale, node.inputs[0], False))
        elif name == "neg":
            stack.append(((-coef, syms), node.inputs[0], False))
        else:
            inner_coef, inner_syms, varying = _split_scalars(node)  # type: ignore[misc]
            stack.append(((coef * inner_coef, syms + inner_syms), varying, False))
    return terms


def _merge_terms(terms: list) -> dict[Variable, list[Monomial]]:
    """Like terms gathered: each leaf with its scale as a list of distinct monomials."""
    merged: dict[Variable, dict[tuple, float]] = {}
    for (coef, syms), leaf in terms:
        key = tuple(sorted(syms, key=id))
        monomials = merged.setdefault(leaf, {})
        monomials[key] = monomials.get(key, 0.0) + coef
    return {leaf: [(c, k) for k, c in monos.items()] for leaf, monos in merged.items()}


def _scale_variable(scale: list[Monomial], dtype: str) -> Variable:
    """A 0-d `dtype` variable computing the scale's sum of monomials."""
    parts = []
    for coef, syms in scale:
        if not syms:
            parts.append(constant(coef, dtype=dtype))
            continue
        factor = (
            m.mul(*[m.cast(s, dtype) for s in syms]) if len(syms) > 1 else m.cast(syms[0], dtype)
        )
        parts.append(factor if coef == 1 else m.mul(factor, constant(coef, dtype=dtype)))
    return m.add(*parts) if len(parts) > 1 else parts[0]


def _times(scale: list[Monomial], leaf: Variable) -> Variable:
    """scale * leaf, without a product when the scale is 1."""
    if scale == [(1.0, ())]:
        return leaf
    return m.mul(leaf, _scale_variable(scale, leaf.dtype))


def _peel(fgraph: Any, var: Variable) -> tuple[Monomial, Variable]:
    """(scale, core) with var = scale * core, through private negations and scalings."""
    coef, syms = 1.0, ()
    while var.owner is not None and _single_client(fgraph, var):
        name = _elemwise_name(var.owner)
        if name == "neg":
            coef, var = -coef, var.owner.inputs[0]
            continue
        split = _split_scalars(var.owner) if name in ("mul", "true_div") else None
        if split is None:
            break
        coef, syms, var = coef * split[0], syms + split[1], split[2]
    return (coef, syms), var


# ---------------------------------------------------------------------------- BLAS fusion
def _outer_operands(node: Apply) -> tuple[Variable, Variable] | None:
    """(x, y) when node is x.dimshuffle(0, 'x') * y.dimshuffle('x', 0)."""
    if _elemwise_name(node) != "mul" or len(node.inputs) != 2:
        return None
    for col, row in (node.inputs, node.inputs[::-1]):
        col_node, row_node = col.owner, row.owner
        if (
            col_node is not None
            and row_node is not None
            and col_node.op == DimShuffle(1, (0, "x"))
            and row_node.op == DimShuffle(1, ("x", 0))
        ):
            return col_node.inputs[0], row_node.inputs[0]
    return None


def _product(fgraph: Any, leaf: Variable, out: Variable) -> tuple[type, Variable, Variable] | None:
    """(Gemm/Gemv/Ger, left, right) when leaf is a private dot or outer product BLAS can fuse."""
    node = leaf.owner
    if node is None or leaf.dtype != out.dtype or not _single_client(fgraph, leaf):
        return None
    if _pattern(leaf) != _pattern(out):
        return None
    if isinstance(node.op, Dot):
        a, b = node.inputs
        if a.dtype != out.dtype or b.dtype != out.dtype:
            return None
        if a.ndim == 2:
            return (Gemm if b.ndim == 2 else Gemv), a, b
        return (Gemv, b.T, a) if b.ndim == 2 else None  # dot(x, A) = dot(A.T, x)
    operands = _outer_operands(node)
    if operands is None or any(v.dtype != out.dtype for v in operands):
        return None
    return Ger, operands[0], operands[1]


def _absorbed_by_client(fgraph: Any, var: Variable) -> bool:
    """Whether var's only client is a linear node that will fuse it as part of a larger form."""
    if not _single_client(fgraph, var):
        return False
    client = fgraph.clients[var][0][0]
    if not _linear_input_of(client, var):
        return False
    split = _split_scalars(client) if _elemwise_name(client) in ("mul", "true_div") else None
    return split is None or split[2] is var


def dot_to_blas(fgraph: Any, node: Apply) -> list | None:
    """b*Z + a*dot(X, Y) [+ rest] -> Gemm(Z, a, X, Y, b) [+ rest]; Gemv and Ger alike."""
    out = node.outputs[0]
    if out.dtype not in BLAS_DTYPES or out.ndim not in (1, 2) or not _linear_input_of(node, out):
        return None
    if _absorbed_by_client(fgraph, out):
        return None  # the root of the linear form fuses it
    merged = _merge_terms(_expand(fgraph, out))
    if any(leaf.dtype != out.dtype for leaf in merged):
        return None
    for leaf in merged:
        found = _product(fgraph, leaf, out)
        if found is None or not any(coef != 0 for coef, _ in merged[leaf]):
            continue
        z = next((v for v in merged if v is not leaf and _can_accumulate(v, merged[v], out)), None)
        if z is None:
            continue
        op_class, left, right = found
        (left_coef, left_syms), left = _peel(fgraph, left)
        (right_coef, right_syms), right = _peel(fgraph, right)
        extra = (left_coef * right_coef, left_syms + right_syms)
        alpha = [(c * extra[0], tuple(sorted(s + extra[1], key=id))) for c, s in merged[leaf]]
        fused = op_class()(
            z, _scale_variable(alpha, out.dtype), left, right, _scale_variable(merged[z], out.dtype)
        )
        rest = [_times(scale, v) for v, scale in merged.items() if v is not leaf and v is not z]
        return [m.add(fused, *rest) if rest else fused]
    return None


def _can_accumulate(var: Variable, scale: list[Monomial], out: Variable) -> bool:
    """Whether var can be the accumulated term Z: out's full shape and a scale not known to be 0."""
    return _pattern(var) == _pattern(out) and any(coef != 0 for coef, _ in scale)


# ---------------------------------------------------------------------------- sum -> dot
def sum_of_products_to_dot(fgraph: Any, node: Apply) -> list | None:
    """sum(x * y) -> dot(x, y) and sum(sqr(x)) -> dot(x, x) for float vectors (BLAS dot)."""
    op, out = node.op, node.outputs[0]
    if type(op) is not Sum or out.dtype not in BLAS_DTYPES or op.acc_dtype != out.dtype:
        return None
    product = node.inputs[0]
    if product.ndim != 1 or not _single_client(fgraph, product):
        return None
    name = _elemwise_name(product.owner)
    if name == "mul" and len(product.owner.inputs) == 2:
        x, y = product.owner.inputs
    elif name == "sqr":
        x = y = product.owner.inputs[0]
    else:
        return None
    for v in (x, y):
        if v.dtype != out.dtype or _pattern(v) != _pattern(product):
            return None
    return [dot(x, y)]


# ---------------------------------------------------------------------------- rules
def _is_float(var: Variable) -> bool:
    return dtypes.is_float(var.dtype)


X_FLOAT = {"pattern": "x", "constraint": _is_float}

RULES = [
    Rule("pow_half", PHASE, ("pow", X_FLOAT, 0.5), ("sqrt", "x"), math="x ** 0.5 -> sqrt(x)"),
    Rule(
        "pow_minus_half",
        PHASE,
        ("pow", X_FLOAT, -0.5),
        ("true_div", 1, ("sqrt", "x")),
        math="x ** -0.5 -> 1 / sqrt(x)",
    ),
    Rule(
        "pow_minus_one", PHASE, ("pow", X_FLOAT, -1), ("true_div", 1, "x"), math="x ** -1 -> 1 / x"
    ),
    Rule(
        "pow_minus_two",
        PHASE,
        ("pow", X_FLOAT, -2),
        ("true_div", 1, ("sqr", "x")),
        math="x ** -2 -> 1 / sqr(x)",
    ),
    Rule(
        "pow_three",
        PHASE,
        ("pow", X_FLOAT, 3),
        ("mul", ("sqr", "x"), "x"),
        math="x ** 3 -> sqr(x) * x",
    ),
    Rule(
        "dot_to_blas",
        PHASE,
        node_rule=dot_to_blas,
        tracks=LINEAR,
        math="b*Z + a*dot(X, Y) -> Gemm(Z, a, X, Y, b) (Gemv for matrix.vector, Ger for outer)",
    ),
    Rule(
        "sum_of_products_to_dot",
        PHASE,
        node_rule=sum_of_products_to_dot,
        tracks=(Sum,),
        math="sum(x * y) -> dot(x, y) for vectors",
    ),
]
