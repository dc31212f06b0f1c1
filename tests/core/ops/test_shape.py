"""Shape ops (shape, reshape, flatten, specify_shape, broadcastable helpers) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import DisconnectedInputError, grad
from labsym.core.ops import math as m
from labsym.core.ops.elemwise import DimShuffle
from labsym.core.ops.shape import (
    MakeVector,
    Rebroadcast,
    Reshape,
    Shape_i,
    SpecifyShape,
    addbroadcast,
    broadcast_shape_symbolic,
    flatten,
    patternbroadcast,
    reshape,
    shape,
    shape_i,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    specify_shape,
    transpose,
    unbroadcast,
)
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import array_maker, check_infer_shape, check_rop, tensor

RNG = np.random.default_rng(7)
random_array = array_maker(RNG, -5, 6)


# ------------------------------------------------------------------------------ shape, shape_i
@pytest.mark.parametrize("dims", [(), (4,), (2, 3), (1, 0, 5)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_shape_and_shape_i_match_numpy(dims, dtype):
    x = tensor(dtype, len(dims))
    value = random_array(dims, dtype)
    out = shape(x)
    assert out.type == TensorType("int64", (len(dims),))
    assert str(out.owner.op) == "Shape"
    result = function([x], out)(value)
    assert result.dtype == np.int64 and tuple(result) == dims
    for i in range(len(dims)):
        assert function([x], shape_i(x, i))(value) == dims[i]
        assert function([x], shape_i(x, i - len(dims)))(value) == dims[i]


def test_shape_i_str_and_errors():
    x = tensor("float64", 2)
    assert str(shape_i(x, 1).owner.op) == "Shape_i{1}"
    assert shape_i(x, -1).owner.op == Shape_i(1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        shape_i(x, 2)
    with pytest.raises(ValueError, match="Shape_i\\{3\\}: axis 3 is out of range"):
        Shape_i(3)(x)


def test_shape_infer_shape_and_disconnected_grad():
    x = tensor("float64", 3)
    value = random_array((2, 1, 4))
    check_infer_shape([x], shape(x), [value])
    check_infer_shape([x], shape_i(x, 2), [value])
    with pytest.raises(DisconnectedInputError):
        grad(m.cast(shape(x).sum(), "float64"), x)


# ------------------------------------------------------------------------------ reshape
RESHAPES = [
    ((6,), (2, 3)),
    ((6,), (-1, 2)),
    ((2, 3), (3, -1)),
    ((2, 3, 4), (4, -1)),
    ((2, 3, 4), (-1,)),
    ((1,), ()),
    ((), (1, 1)),
    ((0, 3), (-1, 3)),
    ((4, 5), (5, 2, 2)),
]


@pytest.mark.parametrize(("src", "dst"), RESHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_reshape_constant_shape_matches_numpy(src, dst, dtype):
    x = tensor(dtype, len(src))
    value = random_array(src, dtype)
    out = reshape(x, dst)
    assert str(out.owner.op) == f"Reshape{{{len(dst)}}}"
    assert out.type.shape == tuple(None if d == -1 else d for d in dst)
    result = function([x], out)(value)
    np.testing.assert_array_equal(result, value.reshape(dst))
    assert result.dtype == value.dtype
    check_infer_shape([x], out, [value])


def test_reshape_static_input_resolves_minus_one():
    x = TensorType("float64", (2, 3, 4))("x")
    assert reshape(x, (-1, 6)).type.shape == (4, 6)
    assert reshape(x, (shape_i(x, 0), -1)).type.shape == (2, 12)
    assert x.reshape((x.shape[0], -1)).type.shape == (2, 12)


def test_reshape_symbolic_entries():
    x = tensor("float64", 3)
    value = random_array((2, 3, 4))
    out = x.reshape((x.shape[0], -1))
    assert out.type.shape == (None, None)
    np.testing.assert_array_equal(function([x], out)(value), value.reshape(2, -1))
    check_infer_shape([x], out, [value])
    n = tensor("int32", 0, "n")
    out = reshape(x, (n, 4, -1))
    assert out.type.shape == (None, 4, None)
    f = function([x, n], out)
    np.testing.assert_array_equal(f(value, 3), value.reshape(3, 4, -1))
    check_infer_shape([x, n], out, [value, 3])
    out = reshape(x, (n, 4))
    check_infer_shape([x, n], out, [value, 6])
    check_infer_shape([x, n], out, [value, -1])  # a symbolic -1 is resolved too


def test_reshape_symbolic_vector():
    x, y = tensor("float64", 1), tensor("float64", 2, "y")
    out = reshape(x, shape(y))
    assert out.ndim == 2
    f = function([x, y], out)
    np.testing.assert_array_equal(f(np.arange(6.0), np.zeros((3, 2))), np.arange(6.0).reshape(3, 2))
    s = tensor("int64", 1, "s")
    with pytest.raises(ValueError, match="unknown length; pass ndim="):
        reshape(x, s)
    out = reshape(x, s, ndim=3)
    assert out.type.shape == (None, None, None)
    f = function([x, s], out)
    np.testing.assert_array_equal(f(np.arange(6.0), [1, 2, 3]), np.arange(6.0).reshape(1, 2, 3))
    with pytest.raises(ValueError, match="has 2 entries, expected 3"):
        f(np.arange(6.0), [2, 3])
    check_infer_shape([x, s], out, [np.arange(6.0), np.array([3, -1, 2])])


def test_reshape_errors():
    x = TensorType("float64", (3, 4))("x")
    with pytest.raises(
        ValueError,
        match=r"cannot reshape an array of size 12 \(static shape \(3, 4\)\) into shape \(5, -1\)",
    ):
        reshape(x, (5, -1))
    with pytest.raises(ValueError, match="cannot reshape an array of size 12"):
        reshape(x, (2, 5))
    with pytest.raises(ValueError, match=r"only specify one unknown dimension \(-1\)"):
        reshape(tensor("float64", 1), (-1, -1))
    with pytest.raises(ValueError, match="negative length"):
        reshape(tensor("float64", 1), (-2, 3))
    with pytest.raises(TypeError, match="must be an integer vector"):
        Reshape(1)(x, tensor("float64", 1))
    with pytest.raises(ValueError, match="ndim=3 but the new shape has 2 entries"):
        reshape(x, (6, 2), ndim=3)
    v = tensor("float64", 1)
    f = function([v], reshape(v, (2, -1)))
    with pytest.raises(ValueError, match="cannot reshape array of size 5"):
        f(np.zeros(5))


def test_reshape_is_a_view_and_outputs_do_not_alias_inputs():
    assert Reshape(2).view_map == {0: [0]}
    x = tensor("float64", 1)
    value = np.arange(6.0)
    result = function([x], reshape(x, (2, 3)))(value)
    result[0, 0] = 100.0
    assert value[0] == 0.0


@pytest.mark.parametrize(("src", "dst"), [((6,), (2, 3)), ((2, 3, 4), (4, -1)), ((3, 4), (-1,))])
def test_reshape_grad(src, dst):
    verify_grad(lambda x: reshape(x, dst), [random_array(src)], rng=np.random.default_rng(0))


@st.composite
def reshape_cases(draw):
    src = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    size = int(np.prod(src, dtype=int))
    factors = []
    rest = size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        rest //= d
    factors.append(rest)
    factors = draw(st.permutations(factors))
    if draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return src, tuple(factors)


@settings(max_examples=40, deadline=None)
@given(reshape_cases(), st.booleans())
def test_reshape_minus_one_rules_hypothesis(case, static_input):
    src, dst = case
    x = TensorType("float64", src if static_input else (None,) * len(src))("x")
    out = reshape(x, dst)
    expected = np.arange(np.prod(src, dtype=int), dtype="float64").reshape(src).reshape(dst)
    known = static_input or not src  # a 0-d input's shape is always static
    want_static = tuple(
        (n if known else None) if d == -1 else d for d, n in zip(dst, expected.shape, strict=True)
    )
    assert out.type.shape == want_static
    np.testing.assert_array_equal(out.eval({x: expected.reshape(src)}), expected)


@settings(max_examples=30, deadline=None)
@given(reshape_cases(), st.integers(1, 3))
def test_reshape_static_mismatch_hypothesis(case, extra):
    src, dst = case
    if -1 in dst or not src:
        return
    bad = dst[:-1] + (dst[-1] + extra,)
    with pytest.raises(ValueError, match="cannot reshape an array of size"):
        reshape(TensorType("float64", src)("x"), bad)


# ------------------------------------------------------------------------------ flatten
@pytest.mark.parametrize("dims", [(), (3,), (2, 3), (2, 3, 4), (2, 0, 3)])
def test_flatten_matches_numpy(dims):
    x = tensor("float64", len(dims))
    value = random_array(dims)
    for ndim in range(1, max(len(dims), 1) + 1):
        # the product, not -1: NumPy cannot resolve -1 when another length is 0
        expected = value.reshape(dims[: ndim - 1] + (int(np.prod(dims[ndim - 1 :])),))
        out = flatten(x, ndim)
        assert out.ndim == ndim
        np.testing.assert_array_equal(function([x], out)(value), expected)
        np.testing.assert_array_equal(function([x], flatten(x, outdim=ndim))(value), expected)
        check_infer_shape([x], out, [value])
    np.testing.assert_array_equal(function([x], x.flatten())(value), value.reshape(-1))


def test_flatten_static_shape_and_errors():
    x = TensorType("float32", (2, None, 4))("x")
    assert flatten(x).type.shape == (None,)
    assert flatten(x, 2).type.shape == (2, None)
    assert flatten(TensorType("float32", (2, 3, 4))("y"), 2).type.shape == (2, 12)
    assert flatten(x, 2).dtype == "float32"
    with pytest.raises(ValueError, match=r"flatten: ndim=4 is out of range \[1, 3\]"):
        flatten(x, 4)
    with pytest.raises(ValueError, match="ndim=0 is out of range"):
        flatten(x, 0)


def test_flatten_grad():
    verify_grad(
        lambda x: flatten(x, 2) * 2.0, [random_array((2, 3, 2))], rng=np.random.default_rng(0)
    )


# ------------------------------------------------------------------------------ specify_shape
def test_specify_shape_refines_type_and_checks_at_run_time():
    x = tensor("float64", 2)
    y = specify_shape(x, (None, 3))
    assert y.type.shape == (None, 3)
    assert str(y.owner.op) == "SpecifyShape"
    assert SpecifyShape((1,)).view_map == {0: [0]}
    f = function([x], y)
    value = random_array((2, 3))
    np.testing.assert_array_equal(f(value), value)
    with pytest.raises(ValueError, match=r"SpecifyShape: expected shape \(None, 3\), got \(2, 4\)"):
        f(np.zeros((2, 4)))
    check_infer_shape([x], y, [value])


def test_specify_shape_symbolic_lengths():
    x = tensor("float64", 2)
    n = tensor("int32", 0, "n")
    y = specify_shape(x, (n, 2))
    assert y.type.shape == (None, 2)
    f = function([x, n], y)
    assert f(np.zeros((3, 2)), 3).shape == (3, 2)
    with pytest.raises(ValueError, match=r"expected shape \(4, 2\), got \(3, 2\)"):
        f(np.zeros((3, 2)), 4)
    check_infer_shape([x, n], y, [np.zeros((3, 2)), 3])
    z = specify_shape(x, shape(tensor("float64", 2, "other")))
    assert isinstance(z.owner.op, SpecifyShape) and z.owner.op.axes == (0, 1)


def test_specify_shape_no_op_and_errors():
    x = TensorType("float64", (2, None))("x")
    assert specify_shape(x, (None, None)) is x
    assert specify_shape(x, (2, None)) is x
    assert specify_shape(x, np.array([2, 5])).type.shape == (2, 5)
    with pytest.raises(
        ValueError, match=r"static shape \(2, None\), which contradicts length 3 on axis 0"
    ):
        specify_shape(x, (3, None))
    with pytest.raises(
        ValueError, match="has 2 dimensions .* but the shape \\(1, 2, 3\\) has 3 entries"
    ):
        specify_shape(x, (1, 2, 3))
    with pytest.raises(ValueError, match="negative length"):
        specify_shape(x, (None, -1))
    with pytest.raises(TypeError, match="must be an int or an integer scalar"):
        specify_shape(x, (None, tensor("float64", 0)))


def test_specify_shape_grad():
    verify_grad(
        lambda x: specify_shape(x, (2, None)) * 3.0,
        [random_array((2, 3))],
        rng=np.random.default_rng(0),
    )
    x = tensor("float64", 2)
    g = grad(specify_shape(x, (None, 3)).sum(), x)
    assert function([x], g)(np.ones((2, 3))).shape == (2, 3)


# ------------------------------------------------------------------------------ broadcastable
def test_addbroadcast_unbroadcast_patternbroadcast_types():
    x = tensor("float64", 3)
    assert addbroadcast(x, 0, -1).type.shape == (1, None, 1)
    row = TensorType("float64", (1, None))("r")
    assert unbroadcast(row, 0).type.shape == (None, None)
    assert isinstance(unbroadcast(row, 0).owner.op, Rebroadcast)
    assert unbroadcast(row, 1) is row
    assert patternbroadcast(row, (False, True)).type.shape == (None, 1)
    assert patternbroadcast(row, (True, False)) is row
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        addbroadcast(x, 3)
    with pytest.raises(ValueError, match="pattern \\(True,\\) does not fit"):
        patternbroadcast(row, (True,))


def test_addbroadcast_runtime_check_and_broadcasting():
    x, y = tensor("float64", 2), tensor("float64", 2, "y")
    f = function([x, y], addbroadcast(x, 0) + y)
    xv, yv = random_array((1, 3)), random_array((4, 3))
    np.testing.assert_allclose(f(xv, yv), xv + yv)
    with pytest.raises(
        ValueError, match=r"Dimension 0 in Rebroadcast's input was supposed to be 1 \(got 2"
    ):
        f(random_array((2, 3)), yv)


def test_unbroadcast_value_view_and_grad():
    row = TensorType("float64", (1, None))("r")
    out = unbroadcast(row, 0)
    assert Rebroadcast((0, False)).view_map == {0: [0]}
    value = random_array((1, 4))
    result = function([row], out)(value)
    np.testing.assert_array_equal(result, value)
    result[0, 0] = 99.0
    assert value[0, 0] != 99.0
    check_infer_shape([row], out, [value])
    g = grad(out.sum(), row)
    assert g.type.shape[0] == 1
    verify_grad(lambda x: unbroadcast(addbroadcast(x, 0), 0) * 2.0, [random_array((1, 3))])


# ------------------------------------------------------------------------------ dimshuffle helpers
def test_shape_pad_helpers_match_numpy():
    x = tensor("int32", 2)
    value = random_array((2, 3), "int32")
    cases = [
        (shape_padleft(x), value[None]),
        (shape_padleft(x, 2), value[None, None]),
        (shape_padright(x), value[..., None]),
        (shape_padright(x, 3), value[..., None, None, None]),
        (shape_padaxis(x, 0), np.expand_dims(value, 0)),
        (shape_padaxis(x, 1), np.expand_dims(value, 1)),
        (shape_padaxis(x, -1), np.expand_dims(value, -1)),
        (shape_padaxis(x, -3), np.expand_dims(value, -3)),
    ]
    for out, expected in cases:
        assert isinstance(out.owner.op, DimShuffle)
        assert out.type.shape == tuple(1 if n == 1 else None for n in expected.shape)
        np.testing.assert_array_equal(function([x], out)(value), expected)
    with pytest.raises(IndexError, match=r"axis 3 is out of range \[-3, 2\]"):
        shape_padaxis(x, 3)


@pytest.mark.parametrize(
    ("dims", "axes"),
    [
        ((2, 3), None),
        ((2, 3, 4), None),
        ((2, 3, 4), (1, 2, 0)),
        ((2, 3, 4), (-1, 0, 1)),
        ((5,), None),
    ],
)
def test_transpose_matches_numpy(dims, axes):
    x = tensor("float32", len(dims))
    value = random_array(dims, "float32")
    out = transpose(x, axes)
    np.testing.assert_array_equal(function([x], out)(value), np.transpose(value, axes))


def test_transpose_str_method_and_errors():
    x = tensor("float64", 2)
    assert str(transpose(x).owner.op) == "InplaceDimShuffle{1,0}"
    assert str(x.T.owner.op) == "InplaceDimShuffle{1,0}"
    assert str(x.transpose(1, 0).owner.op) == "InplaceDimShuffle{1,0}"
    with pytest.raises(ValueError, match="not a permutation"):
        transpose(x, (0, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        transpose(x, (0,))
    verify_grad(lambda v: transpose(v, (1, 2, 0)), [random_array((2, 3, 4))])


# ------------------------------------------------------------------------------ MakeVector
def test_make_vector_values_grad_and_errors():
    a, b = tensor("float64", 0, "a"), tensor("float64", 0, "b")
    out = MakeVector("float64")(a, b, 2)
    assert out.type == TensorType("float64", (3,))
    np.testing.assert_array_equal(function([a, b], out)(1.5, -2.0), [1.5, -2.0, 2.0])
    verify_grad(
        lambda x, y: MakeVector("float64")(x, y) * np.array([2.0, 3.0]),
        [np.array(0.5), np.array(1.0)],
    )
    with pytest.raises(TypeError, match="input 0 .* is not a scalar"):
        MakeVector("int64")(tensor("int64", 1))
    with pytest.raises(TypeError, match="has dtype float64, which int64 cannot hold"):
        MakeVector("int64")(a)


# ------------------------------------------------------------------ broadcast_shape_symbolic
def test_broadcast_shape_symbolic_picks_static_then_first_non_broadcastable():
    t1 = TensorType("float64", (1, None, 1, 5))
    t2 = TensorType("float64", (None, None, 1, 1))
    s1 = ("a0", "a1", "a2", "a3")
    s2 = ("b0", "b1", "b2", "b3")
    assert broadcast_shape_symbolic([t1, t2], [s1, s2]) == ("b0", "a1", 1, 5)
    assert broadcast_shape_symbolic([t2, t1], [s2, s1]) == ("b0", "b1", 1, 5)
    assert broadcast_shape_symbolic([TensorType("float64", ())], [()]) == ()


def test_elemwise_infer_shape_uses_broadcast_shape_symbolic():
    x = TensorType("float64", (1, None))("x")
    y = tensor("float64", 2, "y")
    out = x + y
    check_infer_shape([x, y], out, [random_array((1, 3)), random_array((4, 3))])


def test_static_shapes_fold_through_shape_arithmetic():
    x = TensorType("float64", (3, None))("x")
    y = reshape(tensor("float64", 1), (x.shape[0] * 2, shape_i(x, 1)))
    assert y.type.shape == (6, None)


@pytest.mark.parametrize(
    "build",
    [
        lambda x: reshape(x * x, (2, -1)),
        lambda x: specify_shape(x * x, (4,)),
        lambda x: unbroadcast((x * x).dimshuffle("x", 0), 0),
        lambda x: MakeVector("float64")(x[0] * x[1], x[2]),
    ],
)
def test_r_op_matches_finite_differences(build):
    check_rop(build, random_array(4), random_array(4))
