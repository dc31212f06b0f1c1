"""C kernels of Subtensor (views), IncSubtensor, AdvancedSubtensor1 and AdvancedIncSubtensor1
against `perform` on random inputs: index values (negative, clamped, empty), strided and
negative-stride inputs, dtypes, broadcasting values, memory sharing, inplace, and errors."""

import itertools

import numpy as np
import pytest

import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from labsym.core.ops.subtensor import AdvancedIncSubtensor1, AdvancedSubtensor1
from tests.backends.c.kernel_checks import check, compile_thunks, layouts, perform
from tests.backends.c.kernel_checks import random_array as _random

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

I, J, K = T.lscalar("i"), T.lscalar("j"), T.lscalar("k")
B = T.tensor("int8", shape=())  # a narrow index dtype


def _basic_cases():
    """name -> (output, [index values per symbolic index input, tried in turn])."""
    cases = {}
    for dtype in ("float64", "float32", "int16", "bool", "complex64"):
        x = T.tensor(dtype, shape=(None, None, None))
        cases[dtype, "int,slice"] = (x[I, 1:], [(0,), (-1,), (2,)])
        cases[dtype, "steps"] = (x[::-1, ::2, 1::-1], [()])
    x = T.tensor("float64", shape=(None, None, None))
    cases["float64", "sym"] = (
        x[I:J:K],
        list(itertools.product((-5, -1, 0, 2, 9), (-2, 3, 9), (1, 2, -1, -3))),
    )
    cases["float64", "sym_open"] = (x[:I, J:, ::K], [(2, 1, 1), (-1, -2, -1), (0, 0, 3)])
    cases["float64", "newaxis"] = (x[None, 1, None, :, I], [(0,), (-2,)])
    cases["float64", "scalar"] = (x[I, J, K], [(0, 0, 0), (-1, -1, -1), (1, 2, -2)])
    cases["float64", "int8_index"] = (x[B], [(1,), (-2,)])
    cases["float64", "const_step"] = (x[1:-1, ::-2, 2], [()])
    return cases


BASIC = _basic_cases()
X3 = T.tensor("float64", shape=(None, None, None))
M = T.dmatrix("m")
V = T.dvector("v")
ROW = T.tensor("float64", shape=(1, None))
IDX = T.lvector("idx")
SET_INC = {
    "set_col": T.set_subtensor(M[1:, 0], V),
    "inc_col": T.inc_subtensor(M[1:, 0], V),
    "set_scalar": T.set_subtensor(M[I, J], T.dscalar("s")),
    "inc_row_bcast": T.inc_subtensor(X3[I], ROW),  # y (1, n) broadcast over rows
    "inc_neg_step": T.inc_subtensor(M[::-1, ::2], M[:, ::2]),
    "inc_int32": T.inc_subtensor(T.imatrix("a")[:, 1:], T.ivector("b")),
    "inc_bool": T.inc_subtensor(
        T.tensor("bool", shape=(None,))[1:], T.tensor("bool", shape=(None,))
    ),
}


def _advanced_cases():
    cases = {}
    for dtype in ("float64", "float32", "int64", "uint8", "bool", "complex128"):
        for idx_dtype in ("int64", "int32", "uint8", "int8"):
            x = T.tensor(dtype, shape=(None, None))
            cases[dtype, idx_dtype] = AdvancedSubtensor1()(x, T.tensor(idx_dtype, shape=(None,)))
    cases["float64", "1d"] = AdvancedSubtensor1()(V, IDX)
    cases["float64", "3d"] = AdvancedSubtensor1()(X3, IDX)
    return cases


ADVANCED = _advanced_cases()


def _scatter_cases():
    cases = {}
    for dtype in ("float64", "float32", "int32", "int8", "uint16", "bool", "complex64"):
        x, y = T.tensor(dtype, shape=(None, None)), T.tensor(dtype, shape=(None, None))
        for set_ in (False, True):
            cases[dtype, set_, "2d"] = AdvancedIncSubtensor1(set_)(x, y, IDX)
    cases["float64", False, "row"] = AdvancedIncSubtensor1()(M, ROW, IDX)
    cases["float64", False, "vec"] = AdvancedIncSubtensor1()(M, V, IDX)
    cases["float64", True, "scalar"] = AdvancedIncSubtensor1(True)(M, T.dscalar(), IDX)
    cases["float64", False, "1d"] = AdvancedIncSubtensor1()(V, V, T.ivector())
    cases["float64", False, "3d"] = AdvancedIncSubtensor1()(X3, X3, IDX)
    return cases


