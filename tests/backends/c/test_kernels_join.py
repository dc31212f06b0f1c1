"""C kernels of Alloc and Join against `perform` on random inputs: broadcasting values, runtime
shapes and axes (negative included), upcast dtypes, strided and negative-stride inputs, errors."""

import numpy as np
import pytest

import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from tests.backends.c.kernel_checks import check as check_against_perform
from tests.backends.c.kernel_checks import compile_thunks, perform
from tests.backends.c.kernel_checks import layouts as _layouts

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

N0, N1, N2 = T.lscalar("n0"), T.lscalar("n1"), T.lscalar("n2")
AXIS = T.lscalar("axis")


def _alloc_cases():
    cases = {}
    for dtype in ("float64", "float32", "int16", "bool", "complex64"):
        cases[dtype, "scalar"] = T.alloc(T.tensor(dtype, shape=()), N0, N1)
    cases["float64", "row"] = T.alloc(T.tensor("float64", shape=(1, None)), N0, N1)
    cases["float64", "vec_3d"] = T.alloc(T.dvector(), N0, N1, N2)
    cases["float64", "const_shape"] = T.alloc(T.dvector(), 3, 4)
    cases["float64", "matrix"] = T.alloc(T.dmatrix(), N0, N1)
    return cases


ALLOC = _alloc_cases()


def _join_cases():
    cases = {}
    for dtype in ("float64", "float32", "int8", "uint32", "bool", "complex128"):
        a, b = T.tensor(dtype, shape=(None, None)), T.tensor(dtype, shape=(None, None))
        cases[dtype, "axis"] = T.join(AXIS, a, b, a)
    c3 = [T.tensor("float32", shape=(None, None, None)) for _ in range(3)]
    cases["float32", "3d"] = T.join(AXIS, *c3)
    cases["upcast", "axis"] = T.join(AXIS, T.bmatrix(), T.fmatrix(), T.imatrix())
    cases["float64", "const0"] = T.concatenate([T.dmatrix(), T.dmatrix()], axis=0)
    cases["float64", "const-1"] = T.concatenate([T.dmatrix(), T.dmatrix()], axis=-1)
    return cases


JOIN = _join_cases()
SIZES = T.lvector("sizes")
SPLIT = {
    "axis": T.split(T.tensor("float32", shape=(None, None, None)), SIZES, 3, AXIS)[0].owner,
    "const0": T.split(T.bmatrix(), SIZES, 2, 0)[0].owner,
}
NODES = [o.owner for o in ALLOC.values()] + [o.owner for o in JOIN.values()]
NODES += list(SPLIT.values())
ARANGES = [
    T.arange(T.lscalar(), T.lscalar(), T.lscalar()).owner,
    T.arange(T.bscalar(), T.iscalar(), T.bscalar()).owner,
    T.arange(N0).owner,  # constant start and step
]
NODES += ARANGES
EYES = [
    T.eye(N0, N1, N2, dtype=d).owner for d in ("float64", "float32", "int8", "bool", "complex64")
]
EYES.append(T.eye(3, dtype="float64").owner)  # constant n, m, k
NODES += EYES


@pytest.fixture(scope="module")
def thunks():
    """Every test node compiled into one module (gcc is slow: one build per test module)."""
    return compile_thunks(NODES, "an alloc/join node")


def check(thunk, node, *inputs):
    """The C result equals perform's (dtype, shape, values) and is a new array."""
    return check_against_perform(thunk, node, *inputs, fresh=True)


def _args(node, shape):
    """The runtime shape entries, constants passed as they are."""
    values = iter(shape)
    return [v.data if hasattr(v, "data") else next(values) for v in node.inputs[1:]]


@pytest.mark.parametrize("key", list(ALLOC), ids=lambda k: "-".join(k))
def test_alloc_broadcasts_the_value_as_perform(thunks, key):
    node = ALLOC[key].owner
    value_type = node.inputs[0].type
    rng = np.random.default_rng(2)
    nd = len(node.inputs) - 1
    shapes = {2: [(3, 4), (1, 5), (0, 3)], 3: [(2, 3, 4), (2, 0, 4)]}[nd]
    for shape in shapes:
        if key[1] == "const_shape" and shape != (3, 4):
            continue
        v_shape = tuple(
            1 if d == 1 else n for d, n in zip(value_type.shape, shape[nd - value_type.ndim :])
        )
        for value in _layouts(value_type.dtype, v_shape, rng):
            check(thunks[node], node, value, *_args(node, shape))
    if value_type.ndim == 0:  # a NumPy scalar or Python number is converted to the dtype
        got = thunks[node](np.float64(1.5), 2, 3)
        np.testing.assert_array_equal(got, np.full((2, 3), 1.5, value_type.dtype))


