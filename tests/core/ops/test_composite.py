"""Composite: types, text, equality, NumPy evaluation (bit-exact vs Elemwise), errors, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import Mode, function
from labsym.core.autodiff import DisconnectedInputError, Rop, grad
from labsym.core.ops import math as m
from labsym.core.ops.composite import Composite, ScalarConstant, numpy_function
from labsym.core.ops.elemwise import BroadcastError
from labsym.core.scalar import SCALAR_OPS
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import array_maker

NO_REWRITES = Mode(linker="py", optimizer=None)
RNG = np.random.default_rng(7)


def tensor(dtype: str = "float64", shape=(None,), name: str | None = None):
    return TensorType(dtype, shape)(name)


random_array = array_maker(RNG, 1, 6)


def issue_expression(x, y, z):
    return m.exp(-m.sqr(x)) * m.sin(y) + m.log1p(m.abs(z))


def fused_and_reference(inputs, outputs):
    """The Composite of `outputs` and the unfused Elemwise graph, both compiled without rewrites."""
    op = Composite.from_graph(inputs, outputs)
    fused_out = op(*inputs)
    fused = function(inputs, fused_out, mode=NO_REWRITES)
    reference = function(inputs, outputs if len(outputs) > 1 else outputs[0], mode=NO_REWRITES)
    return op, fused, reference


# ---------------------------------------------------------------------- program, text, equality
def test_issue_expression_reads_as_one_formula():
    x, y, z = tensor(), tensor(), tensor()
    op = Composite.from_graph([x, y, z], [issue_expression(x, y, z)])
    # Theano's Composite text: each operator parenthesized, unnamed scalar ops by class (Abs)
    assert str(op) == "Elemwise{Composite{((exp((-sqr(i0))) * sin(i1)) + log1p(Abs(i2)))}}"
    assert [spec.name for spec, _ in op.program] == [
        "sqr",
        "neg",
        "exp",
        "sin",
        "mul",
        "abs",
        "log1p",
        "add",
    ]
    assert op.program[4][1] == (("step", 2), ("step", 3))
    assert op.outputs == (7,)


def test_text_parenthesizes_every_operator_and_repeats_shared_steps():
    a, b, c = tensor(), tensor(), tensor()
    cases = [
        (a - (b - c), "(i0 - (i1 - i2))"),
        ((a - b) - c, "((i0 - i1) - i2)"),
        (a / (b * c), "(i0 / (i1 * i2))"),
        ((a + b) * c, "((i0 + i1) * i2)"),
        (-(a + b), "(-(i0 + i1))"),
        (m.maximum(a, 2.5), "maximum(i0, 2.5)"),
        (m.gt(a, b), "GT(i0, i1)"),
        (m.switch(m.lt(a, b), a, m.sigmoid(c)), "Switch(LT(i0, i1), i0, scalar_sigmoid(i2))"),
    ]
    for expr, text in cases:
        assert str(Composite.from_graph([a, b, c], [expr])) == f"Elemwise{{Composite{{{text}}}}}"
    shared = m.exp(a)
    two = Composite.from_graph([a, b], [shared * b + shared, m.sin(shared)])
    assert str(two) == "Elemwise{Composite{((exp(i0) * i1) + exp(i0)), sin(exp(i0))}}"
    also_output = Composite.from_graph([a], [shared, shared * 2.0])
    assert str(also_output) == "Elemwise{Composite{exp(i0), (exp(i0) * 2.0)}}"


def test_text_names_shared_steps_once_it_would_grow_too_long():
    a = tensor()
    value = m.exp(a)
    for _ in range(12):  # each step reads the previous one twice: 4096 copies in full
        value = value * value
    text = str(Composite.from_graph([a], [value]))
    assert text.startswith("Elemwise{Composite{t0=exp(i0); t1=(t0 * t0); t2=(t1 * t1); ")
    assert text.endswith("; (t11 * t11)}}") and len(text) < 300


def test_equal_programs_are_equal_ops_and_constants_compare_by_bits():
    x, y = tensor(), tensor()
    first = Composite.from_graph([x, y], [m.exp(x) * y + 1.0])
    second = Composite.from_graph([x, y], [m.exp(x) * y + 1.0])
    assert first == second and hash(first) == hash(second)
    assert first != Composite.from_graph([x, y], [m.exp(x) * y + 2.0])
    assert first != Composite.from_graph([x, y], [m.exp(y) * x + 1.0])
    assert ScalarConstant("float64", -0.0) != ScalarConstant("float64", 0.0)
    assert ScalarConstant("float64", float("nan")) == ScalarConstant("float64", float("nan"))
    assert ScalarConstant("float32", 1.0) != ScalarConstant("float64", 1.0)


def test_from_graph_inlines_an_inner_composite():
    x, y = tensor(), tensor()
    inner = Composite.from_graph([x, y], [m.exp(x) * y])(x, y)
    outer = Composite.from_graph([x, y], [m.sin(inner) + x])
    assert str(outer) == "Elemwise{Composite{(sin((exp(i0) * i1)) + i0)}}"
    assert all(spec.name != "Composite" for spec, _ in outer.program)


def test_invalid_programs_are_rejected_with_the_reason():
    exp, add = SCALAR_OPS["exp"], SCALAR_OPS["add"]
    with pytest.raises(ValueError, match=r"step 0 \(exp\) refers to \('step', 0\)"):
        Composite(1, [(exp, (("step", 0),))], [0])
    with pytest.raises(ValueError, match=r"refers to \('input', 2\)"):
        Composite(1, [(exp, (("input", 2),))], [0])
    with pytest.raises(ValueError, match=r"refers to \('variable', 0\)"):
        Composite(1, [(exp, (("variable", 0),))], [0])
    with pytest.raises(ValueError, match=r"refers to \('constant', 1.0\)"):
        Composite(1, [(exp, (("constant", 1.0),))], [0])
    with pytest.raises(ValueError, match="step 0 must be a ScalarOp with its 2 arguments"):
        Composite(1, [(add, (("input", 0),))], [0])
    with pytest.raises(ValueError, match=r"distinct steps of the 1-step program, got \(0, 0\)"):
        Composite(1, [(exp, (("input", 0),))], [0, 0])
    with pytest.raises(ValueError, match=r"distinct steps of the 1-step program, got \(3,\)"):
        Composite(1, [(exp, (("input", 0),))], [3])
    with pytest.raises(ValueError, match="output step 0 depends on no input"):
        Composite(1, [(exp, (("constant", ScalarConstant("float64", 1.0)),))], [0])


def test_from_graph_rejects_non_elementwise_nodes_and_unlisted_leaves():
    x, y = tensor(), tensor()
    with pytest.raises(ValueError, match="is not an elementwise op"):
        Composite.from_graph([x], [m.exp(x.sum())])
    with pytest.raises(ValueError, match="is neither an input nor a size-1 constant"):
        Composite.from_graph([x], [m.exp(x) * y])
    with pytest.raises(ValueError, match="every output must be computed by an Elemwise node"):
        Composite.from_graph([x], [x])


# ---------------------------------------------------------------------- types and make_node
@pytest.mark.parametrize(
    ("dtypes_in", "build", "expected"),
    [
        (("float32", "float32"), lambda a, b: m.exp(a * 2.0) + m.sin(b) / 3.0, "float32"),
        (("int32", "int32"), lambda a, b: (a * 2 + b) // 3 + a % 2, "int32"),
        (("int32", "int32"), lambda a, b: (a * 2 + b) / 3 + m.exp(a), "float64"),
        (("int8", "int8"), lambda a, b: a / b * 2 + 1, "float32"),
        (("int8", "float32"), lambda a, b: m.cast(a, "float32") * b + m.sqrt(a), "float32"),
        (("float64", "float64"), lambda a, b: m.switch(m.gt(a, 0), a, b * 0.5) + 1, "float64"),
        (("float64", "float64"), lambda a, b: m.and_(m.gt(a, 0), m.lt(b * 2, 1)), "bool"),
    ],
)
def test_values_and_dtypes_match_the_elemwise_graph_bit_for_bit(dtypes_in, build, expected):
    a, b = tensor(dtypes_in[0], (None, None)), tensor(dtypes_in[1], (None, None))
    expr = build(a, b)
    op, fused, reference = fused_and_reference([a, b], [expr])
    node = op(a, b).owner
    assert node.outputs[0].type == expr.type and expr.dtype == expected
    for shape in [(3, 4), (1, 5), (0, 2)]:
        values = [random_array(shape, d) for d in dtypes_in]
        with np.errstate(all="ignore"):
            got, want = fused(*values), reference(*values)
        assert got.dtype == want.dtype == np.dtype(expected)
        np.testing.assert_array_equal(got, want)


def test_scalars_evaluate_to_0d_arrays():
    s, t = tensor("float64", ()), tensor("float32", ())
    _, fused, reference = fused_and_reference([s, t], [m.exp(s * 2.0) + m.sin(t)])
    got = fused(1.5, np.float32(2.0))
    assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float64
    assert got == reference(1.5, np.float32(2.0)) == np.exp(3.0) + np.sin(np.float32(2.0))


def test_static_shapes_broadcast_like_elemwise_and_clash_clearly():
    row, col, mat = tensor(shape=(1, None)), tensor(shape=(None, 1)), tensor(shape=(3, None))
    op = Composite.from_graph([row, col, mat], [m.exp(row) * col + mat])
    assert op(row, col, mat).type == TensorType("float64", (3, None))
    assert op(row, col, tensor(shape=(1, 1))).type == TensorType("float64", (None, None))
    with pytest.raises(
        BroadcastError, match=r"step 2: incompatible static lengths \[3, 4\] on axis 0"
    ):
        op(row, tensor(shape=(4, 1)), mat)
    with pytest.raises(TypeError, match="inputs must have the same number of dimensions"):
        op(tensor(shape=(None,)), col, mat)
    with pytest.raises(TypeError, match="takes 3 inputs, got 2"):
        op(row, col)


@settings(max_examples=40, deadline=None)
@given(
    patterns=st.lists(
        st.sampled_from([(None, None), (1, None), (None, 1), (1, 1), (3, None)]),
        min_size=3,
        max_size=3,
    )
)
def test_broadcasting_matches_numpy_for_every_static_pattern(patterns):
    inputs = [tensor(shape=p) for p in patterns]
    x, y, z = inputs
    expr = issue_expression(x, y, z) - x / (1.0 + y * y)
    _, fused, reference = fused_and_reference(inputs, [expr])
    values = [
        random_array(tuple(1 if d == 1 else n for d, n in zip(p, (3, 4), strict=False)), "float64")
        for p in patterns
    ]
    a, b, c = values
    expected = np.exp(-(a**2)) * np.sin(b) + np.log1p(np.abs(c)) - a / (1.0 + b * b)
    got = fused(*values)
    np.testing.assert_array_equal(got, reference(*values))
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_length_one_on_a_non_broadcastable_axis_is_an_error_not_a_broadcast():
    x, y = tensor(), tensor()
    _, fused, _ = fused_and_reference([x, y], [m.exp(x) * y + 1.0])
    with pytest.raises(
        ValueError,
        match=r"Input dimension mis-match in Elemwise\{Composite\{\(\(exp\(i0\) \* i1\) "
        r"\+ 1.0\)\}\}: "
        r"input\[0\]\.shape\[0\] = 1, input\[1\]\.shape\[0\] = 3",
    ):
        fused(np.ones(1), np.ones(3))
    with pytest.raises(ValueError, match=r"input\[1\]\.shape\[0\] = 4"):
        fused(np.ones(2), np.ones(4))


# ---------------------------------------------------------------------- temporaries
def test_issue_expression_allocates_two_temporaries_and_never_writes_its_inputs():
    x, y, z = tensor(), tensor(), tensor()
    op, fused, reference = fused_and_reference([x, y, z], [issue_expression(x, y, z)])
    source = numpy_function(op, (x.type,) * 3).__labsym_source__
    assert source.count(" = _f") == 2 and source.count("out=") == 6
    values = [random_array((1000,), "float64") for _ in range(3)]
    saved = [v.copy() for v in values]
    got = fused(*values)
    for v, s in zip(values, saved, strict=False):
        np.testing.assert_array_equal(v, s)
        assert not np.shares_memory(got, v)
    np.testing.assert_array_equal(got, reference(*values))


def test_a_smaller_dead_temporary_is_not_reused_for_a_broadcast_result():
    mat, row = tensor(shape=(None, None)), tensor(shape=(1, None))
    # exp(-row) is (1, n) and dies at the mul, whose result is (m, n)
    _, fused, reference = fused_and_reference([mat, row], [m.sin(mat * m.exp(-row)) + 1.0])
    a, b = random_array((3, 4), "float64"), random_array((1, 4), "float64")
    np.testing.assert_array_equal(fused(a, b), reference(a, b))


def test_outputs_of_unrelated_lengths_share_no_temporaries():
    x, y = tensor(), tensor()
    # softplus allocates, so -x is dead and free when exp(y) (another length) is computed
    op, fused, reference = fused_and_reference([x, y], [m.softplus(-x), m.exp(y) * 2.0])
    assert numpy_function(op, (x.type, y.type)).__labsym_source__.count("out=") == 1
    a, b = random_array((3,), "float64"), random_array((5,), "float64")
    got, want = fused(a, b), reference(a, b)
    for g, w in zip(got, want, strict=False):
        np.testing.assert_array_equal(g, w)


def test_multi_output_results_are_distinct_arrays_of_the_declared_types():
    x, y = tensor("float32"), tensor("float32")
    e = m.exp(x)
    op, fused, reference = fused_and_reference([x, y], [e * y, m.gt(e, 1.0), e])
    node = op.make_node(x, y)
    assert [o.dtype for o in node.outputs] == ["float32", "bool", "float32"]
    assert op.numpy_callable(node) is None
    a, b = random_array((6,), "float32"), random_array((6,), "float32")
    got, want = fused(a, b), reference(a, b)
    for g, w in zip(got, want, strict=False):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    assert not np.shares_memory(got[0], got[2])


def test_infer_shape_broadcasts_the_inputs_each_output_reads():
    row, col, other = tensor(shape=(1, None)), tensor(shape=(None, 1)), tensor(shape=(None, None))
    op = Composite.from_graph([row, col, other], [m.exp(row) * col, m.sin(other)])
    node = op.make_node(row, col, other)
    assert op.infer_shape(None, node, [(1, 4), (3, 1), (5, 6)]) == [(3, 4), (5, 6)]


# ---------------------------------------------------------------------- gradients
def test_verify_grad_of_the_issue_expression():
    x, y, z = tensor(), tensor(), tensor()
    op = Composite.from_graph([x, y, z], [issue_expression(x, y, z)])
    values = [RNG.normal(size=4) for _ in range(3)]
    verify_grad(lambda a, b, c: op(a, b, c), values, rng=np.random.default_rng(0))


def test_verify_grad_through_broadcast_inputs_shared_steps_and_several_outputs():
    mat, row = tensor(shape=(None, None)), tensor(shape=(1, None))
    e = m.exp(row * 0.5)
    op = Composite.from_graph([mat, row], [e * mat + e, m.tanh(mat) - e])

    def fun(a, v):
        first, second = op(a, v.dimshuffle("x", 0))
        return first * 2.0 + second

    verify_grad(fun, [RNG.normal(size=(3, 4)), RNG.normal(size=4)], rng=np.random.default_rng(1))


def test_the_same_variable_passed_twice_gets_both_contributions():
    x, y = tensor(), tensor()
    op = Composite.from_graph([x, y], [x * y + m.sin(x)])
    a = tensor()
    g = function([a], grad(op(a, a).sum(), a), mode=NO_REWRITES)
    v = RNG.normal(size=5)
    np.testing.assert_allclose(g(v), 2 * v + np.cos(v))
    verify_grad(lambda t: op(t, t), [v], rng=np.random.default_rng(2))


def test_integer_inputs_have_no_gradient_and_float_ones_do():
    x, i = tensor(), tensor("int32")
    op = Composite.from_graph([x, i], [m.exp(x) * i])
    out = op(x, i)
    gx, gi = op.L_op([x, i], [out], [m.ones_like(out)])
    assert gi is None
    f = function([x, i], gx, mode=NO_REWRITES)
    a, b = RNG.normal(size=4), np.arange(4, dtype="int32")
    np.testing.assert_allclose(f(a, b), np.exp(a) * b)


def test_an_output_is_disconnected_from_inputs_it_does_not_read():
    x, y = tensor(), tensor()
    op = Composite.from_graph([x, y], [m.exp(x), m.sin(y) * 2.0])
    first, second = op(x, y)
    assert op.connection_pattern(first.owner) == [[True, False], [False, True]]
    with pytest.raises(DisconnectedInputError, match="not part of the computational graph"):
        grad(second.sum(), x)
    g = function([x, y], grad(second.sum(), y), mode=NO_REWRITES)
    np.testing.assert_allclose(g(np.zeros(3), np.arange(3.0)), 2 * np.cos(np.arange(3.0)))


def test_rop_matches_the_expanded_graph():
    x, y, vx, vy = tensor(), tensor(), tensor(), tensor()
    op = Composite.from_graph([x, y], [issue_expression(x, y, x) * y])
    fused = Rop(op(x, y), [x, y], [vx, vy])
    expanded = Rop(op.expand(x, y)[op.outputs[0]], [x, y], [vx, vy])
    f = function([x, y, vx, vy], [fused, expanded], mode=NO_REWRITES)
    got, want = f(*[RNG.normal(size=5) for _ in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