SCATTER = _scatter_cases()
IV, JV = T.lvector("iv"), T.ivector("jv")
MULTI = {
    "2d": M[IV, JV],  # the NLL pattern log_p[arange(n), y]
    "3d": X3[IV, JV],
    "3d_full": X3[IV, JV, :],
    "f32_uint8": T.fmatrix()[IV, T.tensor("uint8", shape=(None,))],
}
MULTI_INC = {
    "inc_2d": T.inc_subtensor(M[IV, JV], V),
    "set_2d": T.set_subtensor(M[IV, JV], V),
    "inc_3d_bcast": T.inc_subtensor(X3[IV, JV], ROW),
    "inc_f32_scalar": T.inc_subtensor(T.fmatrix()[IV, JV], T.fscalar()),
}
MASK1, MASK2 = T.tensor("bool", shape=(None,)), T.tensor("bool", shape=(None, None))
MASKED = {
    "2d_all": M[MASK2],
    "3d_rows": X3[MASK1],
    "3d_lead2": X3[MASK2],
    "int8_full": T.tensor("int8", shape=(None, None, None))[MASK2, :],
}
MASKED_SET = {
    "set_scalar": T.set_subtensor(M[MASK2], 0.0),
    "inc_rows_bcast": T.inc_subtensor(X3[MASK1], ROW),
    "set_vector": T.set_subtensor(M[MASK2], V),
    "inc_int32": T.inc_subtensor(T.imatrix()[MASK1], T.ivector()),
}
# a bounded slice, a mask after a slice, a 2-d integer array: these stay on the NumPy engine
NOT_COVERED = [X3[IV, 1:], X3[:, MASK1], M[IV[:, None], JV]]


def _inplace(out):
    """A copy of out's node whose op destroys x (the inplace variant a rewrite would make)."""
    node = out.owner
    op = type(node.op)(node.op.idx_list, node.op.set_instead_of_inc)
    op.destroy_map = {0: [0]}
    return op.make_node(*node.inputs)


INPLACE = _inplace(SET_INC["inc_col"])
SCATTER_INPLACE = AdvancedIncSubtensor1()(M, M, IDX).owner
SCATTER_INPLACE.op.destroy_map = {0: [0]}  # this instance only: the variant a rewrite would make
NODES = (
    [o.owner for o, _ in BASIC.values()]
    + [o.owner for o in SET_INC.values()]
    + [o.owner for o in ADVANCED.values()]
    + [o.owner for o in SCATTER.values()]
    + [INPLACE, SCATTER_INPLACE]
    + [o.owner for o in MULTI.values()]
    + [o.owner for o in MULTI_INC.values()]
    + [o.owner for o in MASKED.values()]
    + [o.owner for o in MASKED_SET.values()]
)


@pytest.fixture(scope="module")
def thunks():
    """Every test node compiled into one module (gcc is slow: one build per test module)."""
    return compile_thunks(NODES, "an indexing node")


def _layouts(dtype, shape, rng):
    """The shared layouts, with four draws for a 0-d shape."""
    return layouts(dtype, shape, rng, scalar_copies=4)


def _index_args(node, values, first=1):
    """Runtime values for the symbolic index inputs (from node input `first` on), constants
    passed as they are."""
    values = iter(values)
    return [v.data if hasattr(v, "data") else next(values) for v in node.inputs[first:]]


@pytest.mark.parametrize("key", list(BASIC), ids=lambda k: "-".join(k))
def test_subtensor_is_a_view_equal_to_perform(thunks, key):
    out, index_values = BASIC[key]
    node = out.owner
    rng = np.random.default_rng(len(key[1]))
    for shape in [(3, 4, 5), (5, 3, 2)]:
        for x in _layouts(node.inputs[0].dtype, shape, rng):
            for values in index_values:
                args = _index_args(node, values)
                try:
                    expected = perform(node, x, *args)
                except IndexError:
                    with pytest.raises(IndexError, match="out of bounds"):
                        thunks[node](x, *args)
                    continue
                got = check(thunks[node], node, x, *args)
                assert got.base is not None and (got.size == 0 or np.shares_memory(got, x))
                assert got.flags.writeable
                if got.size:  # the view is at the same address as NumPy's
                    assert got.__array_interface__["data"] == expected.__array_interface__["data"]
                    assert got.strides == expected.strides


