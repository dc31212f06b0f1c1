"""Specialize rules: dot chains to Gemm/Gemv/Ger, small powers, sum(x * y) -> dot.

Every rule is checked for the rewritten graph and for numbers against the unrewritten graph.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import Mode, function
from labsym.core.autodiff import grad
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Constant, ancestors
from labsym.core.ops import math as m
from labsym.core.ops.blas import Dot, dot, outer
from labsym.core.ops.elemwise import Elemwise
from labsym.core.ops.gemm import Gemm, Gemv, Ger
from labsym.core.ops.reduce import Sum
from labsym.core.type import TensorType
from labsym.core.variable import constant
from labsym.optim.rules import specialize
from tests.optim.rewrite_helpers import check_rewrite, ops_in

RNG = np.random.default_rng(3)
# the graph as specialize leaves it; fusion and inplace would rename the elementwise ops
REWRITE = Mode(linker="py", optimizer="fast_run", excluding=("fusion", "inplace"))
F32 = dict(rtol=1e-5, atol=1e-5)


def tensor(shape, dtype="float64", name=None):
    return TensorType(dtype, shape)(name)


def matrix(dtype="float64", name=None):
    return tensor((None, None), dtype, name)


def vector(dtype="float64", name=None):
    return tensor((None,), dtype, name)


def scalar(dtype="float64", name=None):
    return tensor((), dtype, name)


def value(shape, dtype="float64"):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-3, 4, size=shape).astype(dtype)
    return RNG.normal(size=shape).astype(dtype)


def const(v, dtype="float64"):
    return constant(v, dtype=dtype)


def only_node(fgraph):
    """The one apply node of a rewritten graph (asserting there is exactly one)."""
    nodes = fgraph.toposort()
    assert len(nodes) == 1, ops_in(fgraph)
    return nodes[0]


def scales_of(node):
    """(a, b) of a Gemm/Gemv/Ger node whose scales are constants."""
    a, b = node.inputs[1], node.inputs[4]
    assert isinstance(a, Constant) and isinstance(b, Constant), node
    return float(a.data), float(b.data)


# ---------------------------------------------------------------------------- Gemm
GEMM_CASES = [
    # (name, build(Z, X, Y), (alpha, beta))
    ("scaled", lambda z, x, y: z * 0.5 + dot(x, y) * 2.0, (2.0, 0.5)),
    ("plain_add", lambda z, x, y: z + dot(x, y), (1.0, 1.0)),
    ("dot_minus_z", lambda z, x, y: dot(x, y) - z, (1.0, -1.0)),
    ("z_minus_dot", lambda z, x, y: z - dot(x, y), (-1.0, 1.0)),
    ("divided", lambda z, x, y: (z + dot(x, y)) / 4.0, (0.25, 0.25)),
    ("negated_scaled", lambda z, x, y: -(3.0 * z) + dot(x, y) * -2.0, (-2.0, -3.0)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, build, scales", GEMM_CASES, ids=[c[0] for c in GEMM_CASES])
def test_linear_forms_of_dot_become_one_gemm(name, build, scales, dtype):
    z, x, y = matrix(dtype, "z"), matrix(dtype, "x"), matrix(dtype, "y")
    alpha, beta = scales
    expected = Gemm()(z, const(alpha, dtype), x, y, const(beta, dtype))
    values = [value((3, 4), dtype), value((3, 5), dtype), value((5, 4), dtype)]
    tol = F32 if dtype == "float32" else {}
    check_rewrite([z, x, y], build(z, x, y), expected, values, mode=REWRITE, **tol)


def test_symbolic_scales_become_gemm_inputs():
    z, x, y, a, b = (
        matrix(name="z"),
        matrix(name="x"),
        matrix(name="y"),
        scalar(name="a"),
        scalar(name="b"),
    )
    values = [value((2, 3)), value((2, 4)), value((4, 3)), np.asarray(0.3), np.asarray(-1.7)]
    expected = Gemm()(z, a, x, y, b)
    check_rewrite([z, x, y, a, b], b * z + dot(x, y) * a, expected, values, mode=REWRITE)
    # Z*a + dot(X, Y)*b with a constant factor on top: the scales multiply
    expected = Gemm()(z, m.mul(b, const(2.0)), x, y, m.mul(a, const(2.0)))
    check_rewrite([z, x, y, a, b], 2.0 * (z * a + dot(x, y) * b), expected, values, mode=REWRITE)


def test_two_dots_nest_two_gemms():
    z, x1, y1, x2, y2 = (matrix(name=n) for n in ("z", "x1", "y1", "x2", "y2"))
    out = z + dot(x1, y1) + 3.0 * dot(x2, y2)

    def nested(fgraph):  # which dot goes first depends on canonicalize's order of terms
        outer_node = fgraph.outputs[0].owner
        inner_node = outer_node.inputs[0].owner
        return (
            isinstance(outer_node.op, Gemm)
            and isinstance(inner_node.op, Gemm)
            and inner_node.inputs[0].name == "z"
            and {scales_of(outer_node), scales_of(inner_node)} == {(1.0, 1.0), (3.0, 1.0)}
            and len(fgraph.toposort()) == 2
        )

    values = [value((2, 2)), value((2, 3)), value((3, 2)), value((2, 4)), value((4, 2))]
    check_rewrite([z, x1, y1, x2, y2], out, nested, values, mode=REWRITE)


def test_broadcast_terms_stay_outside_the_gemm():
    z, x, y, bias = (
        matrix(name="z"),
        matrix(name="x"),
        matrix(name="y"),
        tensor((1, None), name="bias"),
    )
    expected = m.add(Gemm()(z, const(1.0), x, y, const(1.0)), bias)
    values = [value((2, 3)), value((2, 2)), value((2, 3)), value((1, 3))]
    check_rewrite([z, x, y, bias], z + dot(x, y) + bias, expected, values, mode=REWRITE)


@pytest.mark.parametrize(
    "build",
    [
        lambda z, x, y: dot(x, y) + z[0],  # a broadcast row is no accumulator
        lambda z, x, y: dot(x, y) + z[0, 0],  # nor is a broadcast scalar
        lambda z, x, y: dot(x, y) + 0 * z,  # nor a term known to be 0
    ],
    ids=["row", "scalar", "zero"],
)
def test_dot_without_an_accumulated_matrix_stays_dot(build):
    z, x, y = matrix(name="z"), matrix(name="x"), matrix(name="y")
    values = [value((3, 3)), value((3, 2)), value((2, 3))]

    def no_blas_op(fgraph):
        names = ops_in(fgraph)
        return "dot" in names and not any(n.startswith(("Gemm", "Gemv", "Ger")) for n in names)

    check_rewrite([z, x, y], build(z, x, y), no_blas_op, values, mode=REWRITE)


def test_plain_and_scaled_dots_stay_dot():
    x, y = matrix(name="x"), matrix(name="y")
    values = [value((3, 2)), value((2, 3))]
    check_rewrite([x, y], dot(x, y), dot(x, y), values, mode=REWRITE)
    check_rewrite([x, y], 2.0 * dot(x, y), m.mul(2.0, dot(x, y)), values, mode=REWRITE)


def test_integer_dot_chain_stays_dot_and_elemwise():
    z, x, y = matrix("int64", "z"), matrix("int64", "x"), matrix("int64", "y")
    values = [value((2, 2), "int64"), value((2, 3), "int64"), value((3, 2), "int64")]
    check_rewrite(
        [z, x, y], z * 2 + dot(x, y), lambda fg: "dot" in ops_in(fg), values, mode=REWRITE
    )


def test_sums_of_thousands_of_terms_are_read_without_recursion():
    a, x = matrix(name="a"), vector(name="x")
    terms = [vector(name=f"v{i}") for i in range(1500)]  # deeper than Python's recursion limit
    out = dot(a, x)
    for term in terms:
        out = out + term
    fgraph = FunctionGraph([a, x, *terms], [out])
    (rewritten,) = specialize.dot_to_blas(fgraph, fgraph.outputs[0].owner)
    fused = [
        v.owner.op
        for v in ancestors([rewritten])
        if v.owner is not None and not isinstance(v.owner.op, Elemwise)
    ]
    assert fused == [Gemv()]


def test_shared_dot_is_not_computed_twice():
    z, x, y = matrix(name="z"), matrix(name="x"), matrix(name="y")
    product = dot(x, y)
    f = function([z, x, y], [z + product, product], mode=REWRITE)
    assert not any(isinstance(n.op, Gemm) for n in f.maker.fgraph.toposort())
    zv, xv, yv = value((2, 2)), value((2, 3)), value((3, 2))
    total, prod = f(zv, xv, yv)
    np.testing.assert_allclose(total, zv + xv @ yv)
    np.testing.assert_allclose(prod, xv @ yv)


# ---------------------------------------------------------------------------- Gemv, Ger
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matrix_vector_becomes_gemv(dtype):
    y, a, x = vector(dtype, "y"), matrix(dtype, "a"), vector(dtype, "x")
    values = [value(3, dtype), value((3, 4), dtype), value(4, dtype)]
    tol = F32 if dtype == "float32" else {}
    expected = Gemv()(y, const(1.0, dtype), a, x, const(0.5, dtype))
    check_rewrite([y, a, x], y * 0.5 + dot(a, x), expected, values, mode=REWRITE, **tol)
    # dot(x, A) = dot(A.T, x)
    values = [value(4, dtype), value((3, 4), dtype), value(3, dtype)]
    expected = Gemv()(y, const(1.0, dtype), a.T, x, const(1.0, dtype))
    check_rewrite([y, a, x], y + dot(x, a), expected, values, mode=REWRITE, **tol)


def test_logistic_weight_update_is_one_gemv():
    # w - 0.1 * (dot(x.T, g) + 0.02 * w) = 0.998 * w - 0.1 * dot(x.T, g)
    w, x, g = vector(name="w"), matrix(name="x"), vector(name="g")
    values = [value(5), value((4, 5)), value(4)]

    def one_gemv(fgraph):
        node = fgraph.outputs[0].owner
        a, b = scales_of(node)
        transposed = node.inputs[2].owner
        return (
            isinstance(node.op, Gemv)
            and np.isclose(a, -0.1)
            and np.isclose(b, 0.998)
            and str(transposed.op) == "InplaceDimShuffle{1,0}"
            and ops_in(fgraph) == ["InplaceDimShuffle{1,0}", "Gemv{no_inplace}"]
        )

    check_rewrite([w, x, g], w - 0.1 * (dot(x.T, g) + 0.02 * w), one_gemv, values, mode=REWRITE)


def test_negation_of_a_private_operand_moves_into_the_scale():
    w, x, g = vector(name="w"), matrix(name="x"), vector(name="g")
    expected = Gemv()(w, const(0.1), x, g, const(1.0))
    values = [value(3), value((3, 4)), value(4)]
    check_rewrite([w, x, g], w - 0.1 * dot(x, -g), expected, values, mode=REWRITE)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_outer_product_update_becomes_ger(dtype):
    a, x, y = matrix(dtype, "a"), vector(dtype, "x"), vector(dtype, "y")
    values = [value((3, 4), dtype), value(3, dtype), value(4, dtype)]
    tol = F32 if dtype == "float32" else {}
    expected = Ger()(a, const(-0.1, dtype), x, y, const(1.0, dtype))
    lr = np.asarray(0.1, dtype)  # a Python 0.1 would upcast float32 to float64, as in Theano
    check_rewrite([a, x, y], a - lr * outer(x, y), expected, values, mode=REWRITE, **tol)
    # the row-times-column order of the product
    product = y.dimshuffle("x", 0) * x.dimshuffle(0, "x")
    expected = Ger()(a, const(1.0, dtype), x, y, const(2.0, dtype))
    check_rewrite([a, x, y], product + 2.0 * a, expected, values, mode=REWRITE, **tol)


def test_sgd_step_of_a_dense_layer_is_one_ger():
    w, x, t = matrix(name="w"), vector(name="x"), vector(name="t")
    cost = (dot(w, x) * t).sum()
    updated = w - 0.1 * grad(cost, w)
    values = [value((3, 4)), value(4), value(3)]
    expected = Ger()(w, const(-0.1), t, x, const(1.0))
    check_rewrite([w, x, t], updated, expected, values, mode=REWRITE)


def test_gradient_graph_of_least_squares_stays_two_gemms():
    # W - 0.1 * d/dW sum((X.W - T)**2) = W - 0.1 * X.T . (2 X.W - 2 T)
    x, w, t = matrix(name="x"), matrix(name="w"), matrix(name="t")
    cost = ((dot(x, w) - t) ** 2).sum()
    updated = w - 0.1 * grad(cost, w)
    residual = Gemm()(t, const(2.0), x, w, const(-2.0))
    expected = Gemm()(w, const(-0.1), x.T, residual, const(1.0))
    values = [value((5, 3)), value((3, 2)), value((5, 2))]
    check_rewrite([x, w, t], updated, expected, values, mode=REWRITE)


# ---------------------------------------------------------------------------- powers
POW_CASES = [
    (0.5, m.sqrt),
    (-0.5, lambda x: m.true_div(1, m.sqrt(x))),
    (-1, lambda x: m.true_div(1, x)),
    (-2, lambda x: m.true_div(1, m.sqr(x))),
    (3, lambda x: m.mul(m.sqr(x), x)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("exponent, replacement", POW_CASES, ids=[str(c[0]) for c in POW_CASES])
def test_small_constant_powers_become_cheap_ops(exponent, replacement, dtype):
    x = matrix(dtype, "x")
    values = [np.abs(value((3, 4), dtype)) + 0.1]
    tol = F32 if dtype == "float32" else {}
    out = check_rewrite([x], x**exponent, replacement(x), values, mode=REWRITE, **tol)
    assert out(*values).dtype == dtype


def test_integer_powers_stay_pow():
    x = vector("int64", "x")
    check_rewrite(
        [x],
        x**3,
        lambda fg: ops_in(fg) == ["Elemwise{pow,no_inplace}"],
        [value(5, "int64")],
        mode=REWRITE,
    )


def test_other_exponents_stay_pow():
    x = vector(name="x")
    check_rewrite(
        [x],
        x**1.5,
        lambda fg: ops_in(fg) == ["Elemwise{pow,no_inplace}"],
        [np.abs(value(4))],
        mode=REWRITE,
    )


# ---------------------------------------------------------------------------- sum -> dot
def test_sum_of_a_product_of_vectors_is_a_dot():
    x, y = vector("float64", "x"), vector("float64", "y")
    values = [value(50, "float64"), value(50, "float64")]
    check_rewrite([x, y], (x * y).sum(), dot(x, y), values, mode=REWRITE, rtol=1e-12)
    check_rewrite([x], m.sqr(x).sum(axis=0), dot(x, x), values[:1], mode=REWRITE, rtol=1e-12)


def test_float32_sum_of_a_product_keeps_its_float64_accumulator():
    # Theano's Sum accumulates float32 in float64; a float32 BLAS dot would not
    x, y = vector("float32", "x"), vector("float32", "y")
    total = (x * y).sum()
    assert total.owner.op.acc_dtype == "float64" and total.dtype == "float32"
    values = [value(50, "float32"), value(50, "float32")]
    check_rewrite(
        [x, y],
        total,
        lambda fg: not any(type(n.op).__name__ == "Dot" for n in fg.apply_nodes),
        values,
        mode=REWRITE,
        **F32,
    )


@pytest.mark.parametrize(
    "types",
    [
        [(None, None), (None, None)],  # matrices: a Frobenius product, not a BLAS dot
        [(None,), (1,)],  # broadcasting
    ],
)
def test_sum_of_other_products_stays_sum(types):
    x, y = tensor(types[0], name="x"), tensor(types[1], name="y")
    values = [value(tuple(3 if d is None else d for d in t)) for t in types]
    check_rewrite(
        [x, y],
        (x * y).sum(),
        lambda fg: any(n.startswith("Sum") for n in ops_in(fg)),
        values,
        mode=REWRITE,
    )


def test_sum_of_integers_stays_sum():
    x, y = vector("int32", "x"), vector("int32", "y")
    values = [value(6, "int32"), value(6, "int32")]
    check_rewrite([x, y], (x * y).sum(), lambda fg: "dot" not in ops_in(fg), values, mode=REWRITE)


def test_product_needed_elsewhere_stays_sum():
    x, y = vector(name="x"), vector(name="y")
    product = x * y
    f = function([x, y], [product.sum(), product], mode=REWRITE)
    assert any(isinstance(n.op, Sum) for n in f.maker.fgraph.toposort())
    assert not any(isinstance(n.op, Dot) for n in f.maker.fgraph.toposort())
    xv, yv = value(4), value(4)
    np.testing.assert_allclose(f(xv, yv)[0], xv @ yv)


def test_rules_are_declared_for_the_specialize_phase_only():
    assert {rule.phases for rule in specialize.RULES} == {("specialize",)}
    assert all(rule.math for rule in specialize.RULES)
