"""Canonicalize rules: each rewrites to the expected graph, keeps the numbers of the unrewritten
graph, and is named in the rewrite history; plus the seed programs' canonical results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labsym
import labsym.tensor as T
from benchmarks.cases import _logistic_graph
from labsym.compile import Mode, function
from labsym.core.autodiff import grad
from labsym.core.graph import Constant
from labsym.core.ops import math as m
from labsym.core.ops.basic import Alloc, alloc
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.reduce import Sum
from labsym.core.ops.shape import Reshape, SpecifyShape, reshape, shape_i, specify_shape
from labsym.core.ops.subtensor import Subtensor
from labsym.core.scalar import cast_op
from labsym.core.type import TensorType
from labsym.core.variable import constant
from labsym.viz.debugprint import debugprint
from tests.optim.rewrite_helpers import check_rewrite, ops_in

RNG = np.random.default_rng(7)
# merge + canonicalize only: the canonical graph before later phases rename or fuse its ops
LATER_PHASES = ("stabilize", "specialize", "fusion", "inplace")
CANONICAL = Mode(linker="py", record_history=True, excluding=LATER_PHASES)
NAIVE = Mode(optimizer=None)


def const(value, ndim=1, dtype="float64"):
    """A constant of one element, padded to `ndim` broadcastable axes (as elemwise inputs are)."""
    return constant(np.full((1,) * ndim, value, dtype=dtype))


def positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def fired(f) -> set[str]:
    return {record.rule for record in f.maker.fgraph.history}


def check(inputs, out, expected, values, rule, **kw):
    """check_rewrite in the canonical mode, and the rule under test must have fired."""
    f = check_rewrite(inputs, out, expected, values, mode=CANONICAL, **kw)
    assert rule in fired(f), f"{rule} did not fire: {f.maker.fgraph.history}"
    return f


def uncopied_outputs(f) -> list:
    """The function's outputs without the DeepCopyOp Theano puts on an output given twice."""
    return [
        o.owner.inputs[0] if o.owner is not None and isinstance(o.owner.op, DeepCopyOp) else o
        for o in f.maker.fgraph.outputs
    ]


def scalar_names(fgraph) -> list[str]:
    return [n.op.scalar_op.name for n in fgraph.toposort() if isinstance(n.op, Elemwise)]


# ------------------------------------------------------------------------ local pattern rules
UNARY = [
    ("mul_by_one", lambda x: x * 1, lambda x: x),
    ("add_zero", lambda x: x + 0, lambda x: x),
    ("sub_zero", lambda x: x - 0, lambda x: x),
    ("div_by_one", lambda x: x / 1, lambda x: x),
    ("double_neg", lambda x: m.neg(m.neg(x)), lambda x: x),
    ("div_self", lambda x: x / x, lambda x: m.second(x, const(1.0))),
    ("sub_self", lambda x: x - x, lambda x: m.second(x, const(0.0))),
    ("pow_two", lambda x: x**2, lambda x: m.sqr(x)),
    ("pow_one", lambda x: x**1, lambda x: x),
    ("mul_minus_one", lambda x: x * -1, lambda x: -x),
]
BINARY = [
    ("add_sub_cancel", lambda x, y: (y + x) - y, lambda x, y: x),
    ("mul_div_cancel", lambda x, y: (x * y) / x, lambda x, y: y),
    ("neg_of_sub", lambda x, y: -(x - y), lambda x, y: y - x),
    ("sub_neg", lambda x, y: x - (-y), lambda x, y: x + y),
    ("neg_out_of_mul", lambda x, y: (-x) * y, lambda x, y: -(x * y)),
    ("neg_out_of_div_num", lambda x, y: (-x) / y, lambda x, y: -(x / y)),
    ("neg_out_of_div_den", lambda x, y: x / (-y), lambda x, y: -(x / y)),
    ("add_neg", lambda x, y: x + (-y), lambda x, y: x - y),
    ("neg_sub_first", lambda x, y: (-x) - y, lambda x, y: -(x + y)),
]


@pytest.mark.parametrize("rule,build,expected", UNARY, ids=[p[0] for p in UNARY])
def test_local_pattern_rules_of_one_input(rule, build, expected):
    x = T.dvector("x")
    check([x], build(x), expected(x), [positive(4)], rule)


@pytest.mark.parametrize("rule,build,expected", BINARY, ids=[p[0] for p in BINARY])
def test_local_pattern_rules_of_two_inputs(rule, build, expected):
    x, y = T.dvectors("x", "y")
    check([x, y], build(x, y), expected(x, y), [positive(4), positive(4)], rule)


