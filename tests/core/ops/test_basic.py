"""Array construction and assembly (alloc, eye, arange, tile, join, split, stack)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.config import config
from labsym.core.autodiff import grad
from labsym.core.ops.basic import (
    Alloc,
    Join,
    Split,
    TensorCopy,
    alloc,
    arange,
    concatenate,
    eye,
    identity_like,
    join,
    ones,
    split,
    stack,
    stack_nested,
    tensor_copy,
    tile,
    zeros,
)
from labsym.core.ops.shape import MakeVector, addbroadcast, shape, shape_i, specify_shape
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable
from tests.core.ops.helpers import array_maker, check_grad, check_infer_shape, check_rop, tensor

RNG = np.random.default_rng(11)
random_array = array_maker(RNG)


# ------------------------------------------------------------------------------ alloc, zeros, ones
@pytest.mark.parametrize(
    ("value_shape", "out_shape"),
    [((), (2, 3)), ((3,), (2, 3)), ((2, 3), (2, 3)), ((4,), (1, 2, 4)), ((), ())],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_alloc_matches_numpy_broadcast(value_shape, out_shape, dtype):
    v = tensor(dtype, len(value_shape), "v")
    value = random_array(value_shape, dtype)
    out = alloc(v, *out_shape)
    assert out.type == TensorType(dtype, out_shape)
    assert str(out.owner.op) == "Alloc"
    result = function([v], out)(value)
    np.testing.assert_array_equal(result, np.broadcast_to(value, out_shape))
    assert result.dtype == dtype and not np.shares_memory(result, value)
    check_infer_shape([v], out, [value])


def test_alloc_symbolic_lengths_and_broadcastable_value():
    v = TensorType("float64", (1, None))("v")
    n = tensor("int32", 0, "n")
    out = alloc(v, n, 3)
    assert out.type.shape == (None, 3)
    value = random_array((1, 3))
    np.testing.assert_array_equal(function([v, n], out)(value, 4), np.broadcast_to(value, (4, 3)))
    check_infer_shape([v, n], out, [value, 4])
    x = TensorType("float64", (5, None))("x")
    assert alloc(0.0, x.shape[0], shape_i(x, 1)).type.shape == (5, None)
    assert alloc(0.0, (2, 3)).type.shape == (2, 3)


def test_alloc_errors():
    with pytest.raises(TypeError, match="has 2 dims, more than the 1 of the requested shape"):
        alloc(tensor("float64", 2), 3)
    with pytest.raises(ValueError, match=r"cannot broadcast the value .* static shape \(3,\)"):
        alloc(TensorType("float64", (3,))("v"), 2, 4)
    with pytest.raises(TypeError, match="must be an int or an integer scalar"):
        alloc(0.0, tensor("float64", 0))
    v = tensor("float64", 1, "v")
    f = function([v], alloc(v, 2, 3))
    with pytest.raises(ValueError, match="is only broadcast when its type is broadcastable"):
        f(np.zeros(1))


@pytest.mark.parametrize(
    ("value_shape", "build"),
    [
        ((), lambda v: alloc(v, 2, 3)),
        ((3,), lambda v: alloc(v, 2, 3)),
        ((1, 3), lambda v: alloc(addbroadcast(v, 0), 4, 3)),
        ((2, 1), lambda v: alloc(addbroadcast(v, 1), 5, 2, 3)),
    ],
)
def test_alloc_grad(value_shape, build):
    check_grad(build, random_array(value_shape))


def test_alloc_grad_of_integer_value_is_none():
    v = tensor("int32", 1, "v")
    assert Alloc().grad([v, as_tensor_variable(2)], [tensor("int32", 2, "g")])[0] is None


def test_zeros_ones_dtypes_and_shapes():
    x = tensor("float32", 2)
    value = random_array((2, 3), "float32")
    cases = [
        (zeros(4), np.zeros(4)),
        (ones((2, 3), dtype="int32"), np.ones((2, 3), "int32")),
        (zeros(shape(x), dtype="float32"), np.zeros((2, 3), "float32")),
        (ones((x.shape[1], 2)), np.ones((3, 2))),
        (zeros(()), np.zeros(())),
    ]
    for out, expected in cases:
        result = function([x], out, on_unused_input="ignore")(value)
        assert result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)
    with config.change_flags(floatX="float32"):
        assert zeros(3).dtype == "float32" and ones(3).dtype == "float32"
        assert eye(3).dtype == "float32"
    with pytest.raises(ValueError, match="must be a vector of known length"):
        zeros(tensor("int64", 1, "s"))


# ------------------------------------------------------------------------------ eye, arange
@pytest.mark.parametrize(
    ("n", "m", "k"), [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0)]
)
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_eye_matches_numpy(n, m, k, dtype):
    out = eye(n, m, k, dtype=dtype)
    expected = np.eye(n, m, k, dtype=dtype)
    assert out.type == TensorType(dtype, expected.shape)
    result = out.eval()
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == dtype


def test_eye_symbolic_and_identity_like():
    n = tensor("int64", 0, "n")
    out = eye(n, k=-1)
    assert out.type.shape == (None, None)
    np.testing.assert_array_equal(function([n], out)(3), np.eye(3, k=-1))
    check_infer_shape([n], out, [3])
    x = tensor("float32", 2)
    out = identity_like(x)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(function([x], out)(np.zeros((2, 3), "float32")), np.eye(2, 3))
    with pytest.raises(TypeError, match="must be a matrix"):
        identity_like(tensor("float64", 1))


@pytest.mark.parametrize(
    "args", [(5,), (2, 7), (1, 8, 3), (5, 1, -1), (0.5, 3.0, 0.7), (3, 1), (-2.5, 2, 0.5)]
)
def test_arange_constant_bounds_match_numpy(args):
    out = arange(*args)
    expected = np.arange(*args)
    # as in Theano, Python floats that float32 holds exactly are float32 constants (autocast)
    theano_float32 = all(float(np.float32(a)) == a for a in args if isinstance(a, float))
    dtype = "float32" if expected.dtype.kind == "f" and theano_float32 else expected.dtype.name
    assert out.dtype == dtype
    assert out.type.shape == expected.shape
    np.testing.assert_allclose(out.eval(), expected)


@pytest.mark.parametrize(
    ("dtype", "start", "stop", "step"),
    [
        ("int32", 1, 11, 3),
        ("int64", 10, 0, -2),
        ("float64", 0.0, 2.0, 0.3),
        ("float32", -1.0, 1.0, 0.25),
    ],
)
def test_arange_symbolic_bounds(dtype, start, stop, step):
    a, b, c = (tensor(dtype, 0, name) for name in "abc")
    out = arange(a, b, c)
    expected = np.arange(start, stop, step, dtype=np.dtype(dtype))
    want_dtype = "int64" if dtype.startswith("int") else dtype
    assert out.dtype == want_dtype and out.type.shape == (None,)
    values = [np.asarray(v, dtype) for v in (start, stop, step)]
    np.testing.assert_allclose(
        function([a, b, c], out)(*values), expected.astype(want_dtype), rtol=1e-6
    )
    check_infer_shape([a, b, c], out, values)


def test_arange_dtypes_and_errors():
    f32 = tensor("float32", 0, "f")
    assert arange(f32).dtype == "float32"
    assert arange(0, f32, 1).dtype == "float32"  # Python numbers take the tensor's dtype
    assert arange(tensor("int8", 0, "i")).dtype == "int64"
    assert arange(tensor("int32", 0, "i"), 2.5).dtype == "float64"
    assert arange(3, dtype="float32").eval().dtype == np.float32
    stop = as_tensor_variable(1.25) * 2.0  # a float expression is never taken as a static length
    assert arange(0.0, stop).type.shape == (None,)
    np.testing.assert_array_equal(arange(0.0, stop).eval(), np.arange(0.0, 2.5))
    with pytest.raises(ValueError, match="step must not be zero"):
        arange(0, 5, 0)
    with pytest.raises(TypeError, match="stop must be a real scalar"):
        arange(tensor("float64", 1))


def test_arange_grad():
    check_grad(lambda a, s: arange(a, 5.05, s) ** 2, 0.3, 0.7)
    check_grad(lambda b: arange(0.2, b, 0.5) * 2.0, 3.1)  # stop only sets the length


# ------------------------------------------------------------------------------ tile
@pytest.mark.parametrize(
    ("dims", "reps"),
    [
        ((3,), 2),
        ((3,), (2,)),
        ((2, 3), (2, 1)),
        ((2, 3), (3,)),
        ((3,), (2, 2)),
        ((2, 1, 2), (1, 2, 3)),
        ((), (3,)),
    ],
)
def test_tile_matches_numpy(dims, reps):
    x = tensor("float64", len(dims))
    value = random_array(dims)
    out = tile(x, reps)
    expected = np.tile(value, reps)
    assert out.ndim == expected.ndim
    np.testing.assert_array_equal(function([x], out)(value), expected)


def test_tile_symbolic_reps_static_shape_and_grad():
    x = TensorType("float64", (2, 3))("x")
    assert tile(x, (2, 2)).type.shape == (4, 6)
    v = tensor("float64", 1)
    r = tensor("int64", 1, "r")
    out = tile(v, r, ndim=2)
    np.testing.assert_array_equal(
        function([v, r], out)(np.arange(3.0), [2, 2]), np.tile(np.arange(3.0), (2, 2))
    )
    with pytest.raises(ValueError, match="pass ndim="):
        tile(v, r)
    with pytest.raises(ValueError, match="ndim=1 is less than"):
        tile(tensor("float64", 2), (2, 2), ndim=1)
    check_grad(lambda x: tile(x, (2, 3)), random_array((2, 2)))


# ------------------------------------------------------------------------------ join, concatenate
@pytest.mark.parametrize(
    ("shapes", "axis"),
    [
        ([(2, 3), (4, 3)], 0),
        ([(2, 3), (2, 1), (2, 0)], 1),
        ([(2, 3), (2, 3)], -1),
        ([(1, 2, 3), (2, 2, 3)], 0),
        ([(5,), (2,)], 0),
    ],
)
@pytest.mark.parametrize(
    "dtypes", [("float64", "float64"), ("float32", "int32"), ("int8", "uint8")]
)
def test_join_matches_numpy(shapes, axis, dtypes):
    kinds = [dtypes[i % 2] for i in range(len(shapes))]
    xs = [tensor(d, len(s), f"x{i}") for i, (d, s) in enumerate(zip(kinds, shapes, strict=True))]
    values = [random_array(s, d) for d, s in zip(kinds, shapes, strict=True)]
    out = concatenate(xs, axis=axis)
    expected = np.concatenate(values, axis=axis)
    assert str(out.owner.op) == "Join"
    assert out.dtype == expected.dtype.name
    result = function(xs, out)(*values)
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(function(xs, join(axis, *xs))(*values), expected)
    check_infer_shape(xs, out, values)


def test_join_symbolic_axis():
    a, b = tensor("float64", 2, "a"), tensor("float64", 2, "b")
    axis = tensor("int32", 0, "axis")
    out = join(axis, a, b)
    assert out.type.shape == (None, None)
    f = function([axis, a, b], out)
    av, bv = random_array((2, 3)), random_array((2, 3))
    for k in (0, 1, -1):
        np.testing.assert_array_equal(f(k, av, bv), np.concatenate([av, bv], axis=k))
        check_infer_shape([axis, a, b], out, [k, av, bv])
    gx = grad((out * 2.0).sum(), a)
    np.testing.assert_array_equal(function([axis, a, b], gx)(1, av, bv), np.full((2, 3), 2.0))


def test_join_static_shapes_and_errors():
    a = TensorType("float64", (2, None))("a")
    b = TensorType("float64", (3, 4))("b")
    assert join(0, a, b).type.shape == (5, 4)
    assert join(1, a, TensorType("float64", (None, 4))("c")).type.shape == (2, None)
    with pytest.raises(ValueError, match=r"static lengths \[2, 3\] differ on axis 0"):
        join(1, a, b)
    with pytest.raises(TypeError, match="must have the same number of dimensions"):
        join(0, a, tensor("float64", 1))
    with pytest.raises(TypeError, match="cannot join scalars"):
        join(0, tensor("float64", 0), tensor("float64", 0, "y"))
    with pytest.raises(ValueError, match="axis 2 is out of range for tensors of 2 dimensions"):
        join(2, a, b)
    with pytest.raises(TypeError, match="forget the \\[\\]"):
        concatenate(a, b)
    assert join(0, a) is a
    x, y = tensor("float64", 2), tensor("float64", 2, "y")
    with pytest.raises(ValueError, match="along dimension 1"):
        function([x, y], join(0, x, y))(np.zeros((2, 3)), np.zeros((2, 4)))


@st.composite
def concat_cases(draw):
    ndim = draw(st.integers(1, 3))
    axis = draw(st.integers(-ndim, ndim - 1))
    base = [draw(st.integers(0, 3)) for _ in range(ndim)]
    shapes = []
    for _ in range(draw(st.integers(2, 4))):
        dims = list(base)
        dims[axis] = draw(st.integers(0, 3))
        shapes.append(dims)
    known = [[draw(st.booleans()) for _ in range(ndim)] for _ in shapes]
    return shapes, known, axis


@settings(max_examples=40, deadline=None)
@given(concat_cases())
def test_concatenate_static_shapes_hypothesis(case):
    shapes, known, axis = case
    xs = [
        TensorType("float64", [d if k else None for d, k in zip(s, ks, strict=True)])(f"x{i}")
        for i, (s, ks) in enumerate(zip(shapes, known, strict=True))
    ]
    out = concatenate(xs, axis=axis)
    values = [np.ones(s) for s in shapes]
    result = function(xs, out)(*values)
    a = axis % len(shapes[0])
    for d, length in enumerate(out.type.shape):
        entries = [s[d] for s, ks in zip(shapes, known, strict=True) if ks[d]]
        if d == a:
            want = sum(s[d] for s in shapes) if all(ks[d] for ks in known) else None
        else:
            want = entries[0] if entries else None
        assert length == want
        assert length is None or length == result.shape[d]


def test_join_grad():
    check_grad(lambda a, b: concatenate([a, b], axis=1), random_array((2, 3)), random_array((2, 1)))
    check_grad(
        lambda a, b, c: join(0, a, b, c),
        random_array((1, 2)),
        random_array((3, 2)),
        random_array((2, 2)),
    )
    a, i = tensor("float64", 1, "a"), tensor("int32", 1, "i")
    out = join(0, a, i)
    assert out.dtype == "float64"
    assert Join().grad(out.owner.inputs, [out])[2] is None


# ------------------------------------------------------------------------------ split
@pytest.mark.parametrize(
    ("dims", "sizes", "axis"),
    [((5,), [2, 3], 0), ((2, 6), [1, 0, 5], 1), ((4, 3), [4], 0), ((3, 4), [1, 3], -1)],
)
def test_split_matches_numpy(dims, sizes, axis):
    x = tensor("float32", len(dims))
    value = random_array(dims, "float32")
    outs = split(x, sizes, len(sizes), axis)
    assert len(outs) == len(sizes)
    assert str(outs[0].owner.op) == f"Split{{{len(sizes)}}}"
    results = function([x], outs)(value)
    expected = np.split(value, np.cumsum(sizes)[:-1], axis)
    for out, result, want in zip(outs, results, expected, strict=True):
        np.testing.assert_array_equal(result, want)
        assert out.type.shape[axis] == want.shape[axis]
        check_infer_shape([x], out, [value])


def test_split_symbolic_sizes_errors_and_views():
    x = tensor("float64", 1)
    s = tensor("int64", 1, "s")
    a, b = split(x, s, 2)
    assert a.type.shape == (None,)
    f = function([x, s], [a, b])
    ra, rb = f(np.arange(5.0), [1, 4])
    np.testing.assert_array_equal(rb, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"split sizes \[1, 3\] do not cut axis 0 of length 5"):
        f(np.arange(5.0), [1, 3])
    with pytest.raises(ValueError, match="do not sum to the length 5"):
        split(TensorType("float64", (5,))("y"), [1, 2], 2)
    with pytest.raises(ValueError, match="3 split sizes for 2 outputs"):
        split(x, [1, 1, 1], 2)
    assert Split(3).view_map == {0: [0], 1: [0], 2: [0]}
    value = np.arange(5.0)
    ra, _ = function([x], split(x, [2, 3], 2))(value)
    ra[0] = 50.0
    assert value[0] == 0.0


def test_split_grad():
    check_grad(lambda x: split(x, [1, 2], 2, axis=1)[1] * 3.0, random_array((2, 3)))
    x = tensor("float64", 2)
    a, b = split(x, [1, 2], 2, axis=1)
    g = grad((a * 2.0).sum() + b.sum(), x)
    np.testing.assert_array_equal(function([x], g)(np.zeros((2, 3))), [[2.0, 1.0, 1.0]] * 2)


# ------------------------------------------------------------------------------ stack, stack_nested
def test_stack_forms_match_numpy():
    a, b = tensor("float64", 0, "a"), tensor("float64", 0, "b")
    v, w = tensor("float32", 1, "v"), tensor("float32", 1, "w")
    vv, wv = random_array(3, "float32"), random_array(3, "float32")
    assert isinstance(stack([a, b]).owner.op, MakeVector)
    assert stack(a, b, 1.0).type.shape == (3,)
    np.testing.assert_array_equal(function([a, b], stack(a, b, 1.0))(2.0, 3.0), [2.0, 3.0, 1.0])
    for axis in (0, 1, -1):
        out = stack([v, w], axis=axis)
        np.testing.assert_array_equal(function([v, w], out)(vv, wv), np.stack([vv, wv], axis=axis))
        assert out.dtype == "float32"
    np.testing.assert_array_equal(function([v, w], stack([v, w], 1))(vv, wv), np.stack([vv, wv], 1))
    out = stack([a, tensor("int32", 0, "i")], axis=-1)
    assert out.dtype == "float64"
    with pytest.raises(TypeError, match="same number of dimensions"):
        stack([a, v])
    with pytest.raises(ValueError, match="nothing to stack"):
        stack([])


def test_stack_grad():
    check_grad(lambda a, b: stack([a, b]) * np.array([2.0, 3.0]), 0.5, -1.0)
    check_grad(lambda a, b: stack([a, b], axis=1), random_array(3), random_array(3))


def test_stack_nested_lists_of_variables():
    a, b = tensor("float32", 0, "a"), tensor("float32", 0, "b")
    out = as_tensor_variable([[a, 1.0], [2, b]])
    assert out.type == TensorType("float32", (2, 2))
    np.testing.assert_array_equal(function([a, b], out)(5.0, 6.0), [[5.0, 1.0], [2.0, 6.0]])
    b1 = shared(np.array([0.5]), name="b1")
    b2 = shared(np.array([1.5]), name="b2")
    pair = stack_nested([b1, b2])
    assert pair.type.shape == (2, None)  # shared values are not broadcastable
    np.testing.assert_array_equal(function([], pair)(), [[0.5], [1.5]])
    i = tensor("int32", 0, "i")
    assert stack_nested([i, 2]).dtype == "int32"
    assert stack_nested([i, 2.5]).dtype == "float64"
    with pytest.raises(ValueError, match="empty list"):
        stack_nested([a, []])


# ------------------------------------------------------------------------------ tensor_copy
def test_tensor_copy_values_memory_and_grad():
    x = tensor("float64", 2)
    out = tensor_copy(x)
    assert isinstance(out.owner.op, TensorCopy) and out.type == x.type
    value = random_array((2, 3))
    result = function([x], out)(value)
    np.testing.assert_array_equal(result, value)
    assert not np.shares_memory(result, value)
    named = x.copy(name="y")
    assert named.name == "y" and isinstance(named.owner.op, TensorCopy)
    check_infer_shape([x], out, [value])
    check_grad(lambda v: tensor_copy(v) * 2.0, random_array((2, 2)))


def test_specify_shape_of_alloc_keeps_static():
    out = specify_shape(alloc(0.0, tensor("int64", 0, "n"), 3), (4, None))
    assert out.type.shape == (4, 3)


@pytest.mark.parametrize(
    "build",
    [
        lambda x: alloc(x * x, 2, 4),
        lambda x: join(0, x * x, x),
        lambda x: tensor_copy(x * x),
        lambda x: stack([x[0] * x[1], x[2]]),
    ],
)
def test_r_op_matches_finite_differences(build):
    check_rop(build, random_array(4), random_array(4))
