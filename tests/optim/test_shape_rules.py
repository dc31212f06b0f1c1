"""Shape rules: x.shape, Shape_i and ReductionSize answered without computing x.

Every rule is checked for the rewritten graph and for numbers against the unrewritten graph.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import Mode, function
from labsym.core.op import as_op
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot
from labsym.core.ops.reduce import ReductionSize, mean
from labsym.core.ops.shape import MakeVector, Reshape, Shape_i, reshape, shape, shape_i
from labsym.core.type import TensorType
from labsym.core.variable import constant
from labsym.optim.rules import shape as shape_rules
from tests.optim.rewrite_helpers import check_rewrite, ops_in

RNG = np.random.default_rng(11)
REWRITE = Mode(linker="py", optimizer="fast_run", excluding=("fusion", "inplace"))
# merge + canonicalize (Theano's FAST_COMPILE runs no shape rewrites)
CANONICAL = Mode(linker="py", excluding=("stabilize", "specialize", "fusion", "inplace"))


def tensor(shape_, dtype="float64", name=None):
    return TensorType(dtype, shape_)(name)


def value(shape_):
    return RNG.normal(size=shape_)


def int64(n):
    return constant(n, dtype="int64")


def shape_vector(x):
    """Theano's optimized x.shape: MakeVector of Shape_i per axis (static lengths as constants)."""
    lengths = [shape_i(x, a) if n is None else int64(n) for a, n in enumerate(x.type.shape)]
    return MakeVector("int64")(*lengths)


@pytest.mark.parametrize("mode", [REWRITE, CANONICAL], ids=["fast_run", "canonicalize"])
def test_shape_of_a_product_does_not_compute_it(mode):
    x = tensor((None, None), name="x")
    expected = shape_vector(x) if mode is REWRITE else shape(x)
    f = check_rewrite([x], (x * 2).shape, expected, [value((3, 5))], mode=mode)
    assert not any("mul" in name for name in ops_in(f.maker.fgraph))
    np.testing.assert_array_equal(f(value((4, 1))), [4, 1])


def test_shape_through_several_ops_reads_the_input():
    a, b = tensor((None, None), name="a"), tensor((1, None), name="b")
    check_rewrite(
        [a, b], shape(m.exp(a) + b), shape_vector(a), [value((3, 4)), value((1, 4))], mode=REWRITE
    )


def test_lengths_from_different_inputs_make_a_vector():
    x, y = tensor((None, None), name="x"), tensor((None, None), name="y")
    expected = MakeVector("int64")(shape_i(x, 0), shape_i(y, 1))
    check_rewrite([x, y], shape(dot(x, y)), expected, [value((2, 3)), value((3, 6))], mode=REWRITE)


def test_static_shapes_become_constants():
    x = tensor((3, 4), name="x")
    f = check_rewrite(
        [x],
        shape(m.exp(x)) * 1,
        lambda fg: ops_in(fg) == ["DeepCopyOp"],
        [value((3, 4))],
        mode=REWRITE,
    )
    np.testing.assert_array_equal(f(value((3, 4))), [3, 4])
    y = tensor((None, 7), name="y")
    check_rewrite([y], shape_i(m.exp(y), 1), int64(7), [value((2, 7))], mode=REWRITE)


def test_shape_of_an_input_reads_each_length_as_theano_did():
    # Theano's local_shape_to_shape_i: MakeVector{dtype='int64'}(Shape_i{0}(x), ...)
    x = tensor((None, 7), name="x")
    f = check_rewrite([x], shape(x), shape_vector(x), [value((2, 7))], mode=REWRITE)
    assert ops_in(f.maker.fgraph) == ["Shape_i{0}", "MakeVector{dtype='int64'}"]
    x = tensor((None, None), name="x")
    f = check_rewrite([x], shape(x**2), shape_vector(x), [value((2, 3))], mode=REWRITE)
    assert ops_in(f.maker.fgraph) == ["Shape_i{1}", "Shape_i{0}", "MakeVector{dtype='int64'}"]
    g = function([x], shape(x**2), mode=CANONICAL)
    assert ops_in(g.maker.fgraph) == ["Shape"]


def test_indexed_shape_becomes_shape_i():
    x = tensor((None, None, None), name="x")
    check_rewrite([x], m.sqrt(x).shape[-1], shape_i(x, 2), [value((2, 3, 4))], mode=REWRITE)
    check_rewrite(
        [x], m.sqrt(x).shape[0] * 2, m.mul(shape_i(x, 0), 2), [value((2, 3, 4))], mode=REWRITE
    )