# ------------------------------------------------------------------------ the seeds
def test_seed_x_over_x_compiles_to_the_constant_one():
    x = T.dscalar("x")
    f = labsym.function([x], x / x)
    assert f(0.0) == 1.0  # Theano's answer, although 0 / 0 is nan
    out = f.maker.fgraph.outputs[0]
    assert isinstance(out.owner.inputs[0], Constant)
    assert "true_div" not in scalar_names(f.maker.fgraph)
    # the seed document's Theano output, a copy of the constant returned
    assert debugprint(out, file="str") == "DeepCopyOp [id A] ''   \n |TensorConstant{1.0} [id B]\n"


def test_seed_sum_of_a_repeated_sum_computes_it_once():
    x, y = T.dscalars("x", "y")
    expected = m.mul(constant(2.0, dtype="float64"), x + y)
    f = check([x, y], (x + y) + (x + y), expected, [1.5, -4.0], "canonical_add_chain")
    assert scalar_names(f.maker.fgraph).count("add") == 1
    assert labsym.function([x, y], (x + y) + (x + y))(1.5, -4.0) == -5.0


def test_seed_grad_of_two_x_is_the_constant_two():
    x = T.dscalar("x")
    f = labsym.function([x], grad(2 * x, x))
    assert [str(node.op) for node in f.maker.fgraph.toposort()] == ["DeepCopyOp"]
    assert f(3.0) == 2.0
    # the seed's Theano output: a constant output is copied by DeepCopyOp
    assert debugprint(f, file="str") == "DeepCopyOp [id A] ''   0\n |TensorConstant{2.0} [id B]\n"


def test_seed_grad_of_a_scaled_sum_needs_only_the_input_shape():
    # grad(sum(2 * x)) = fill(2 * x, 2): the product is only a shape; fill(x, 2) keeps that shape
    x = T.dvector("x")
    expected = m.second(x, const(2.0))
    f = check([x], grad((2 * x).sum(), x), expected, [RNG.normal(size=5)], "cut_fill_model")
    assert f(np.zeros(3)).shape == (3,)


def _logistic_nodes(mode):
    rng = np.random.default_rng(0)
    X, y, w0 = rng.normal(size=(30, 6)), rng.integers(0, 2, 30).astype(float), rng.normal(size=6)
    inputs, outputs, updates = _logistic_graph(T, labsym.shared, labsym.grad, X, y, w0)
    f = function(inputs, outputs, updates=updates, mode=mode)
    prediction, xent = f(X, y)
    return len(f.maker.fgraph.toposort()), (prediction, xent, updates[0][0].get_value())


@pytest.mark.parametrize(
    "mode,bound",
    [
        (Mode(linker="py", optimizer="fast_run", excluding=("fusion", "inplace")), 27),
        ("FAST_RUN", 16),
    ],
    ids=["without_fusion", "FAST_RUN"],
)
def test_logistic_regression_training_graph_is_as_small_as_a_hand_written_one(mode, bound):
    # forward 12 nodes, 1/n 4, dcost/dz 6 ((1-y)*p/n - y*(1-p)/n), gemv 2, the b update 3
    count, results = _logistic_nodes(mode)
    _, reference = _logistic_nodes(NAIVE)
    assert count <= bound
    for got, want in zip(results, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10)


# ------------------------------------------------------------------------ add chains
def test_add_chains_in_any_order_merge():
    a, b, c = T.dvectors("a", "b", "c")
    f = function([a, b, c], [(a + b) + c, (c + a) + b], mode=CANONICAL)
    first, second = uncopied_outputs(f)
    assert first is second and scalar_names(f.maker.fgraph) == ["add", "add"]
    assert "canonical_add_chain" in fired(f)
    values = [RNG.normal(size=3) for _ in range(3)]
    for got in f(*values):
        np.testing.assert_allclose(got, values[0] + values[1] + values[2])


def test_add_chain_sums_its_constants_outermost():
    x = T.dvector("x")
    out = (x + 1.0) + (2.5 + x * 3.0)
    expected = m.add(const(3.5), m.add(x, m.mul(x, const(3.0))))
    check([x], out, expected, [RNG.normal(size=4)], "canonical_add_chain")


def test_add_chain_keeps_a_negative_constant_subtracted():
    # exp(x) - 1 must stay a subtraction of 1 for stabilize's expm1 pattern
    x = T.dvector("x")
    out = (T.exp(x) - 3.0) + 2.0
    check([x], out, m.sub(T.exp(x), const(1.0)), [RNG.normal(size=4)], "canonical_add_chain")