def test_subtensor_errors_match_perform(thunks):
    node = BASIC["float64", "sym"][0].owner
    x = np.zeros((3, 4, 5))
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        thunks[node](x, 0, 2, 0)
    with pytest.raises(ValueError, match="expected a 3-d array"):
        thunks[node](np.zeros(3), 0, 1, 1)
    scalar = BASIC["float64", "scalar"][0].owner
    for bad in [(3, 0, 0), (0, -5, 0), (0, 0, 5)]:
        with pytest.raises(IndexError):
            perform(scalar, x, *bad)
        with pytest.raises(IndexError, match=r"out of bounds for axis \d with size"):
            thunks[scalar](x, *bad)
    readonly = np.arange(60.0).reshape(3, 4, 5)
    readonly.flags.writeable = False
    assert not thunks[node](readonly, 0, 2, 1).flags.writeable


@pytest.mark.parametrize("name", list(SET_INC))
def test_inc_and_set_subtensor_equal_perform_and_leave_x_alone(thunks, name):
    node = SET_INC[name].owner
    rng = np.random.default_rng(5)
    x_dtype, y_var = node.inputs[0].dtype, node.inputs[1]
    x_shape = {2: (4, 6), 3: (3, 4, 6), 1: (7,)}[node.inputs[0].ndim]
    for x in _layouts(x_dtype, x_shape, rng):
        for values in [(0, 1), (-1, -2), (2, 0)]:
            args = _index_args(node, values, first=2)
            getter = node.op.getter().make_node(node.inputs[0], *node.inputs[2:])
            sub_shape = perform(getter, x, *args).shape
            y_shape = tuple(
                1 if s == 1 else n
                for s, n in zip(y_var.type.shape, sub_shape[len(sub_shape) - y_var.ndim :])
            )
            y = _random(y_var.dtype, y_shape, rng)
            if y.ndim == 2 and name == "inc_neg_step":
                y = x[:, ::2]  # y aliases x: the result must still read the old x
            before = x.copy()
            got = check(thunks[node], node, x, y, *args)
            np.testing.assert_array_equal(x, before)  # not inplace: x is untouched
            assert not np.shares_memory(got, x)


def test_inc_subtensor_value_shape_errors(thunks):
    node = SET_INC["set_col"].owner  # M[1:, 0] = V (V's length must match)
    x = np.zeros((4, 3))
    for y in (np.ones(2), np.ones(1)):  # wrong length; length 1 whose type is not broadcastable
        with pytest.raises(ValueError):
            perform(node, x, y, *_index_args(node, (), first=2))
        with pytest.raises(ValueError, match="a length-1 axis only broadcasts"):
            thunks[node](x, y, *_index_args(node, (), first=2))


def test_inplace_inc_subtensor_writes_into_x(thunks):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal(4)
    consts = _index_args(INPLACE, (), first=2)
    expected = perform(INPLACE, x, y, *consts)
    got = thunks[INPLACE](x, y, *consts)
    assert got is x
    np.testing.assert_array_equal(x, expected)
    readonly = rng.standard_normal((5, 3))
    readonly.flags.writeable = False
    got = thunks[INPLACE](readonly, y, *consts)  # a read-only x is copied instead
    assert got is not readonly and not np.shares_memory(got, readonly)


@pytest.mark.parametrize("key", list(ADVANCED), ids=lambda k: "-".join(k))
def test_advanced_subtensor1_gathers_rows_as_perform(thunks, key):
    node = ADVANCED[key].owner
    x_type, idx_dtype = node.inputs[0].type, node.inputs[1].dtype
    rng = np.random.default_rng(7)
    shape = {1: (9,), 2: (9, 4), 3: (9, 3, 4)}[x_type.ndim]
    signed = idx_dtype[0] == "i"
    picks = [[0, 8, 3, 3], [], [5]] + ([[-1, -9, 2, -4]] if signed else [])
    for x in _layouts(x_type.dtype, shape, rng):
        for pick in picks:
            idx = np.array(pick, dtype=idx_dtype)
            got = check(thunks[node], node, x, idx)
            assert not np.shares_memory(got, x) and got.flags.c_contiguous
            check(thunks[node], node, x, np.repeat(idx, 2)[::2])  # a strided index vector
        bad = [9, -10] if signed else [9, 200]
        for b in bad:
            idx = np.array([0, b], dtype=idx_dtype)
            with pytest.raises(IndexError):
                perform(node, x, idx)
            with pytest.raises(
                IndexError, match=f"index {b} is out of bounds for axis 0 with size 9"
            ):
                thunks[node](x, idx)


