"""The fusion phase: one Composite per maximal group, shared values computed once, same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import Mode, function
from labsym.core.autodiff import grad
from labsym.core.fgraph import FunctionGraph
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from labsym.optim import driver
from labsym.optim.rules.fusion import RULES, fusion_group
from tests.optim import rewrite_helpers
from tests.optim.rewrite_helpers import check_rewrite, ops_in

UNFUSED = Mode(linker="py", optimizer="fast_run", excluding=("fusion",))
RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _reference_mode_with_linker(monkeypatch):
    # Mode(optimizer=None) gets no linker (reported); check_rewrite's reference mode needs one
    monkeypatch.setattr(rewrite_helpers, "Mode", lambda **kw: Mode(linker="py", **kw))


def tensor(dtype: str = "float64", shape=(None,), name: str | None = None):
    return TensorType(dtype, shape)(name)


def composites(f) -> list:
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Composite)]


def scalar_ops_computed(f) -> list[str]:
    """Every scalar record evaluated per call, inside Composites or as Elemwise nodes."""
    names = []
    for node in f.maker.fgraph.toposort():
        if isinstance(node.op, Composite):
            names += [spec.name for spec, _ in node.op.program]
        elif isinstance(node.op, Elemwise):
            names.append(node.op.scalar_op.name)
    return names


def assert_matches_unfused(inputs, outputs, values, exact=True):
    fused = function(inputs, outputs)
    reference = function(inputs, outputs, mode=UNFUSED)
    with np.errstate(all="ignore"):
        got, want = fused(*values), reference(*values)
    for g, w in zip(
        got if isinstance(outputs, list) else [got],
        want if isinstance(outputs, list) else [want],
        strict=False,
    ):
        assert g.dtype == w.dtype and g.shape == w.shape
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-6)
    return fused


def test_the_issue_expression_is_one_composite_node():
    x, y, z = tensor(name="x"), tensor(name="y"), tensor(name="z")
    expr = m.exp(-(x**2)) * m.sin(y) + m.log1p(abs(z))
    values = [RNG.normal(size=50) for _ in range(3)]
    f = check_rewrite([x, y, z], expr, lambda fg: len(fg.apply_nodes) == 1, values, rtol=0, atol=0)
    assert ops_in(f.maker.fgraph) == [
        "Elemwise{Composite{((exp((-sqr(i0))) * sin(i1)) + log1p(Abs(i2)))}}"
    ]
    (node,) = f.maker.fgraph.toposort()
    assert [v.name for v in node.inputs] == ["x", "y", "z"]
    assert_matches_unfused([x, y, z], expr, values)


def test_a_value_used_twice_inside_the_group_is_fused_and_computed_once():
    x, y = tensor(), tensor()
    e = m.exp(x)
    f = assert_matches_unfused([x, y], e * y + e, [RNG.normal(size=9), RNG.normal(size=9)])
    assert ops_in(f.maker.fgraph) == ["Elemwise{Composite{((exp(i0) * i1) + exp(i0))}}"]


def test_a_diamond_whose_branches_meet_again_is_one_node():
    x = tensor()
    a = m.exp(x) * 2.0
    f = assert_matches_unfused([x], m.sin(a) + m.cos(a), [RNG.normal(size=8)])
    assert ops_in(f.maker.fgraph) == [
        "Elemwise{Composite{(sin((exp(i0) * 2.0)) + cos((exp(i0) * 2.0)))}}"
    ]


def test_an_intermediate_with_outside_clients_is_computed_once_and_read_by_both_groups():
    x, y, z = tensor(), tensor(), tensor()
    shared = m.exp(x) * 2.0
    outputs = [m.sin(shared) * y, m.cos(shared) + z]
    f = assert_matches_unfused([x, y, z], outputs, [RNG.normal(size=6) for _ in range(3)])
    assert sorted(scalar_ops_computed(f)) == sorted(["exp", "mul", "sin", "mul", "cos", "add"])
    assert len(composites(f)) == 3
    producer = [n for n in composites(f) if "exp" in str(n.op)]
    assert len(producer) == 1 and len(f.maker.fgraph.clients[producer[0].outputs[0]]) == 2


def test_an_intermediate_that_is_also_a_function_output_is_not_recomputed():
    x, y = tensor(), tensor()
    inner = m.exp(x) + 1.0
    f = assert_matches_unfused(
        [x, y], [inner, m.sin(inner) * y], [RNG.normal(size=4), RNG.normal(size=4)]
    )
    assert scalar_ops_computed(f).count("exp") == 1
    assert ops_in(f.maker.fgraph) == [
        "Elemwise{Composite{(exp(i0) + 1.0)}}",
        "Elemwise{Composite{(sin(i0) * i1)}}",
    ]


def test_single_nodes_and_non_elementwise_boundaries_are_left_alone():
    x, w, b = tensor(shape=(None, None)), tensor(shape=(None, None)), tensor(shape=(None,))
    f = function([x], m.exp(x))
    assert ops_in(f.maker.fgraph) == ["Elemwise{exp,no_inplace}"]
    f = function([x], m.exp(x * 2.0).sum())
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()][0] == "Composite"
    assert not any(isinstance(n.op, Composite) for n in f.maker.fgraph.toposort()[1:])
    values = [RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=2)]
    f = assert_matches_unfused([x, w, b], m.tanh(dot(x, w) + b) * 0.5, values, exact=False)
    (node,) = composites(f)
    # the dot's buffer dies here: written in place, printed as Theano's inplace Composite
    assert str(node.op) == "Elemwise{Composite{(tanh((i0 + i1)) * 0.5)}}[(0, 0)]"
    assert type(node.inputs[0].owner.op).__name__ != "Composite"


@pytest.mark.parametrize(
    ("dtype", "build"),
    [
        ("float32", lambda a, b: m.exp(a * 2.0) + m.sin(b) / 3.0 - 1.0),
        ("int32", lambda a, b: (a * 2 + b) // 3 + a % 2),
        ("int32", lambda a, b: (a * 2 + b) / 3 + m.exp(a)),
        ("int8", lambda a, b: m.cast(a, "float32") * 2.0 + m.sqrt(b)),
        ("float64", lambda a, b: m.switch(m.gt(a, 0), m.sqr(a), b * 0.5) + 1.0),
    ],
)
def test_dtypes_follow_the_unfused_graph(dtype, build):
    a, b = tensor(dtype, (None, None)), tensor(dtype, (None, None))
    expr = build(a, b)
    if dtype.startswith("int"):
        values = [RNG.integers(1, 9, size=(3, 5)).astype(dtype) for _ in range(2)]
    else:
        values = [RNG.normal(size=(3, 5)).astype(dtype) for _ in range(2)]
    # float32 exp/sin from C's vector math library are a few ulps from NumPy's own
    f = assert_matches_unfused([a, b], expr, values, exact=dtype != "float32")
    (node,) = composites(f)
    assert node.outputs[0].type == expr.type
    assert f(*values).dtype == np.dtype(expr.dtype)


def test_broadcast_inputs_enter_the_composite_through_their_dimshuffle():
    mat, vec, col = tensor(shape=(None, None)), tensor(), tensor(shape=(None, 1))
    expr = m.exp(-vec) * mat + col * 2.0
    values = [RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(3, 1))]
    f = assert_matches_unfused([mat, vec, col], expr, values)
    # the vector chain is fused before its DimShuffle; the matrix chain reads the broadcast row
    assert ops_in(f.maker.fgraph) == [
        "Elemwise{Composite{exp((-i0))}}",
        "InplaceDimShuffle{x,0}",
        "Elemwise{Composite{((i0 * i1) + (i2 * 2.0))}}",
    ]
    node = composites(f)[1]
    assert [i.type.shape for i in node.inputs] == [(1, None), (None, None), (None, 1)]
    np.testing.assert_array_equal(f(*values), np.exp(-values[1]) * values[0] + values[2] * 2.0)
    with pytest.raises(ValueError, match="Input dimension mis-match in Elemwise{Composite"):
        f(values[0], values[1], np.ones((2, 1)))


def test_fused_functions_never_write_their_inputs():
    x, y = tensor(), tensor()
    f = function([x, y], m.sqrt(abs(x)) * y + m.exp(y))
    a, b = RNG.normal(size=100), RNG.normal(size=100)
    saved = a.copy(), b.copy()
    first = f(a, b)
    second = f(a, b)
    np.testing.assert_array_equal(a, saved[0])
    np.testing.assert_array_equal(b, saved[1])
    assert first is not second and not np.shares_memory(first, second)
    expected = np.sqrt(np.abs(saved[0])) * saved[1] + np.exp(saved[1])
    # C code (a cached module or the second call's tier) may use libmvec: a few ulps from NumPy
    np.testing.assert_allclose(first, expected, rtol=1e-14)
    np.testing.assert_allclose(second, expected, rtol=1e-14)


def test_long_chains_fuse_into_one_node():
    x = tensor()
    expr = x
    for k in range(300):
        expr = m.sin(expr) + 0.001 * k if k % 2 else expr * 0.999
    v = RNG.normal(size=10)
    f = assert_matches_unfused([x], expr, [v])
    assert len(f.maker.fgraph.apply_nodes) == 1


def test_equal_composites_merge_and_the_rule_is_idempotent():
    x, y = tensor(), tensor()
    first = Composite.from_graph([x, y], [m.exp(x) * y])(x, y)
    second = Composite.from_graph([x, y], [m.exp(x) * y])(x, y)
    f = function([x, y], [first + 1.0, second * 2.0])
    # the two Composites merge; the survivor has two clients, so it stays one computation
    assert ops_in(f.maker.fgraph) == [
        "Elemwise{Composite{(exp(i0) * i1)}}",
        "Elemwise{add,no_inplace}",
        "Elemwise{mul,no_inplace}",
    ]
    # a Composite with a single elementwise client is inlined into the client's group
    f = function([x, y], m.sin(first + 1.0))
    assert ops_in(f.maker.fgraph) == ["Elemwise{Composite{sin(((exp(i0) * i1) + 1.0))}}"]
    fg = FunctionGraph([x, y], [m.sin(m.exp(x) * y)])
    assert driver.apply_to_fixed_point(fg, RULES, "fusion") == 1
    assert driver.apply_to_fixed_point(fg, RULES, "fusion") == 0
    fg = FunctionGraph([x, y], [first, second])
    assert driver.merge(fg) == 1 and len(fg.apply_nodes) == 1


def test_fusion_group_stops_at_values_used_outside():
    x, y = tensor(), tensor()
    e = m.exp(x)
    s = e * y
    fg = FunctionGraph([x, y], [s + 1.0, e])
    root = fg.outputs[0].owner
    assert {str(n.op.scalar_op) for n in fusion_group(fg, root)} == {"add", "mul"}


def test_history_records_the_fusion():
    x, y = tensor(), tensor()
    f = function(
        [x, y], m.exp(x) * y, mode=Mode(linker="py", optimizer="fast_run", record_history=True)
    )
    (record,) = [r for r in f.maker.fgraph.history if r.rule == "fuse_elemwise"]
    assert record.phase == "fusion" and record.after.startswith(
        "Elemwise{Composite{(exp(i0) * i1)}}"
    )


def test_gradients_of_a_fused_graph_are_correct():
    x, y = tensor(), tensor()
    fused_out = function([x, y], m.exp(-(x**2)) * m.sin(y) + x * y).maker.fgraph.outputs[0]
    (node,) = [fused_out.owner]
    assert isinstance(node.op, Composite)
    a, b = RNG.normal(size=5), RNG.normal(size=5)
    verify_grad(lambda u, v: node.op(u, v), [a, b], rng=np.random.default_rng(4))
    gx, gy = grad(fused_out.sum(), node.inputs)
    g = function(node.inputs, [gx, gy])
    got_x, got_y = g(a, b)
    np.testing.assert_allclose(got_x, -2 * a * np.exp(-(a**2)) * np.sin(b) + b, rtol=1e-12)
    np.testing.assert_allclose(got_y, np.exp(-(a**2)) * np.cos(b) + a, rtol=1e-12)
