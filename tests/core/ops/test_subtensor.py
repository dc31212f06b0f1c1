"""Indexing ops: values and static shapes against NumPy, inc/set, gradients, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    IncSubtensor,
    Subtensor,
    getitem,
    inc_subtensor,
    set_subtensor,
    take,
)
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad

RNG = np.random.default_rng(7)
FAST = settings(max_examples=60, deadline=None)


def tensor(shape, dtype="float64", name="x"):
    return TensorType(dtype, shape)(name)


DTYPES = st.sampled_from(["float64", "float32", "int32", "bool"])


def arange(shape, dtype="float64"):
    return (np.arange(int(np.prod(shape))) + 1).reshape(shape).astype(dtype)


# ---------------------------------------------------------------------- index strategies
@st.composite
def indexed_arrays(draw, advanced: bool, newaxis: bool = True):
    """(shape, index tuple) with every int and array in bounds for the axis it indexes."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(
        draw(st.lists(st.integers(0 if not advanced else 1, 4), min_size=ndim, max_size=ndim))
    )
    kinds, consumed = [], 0
    for _ in range(draw(st.integers(0, ndim + 2))):
        options = (
            ["int", "slice"]
            + ["new"] * newaxis
            + ["ellipsis"] * ("ellipsis" not in [k for k, _ in kinds])
        )
        if advanced and "mask" not in [k for k, _ in kinds]:
            options += ["array", "array"] if "array" in [k for k, _ in kinds] else ["array", "mask"]
        kind = draw(st.sampled_from(options))
        n = 0 if kind in ("new", "ellipsis") else 1
        if kind == "mask" and consumed < ndim:
            n = draw(st.integers(1, ndim - consumed))
        if consumed + n <= ndim:
            kinds.append((kind, n))
            consumed += n
    if advanced and not any(k in ("array", "mask") for k, _ in kinds):
        assume(consumed < ndim)
        kinds.append(("array", 1))
    split = [k for k, _ in kinds].index("ellipsis") if ("ellipsis", 0) in kinds else len(kinds)
    base = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    items, axis = [], 0
    for i, (kind, n) in enumerate(kinds):
        if i > split:
            axis = ndim - sum(m for _, m in kinds[i:])
        d = shape[axis] if axis < ndim else 0
        if kind == "int" and d > 0:
            items.append(draw(st.integers(-d, d - 1)))
        elif kind in ("int", "slice"):
            bound = st.none() | st.integers(-6, 6)
            step = st.sampled_from([None, 1, 2, 3, -1, -2])
            items.append(slice(draw(bound), draw(bound), draw(step)))
        elif kind == "array":
            ishape = tuple(b if draw(st.booleans()) else 1 for b in base)
            items.append(draw(hnp.arrays(np.int64, ishape, elements=st.integers(-d, d - 1))))
        elif kind == "mask":
            items.append(draw(hnp.arrays(np.bool_, shape[axis : axis + n])))
        else:
            items.append(None if kind == "new" else Ellipsis)
        axis += n
    return shape, tuple(items)


def check_against_numpy(shape, index, static: bool, dtype: str = "float64"):
    xv = arange(shape, dtype) if dtype != "bool" else arange(shape) % 3 == 0
    expected = xv[index]
    x = tensor(shape if static else (None,) * len(shape), dtype)
    out = x[index]
    got = function([x], out)(xv)
    assert got.shape == expected.shape and got.dtype == xv.dtype
    np.testing.assert_array_equal(got, expected)
    if static:
        assert out.type.shape == expected.shape  # constants on static lengths: exact
    else:
        assert out.ndim == expected.ndim
        assert all(s is None or s == e for s, e in zip(out.type.shape, expected.shape, strict=True))


@FAST
@given(indexed_arrays(advanced=False), st.booleans(), DTYPES)
def test_basic_indexing_matches_numpy(case, static, dtype):
    check_against_numpy(*case, static, dtype)


@FAST
@given(indexed_arrays(advanced=True), st.booleans(), DTYPES)
def test_advanced_indexing_matches_numpy(case, static, dtype):
    shape, index = case
    try:
        arange(shape)[index]
    except IndexError:  # e.g. an empty mask beside an index array: NumPy itself refuses
        assume(False)
    check_against_numpy(shape, index, static, dtype)