def test_entry_of_a_vector_of_lengths_is_that_length():
    x, y = tensor((None, None), name="x"), tensor((None, None), name="y")
    check_rewrite(
        [x, y], shape(dot(x, y))[1], shape_i(y, 1), [value((2, 3)), value((3, 6))], mode=REWRITE
    )


def test_arithmetic_shape_is_used_only_when_x_is_not_needed():
    x = tensor((None,), name="x")
    n = tensor((), "int64", name="n")
    reshaped = reshape(x, (n, -1))
    values = [value(12), np.asarray(3, dtype="int64")]

    def arithmetic_only(fgraph):
        names = ops_in(fgraph)
        return (
            not any(name.startswith("Reshape") for name in names)
            and "MakeVector{dtype='int64'}" in names
        )

    f = check_rewrite([x, n], shape(m.exp(reshaped)), arithmetic_only, values, mode=REWRITE)
    np.testing.assert_array_equal(f(*values), [3, 4])
    # the reshaped values are an output too: their lengths are read, not recomputed
    g = function([x, n], [reshaped, shape(reshaped)], mode=REWRITE)
    reshape_nodes = [n for n in g.maker.fgraph.toposort() if n.op == Reshape(2)]
    readers = [n.inputs[0].owner for n in g.maker.fgraph.toposort() if isinstance(n.op, Shape_i)]
    assert len(reshape_nodes) == 1 and readers and set(readers) == set(reshape_nodes)
    np.testing.assert_array_equal(g(*values)[1], [3, 4])


def test_op_without_infer_shape_keeps_its_shape_node():
    def twice(v):
        return v * 2

    opaque = as_op([TensorType("float64", (None,))], [TensorType("float64", (None,))])(twice)
    x = tensor((None,), name="x")
    f = check_rewrite(
        [x],
        shape(m.exp(opaque(x))),
        lambda fg: "Shape_i{0}" in ops_in(fg),
        [value(5)],
        mode=REWRITE,
    )
    np.testing.assert_array_equal(f(value(3)), [3])


# ---------------------------------------------------------------------------- ReductionSize
def test_reduction_size_from_static_shape():
    x = tensor((None, 6), name="x")
    out = ReductionSize((1,))(m.exp(x))
    check_rewrite([x], out, int64(6), [value((2, 6))], mode=REWRITE)


def test_reduction_size_of_one_axis_reads_the_input():
    x = tensor((None, None), name="x")
    check_rewrite([x], ReductionSize((0,))(m.exp(x)), shape_i(x, 0), [value((5, 2))], mode=REWRITE)


def test_reduction_size_of_several_axes_multiplies_lengths():
    x = tensor((None, 3, None), name="x")

    def product_of_lengths(fgraph):  # the order of the factors is canonicalize's business
        names = sorted(ops_in(fgraph))
        return names == ["Elemwise{mul,no_inplace}"] * 2 + ["Shape_i{0}", "Shape_i{2}"]

    f = check_rewrite(
        [x], ReductionSize(None)(m.exp(x)), product_of_lengths, [value((2, 3, 4))], mode=REWRITE
    )
    assert int(f(value((5, 3, 2)))) == 30


def test_reduction_size_of_a_needed_tensor_stays_one_node():
    x = tensor((None, None), name="x")
    y = m.exp(x)
    f = function([x], [y, ReductionSize(None)(y)], mode=REWRITE)
    assert any(isinstance(node.op, ReductionSize) for node in f.maker.fgraph.toposort())
    assert int(f(value((2, 5)))[1]) == 10


def test_mean_divides_by_a_length_read_from_the_input():
    x = tensor((None,), name="x")

    def no_reduction_size(fgraph):
        return not any(isinstance(n.op, ReductionSize) for n in fgraph.toposort())

    check_rewrite([x], mean(m.exp(x)), no_reduction_size, [value(7)], mode=REWRITE)


def test_shape_i_rule_leaves_inputs_alone():
    x = tensor((None, None), name="x")
    check_rewrite([x], shape_i(x, 1), shape_i(x, 1), [value((2, 3))], mode=REWRITE)
    f = function([x], shape_i(x, 1), mode=REWRITE)
    assert isinstance(f.maker.fgraph.outputs[0].owner.op, Shape_i)


def test_rules_state_their_math():
    assert all(
        rule.math and rule.phases in (("canonicalize", "specialize"), ("specialize",))
        for rule in shape_rules.RULES
    )
