"""Tests of the destroy/view analysis and the inplace phase: numbers, structure, and safety.

Safety means: no user input array or shared value is ever overwritten (unless updated), and
every compiled graph passes DestroyHandler.violations().
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import Mode, function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply
from labsym.core.ops import math as m
from labsym.core.ops.basic import split
from labsym.core.ops.blas import dot
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS
from labsym.core.shared import shared
from labsym.optim.destroy import DestroyHandler, alias_map, destroy_handler, destroyed_inputs

# structure is checked on unfused graphs (fusion would turn the chains into one Composite);
# safety and numbers also with every phase on
FAST_RUN = Mode(linker="py", optimizer="fast_run")
NO_INPLACE = Mode(linker="py", optimizer="fast_run", excluding=("inplace",))
UNFUSED = Mode(linker="py", optimizer="fast_run", excluding=("fusion",))
UNFUSED_NO_INPLACE = Mode(linker="py", optimizer="fast_run", excluding=("fusion", "inplace"))
RNG = np.random.default_rng(0)


def destroyers(f) -> list[tuple[str, list[int]]]:
    """(scalar op name, destroyed input indices) for every node that overwrites an input."""
    return [
        (node.op.scalar_op.name, destroyed_inputs(node))
        for node in f.maker.fgraph.toposort()
        if destroyed_inputs(node)
    ]


def node_of(f, name: str) -> Apply:
    (node,) = [
        n
        for n in f.maker.fgraph.toposort()
        if getattr(n.op, "scalar_op", None) and n.op.scalar_op.name == name
    ]
    return node


def compile_both(inputs, outputs, **kw):
    """The unfused function with inplace rewrites, and the same without (the reference)."""
    f = function(inputs, outputs, mode=UNFUSED, **kw)
    assert DestroyHandler(f.maker.fgraph).violations() == []
    return f, function(inputs, outputs, mode=UNFUSED_NO_INPLACE, **kw)


def test_chain_overwrites_intermediates_but_never_the_input():
    # exp(x + 1) * 2: add must not write into x; exp may write into add's result, mul into exp's
    x = C["dvector"]("x")
    f, ref = compile_both([x], m.exp(x + 1) * 2)
    assert destroyers(f) == [("exp", [0]), ("mul", [0])]
    assert not destroyed_inputs(node_of(f, "add"))
    assert destroyers(ref) == []
    a = RNG.normal(size=7)
    saved = a.copy()
    out = f(a)
    np.testing.assert_array_equal(a, saved)
    np.testing.assert_allclose(out, np.exp(saved + 1) * 2)
    np.testing.assert_array_equal(out, ref(a))
    assert not np.shares_memory(out, a)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_values_match_no_inplace_mode_and_inputs_survive(dtype):
    x, y = (C["vector"](name, dtype=dtype) for name in "xy")
    expr = (x * 2 + 1) * 3 - y * 4
    f, ref = compile_both([x, y], expr)
    assert len(destroyers(f)) == 3  # (x*2)+1, (...)*3, (...)-(y*4): the first muls read inputs
    a = RNG.integers(-5, 5, size=11).astype(dtype)
    b = RNG.integers(-5, 5, size=11).astype(dtype)
    saved = a.copy(), b.copy()
    first = f(a, b)
    np.testing.assert_array_equal(first, ref(a, b))
    second = f(b, a)  # must not write into the result the user still holds
    np.testing.assert_array_equal(first, (saved[0] * 2 + 1) * 3 - saved[1] * 4)
    np.testing.assert_array_equal(second, (saved[1] * 2 + 1) * 3 - saved[0] * 4)
    np.testing.assert_array_equal(a, saved[0])
    np.testing.assert_array_equal(b, saved[1])
    assert first.dtype == dtype


@pytest.mark.parametrize(
    "view",
    [
        lambda x: x.T,
        lambda x: x[1:],
        lambda x: x.reshape((-1,)).reshape((4, 3)),
        lambda x: x.dimshuffle(1, 0),
    ],
    ids=["transpose", "subtensor", "reshape", "dimshuffle"],
)
def test_views_of_an_input_are_never_overwritten(view):
    x = C["dmatrix"]("x")
    v = view(x)
    f, ref = compile_both([x], m.exp(v) * 2)
    assert not destroyed_inputs(node_of(f, "exp"))
    a = RNG.normal(size=(4, 3))
    saved = a.copy()
    out = f(a)
    np.testing.assert_array_equal(a, saved)
    np.testing.assert_allclose(out, ref(a))


def test_intermediate_with_two_clients_is_not_overwritten():
    x = C["dvector"]("x")
    t = x + 1
    f, ref = compile_both([x], m.exp(t) + t)
    assert not destroyed_inputs(node_of(f, "exp"))
    add_nodes = [n for n in f.maker.fgraph.toposort() if n.op.scalar_op.name == "add"]
    (outer,) = [
        n for n in add_nodes if n.inputs[0].owner is not None and n.inputs[1].owner is not None
    ]
    # exp(t) + t: only exp(t) is dead afterwards
    assert destroyed_inputs(outer) == [outer.inputs.index(node_of(f, "exp").outputs[0])]
    a = RNG.normal(size=5)
    np.testing.assert_allclose(f(a), np.exp(a + 1) + a + 1)
    np.testing.assert_array_equal(f(a), ref(a))


def test_intermediate_that_is_also_an_output_is_not_overwritten():
    x = C["dvector"]("x")
    t = x * 3
    f, ref = compile_both([x], [t, m.exp(t), m.tanh(t)])
    assert not destroyed_inputs(node_of(f, "exp")) and not destroyed_inputs(node_of(f, "tanh"))
    a = RNG.normal(size=4)
    got = f(a)
    np.testing.assert_array_equal(got[0], a * 3)
    for g, r in zip(got, ref(a), strict=True):
        np.testing.assert_array_equal(g, r)


def test_broadcast_or_recast_inputs_are_not_overwritten():
    # row * 2 is broadcast against the matrix, int * 2 is cast to float: neither buffer fits
    row, mat, ints = C["drow"]("row"), C["dmatrix"]("mat"), C["ivector"]("ints")
    f, ref = compile_both([row, mat, ints], [row * 2 + m.exp(mat), (ints * 2) / 3.0])
    add, div = node_of(f, "add"), node_of(f, "true_div")
    assert destroyed_inputs(add) == [add.inputs.index(node_of(f, "exp").outputs[0])]
    assert destroyed_inputs(div) == []
    args = (RNG.normal(size=(1, 3)), RNG.normal(size=(4, 3)), np.arange(5, dtype="int32"))
    for got, want in zip(f(*args), ref(*args), strict=True):
        np.testing.assert_array_equal(got, want)


def test_shared_value_is_not_modified_when_only_read():
    w = shared(np.linspace(-1, 1, 6), name="w")
    x = C["dvector"]("x")
    before = w.get_value()
    f, ref = compile_both([x], m.exp(w * x) * 3)
    assert destroyers(f) == [("exp", [0]), ("mul", [0])]  # never the mul reading w
    out = f(np.ones(6))
    np.testing.assert_array_equal(w.get_value(borrow=True), before)
    np.testing.assert_allclose(out, np.exp(before) * 3)
    np.testing.assert_array_equal(out, ref(np.ones(6)))


def test_update_of_a_shared_variable_read_by_other_outputs():
    w = shared(np.arange(4.0), name="w")
    x = C["dvector"]("x")
    f = function([x], [w + x, m.exp(w + 1) * 2], updates=[(w, m.tanh(w * 2) + x)], mode=UNFUSED)
    assert DestroyHandler(f.maker.fgraph).violations() == []
    assert ("add", [0]) in destroyers(f)  # tanh(w * 2) + x written into tanh's result
    expected_w = np.arange(4.0)
    for _ in range(3):
        a = RNG.normal(size=4)
        saved = a.copy()
        out0, out1 = f(a)
        np.testing.assert_allclose(out0, expected_w + saved)
        np.testing.assert_allclose(out1, np.exp(expected_w + 1) * 2)
        expected_w = np.tanh(expected_w * 2) + saved
        np.testing.assert_allclose(w.get_value(), expected_w)
        np.testing.assert_array_equal(a, saved)


def test_output_that_is_also_the_update_value_is_a_copy():
    w = shared(np.ones(3), name="w")
    new = m.exp(w + 1)
    f = function([], new, updates=[(w, new)], mode=UNFUSED)
    assert destroyers(f) == [("exp", [0])]
    out = f()
    np.testing.assert_allclose(out, np.exp(2.0) * np.ones(3))
    out[:] = -7.0  # the user's result is not the shared value's buffer
    np.testing.assert_allclose(w.get_value(), np.exp(2.0) * np.ones(3))


def test_scalars_and_non_ufunc_ops_stay_correct():
    x, lo = C["dvector"]("x"), C["dscalar"]("lo")
    expr = [m.clip(x * 2, lo, 1.0) + 1, m.softplus(x - 1) * 3, m.exp(lo * 2) + 1]
    f, ref = compile_both([x, lo], expr)
    assert {name for name, _ in destroyers(f)} >= {"clip", "softplus", "exp"}
    args = (RNG.normal(size=6), np.array(-0.5))
    for got, want in zip(f(*args), ref(*args), strict=True):
        np.testing.assert_array_equal(got, want)


def test_full_fast_run_writes_into_a_matrix_product():
    # tanh(x @ W): the product is dead after tanh, so tanh needs no new array (fusion on)
    x, w = C["dmatrix"]("x"), shared(RNG.normal(size=(3, 5)), name="W")
    f = function([x], m.tanh(dot(x, w)), mode=FAST_RUN)
    assert destroyers(f) == [("tanh", [0])]
    assert DestroyHandler(f.maker.fgraph).violations() == []
    a = RNG.normal(size=(4, 3))
    saved, w_saved = a.copy(), w.get_value()
    np.testing.assert_allclose(f(a), np.tanh(saved @ w_saved), rtol=1e-12)
    np.testing.assert_array_equal(a, saved)
    np.testing.assert_array_equal(w.get_value(borrow=True), w_saved)


def test_rule_can_be_excluded_by_name():
    x = C["dvector"]("x")
    f = function(
        [x], m.exp(x * 2), mode=Mode(linker="py", excluding=("fusion", "elemwise_inplace"))
    )
    assert destroyers(f) == []


# ------------------------------------------------------------------------ the analysis itself
def test_why_not_destroy_names_the_reason():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    w = shared(np.ones(3), name="w")
    t = x * 2
    e = m.exp(t)
    u = e + t
    out = m.tanh(u.dimshuffle("x", 0)) + x
    fg = FunctionGraph([x, y, w], [out, y * w], clone=False)
    handler = DestroyHandler(fg)
    assert "a function input" in handler.why_not_destroy(t.owner, 0)
    assert "a constant" in handler.why_not_destroy(t.owner, 1)
    assert "a shared variable's value" in handler.why_not_destroy(fg.outputs[1].owner, 1)
    assert "also read by" in handler.why_not_destroy(e.owner, 0)
    assert handler.why_not_destroy(u.owner, 0) is None  # exp(t) is read by u alone
    tanh_node = out.owner.inputs[0].owner
    assert handler.can_destroy(tanh_node, 0)  # u is only viewed by one dimshuffle, read by tanh
    assert handler.can_destroy(out.owner, 0)
    assert "a function input" in handler.why_not_destroy(out.owner, 1)  # a dimshuffle view of x


def test_why_not_destroy_outputs_and_sibling_views():
    x = C["dvector"]("x")
    t = x * 2
    e = m.exp(t)
    fg = FunctionGraph([x], [t, e], clone=False)
    assert "a function output" in DestroyHandler(fg).why_not_destroy(e.owner, 0)
    # two views of one buffer (Split outputs): overwriting one while the other is read is unsafe
    v = C["dvector"]("v")
    a, b = split(v * 1.5, [2, 2], 2)
    fg = FunctionGraph([v], [m.exp(a) + b], clone=False)
    exp_node = fg.outputs[0].owner.inputs[0].owner
    assert "another view" in DestroyHandler(fg).why_not_destroy(exp_node, 0)
    assert alias_map(a.owner) == {0: [0], 1: [0]}


def test_destroy_handler_is_attached_once_and_violations_found():
    x = C["dvector"]("x")
    bad = Apply(Elemwise(SCALAR_OPS["exp"], {0: 0}), [x], [x.type()]).outputs[0]
    fg = FunctionGraph([x], [bad], clone=False)
    handler = destroy_handler(fg)
    assert destroy_handler(fg) is handler and fg.destroy_handler is handler
    (problem,) = handler.violations()
    assert "destroys input 0" in problem and "function input" in problem


# ------------------------------------------------------------------------ Elemwise evaluation
def inplace_node(name: str, inputs, index: int = 0) -> Apply:
    return Apply(Elemwise(SCALAR_OPS[name], {0: index}), inputs, [inputs[index].type()])


def test_inplace_elemwise_writes_into_the_destroyed_buffer():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    node = inplace_node("sub", [x, y], index=1)
    fn = node.op.numpy_callable(node)
    a, b = np.arange(3.0), np.ones(3)
    out = fn(a, b)
    assert out is b and np.array_equal(b, [-1.0, 0.0, 1.0]) and np.array_equal(a, [0, 1, 2])
    storage = [[None]]
    node.op.perform(node, [a, np.ones(3)], storage)
    np.testing.assert_array_equal(storage[0][0], [-1.0, 0.0, 1.0])


def test_inplace_elemwise_falls_back_to_a_new_array_when_it_cannot_write():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    node = inplace_node("add", [x, y])
    fn = node.op.numpy_callable(node)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    out = fn(frozen, np.ones(3))
    assert (
        out is not frozen and np.array_equal(out, [2, 2, 2]) and np.array_equal(frozen, [1, 1, 1])
    )
    s = C["dscalar"]("s")
    scalar_node = inplace_node("exp", [s])
    assert scalar_node.op.numpy_callable(scalar_node)(np.float64(0.0)) == 1.0
    # a mismatched dtype (a hand-built node) never writes through a cast
    i = C["ivector"]("i")
    cast_node = Apply(Elemwise(SCALAR_OPS["true_div"], {0: 0}), [i, i], [C["dvector"]()])
    ints = np.array([2, 4], dtype="int32")
    np.testing.assert_array_equal(cast_node.op.numpy_callable(cast_node)(ints, ints), [1.0, 1.0])
    np.testing.assert_array_equal(ints, [2, 4])


def test_broadcast_runtime_check_runs_before_any_write():
    x, y = C["dmatrix"]("x"), C["dmatrix"]("y")
    node = inplace_node("add", [x, y])
    a = np.zeros((2, 3))
    with pytest.raises(ValueError, match="Input dimension mis-match"):
        node.op.numpy_callable(node)(a, np.ones((1, 3)))
    np.testing.assert_array_equal(a, np.zeros((2, 3)))


# ------------------------------------------------------------------------ random graphs
UNARY = ["neg", "tanh", "sin", "sqr", "abs", "exp"]
BINARY = ["add", "sub", "mul", "maximum"]


@st.composite
def elementwise_programs(draw):
    """A random DAG of elementwise ops over x, y, a row and a shared value; subterms are reused."""
    recent = st.integers(0, 6)  # operands counted back from the newest term: chains and reuse
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(UNARY + BINARY), recent, recent), min_size=1, max_size=12
        )
    )
    n_out = draw(st.integers(1, 3))
    picks = draw(st.lists(st.integers(0, 99), min_size=n_out, max_size=n_out))
    update = draw(st.booleans())
    fused = draw(st.booleans())
    return steps, picks, update, fused


def build_program(steps, picks, leaves):
    pool = list(leaves)
    for name, i, j in steps:
        a = pool[-1 - i % len(pool)]
        if name in UNARY:
            term = getattr(m, name)(m.tanh(a) if name == "exp" else a)
        else:
            term = getattr(m, name)(a, pool[-1 - j % len(pool)])
        pool.append(term)
    derived = pool[len(leaves) :]
    return [derived[p % len(derived)] for p in picks]


@settings(max_examples=40, deadline=None)
@given(elementwise_programs())
def test_random_elementwise_graphs_match_and_never_touch_inputs(program):
    steps, picks, with_update, fused = program
    x, y, row = C["dmatrix"]("x"), C["dmatrix"]("y"), C["drow"]("row")
    rng = np.random.default_rng(len(steps))
    w = shared(rng.normal(size=(3, 4)), name="w")
    outputs = build_program(steps, picks, [x, y, row, w, x * 1.5])
    updates = [(w, outputs[0] * 0.5)] if with_update else None
    mode, reference = (FAST_RUN, NO_INPLACE) if fused else (UNFUSED, UNFUSED_NO_INPLACE)
    f = function([x, y, row], outputs, updates=updates, mode=mode, on_unused_input="ignore")
    assert DestroyHandler(f.maker.fgraph).violations() == []
    w_start = w.get_value()
    ref = function([x, y, row], outputs, mode=reference, on_unused_input="ignore")
    args = [rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(1, 4))]
    saved = [a.copy() for a in args]
    expected = ref(*args)
    got = f(*args)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    for a, s in zip(args, saved, strict=True):
        np.testing.assert_array_equal(a, s)
    if with_update:
        np.testing.assert_allclose(w.get_value(), expected[0] * 0.5, rtol=1e-12)
    else:
        np.testing.assert_array_equal(w.get_value(), w_start)