@FAST
@given(indexed_arrays(advanced=False, newaxis=False) | indexed_arrays(advanced=True), st.booleans())
def test_set_and_inc_subtensor_match_numpy(case, set_):
    shape, index = case
    assume(index != ())  # x[()] is x itself, not an indexing expression
    xv = arange(shape)
    try:
        sub_shape = xv[index].shape
    except IndexError:
        assume(False)
    yv = RNG.standard_normal(sub_shape)
    x, y = tensor((None,) * len(shape)), tensor((None,) * len(sub_shape), name="y")
    out = set_subtensor(x[index], y) if set_ else inc_subtensor(x[index], y)
    expected = xv.copy()
    if set_:
        expected[index] = yv
    else:
        np.add.at(expected, index, yv)
    before = xv.copy()
    np.testing.assert_allclose(function([x, y], out)(xv, yv), expected)
    np.testing.assert_array_equal(xv, before)  # the input is never modified


# ---------------------------------------------------------------------- ops chosen, names, shapes
def test_op_choice_and_theano_names():
    x = C["dmatrix"]("x")
    i = C["lvector"]("i")
    assert str(x[1].owner.op) == "Subtensor{int64}"
    assert str(x[1:3].owner.op) == "Subtensor{int64:int64:}"
    assert str(x[:, 1].owner.op) == "Subtensor{::, int64}"
    assert str(x[::-1].owner.op) == "Subtensor{::int64}"
    assert (
        isinstance(x[i].owner.op, AdvancedSubtensor1) and str(x[i].owner.op) == "AdvancedSubtensor1"
    )
    assert isinstance(x[i, :].owner.op, AdvancedSubtensor1)
    assert str(x[:, i].owner.op) == "AdvancedSubtensor{::, int64[:]}"
    assert str(x[x > 0].owner.op) == "AdvancedSubtensor{bool[:,:]}"
    assert str(inc_subtensor(x[0], 1.0).owner.op) == "IncSubtensor{Inc;int64}"
    assert str(set_subtensor(x[1:3], 1.0).owner.op) == "IncSubtensor{Set;int64:int64:}"
    assert str(inc_subtensor(x[i], 1.0).owner.op) == "AdvancedIncSubtensor1{no_inplace,inc}"
    assert str(set_subtensor(x[i], 1.0).owner.op) == "AdvancedIncSubtensor1{no_inplace,set}"
    assert str(set_subtensor(x[:, i], 1.0).owner.op) == "AdvancedIncSubtensor{Set;::, int64[:]}"
    assert str(x[None, 0].owner.op) == "Subtensor{None, int64}"
    assert x[()] is x and getitem(x, 0).owner.op == x[0].owner.op
    assert isinstance(x[[0, 1], [1, 0]].owner.op, AdvancedSubtensor)


def test_ops_built_directly_theano_style():
    x = C["dmatrix"]("x")
    i = C["lscalar"]("i")
    xv = arange((4, 5))
    outs = [
        Subtensor([slice("int64", "int64", None)])(x, 1, 3),
        Subtensor(["int64", slice(None, None, "int64")])(x, i, -1),
        AdvancedSubtensor1()(x, [3, 3]),
        AdvancedSubtensor([slice(None), "int64[:]"])(x, np.array([4, 0])),
        IncSubtensor(["int64"], set_instead_of_inc=True)(x, 7.0, 2),
        AdvancedIncSubtensor1()(x, 1.0, [0, 0]),
    ]
    got = function([x, i], outs)(xv, 2)
    want_set, want_inc = xv.copy(), xv.copy()
    want_set[2] = 7
    want_inc[0] += 2
    wants = [xv[1:3], xv[2, ::-1], xv[[3, 3]], xv[:, [4, 0]], want_set, want_inc]
    for g, w in zip(got, wants, strict=True):
        np.testing.assert_array_equal(g, w)


def test_ops_compare_and_hash_by_idx_list():
    a = Subtensor([slice("int64", None, None), "int64"])
    b = Subtensor((slice("int64", None, None), "int64"))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Subtensor([slice(None, "int64", None), "int64"])
    assert IncSubtensor(["int64"]) != IncSubtensor(["int64"], True)
    assert hash(AdvancedIncSubtensor([None, "int64[:]"], True)) == hash(
        AdvancedIncSubtensor([None, "int64[:]"], True)
    )
    assert AdvancedIncSubtensor1() == AdvancedIncSubtensor1() != AdvancedIncSubtensor1(True)


