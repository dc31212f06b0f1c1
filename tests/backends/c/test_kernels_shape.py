"""C kernels of DimShuffle, Reshape, Shape and Shape_i against `perform` on random inputs: values,
dtypes, shapes, views sharing memory exactly where perform's result does, and errors."""

import numpy as np
import pytest

import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from labsym.core.ops.basic import TensorCopy
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.shape import MakeVector, Rebroadcast, SpecifyShape
from tests.backends.c.kernel_checks import check, compile_thunks, layouts, perform

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

DTYPES = ("float64", "float32", "int8", "uint16", "bool", "complex128")


def _var(dtype, shape):
    return T.tensor(dtype, shape=shape)


def _dimshuffle_nodes():
    nodes = {}
    for dtype in DTYPES:
        m, t3 = _var(dtype, (None, None)), _var(dtype, (None, None, None))
        nodes[dtype, "T"] = (m.dimshuffle(1, 0), 2)
        nodes[dtype, "x01"] = (m.dimshuffle("x", 0, 1), 2)
        nodes[dtype, "1x0"] = (m.dimshuffle(1, "x", 0), 2)
        nodes[dtype, "201"] = (t3.dimshuffle(2, 0, 1), 3)
        nodes[dtype, "1x20"] = (t3.dimshuffle(1, "x", 2, 0), 3)
    row = _var("float64", (1, None))
    nodes["float64", "drop0"] = (row.dimshuffle(1), "row")
    nodes["float64", "drop_all"] = (_var("float32", (1, 1)).dimshuffle(), "11")
    nodes["float64", "0d_to_x"] = (_var("float64", ()).dimshuffle("x", "x"), 0)
    return nodes


DIMSHUFFLE = _dimshuffle_nodes()


def _reshape_nodes():
    shp = T.lvector("shp")
    out = {}
    for dtype in ("float64", "int32", "complex64"):
        x = _var(dtype, (None, None))
        out[dtype, "sym"] = x.reshape(shp, ndim=2).owner  # runtime shape (with -1)
        out[dtype, "flat"] = x.reshape((-1,)).owner
        out[dtype, "3d"] = x.reshape((2, -1, 3)).owner
    return out


RESHAPE = _reshape_nodes()
SHAPE_X = _var("float32", (None, None, None))
SHAPE = SHAPE_X.shape.owner


def _shape_i_nodes():
    from labsym.core.ops.shape import Shape_i

    return [Shape_i(i)(SHAPE_X).owner for i in range(3)]


SHAPE_I = _shape_i_nodes()
N = T.lscalar("n")
MAKE_VECTOR = [
    MakeVector("int64")(N, T.lscalar(), 3).owner,
    MakeVector("float32")(T.fscalar()).owner,
]
SPECIFY = T.specify_shape(SHAPE_X, (N, None, 5)).owner
SPECIFY_ALL = SpecifyShape((0, 1))(T.dmatrix(), N, N).owner
REBROADCAST = Rebroadcast((0, True), (2, False))(SHAPE_X).owner
COPIES = [DeepCopyOp()(SHAPE_X).owner, TensorCopy()(T.tensor("bool", shape=(None,))).owner]
COPIES.append(DeepCopyOp()(T.tensor("int16", shape=())).owner)


@pytest.fixture(scope="module")
def thunks():
    """Every test node compiled into one module (gcc is slow: one build per test module)."""
    nodes = [o.owner for o, _ in DIMSHUFFLE.values()] + list(RESHAPE.values())
    nodes += [SHAPE, *SHAPE_I, *MAKE_VECTOR, SPECIFY, SPECIFY_ALL, REBROADCAST, *COPIES]
    return compile_thunks(nodes, "a shape node")


def _random(dtype, shape, rng):
    data = np.asarray(rng.standard_normal(shape) * 50)
    if dtype == "complex128":
        return (data + 1j * rng.standard_normal(shape)).astype(dtype)
    return data.astype(dtype) if dtype != "bool" else data > 0


def _layouts(dtype, shape, rng):
    """The shared layouts, drawn with this file's `_random`."""
    return layouts(dtype, shape, rng, draw=_random)


@pytest.mark.parametrize("key", list(DIMSHUFFLE), ids=lambda k: "-".join(k))
def test_dimshuffle_is_a_view_equal_to_perform(thunks, key):
    out, kind = DIMSHUFFLE[key]
    node = out.owner
    dtype = node.inputs[0].dtype
    rng = np.random.default_rng(len(key[1]))
    shapes = {2: [(3, 4), (1, 5), (0, 2)], 3: [(2, 3, 4), (4, 1, 2)], "row": [(1, 6)]}
    shapes |= {"11": [(1, 1)], 0: [()]}
    for shape in shapes[kind]:
        for x in _layouts(dtype, shape, rng) if shape else [_random(dtype, shape, rng)]:
            got = check(thunks[node], node, x, base=x)
            assert got.size == 0 or np.shares_memory(got, x)  # a view, never a copy
            if x.flags.writeable and got.size:  # writes go through to the input
                assert got.flags.writeable