def test_add_chain_cancels_terms_across_subtractions():
    x, y, z = T.dvectors("x", "y", "z")
    out = (x - y) + (y - z) + (z - x + y)
    check([x, y, z], out, y, [RNG.normal(size=3) for _ in range(3)], "canonical_add_chain")


def test_add_chain_collects_repeated_terms():
    x, y = T.dvectors("x", "y")
    out = x + y + x - y - y
    expected = m.sub(m.mul(const(2.0), x), y)
    check([x, y], out, expected, [RNG.normal(size=3), RNG.normal(size=3)], "canonical_add_chain")


def test_cancelled_terms_still_give_their_shape():
    # (x + r) - x with a broadcast row r is r spread over x's rows: fill(x, r)
    x, r = T.dmatrix("x"), TensorType("float64", (1, None))("r")
    f = check(
        [x, r],
        (x + r) - x,
        m.second(x, r),
        [RNG.normal(size=(3, 4)), RNG.normal(size=(1, 4))],
        "canonical_add_chain",
    )
    assert f(np.zeros((3, 4)), np.ones((1, 4))).shape == (3, 4)


def test_mixed_sign_chains_without_cancellation_are_left_alone():
    a, b, c = T.dvectors("a", "b", "c")
    out = (a - b) + c
    f = check_rewrite([a, b, c], out, out, [RNG.normal(size=2) for _ in range(3)], mode=CANONICAL)
    assert not fired(f)


def test_add_chain_never_narrows_a_partial_sum_to_a_small_int_dtype():
    # (i8 + f) + i8 sorted would start with i8 + i8 and wrap at 127; the float term goes first
    a, b = T.bvectors("a", "b")
    f = T.dvector("f")
    out = (a + f) + b
    values = [
        np.array([100, -100], dtype="int8"),
        np.array([0.5, 0.5]),
        np.array([100, -100], dtype="int8"),
    ]
    check([a, f, b], out, m.add(m.add(f, a), b), values, "canonical_add_chain")
    np.testing.assert_array_equal(
        function([a, f, b], out, mode=CANONICAL)(*values), [200.5, -199.5]
    )


def test_add_chain_of_mixed_int_dtypes_without_a_wide_term_is_left_alone():
    a, c = T.bvectors("a", "c")
    b = TensorType("uint8", (None,))("b")
    out = (a + b) + c  # int16 sums of int8 and uint8 terms: no term has the chain's dtype
    values = [np.array([100], "int8"), np.array([200], "uint8"), np.array([100], "int8")]
    f = check_rewrite([a, b, c], out, out, values, mode=CANONICAL)
    assert f(*values).tolist() == [400]


# ------------------------------------------------------------------------ mul chains
def test_mul_chains_in_any_order_merge():
    a, b, c = T.dvectors("a", "b", "c")
    f = function([a, b, c], [(a * b) * c, (c * a) * b], mode=CANONICAL)
    first, second = uncopied_outputs(f)
    assert first is second and scalar_names(f.maker.fgraph) == ["mul", "mul"]
    values = [RNG.normal(size=3) for _ in range(3)]
    np.testing.assert_allclose(f(*values)[1], values[0] * values[1] * values[2])


def test_mul_chain_multiplies_its_constants():
    x, y = T.dvectors("x", "y")
    out = (x * 2.0) * (y / 4.0)
    expected = m.mul(const(0.5), m.mul(x, y))
    check([x, y], out, expected, [RNG.normal(size=3), RNG.normal(size=3)], "canonical_mul_chain")


def test_mul_chain_cancels_common_factors():
    x, y, z = T.dvectors("x", "y", "z")
    out = (x * y) / (x * z)
    check([x, y, z], out, y / z, [positive(3) for _ in range(3)], "canonical_mul_chain")


def test_mul_chain_floats_signs_out():
    x, y, z = T.dvectors("x", "y", "z")
    values = [positive(3) for _ in range(3)]
    check([x, y, z], (x * -y) * (z / -x), m.mul(y, z), values, "canonical_mul_chain")
    # without the local sign rules, the chain rule alone collects the signs of its factors
    alone = Mode(
        linker="py",
        record_history=True,
        excluding=(*LATER_PHASES, "neg_out_of_mul", "neg_out_of_div_num", "neg_out_of_div_den"),
    )
    f = check_rewrite([x, y, z], (x * -y) * (z / x), -(y * z), values, mode=alone)
    assert "canonical_mul_chain" in fired(f)