def test_static_shapes():
    x = tensor((5, None, 3))
    assert x[1:4].type.shape == (3, None, 3)
    assert x[0].type.shape == (None, 3)
    assert x[::2, :, -1].type.shape == (3, None)
    assert x[:, 0:1].type.shape == (5, None, 3)  # 0:1 on an unknown length: 0 or 1
    assert x[:, ::-1].type.shape == (5, None, 3)
    assert x[None, ..., None].type.shape == (1, 5, None, 3, 1)
    assert x[[0, 1, 2]].type.shape == (3, None, 3)
    assert x[:, :, [[0], [1]]].type.shape == (5, None, 2, 1)
    assert x[[0, 1], :, [1, 2]].type.shape == (2, None)  # separated arrays go first
    row = tensor((1, None))
    assert row[:].type.shape == (1, None) and row[0].type.shape == (None,)
    i = C["lscalar"]("i")
    assert x[i:].type.shape == (None, None, 3)
    mask = C["matrix"]("m", dtype="bool")
    assert tensor((4, 2))[mask].type.shape == (None,)
    assert tensor((4, 2))[np.array([[True, False]] * 4)].type.shape == (4,)


def test_symbolic_scalar_indices_and_bounds():
    x = C["dmatrix"]("x")
    i, j, k = C["lscalars"]("i", "j", "k")
    f = function([x, i, j, k], x[i, j:k:-1])
    xv = arange((4, 6))
    for iv, jv, kv in [(0, 5, 1), (-1, -1, -7), (2, 10, -10), (3, 0, 4)]:
        np.testing.assert_array_equal(f(xv, iv, jv, kv), xv[iv, jv:kv:-1])
    g = function([x, i], x[i])
    with pytest.raises(IndexError):
        g(xv, 4)
    small = C["iscalar"]("s")
    np.testing.assert_array_equal(function([x, small], x[:, small])(xv, -2), xv[:, -2])