@pytest.mark.parametrize("key", list(SCATTER), ids=lambda k: "-".join(map(str, k)))
def test_advanced_inc_subtensor1_scatters_as_perform(thunks, key):
    node = SCATTER[key].owner
    x_var, y_var = node.inputs[0], node.inputs[1]
    rng = np.random.default_rng(11)
    x_shape = {1: (6,), 2: (6, 5), 3: (6, 2, 5)}[x_var.ndim]
    for pick in ([0, 5, 2, 2, -1, -6], [], [3]):
        idx = np.array(pick, dtype=node.inputs[2].dtype)
        sub_shape = (len(pick), *x_shape[1:])
        y_shape = tuple(
            1 if s == 1 else n
            for s, n in zip(y_var.type.shape, sub_shape[len(sub_shape) - y_var.ndim :])
        )
        for x, y in zip(_layouts(x_var.dtype, x_shape, rng), _layouts(y_var.dtype, y_shape, rng)):
            if 0 in y_shape and y.ndim > 1:
                y = np.zeros(y_shape, y_var.dtype)
            before = x.copy()
            got = check(thunks[node], node, x, y, idx)
            np.testing.assert_array_equal(x, before)
            assert not np.shares_memory(got, x)


def test_advanced_inc_subtensor1_errors(thunks):
    node = SCATTER["float64", False, "2d"].owner
    x = np.zeros((4, 3))
    cases = [
        (np.ones((2, 3)), np.array([0, 4]), IndexError),
        (np.ones((2, 3)), np.array([-5, 0]), IndexError),
        (np.ones((3, 3)), np.array([0, 1]), ValueError),  # y rows != len(idx)
        (np.ones((2, 1)), np.array([0, 1]), ValueError),  # a runtime length 1 is not broadcast
    ]
    for y, idx, err in cases:
        with pytest.raises(err):
            perform(node, x, y, idx)
        with pytest.raises(err):
            thunks[node](x, y, idx)
    int_node = SCATTER["int8", False, "2d"].owner
    x8 = np.full((2, 2), 120, dtype="int8")  # int8 wraps around as NumPy's add does
    check(thunks[int_node], int_node, x8, np.full((3, 2), 100, dtype="int8"), np.array([0, 0, 1]))


def _pair(rng, shape, n, signed_j=True):
    iv = rng.integers(-shape[0], shape[0], n)
    jv = rng.integers(-shape[1] if signed_j else 0, shape[1], n)
    return iv, jv


@pytest.mark.parametrize("name", list(MULTI))
def test_advanced_subtensor_of_integer_vectors_gathers_as_perform(thunks, name):
    node = MULTI[name].owner
    x_type = node.inputs[0].type
    j_dtype = node.inputs[2].dtype
    rng = np.random.default_rng(13)
    shape = (5, 4) if x_type.ndim == 2 else (5, 4, 3)
    for x in _layouts(x_type.dtype, shape, rng):
        for n in (7, 1, 0):
            iv, jv = _pair(rng, shape, n, signed_j=j_dtype[0] == "i")
            args = [iv.astype(node.inputs[1].dtype), jv.astype(j_dtype)]
            got = check(thunks[node], node, x, *args)
            assert not np.shares_memory(got, x)
        iv, jv = np.array([0, 4, 1]), np.array([2]).astype(j_dtype)  # a length-1 index broadcasts
        check(thunks[node], node, x, iv, jv)
        for iv, jv, match in [
            ([0, 1, 2], [0, 1], "shape mismatch"),
            ([0, 5], [0, 1], "index 5 is out of bounds for axis 0 with size 5"),
            ([0, 1], [1, 4], "index 4 is out of bounds for axis 1 with size 4"),
        ]:
            args = [np.array(iv), np.array(jv, dtype=j_dtype)]
            with pytest.raises(IndexError):
                perform(node, x, *args)
            with pytest.raises(IndexError, match=match):
                thunks[node](x, *args)