def test_mul_by_zero_is_zero_as_in_theano():
    x, y = T.dvectors("x", "y")
    f = check(
        [x, y],
        (x * 0.0) * y,
        m.second(x, const(0.0)),
        [RNG.normal(size=3)] * 2,
        "canonical_mul_chain",
    )
    np.testing.assert_array_equal(f([np.inf, 1.0], [2.0, np.nan]), [0.0, 0.0])  # not nan


def test_mul_chain_of_ints_folds_exactly():
    i = T.lvector("i")
    check(
        [i],
        (i * 3) * 5,
        m.mul(const(15, dtype="int64"), i),
        [np.array([2**40, -7])],
        "canonical_mul_chain",
    )


def test_cancelling_a_broadcast_factor_is_left_to_keep_the_shape():
    row, s = TensorType("float64", (1, None))("row"), T.dmatrix("s")
    out = (row * s) / s  # dropping s would leave a row
    f = check_rewrite(
        [row, s],
        out,
        lambda fg: "true_div" in scalar_names(fg),
        [RNG.normal(size=(1, 4)), positive(3, 4)],
        mode=CANONICAL,
    )
    assert f(np.ones((1, 4)), np.ones((3, 4))).shape == (3, 4)


def test_minus_one_times_a_bool_casts_before_negating():
    # maximum's gradient is gz * (x >= y); with gz = -1 the product must not become -(x >= y)
    x, y = T.dvectors("x", "y")
    out = -1.0 * T.ge(x, y)  # -1.0 is a float32 constant (Theano's autocast): float32 result
    expected = m.neg(m.cast(T.ge(x, y), "float32"))
    f = check([x, y], out, expected, [np.array([1.0, 2.0]), np.array([2.0, 1.0])],
              "canonical_mul_chain")  # fmt: skip
    np.testing.assert_array_equal(f([1.0, 2.0], [2.0, 1.0]), [-0.0, -1.0])


def test_duplicates_made_inside_the_phase_merge():
    # exp(x + 0) becomes a second exp(x) only after the merge phase ran; it still merges
    x, y = T.dvectors("x", "y")
    f = function([x, y], [T.exp(x + 0) * (y + x), T.exp(x) * (x + y)], mode=CANONICAL)
    first, second = uncopied_outputs(f)
    assert first is second and scalar_names(f.maker.fgraph).count("exp") == 1
    assert "merge_equal_node" in fired(f)
    values = [RNG.normal(size=3), RNG.normal(size=3)]
    np.testing.assert_allclose(f(*values)[0], np.exp(values[0]) * (values[0] + values[1]))


# ------------------------------------------------------------------------ fills
def test_useless_fill_of_a_scalar():
    x = T.dscalar("x")
    check([x], m.second(x, 3.0), constant(3.0, dtype="float64"), [2.0], "useless_fill")


def test_fill_sinks_out_of_an_elemwise():
    x, y = T.dvectors("x", "y")
    out = T.exp(m.second(x, y))  # exp(fill(x, y)) -> fill(x, exp(y))
    check([x, y], out, m.second(x, T.exp(y)), [RNG.normal(size=3)] * 2, "sink_fill")


def test_fill_is_cut_when_another_input_fixes_the_shape():
    x, y = T.dvectors("x", "y")
    out = m.second(x, 2.0) * y
    check([x, y], out, m.mul(const(2.0), y), [RNG.normal(size=3)] * 2, "sink_fill")


# ------------------------------------------------------------------------ useless ops
def test_identity_and_nested_dimshuffles():
    x = T.dmatrix("x")
    check([x], x.T.T, x, [RNG.normal(size=(2, 3))], "merge_dimshuffles")
    out = x.dimshuffle(1, "x", 0).dimshuffle(2, 0, 1)
    check([x], out, x.dimshuffle(0, 1, "x"), [RNG.normal(size=(2, 3))], "merge_dimshuffles")


def test_cast_to_the_same_dtype_is_removed():
    x = T.dvector("x")
    out = Elemwise(cast_op("float64"))(x)
    check([x], out, x, [RNG.normal(size=3)], "useless_cast")


def test_lossless_round_trip_cast_is_removed():
    i = T.ivector("i")
    out = m.cast(m.cast(i, "float64"), "int32")
    check([i], out, i, [np.array([2**31 - 1, -(2**31)], "int32")], "useless_cast")