def test_dimshuffle_checks_rank_and_empty_dropped_axis(thunks):
    node = DIMSHUFFLE["float64", "drop0"][0].owner
    with pytest.raises(IndexError, match="out of bounds"):
        perform(node, np.zeros((0, 3)))
    with pytest.raises(IndexError, match="out of bounds"):
        thunks[node](np.zeros((0, 3)))
    with pytest.raises(ValueError, match="expected a 2-d array"):
        thunks[node](np.zeros(3))


def test_dimshuffle_view_of_readonly_input_is_readonly(thunks):
    node = DIMSHUFFLE["float64", "T"][0].owner
    x = np.arange(6.0).reshape(2, 3)
    x.flags.writeable = False
    got = thunks[node](x)
    assert not got.flags.writeable and got.base is not None


def _shape_arg(node):
    return np.array([8, -1]) if node.op.ndim == 2 else node.inputs[1].data


@pytest.mark.parametrize("key", list(RESHAPE), ids=lambda k: "-".join(k))
def test_reshape_views_or_copies_as_numpy(thunks, key):
    node = RESHAPE[key]
    dtype = node.inputs[0].dtype
    for x in _layouts(dtype, (4, 6), np.random.default_rng(3)):
        got = check(thunks[node], node, x, _shape_arg(node), base=x)
        if x.flags.c_contiguous:
            assert np.shares_memory(got, x)  # the view path
    bad = np.zeros((5, 5), dtype)  # 25 elements: no (8, -1) or (2, -1, 3) shape
    if node.op.ndim > 1:
        with pytest.raises(ValueError):
            perform(node, bad, _shape_arg(node))
        with pytest.raises(ValueError, match="cannot reshape"):
            thunks[node](bad, _shape_arg(node))


def test_reshape_shape_vector_of_wrong_length_raises(thunks):
    node = RESHAPE["float64", "sym"]
    with pytest.raises(ValueError, match="2 entries|expected 2"):
        perform(node, np.zeros(6), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="3 entries, expected 2"):
        thunks[node](np.zeros(6), np.array([1, 2, 3]))
    got = check(thunks[node], node, np.arange(6.0), np.array([-1, 2])[::-1].copy()[::-1])
    assert got.shape == (3, 2)
    strided_shape = np.array([2, 0, 3, 0])[::2]  # a non-contiguous shape vector
    assert check(thunks[node], node, np.arange(6.0), strided_shape).shape == (2, 3)


def test_shape_and_shape_i(thunks):
    for x in _layouts("float32", (2, 3, 5), np.random.default_rng(0)):
        check(thunks[SHAPE], SHAPE, x)
        for node in SHAPE_I:
            got = check(thunks[node], node, x)
            assert got.ndim == 0 and got.dtype == np.int64
    check(thunks[SHAPE], SHAPE, np.zeros((0, 4, 1), "float32"))


def test_make_vector(thunks):
    ints, floats = MAKE_VECTOR
    for values in [(2, -7, 3), (np.int64(5), np.array(9), 3)]:
        check(thunks[ints], ints, *values)
    check(thunks[floats], floats, np.float32(2.5))
    assert thunks[floats](0.1).dtype == np.float32  # a Python float converted to the dtype


def _with_constants(node, x, *values):
    """x, then each symbolic input from `values` and each constant input's own data."""
    values = iter(values)
    return [x] + [v.data if hasattr(v, "data") else next(values) for v in node.inputs[1:]]


def test_specify_shape_and_rebroadcast_return_x_or_raise_as_perform(thunks):
    x = np.zeros((1, 4, 5), "float32")
    for node, args in [(SPECIFY, (1,)), (REBROADCAST, ()), (SPECIFY_ALL, (3, 3))]:
        arr = np.zeros((3, 3)) if node is SPECIFY_ALL else x
        assert thunks[node](*_with_constants(node, arr, *args)) is arr
        assert perform(node, *_with_constants(node, arr, *args)) is arr
    bad = [
        (SPECIFY, (x, 2)),
        (SPECIFY, (np.zeros((1, 4, 6), "float32"), 1)),
        (SPECIFY_ALL, (np.zeros((3, 2)), 3, 3)),
        (REBROADCAST, (np.zeros((2, 4, 5), "float32"),)),
    ]
    for node, args in bad:
        with pytest.raises(ValueError) as expected:
            perform(node, *_with_constants(node, *args))
        with pytest.raises(ValueError) as got:
            thunks[node](*_with_constants(node, *args))
        assert str(got.value) == str(expected.value)


def test_copies_keep_values_and_layout_in_new_memory(thunks):
    rng = np.random.default_rng(4)
    deep, tensor_copy, scalar = COPIES
    for node, arrays in [
        (deep, _layouts("float32", (2, 3, 4), rng)),
        (tensor_copy, _layouts("bool", (7,), rng)),
        (scalar, [np.asarray(np.int16(-3))]),
    ]:
        for x in arrays:
            got = check(thunks[node], node, x)
            assert not np.shares_memory(got, x)
            assert got.flags.f_contiguous == perform(node, x).flags.f_contiguous