def test_symbolic_index_arrays_and_masks():
    x = C["dmatrix"]("x")
    iv, im = C["lvector"]("iv"), C["imatrix"]("im")
    xv = RNG.standard_normal((4, 5))
    f = function([x, iv, im], [x[iv], x[im], x[:, iv], x[iv, iv], x[im, 0], x[x > 0]])
    a, b = np.array([3, 0, 3, -1]), np.array([[1, 2], [0, 3]], dtype="int32")
    expected = [xv[a], xv[b], xv[:, a], xv[a, a], xv[b, 0], xv[xv > 0]]
    for got, want in zip(f(xv, a, b), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    m = C["vector"]("m", dtype="bool")
    np.testing.assert_array_equal(function([x, m], x[m, 1:])(xv, a > 0), xv[a > 0, 1:])


def test_x_shape_index():
    x = C["dtensor3"]("x")
    f = function([x], [x.shape[0], x.shape[-1], x.shape[1:]])
    got = f(np.zeros((2, 3, 4)))
    assert int(got[0]) == 2 and int(got[1]) == 4 and list(got[2]) == [3, 4]


def test_take_matches_numpy():
    a = C["dmatrix"]("a")
    av = arange((3, 4))
    idx = np.array([[2, 0], [1, -1]])
    cases = [(idx, None), ([2, 0, 2], 0), ([3, 1], 1), (1, -1), (idx, 1), (np.int64(5), None)]
    outs = [take(a, i, axis=ax) for i, ax in cases]
    for got, (i, ax) in zip(function([a], outs)(av), cases, strict=True):
        np.testing.assert_array_equal(got, np.take(av, i, axis=ax))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        take(a, [0], axis=2)


# ---------------------------------------------------------------------- inc / set semantics
def test_repeated_indices_accumulate_on_inc_and_last_wins_on_set():
    w = C["dmatrix"]("w")
    i = C["lvector"]("i")
    wv, iv = np.zeros((3, 2)), np.array([0, 2, 0, 0])
    rows = np.arange(8.0).reshape(4, 2)
    f = function(
        [w, i], [inc_subtensor(w[i], rows), set_subtensor(w[i], rows), inc_subtensor(w[i, 1], 1.0)]
    )
    inc, set_, inc_col = f(wv, iv)
    np.testing.assert_array_equal(inc, [[0 + 4 + 6, 1 + 5 + 7], [0, 0], [2, 3]])
    np.testing.assert_array_equal(set_, [[6, 7], [0, 0], [2, 3]])
    np.testing.assert_array_equal(inc_col, [[0, 3], [0, 0], [0, 1]])


def test_value_broadcasts_to_the_subtensor():
    x = C["dmatrix"]("x")
    v, r = C["dvector"]("v"), C["drow"]("r")
    xv = arange((3, 4))
    f = function(
        [x, v, r],
        [
            set_subtensor(x[1:], v),
            inc_subtensor(x[:, [0, 2]], r[:, :2]),
            set_subtensor(x[x > 5], 0),
        ],
    )
    vv, rv = np.arange(4.0), np.array([[10.0, 20.0, 30.0]])
    a, b, c = f(xv, vv, rv)
    want_a = xv.copy()
    want_a[1:] = vv
    want_b = xv.copy()
    want_b[:, [0, 2]] += rv[:, :2]
    np.testing.assert_array_equal(a, want_a)
    np.testing.assert_array_equal(b, want_b)
    np.testing.assert_array_equal(c, np.where(xv > 5, 0, xv))


def test_shared_variable_untouched_and_outputs_do_not_alias():
    value = arange((3, 3))
    s = shared(value.copy(), name="s")
    f = function([], [set_subtensor(s[1:, 0], 0.0), inc_subtensor(s[[0, 0]], 1.0), s[1:]])
    first, second, view = f()
    np.testing.assert_array_equal(s.get_value(), value)
    assert first[1, 0] == 0 and second[0, 0] == value[0, 0] + 2
    view[...] = -1  # a Subtensor output is a view inside the graph, but returned as a copy
    np.testing.assert_array_equal(s.get_value(), value)


def test_int_and_float32_dtypes():
    xi = C["imatrix"]("xi")
    xv = arange((3, 4), "int32")
    out = inc_subtensor(xi[1, ::2], 5)
    assert out.dtype == "int32"
    want = xv.copy()
    want[1, ::2] += 5
    np.testing.assert_array_equal(function([xi], out)(xv), want)
    xf = C["fmatrix"]("xf")
    g = grad(xf[[0, 0], 1].sum(), xf)
    assert g.dtype == "float32"
    np.testing.assert_array_equal(function([xf], g)(np.zeros((2, 2), "float32")), [[0, 2], [0, 0]])


def test_perform_stores_arrays_and_subtensor_is_a_view():
    x = C["dmatrix"]("x")
    xv = arange((2, 3))
    node = x[1, 2].owner
    storage = [[None]]
    node.op.perform(node, [xv, *[v.data for v in node.inputs[1:]]], storage)
    assert type(storage[0][0]) is np.ndarray and storage[0][0].shape == () and storage[0][0] == 6
    node = x[:, 1:].owner
    fast = node.op.numpy_callable(node)
    assert np.shares_memory(fast(xv, *[v.data for v in node.inputs[1:]]), xv)
    assert Subtensor.view_map == {0: [0]} and not IncSubtensor(["int64"]).view_map


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize(
    "index",
    [1, (slice(1, None), 0), (slice(None, None, -2), slice(1, 3)), (Ellipsis, None, -1)],
    ids=["int", "slice-int", "neg-step", "ellipsis-new"],
)
def test_subtensor_grad(index):
    verify_grad(lambda x: x[index], [RNG.standard_normal((4, 3))], rng=RNG)


@pytest.mark.parametrize(
    "index",
    [[0, 2, 0], (slice(None), [1, 1]), ([0, 3], [2, 0]), (np.array([[True, False, True]] * 4),)],
    ids=["advanced1-repeats", "column-array", "pairs", "mask"],
)
def test_advanced_subtensor_grad(index):
    verify_grad(lambda x: x[index], [RNG.standard_normal((4, 3))], rng=RNG)


def test_symbolic_mask_grad():
    verify_grad(lambda x: x[x > 0] ** 2, [RNG.standard_normal((3, 4))], rng=RNG)
    x = C["dmatrix"]("x")
    xv = RNG.standard_normal((3, 4))
    g = function([x], grad((x[x > 0] ** 2).sum(), x))(xv)
    np.testing.assert_allclose(g, np.where(xv > 0, 2 * xv, 0))


def test_advanced_subtensor1_grad_counts_repeats():
    w, i = C["dmatrix"]("w"), C["lvector"]("i")
    g = grad(w[i].sum(), w)
    assert isinstance(g.owner.op, AdvancedIncSubtensor1)
    got = function([w, i], g)(np.zeros((4, 2)), np.array([0, 3, 0, 0]))
    np.testing.assert_array_equal(
        got, np.repeat(np.bincount([0, 3, 0, 0], minlength=4)[:, None], 2, 1)
    )


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
@pytest.mark.parametrize(
    "index, y_shape",
    [
        ((slice(1, 3),), (2, 3)),
        ((slice(1, 3),), (3,)),
        ((0, slice(None, None, -1)), ()),
        (([0, 2, 1],), (3, 3)),
        ((slice(None), [0, 2]), (4, 1)),
        (([1, 2], [0, 0]), (2,)),
    ],
    ids=["slice", "slice-bcast", "int-scalar", "adv1", "adv-col-bcast", "adv-pairs"],
)
def test_inc_and_set_subtensor_grads(index, y_shape, set_):
    def fn(x, y):
        if y_shape == (4, 1):
            y = y.dimshuffle(0, "x")
        sub = x[index]
        return set_subtensor(sub, y) if set_ else inc_subtensor(sub, y)

    y0 = RNG.standard_normal((4,) if y_shape == (4, 1) else y_shape)
    verify_grad(fn, [RNG.standard_normal((4, 3)), y0], rng=RNG)


@pytest.mark.parametrize("index", [[0, 2, 0], ([1, 1, 0], [2, 2, 2])], ids=["adv1", "adv"])
def test_inc_with_repeated_indices_grad(index):
    verify_grad(
        lambda x, y: inc_subtensor(x[index], y),
        [RNG.standard_normal((4, 3)), RNG.standard_normal(np.zeros((4, 3))[index].shape)],
        rng=RNG,
    )


def test_rop_of_subtensor_and_inc():
    x, v = C["dmatrix"]("x"), C["dmatrix"]("v")
    y, w = C["dvector"]("y"), C["dvector"]("w")
    xv, vv, wv = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    outs = [
        Rop(x[1:, [0, 2]], x, v),
        Rop(x[[2, 0]], x, v),
        Rop(set_subtensor(x[0], y), [x, y], [v, w]),
    ]
    got = function([x, v, y, w], outs, on_unused_input="ignore")(xv, vv, RNG.standard_normal(3), wv)
    want_set = vv.copy()
    want_set[0] = wv
    for g, want in zip(got, [vv[1:, [0, 2]], vv[[2, 0]], want_set], strict=True):
        np.testing.assert_allclose(g, want)


# ---------------------------------------------------------------------- infer_shape
def evaluate_lengths(inferred, inputs, values):
    """Inferred lengths (ints or symbolic scalars) evaluated at the given input values."""
    symbolic = [d for d in inferred if not isinstance(d, (int, np.integer))]
    results = iter(
        function(inputs, symbolic, on_unused_input="ignore")(*values) if symbolic else []
    )
    return tuple(
        int(d) if isinstance(d, (int, np.integer)) else int(next(results)) for d in inferred
    )


@FAST
@given(indexed_arrays(advanced=False) | indexed_arrays(advanced=True))
def test_infer_shape_matches_runtime_shape(case):
    shape, index = case
    xv = arange(shape)
    try:
        xv[index]
    except IndexError:
        assume(False)
    x = tensor((None,) * len(shape))
    node = x[index].owner
    assume(node is not None)  # x[()] is x
    lengths = [C["lscalar"](f"n{a}") for a in range(len(shape))]
    shapes = [tuple(lengths)] + [tuple(v.type.shape) for v in node.inputs[1:]]
    inferred = node.op.infer_shape(None, node, shapes)[0]
    assert evaluate_lengths(inferred, lengths, shape) == xv[index].shape


def test_infer_shape_symbolic_slice_bounds():
    x = C["dtensor3"]("x")
    i, j, k = C["lscalars"]("i", "j", "k")
    n0, n1, n2 = C["lscalars"]("n0", "n1", "n2")
    out = x[i:j:k, j:, ::k]
    node = out.owner
    inferred = node.op.infer_shape(None, node, [(n0, n1, n2)] + [()] * (len(node.inputs) - 1))[0]
    for sizes in [(5, 6, 7), (0, 3, 1), (9, 2, 4)]:
        xv = np.zeros(sizes)
        for iv, jv, kv in [(1, 4, 1), (-1, -5, -1), (6, -9, 2), (-2, 2, -3), (0, 100, 3)]:
            got = evaluate_lengths(inferred, [n0, n1, n2, i, j, k], (*sizes, iv, jv, kv))
            assert got == xv[iv:jv:kv, jv:, ::kv].shape


def test_infer_shape_of_masks_and_broadcast_arrays():
    x = C["dmatrix"]("x")
    a, b = C["lvector"]("a"), C["lmatrix"]("b")
    n0, n1, la, lb0, lb1 = C["lscalars"](5)
    for out, shapes in [(x[x > 0], [(n0, n1), (n0, n1)]), (x[a, b], [(n0, n1), (la,), (lb0, lb1)])]:
        node = out.owner
        inferred = node.op.infer_shape(None, node, shapes)[0]
        xv, av, bv = RNG.standard_normal((3, 4)), np.array([0, 2, 1]), np.array([[1], [3]])
        want = xv[xv > 0].shape if out.ndim == 1 else xv[av, bv].shape
        inputs = [x, a, b, n0, n1, la, lb0, lb1]
        assert evaluate_lengths(inferred, inputs, (xv, av, bv, 3, 4, 3, 2, 1)) == want


# ---------------------------------------------------------------------- errors
def test_index_errors_are_clear():
    x = C["dmatrix"]("x")
    with pytest.raises(IndexError, match=r"2-dimensional, but 3 were indexed"):
        x[0, 1, 2]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(TypeError, match=r"index 1.5 is a float"):
        x[1.5]
    with pytest.raises(TypeError, match="dtype float64; indices must be integers"):
        x[C["dscalar"]("f")]
    with pytest.raises(TypeError, match="slice bounds must be integer scalars"):
        x[C["lvector"]("v") :]
    with pytest.raises(TypeError, match="dtype float64"):
        x[[0.5, 1.0]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        tensor((2, 3))[0, 3]
    with pytest.raises(IndexError, match="boolean index did not match"):
        tensor((2, 3))[np.ones((2, 2), bool)]
    with pytest.raises(IndexError, match="could not be broadcast together"):
        tensor((5, 5))[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError):
        function([x], x[[0, 7]])(np.zeros((2, 2)))


def test_op_construction_errors():
    x = C["dmatrix"]("x")
    with pytest.raises(TypeError, match="invalid idx_list entry"):
        Subtensor(["int64[:]"])
    with pytest.raises(TypeError, match="needs 2 index inputs, got 1"):
        Subtensor(["int64", "int64"])(x, 1)
    with pytest.raises(TypeError, match="index input 0 .* expects int64"):
        Subtensor(["int64"])(x, C["iscalar"]("i"))
    with pytest.raises(TypeError, match="integer vector"):
        AdvancedSubtensor1()(x, [[0]])
    with pytest.raises(TypeError, match="cannot index into a scalar"):
        AdvancedSubtensor1()(C["dscalar"](), [0])
    with pytest.raises(TypeError, match="indices must be integers"):
        take(x, np.array([True, False]))


def test_set_subtensor_errors():
    x = C["dmatrix"]("x")
    with pytest.raises(TypeError, match=r"must be an indexing expression such as x\[idx\]"):
        set_subtensor(x, 0.0)
    with pytest.raises(TypeError, match=r"made by Elemwise"):
        inc_subtensor(x + 1, 0.0)
    with pytest.raises(ValueError, match="1-dimensional subtensor with a 2-dimensional value"):
        set_subtensor(x[0], C["dmatrix"]("y"))
    with pytest.raises(TypeError, match="cannot store float64 values into a tensor of dtype int32"):
        set_subtensor(C["imatrix"]("i")[0], C["dvector"]("y"))
    with pytest.raises(ValueError, match="cannot broadcast to the indexed subtensor"):
        set_subtensor(tensor((3, 4))[0], tensor((3,), name="y"))
    y = C["dvector"]("y")
    f = function([x, y], inc_subtensor(x[0], y))
    with pytest.raises(ValueError, match="only broadcasts when its type is broadcastable"):
        f(np.zeros((2, 3)), np.ones(1))