def test_lossy_round_trip_cast_stays():
    big = T.lvector("big")
    out = m.cast(m.cast(big, "float64"), "int64")
    f = check_rewrite([big], out, out, [np.array([2**53 + 1])], mode=CANONICAL)
    assert f(np.array([2**53 + 1])).tolist() == [2**53]


def test_cast_through_a_wider_dtype_goes_direct():
    x = T.fvector("x")
    out = m.cast(m.cast(x, "float64"), "int32")
    check([x], out, m.cast(x, "int32"), [np.array([1.7, -2.5], "float32")], "useless_cast")


@pytest.mark.parametrize(
    "build",
    [
        lambda x: reshape(x, x.shape),
        lambda x: reshape(x, (x.shape[0], x.shape[1])),
        lambda x: reshape(x, (shape_i(x, 0), x.shape[-1])),
    ],
    ids=["shape", "shape_entries", "shape_i"],
)
def test_reshape_to_its_own_shape_is_removed(build):
    x = T.dmatrix("x")
    check([x], build(x), x, [RNG.normal(size=(2, 3))], "useless_reshape")


def test_reshape_of_a_static_shape_and_of_a_vector_to_minus_one():
    x, v = TensorType("float64", (2, 3))("x"), T.dvector("v")
    check([x], reshape(x, (2, 3)), x, [RNG.normal(size=(2, 3))], "useless_reshape")
    check([v], reshape(v, (-1,)), v, [RNG.normal(size=4)], "useless_reshape")


def test_a_real_reshape_stays():
    x = T.dmatrix("x")
    out = reshape(x, (x.shape[1], x.shape[0]))
    check_rewrite(
        [x],
        out,
        lambda fg: Reshape in {type(n.op) for n in fg.toposort()},
        [RNG.normal(size=(2, 3))],
        mode=CANONICAL,
    )


def test_alloc_of_its_own_shape_is_removed():
    x, s = T.dmatrix("x"), TensorType("float64", (2, 3))("s")
    check([x], alloc(x, x.shape[0], shape_i(x, 1)), x, [RNG.normal(size=(2, 3))], "useless_alloc")
    check([s], alloc(s, 2, 3), s, [RNG.normal(size=(2, 3))], "useless_alloc")


def test_an_alloc_that_broadcasts_stays():
    v, x = T.dvector("v"), T.dmatrix("x")
    out = alloc(v, x.shape[0], v.shape[0])
    f = check_rewrite(
        [v, x],
        out,
        lambda fg: Alloc in {type(n.op) for n in fg.toposort()},
        [RNG.normal(size=3), RNG.normal(size=(2, 3))],
        mode=CANONICAL,
    )
    assert f(np.ones(3), np.ones((2, 5))).shape == (2, 3)


def test_specify_shape_already_known_is_removed():
    s = TensorType("float64", (None, 3))("s")
    check([s], SpecifyShape([1])(s, 3), s, [RNG.normal(size=(2, 3))], "useless_specify_shape")
    x = T.dmatrix("x")
    out = specify_shape(x, (x.shape[0], 3))  # axis 0 is x's own length: only axis 1 is checked
    expected = SpecifyShape([1])(x, constant(3, dtype="int64"))
    f = check([x], out, expected, [RNG.normal(size=(2, 3))], "useless_specify_shape")
    with pytest.raises(ValueError, match="SpecifyShape: expected shape"):
        f(np.zeros((2, 4)))


# ------------------------------------------------------------------------ reductions
def test_sum_of_alloc_is_a_product():
    v, n = T.dscalar("v"), T.lscalar("n")
    out = alloc(v, n, 3).sum()
    f = check(
        [v, n],
        out,
        lambda fg: not {Alloc, Sum} & {type(x.op) for x in fg.toposort()},
        [1.25, 4],
        "sum_of_filled",
    )
    assert f(1.25, 0) == 0.0


def test_sum_of_alloc_over_some_axes_is_a_smaller_alloc():
    v, n = T.dscalar("v"), T.lscalar("n")
    out = alloc(v, n, 3).sum(axis=1)
    f = check(
        [v, n],
        out,
        lambda fg: Sum not in {type(x.op) for x in fg.toposort()},
        [1.25, 4],
        "sum_of_filled",
    )
    np.testing.assert_allclose(f(2.0, 2), [6.0, 6.0])


