"""Reductions (sum, prod, mean, var, std, max, min, argmax, argmin, all, any) against NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import DisconnectedInputError, GradientError, Rop, grad
from labsym.core.graph import io_toposort
from labsym.core.ops import math as m
from labsym.core.ops import reduce as R
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import array_maker, tensor

RNG = np.random.default_rng(1234)
random_array = array_maker(RNG, -5, 6)


def evaluate(build, value, mode=None, **kwargs):
    x = tensor(str(value.dtype), value.ndim)
    out = build(x, **kwargs)
    return out, function([x], out, mode=mode)(value)


AXES_BY_SHAPE = [
    ((5,), [None, 0, -1, (0,)]),
    ((1, 1), [None, 0, 1]),
    ((3, 4), [None, 0, 1, -1, (0, 1), (1, 0), ()]),
    ((1, 5), [0, -2, 1]),
    ((2, 3, 4), [None, 1, -1, (0, 2), (2, 0), [1, 2], np.array([0, 1])]),
]
CASES = [(shape, axis) for shape, axes in AXES_BY_SHAPE for axis in axes]


def _np_axis(axis):
    return tuple(int(a) for a in axis) if isinstance(axis, (list, np.ndarray)) else axis


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("shape", "axis"), CASES)
@pytest.mark.parametrize(
    ("name", "reference"),
    [("sum", np.sum), ("prod", np.prod), ("max", np.max), ("min", np.min), ("mean", np.mean)],
)
def test_float_reductions_match_numpy(name, reference, shape, axis, keepdims):
    if name in ("max", "min") and isinstance(axis, tuple) and not axis:
        pytest.skip("numpy's max needs at least one axis of an empty selection")
    value = random_array(shape, "float64")
    out, got = evaluate(getattr(R, name), value, axis=axis, keepdims=keepdims)
    want = reference(value, axis=_np_axis(axis), keepdims=keepdims)
    assert got.shape == want.shape
    assert out.type.ndim == want.ndim
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("shape", "axis"), CASES)
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_match_numpy(name, shape, axis, keepdims, ddof):
    value = random_array(shape, "float64")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # ddof=1 over one element: nan
        want = getattr(np, name)(value, axis=_np_axis(axis), keepdims=keepdims, ddof=ddof)
        # 0/0 (ddof=1 over one element): rewrites may fold x/x to 1 as Theano's did, so
        # compare the unrewritten graph there
        mode = "o0" if np.isnan(want).any() else None
        _, got = evaluate(getattr(R, name), value, mode, axis=axis, keepdims=keepdims, ddof=ddof)
        _, corrected = evaluate(
            getattr(R, name), value, mode, axis=axis, keepdims=keepdims, ddof=ddof, corrected=True
        )
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(corrected, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "uint8", "bool"])
@pytest.mark.parametrize(("name", "reference"), [("sum", np.sum), ("max", np.max)])
@pytest.mark.parametrize("axis", [None, 0, (1, 2)])
def test_sum_max_other_dtypes(name, reference, dtype, axis):
    value = random_array((3, 4, 2), dtype)
    out, got = evaluate(getattr(R, name), value, axis=axis)
    want = reference(value, axis=axis)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.dtype == out.dtype


@pytest.mark.parametrize(("name", "reference"), [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize(
    ("shape", "axis"), [((7,), None), ((3, 4), 0), ((3, 4), -1), ((3, 4), None), ((2, 3, 4), 1)]
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_arg_reductions(name, reference, shape, axis, keepdims):
    value = random_array(shape, "float64")
    out, got = evaluate(getattr(R, name), value, axis=axis, keepdims=keepdims)
    want = reference(value, axis=axis, keepdims=keepdims)
    assert got.dtype == np.int64 and out.dtype == "int64"
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_reduction_over_several_axes_searches_them_flattened(name):
    value = random_array((2, 3, 4), "float64")
    _, got = evaluate(getattr(R, name), value, axis=(0, 2))
    flat = value.transpose(1, 0, 2).reshape(3, 8)
    np.testing.assert_array_equal(got, getattr(np, name)(flat, axis=1))


def test_max_and_argmax():
    value = random_array((3, 5), "float64")
    x = tensor("float64", 2)
    top, where = R.max_and_argmax(x, axis=1)
    got_top, got_where = function([x], [top, where])(value)
    np.testing.assert_array_equal(got_top, value.max(axis=1))
    np.testing.assert_array_equal(got_where, value.argmax(axis=1))


@pytest.mark.parametrize(("name", "reference"), [("all", np.all), ("any", np.any)])
@pytest.mark.parametrize("dtype", ["bool", "int32", "float64"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
def test_logical_reductions(name, reference, dtype, axis):
    value = (RNG.random((4, 3)) > 0.6).astype(dtype)
    out, got = evaluate(getattr(R, name), value, axis=axis, keepdims=True)
    np.testing.assert_array_equal(got, reference(value, axis=axis, keepdims=True))
    assert got.dtype == np.bool_ and out.dtype == "bool"


def test_reductions_of_empty_axes():
    value = np.zeros((0, 3))
    np.testing.assert_array_equal(evaluate(R.sum, value, axis=0)[1], np.zeros(3))
    np.testing.assert_array_equal(evaluate(R.prod, value, axis=0)[1], np.ones(3))
    assert evaluate(R.sum, value, axis=1)[1].shape == (0,)
    with pytest.raises(ValueError, match="zero-size array"):
        evaluate(R.max, value, axis=0)


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(
    ("dtype", "sum_dtype", "mean_dtype"),
    [
        ("bool", "int64", "float64"),
        ("int8", "int64", "float64"),
        ("int32", "int64", "float64"),
        ("int64", "int64", "float64"),
        ("uint8", "uint64", "float64"),
        ("uint32", "uint64", "float64"),
        ("float16", "float16", "float16"),
        ("float32", "float32", "float32"),
        ("float64", "float64", "float64"),
    ],
)
def test_output_dtypes_follow_theano(dtype, sum_dtype, mean_dtype):
    x = tensor(dtype, 2)
    assert R.sum(x).dtype == sum_dtype
    assert R.prod(x, axis=0).dtype == sum_dtype
    assert R.mean(x, axis=1).dtype == mean_dtype
    assert R.max(x).dtype == dtype and R.min(x, axis=0).dtype == dtype
    assert R.argmax(x).dtype == "int64" and R.argmin(x, axis=1).dtype == "int64"
    assert R.all(x).dtype == "bool" and R.any(x, axis=0).dtype == "bool"
    value = random_array((3, 4), dtype)
    got = function([x], [R.sum(x), R.mean(x, axis=1)])(value)
    assert got[0].dtype == sum_dtype and got[1].dtype == mean_dtype
    np.testing.assert_allclose(got[1], value.mean(axis=1), rtol=1e-3)


def test_explicit_dtype_and_acc_dtype():
    x = tensor("int32", 1)
    value = np.array([2**30, 2**30, 2**30], dtype="int32")
    as_float = R.sum(x, dtype="float32")
    assert as_float.dtype == "float32"
    assert str(as_float.owner.op) == "Sum{acc_dtype=int64}"
    np.testing.assert_allclose(function([x], as_float)(value), 3 * 2.0**30)
    in_float = R.sum(x, acc_dtype="float64")
    assert in_float.dtype == "int64"
    assert function([x], in_float)(value) == 3 * 2**30
    f = tensor("float32", 1)
    assert R.mean(f, dtype="float64").dtype == "float64"
    with pytest.raises(TypeError, match="input dtype float32 and acc_dtype int32.*precision"):
        R.sum(f, acc_dtype="int32")


def test_float32_mean_stays_float32():
    x = tensor("float32", 2)
    value = random_array((5, 3), "float32")
    got = function([x], R.mean(x, axis=0))(value)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, value.mean(axis=0), rtol=1e-6)
    assert R.var(x, axis=0, ddof=1).dtype == "float32" and R.std(x).dtype == "float32"


# ------------------------------------------------------------------------------ shapes
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_sum_static_shape_and_axis_rules(data):
    ndim = data.draw(st.integers(0, 4), label="ndim")
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(ndim))
    static = tuple(data.draw(st.sampled_from([None, n])) for n in shape)
    keepdims = data.draw(st.booleans(), label="keepdims")
    axes = data.draw(st.lists(st.integers(0, ndim - 1), unique=True) if ndim else st.just([]))
    signs = [data.draw(st.booleans()) for _ in axes]
    axis = [a - ndim if neg else a for a, neg in zip(axes, signs, strict=True)]
    axis = None if data.draw(st.booleans()) else (axis[0] if len(axis) == 1 else tuple(axis))
    x = TensorType("float64", static)("x")
    out = R.sum(x, axis=axis, keepdims=keepdims)
    value = RNG.normal(size=shape)
    want = np.sum(value, axis=axis, keepdims=keepdims)
    reduced = set(range(ndim)) if axis is None else {a % ndim for a in np.atleast_1d(axis)}
    expected = (
        [1 if i in reduced else d for i, d in enumerate(static)]
        if keepdims
        else [d for i, d in enumerate(static) if i not in reduced]
    )
    assert out.type.shape == tuple(expected)
    got = function([x], out)(value)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want)


def test_infer_shape_drops_the_reduced_axes():
    x = tensor("float64", 3)
    for out, want in [
        (R.sum(x, axis=(0, 2)), [(4,)]),
        (R.max(x), [()]),
        (R.argmax(x, axis=1), [(3, 5)]),
        (R.ReductionSize((1,))(x), [()]),
    ]:
        assert out.owner.op.infer_shape(None, out.owner, [(3, 4, 5)]) == want


def test_mean_divides_by_a_static_count_when_the_shape_is_known():
    known = TensorType("float64", (3, 4))("x")
    unknown = tensor("float64", 2)
    known_ops = {type(n.op) for n in io_toposort([known], [R.mean(known, axis=0)])}
    unknown_mean = R.mean(unknown, axis=0)
    unknown_ops = {type(n.op) for n in io_toposort([unknown], [unknown_mean])}
    assert R.ReductionSize not in known_ops
    assert R.ReductionSize in unknown_ops
    value = random_array((3, 4), "float64")
    np.testing.assert_allclose(function([unknown], unknown_mean)(value), value.mean(axis=0))


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda x: R.sum(x, axis=2),
            ValueError,
            "sum: axis 2 is out of range for an input with 2 dimensions",
        ),
        (
            lambda x: R.mean(x, axis=-3),
            ValueError,
            "mean: axis -3 is out of range for an input with 2",
        ),
        (lambda x: R.max(x, axis=(0, 5)), ValueError, "max: axis 5 is out of range"),
        (lambda x: R.sum(x, axis=(1, -1)), ValueError, "sum: repeated axis in \\(1, -1\\)"),
        (lambda x: R.prod(x, axis=1.5), TypeError, "prod: axis must be None, an int or a sequence"),
        (lambda x: R.argmax(x, axis=()), ValueError, "argmax: axis must name at least one axis"),
        (lambda x: R.Sum((3,))(x), ValueError, "axis \\(3,\\) out of range for an input of 2 dims"),
    ],
)
def test_bad_axis_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(tensor("float64", 2))


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "build",
    [
        lambda x: R.sum(x),
        lambda x: R.sum(x, axis=0),
        lambda x: R.sum(x, axis=(0, 2), keepdims=True),
        lambda x: R.prod(x, axis=-1),
        lambda x: R.prod(x),
        lambda x: R.mean(x, axis=1, keepdims=True),
        lambda x: R.var(x, axis=(0, 1)),
        lambda x: R.var(x, axis=2, ddof=1, corrected=True),
        lambda x: R.std(x, axis=0),
        lambda x: R.max(x, axis=1),
        lambda x: R.min(x, axis=(0, 2), keepdims=True),
        lambda x: R.max(x),
    ],
)
def test_verify_grad(build):
    # distinct values away from zero: max/min have one winner and prod no zero
    value = RNG.permutation(np.linspace(0.5, 2.0, 24)).reshape(2, 3, 4)
    verify_grad(build, [value], rng=np.random.default_rng(0))


def test_verify_grad_float32():
    value = RNG.uniform(0.5, 1.5, size=(3, 4)).astype("float32")
    verify_grad(
        lambda x: R.prod(x, axis=0) + R.mean(x, axis=0), [value], rng=np.random.default_rng(0)
    )


def test_prod_grad_with_zeros():
    value = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    x = tensor("float64", 2)
    g = function([x], grad(R.prod(x, axis=1).sum(), x))(value)
    # one zero: the product of the others at the zero; two zeros: nothing
    np.testing.assert_allclose(g, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    verify_grad(lambda x: R.prod(x, axis=1), [value], rng=np.random.default_rng(0))
    verify_grad(lambda x: R.prod(x, axis=0), [value], rng=np.random.default_rng(1))


def _prod_of_others(value: np.ndarray, axis) -> np.ndarray:
    """d sum(prod(x, axis)) / dx: at each entry, the product of the other entries it meets."""
    axes = range(value.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    out = np.empty_like(value)
    for idx in np.ndindex(*value.shape):
        group = tuple(slice(None) if d in axes else idx[d] for d in range(value.ndim))
        members = value[group].copy()
        members[tuple(idx[d] for d in range(value.ndim) if d in axes)] = 1.0
        out[idx] = np.prod(members)
    return out


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("zeros", [[], [(0, 1, 1)], [(0, 1, 1), (0, 2, 1)], [(1, 0, 0), (0, 2, 1)]])
def test_prod_grad_with_one_and_two_zeros_is_the_product_of_the_others(axis, zeros):
    value = np.arange(1.0, 19.0).reshape(2, 3, 3) / 4
    for index in zeros:
        value[index] = 0.0
    x = tensor("float64", 3)
    got = function([x], grad(R.prod(x, axis=axis).sum(), x))(value)
    np.testing.assert_allclose(got, _prod_of_others(value, axis), rtol=1e-12)
    assert np.isfinite(got).all()
    verify_grad(lambda x: R.prod(x, axis=axis), [value], rng=np.random.default_rng(2))


def test_max_grad_goes_to_every_tie():
    x = tensor("float64", 1)
    g = function([x], grad(R.max(x), x))(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 0.0])


def test_sum_grad_of_float32_with_float64_accumulation_keeps_float32():
    x = tensor("float32", 2)
    g = grad(R.sum(x, dtype="float64"), x)
    assert g.dtype == "float32"
    np.testing.assert_array_equal(function([x], g)(np.ones((2, 3), "float32")), np.ones((2, 3)))


@pytest.mark.parametrize("build", [R.argmax, R.argmin, R.all, R.any])
def test_discrete_reductions_are_disconnected(build):
    x = tensor("float64", 2)
    with pytest.raises(DisconnectedInputError):
        grad(m.cast(build(x, axis=0), "float64").sum(), x)


def test_sum_of_ints_has_no_gradient_wrt_the_int_input():
    x = tensor("int32", 1)
    assert R.Sum(None)(x).owner.op.grad([x], [tensor("int64", 0)]) == [None]


def test_second_derivative_of_prod_is_refused():
    x = tensor("float64", 1)
    g = grad(R.prod(x), x)
    with pytest.raises(GradientError, match="ProdWithoutZeros"):
        grad(g.sum(), x)


def test_sum_rop():
    x, v = tensor("float64", 2), tensor("float64", 2, "v")
    jvp = Rop(R.sum(x, axis=1), x, v)
    xv, vv = random_array((3, 4), "float64"), random_array((3, 4), "float64")
    got = function([x, v], jvp, on_unused_input="ignore")(xv, vv)
    np.testing.assert_allclose(got, vv.sum(axis=1))


# ------------------------------------------------------------------------------ methods, names
def test_tensor_variable_methods():
    x = tensor("float64", 2)
    value = random_array((3, 4), "float64")
    # each method is called with the same arguments on the variable and on the ndarray
    calls = [
        ("sum", {"axis": 0}),
        ("prod", {"axis": 1}),
        ("mean", {}),
        ("var", {"axis": 0, "ddof": 1}),
        ("std", {"keepdims": True}),
        ("max", {"axis": -1, "keepdims": True}),
        ("min", {}),
        ("argmax", {"axis": 1}),
        ("argmin", {}),
        ("all", {"axis": 0}),
        ("any", {}),
    ]
    outs = [getattr(x, name)(**kwargs) for name, kwargs in calls] + [x.size]
    wants = [getattr(value, name)(**kwargs) for name, kwargs in calls] + [12]
    for got, want in zip(function([x], outs)(value), wants, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_op_names_and_equality():
    x = tensor("float64", 2)
    assert str(R.sum(x, axis=0).owner.op) == "Sum{axis=[0], acc_dtype=float64}"  # Theano's
    assert str(R.sum(x).owner.op) == "Sum{acc_dtype=float64}"
    assert str(R.sum(x, axis=(0, 1)).owner.op) == "Sum{acc_dtype=float64}"
    assert str(R.max(x, axis=-1).owner.op) == "Max{axis=(1,)}"
    assert str(R.argmax(x).owner.op) == "Argmax"
    assert str(R.prod(tensor("int8", 1)).owner.op) == "Prod{acc_dtype=int64}"
    assert R.sum(x, axis=0).owner.op == R.sum(tensor("float64", 2), axis=-2).owner.op
    assert R.sum(x, axis=0).owner.op != R.sum(x, axis=1).owner.op
    assert R.all(x).owner.op != R.any(x).owner.op


@pytest.mark.parametrize("build", [R.sum, R.prod, R.max, R.min, R.all, R.any, R.argmax, R.argmin])
def test_perform_matches_numpy_callable(build):
    x = tensor("float32", 3)
    node = build(x, axis=(0, 2)).owner
    value = random_array((2, 3, 4), "float32")
    storage = [[None]]
    node.op.perform(node, [value], storage)
    assert isinstance(storage[0][0], np.ndarray)
    assert storage[0][0].dtype == node.outputs[0].dtype
    np.testing.assert_array_equal(storage[0][0], node.op.numpy_callable(node)(value))