def test_alloc_errors_match_perform(thunks):
    matrix = ALLOC["float64", "matrix"].owner
    vec3 = ALLOC["float64", "vec_3d"].owner
    bad = [
        (matrix, np.ones((2, 3)), (2, 4)),  # a mismatched axis
        (matrix, np.ones((1, 3)), (2, 3)),  # a runtime length 1 is not broadcast
        (vec3, np.ones(3), (2, -1, 3)),  # a negative length
    ]
    for node, value, shape in bad:
        with pytest.raises(ValueError):
            perform(node, value, *shape)
        with pytest.raises(ValueError):
            thunks[node](value, *shape)


@pytest.mark.parametrize("key", list(JOIN), ids=lambda k: "-".join(k))
def test_join_concatenates_as_perform(thunks, key):
    node = JOIN[key].owner
    parts = node.inputs[1:]
    ndim = parts[0].ndim
    rng = np.random.default_rng(4)
    fixed = node.inputs[0].data if hasattr(node.inputs[0], "data") else None
    axes = [int(fixed)] if fixed is not None else list(range(-ndim, ndim))
    for axis in axes:
        for layout in range(4):
            arrays = []
            for k, p in enumerate(parts):
                shape = [3, 4, 2][:ndim]
                shape[axis] = [2, 0, 5][k % 3]  # an empty part included
                arrays.append(_layouts(p.dtype, tuple(shape), rng)[layout])
            check(thunks[node], node, node.inputs[0].data if fixed is not None else axis, *arrays)


def test_join_errors_match_perform(thunks):
    node = JOIN["float64", "axis"].owner
    a, b = np.ones((2, 3)), np.ones((2, 4))
    with pytest.raises(ValueError, match="along dimension 1"):
        perform(node, 0, a, b, a)
    with pytest.raises(ValueError, match="along dimension 1, the array at index 0 has size 3"):
        thunks[node](0, a, b, a)
    for axis in (2, -3):
        with pytest.raises(np.exceptions.AxisError):
            perform(node, axis, a, a, a)
        with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
            thunks[node](axis, a, a, a)


def perform_all(node, *inputs):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, list(inputs), storage)
    return [s[0] for s in storage]


def test_split_gives_views_as_perform(thunks):
    rng = np.random.default_rng(8)
    node = SPLIT["axis"]
    for axis in (0, 1, 2, -1, -3):
        for x in _layouts("float32", (5, 5, 5), rng):
            for sizes in ([1, 0, 4], [5, 0, 0], [2, 2, 1]):
                args = (x, axis, np.array(sizes))
                expected, got = perform_all(node, *args), thunks[node](*args)
                for e, g in zip(expected, got, strict=True):
                    assert g.dtype == e.dtype and g.shape == e.shape and g.strides == e.strides
                    np.testing.assert_array_equal(g, e)
                    assert g.size == 0 or np.shares_memory(g, x)
    const = SPLIT["const0"]
    x = rng.integers(-9, 9, (4, 3)).astype("int8")
    for g, e in zip(
        thunks[const](x, 0, np.array([3, 1])), perform_all(const, x, 0, np.array([3, 1]))
    ):
        np.testing.assert_array_equal(g, e)
    for sizes in ([2, 2, 2], [6, -1, 0], [1, 1]):
        with pytest.raises(ValueError):
            perform_all(node, np.zeros((5, 5, 5), "float32"), 0, np.array(sizes))
        with pytest.raises(ValueError, match="do not cut axis 0 of length 5"):
            thunks[node](np.zeros((5, 5, 5), "float32"), 0, np.array(sizes))
    with pytest.raises(IndexError):
        thunks[node](np.zeros((5, 5, 5), "float32"), 3, np.array([1, 2, 2]))


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_arange_of_integers_as_perform(thunks):
    import itertools

    general, narrow, count = ARANGES
    for start, stop, step in itertools.product((-7, 0, 3), (-5, 0, 4, 11), (-3, -1, 1, 2, 5)):
        check(thunks[general], general, np.int64(start), np.int64(stop), np.int64(step))
        args = (np.int8(start), np.int32(stop), np.int8(step))
        check(thunks[narrow], narrow, *args)
    for n in (0, 1, 6):
        check(thunks[count], count, 0, n, 1)
    with pytest.raises(ValueError):
        perform(general, np.int64(0), np.int64(5), np.int64(0))
    with pytest.raises(ValueError):
        thunks[general](0, 5, 0)


def test_eye_as_perform(thunks):
    import itertools

    for node in EYES[:-1]:
        for n, m, k in itertools.product((0, 1, 3, 5), (0, 2, 4), (-6, -2, 0, 1, 3, 5)):
            check(thunks[node], node, n, m, k)
        with pytest.raises(ValueError):
            perform(node, -1, 2, 0)
        with pytest.raises(ValueError, match="negative dimensions"):
            thunks[node](-1, 2, 0)
    const = EYES[-1]
    check(thunks[const], const, *(v.data for v in const.inputs))