def test_sum_of_fill_uses_the_model_shape():
    x = T.dmatrix("x")
    out = m.second(x, 0.5).sum(axis=0)  # the gradient of a bias broadcast over rows
    f = check(
        [x],
        out,
        lambda fg: Sum not in {type(n.op) for n in fg.toposort()},
        [RNG.normal(size=(4, 3))],
        "sum_of_filled",
    )
    np.testing.assert_allclose(f(np.zeros((5, 2))), [2.5, 2.5])


def test_sum_of_int8_alloc_keeps_the_int64_sum():
    v = T.bscalar("v")
    out = alloc(v, 100, 3).sum()
    f = check(
        [v],
        out,
        lambda fg: Sum not in {type(n.op) for n in fg.toposort()},
        [np.int8(100)],
        "sum_of_filled",
    )
    assert f(np.int8(100)) == 30000 and f(np.int8(100)).dtype == np.int64


def test_sum_over_length_one_axes_is_a_dimshuffle():
    x = TensorType("float64", (1, None, 1))("x")
    check(
        [x],
        x.sum(axis=(0, 2)),
        DimShuffle(3, [1])(x),
        [RNG.normal(size=(1, 4, 1))],
        "sum_over_length_one_axes",
    )


# ------------------------------------------------------------------------ indexing
def test_subtensor_of_subtensor_merges():
    x = T.dvector("x")
    check([x], x[2:][1:4], x[3:6], [RNG.normal(size=9)], "merge_subtensors")


def test_subtensor_of_an_int_index_after_an_open_slice():
    x = T.dmatrix("x")
    check([x], x[1::2][2], x[5], [RNG.normal(size=(7, 2))], "merge_subtensors")


def test_full_subtensor_is_removed():
    x = T.dmatrix("x")
    check([x], x[:, 0:], x, [RNG.normal(size=(2, 3))], "merge_subtensors")


def test_out_of_range_int_after_a_bounded_slice_stays_an_error():
    x = T.dvector("x")
    f = function([x], x[0:2][1], mode=CANONICAL)  # not x[1]: x[0:2] may be shorter than 2
    assert "merge_subtensors" not in fired(f)
    with pytest.raises(IndexError):
        f(np.zeros(1))


SLICE = st.one_of(st.none(), st.integers(-7, 7))
STEP = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))
INDEX = st.one_of(st.builds(slice, SLICE, SLICE, STEP), st.integers(-6, 5))


@settings(max_examples=150, deadline=None)
@given(
    first=st.builds(slice, SLICE, SLICE, STEP),
    second=INDEX,
    length=st.integers(0, 7),
    static=st.booleans(),
)
def test_merged_subtensors_index_like_numpy(first, second, length, static):
    x = TensorType("float64", (length if static else None,))("x")
    data = np.arange(length, dtype="float64")
    try:
        want = data[first][second]
    except IndexError:
        with pytest.raises(IndexError):  # when building (static length) or when called
            function([x], x[first][second], mode=CANONICAL)(data)
        return
    f = function([x], x[first][second], mode=CANONICAL)
    np.testing.assert_array_equal(f(data), want)
    if "merge_subtensors" in fired(f):
        assert sum(isinstance(n.op, Subtensor) for n in f.maker.fgraph.toposort()) <= 1


def test_rewrites_reach_a_fixed_point():
    # running canonicalize again on its own result changes nothing (no rule undoes another)
    from labsym.optim.driver import apply_to_fixed_point
    from labsym.optim.phases import Rewriter

    a, b, c = T.dvectors("a", "b", "c")
    out = ((a + b) * c - (b + a) * c) / (c * a) + (c + 1.0) * (2.0 + b) - -(a * 3.0)
    f = function([a, b, c], out, mode=CANONICAL)
    rules = Rewriter(["canonicalize"]).rules_of("canonicalize")
    assert apply_to_fixed_point(f.maker.fgraph, rules, "canonicalize") == 0
    values = [positive(3) for _ in range(3)]
    np.testing.assert_allclose(f(*values), function([a, b, c], out, mode=NAIVE)(*values))
    assert len(ops_in(f.maker.fgraph)) < len(
        ops_in(function([a, b, c], out, mode=NAIVE).maker.fgraph)
    )


def test_very_long_add_chains_compile_without_recursion_errors():
    import labsym.tensor as T

    a = T.dmatrix("a")
    x = T.dvector("x")
    terms = [T.dvector() for _ in range(1200)]
    out = T.dot(a, x)
    for v in terms:
        out = out + v
    f = function([a, x, *terms], out)
    np.testing.assert_array_equal(f(np.eye(2), np.ones(2), *[np.ones(2)] * 1200), [1201.0, 1201.0])