@pytest.mark.parametrize("name", list(MULTI_INC))
def test_advanced_inc_subtensor_of_integer_vectors_scatters_as_perform(thunks, name):
    node = MULTI_INC[name].owner
    x_var, y_var = node.inputs[0], node.inputs[1]
    rng = np.random.default_rng(17)
    shape = (5, 4) if x_var.ndim == 2 else (5, 4, 3)
    for x in _layouts(x_var.dtype, shape, rng):
        iv, jv = np.array([0, 4, 4, -1, 2, 0]), np.array([1, 3, 3, 3, -4, 1], dtype="int32")
        sub_shape = (6, *shape[2:])
        y_shape = tuple(
            1 if s == 1 else n
            for s, n in zip(y_var.type.shape, sub_shape[len(sub_shape) - y_var.ndim :])
        )
        y = _random(y_var.dtype, y_shape, rng)
        before = x.copy()
        check(thunks[node], node, x, y, iv, jv)  # repeats (4, 3) and (0, 1) accumulate on inc
        np.testing.assert_array_equal(x, before)
    with pytest.raises(IndexError, match="out of bounds for axis 1"):
        thunks[node](np.zeros(shape, x_var.dtype), y, iv, np.array([9] * 6, dtype="int32"))


def test_other_advanced_index_forms_stay_on_the_numpy_engine():
    from labsym.backends.c.kernel import kernel_for

    for out in NOT_COVERED:
        assert kernel_for(out.owner) is None, out.owner.op


def test_inplace_scatter_writes_into_strided_x(thunks):
    rng = np.random.default_rng(19)
    big = rng.standard_normal((12, 9))
    for x in (big[::2, ::-3], rng.standard_normal((6, 3))):
        y, idx = rng.standard_normal((4, 3)), np.array([5, 0, 5, -2])
        expected = perform(SCATTER_INPLACE, x, y, idx)
        got = thunks[SCATTER_INPLACE](x, y, idx)
        assert got is x
        np.testing.assert_array_equal(x, expected)


def _mask_layouts(shape, rng):
    base = rng.random(shape) > 0.4
    big = rng.random(tuple(2 * n for n in shape)) > 0.4
    return [base, big[tuple(slice(None, None, 2) for _ in shape)], base[::-1], np.ones(shape, bool)]


@pytest.mark.parametrize("name", list(MASKED))
def test_boolean_mask_gathers_as_perform(thunks, name):
    node = MASKED[name].owner
    x_type, md = node.inputs[0].type, node.inputs[1].ndim
    rng = np.random.default_rng(23)
    shape = (5, 4) if x_type.ndim == 2 else (5, 4, 3)
    for x in _layouts(x_type.dtype, shape, rng):
        for mask in _mask_layouts(shape[:md], rng) + [np.zeros(shape[:md], bool)]:
            got = check(thunks[node], node, x, mask)
            assert not np.shares_memory(got, x)
        bad = np.ones((shape[0] + 1, *shape[1:md]), bool)
        with pytest.raises(IndexError):
            perform(node, x, bad)
        with pytest.raises(
            IndexError, match="boolean index did not match indexed array along axis 0"
        ):
            thunks[node](x, bad)


@pytest.mark.parametrize("name", list(MASKED_SET))
def test_boolean_mask_set_and_inc_as_perform(thunks, name):
    node = MASKED_SET[name].owner
    x_var, y_var, md = node.inputs[0], node.inputs[1], node.inputs[2].ndim
    rng = np.random.default_rng(29)
    shape = x_var.type.shape if None not in x_var.type.shape else (5, 4, 3)[: x_var.ndim]
    for x, mask in zip(_layouts(x_var.dtype, shape, rng), _mask_layouts(shape[:md], rng)):
        sub_shape = (int(mask.sum()), *shape[md:])
        y_shape = tuple(
            1 if s == 1 else n
            for s, n in zip(y_var.type.shape, sub_shape[len(sub_shape) - y_var.ndim :])
        )
        before = x.copy()
        check(thunks[node], node, x, _random(y_var.dtype, y_shape, rng), mask)
        np.testing.assert_array_equal(x, before)
