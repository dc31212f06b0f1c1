"""ReductionSize and TensorDot kernels against perform: axes, shapes, dtypes, strided views."""

import numpy as np
import pytest

from labsym.backends.c.blas import blas_available
from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.module import compile_nodes
from labsym.core.ops.blas import TensorDot
from labsym.core.ops.reduce import ReductionSize
from labsym.core.type import TensorType

pytestmark = pytest.mark.skipif(
    not (compiler_available() and blas_available()), reason="needs a C compiler and SciPy"
)

# (name, input ndim, axis)
SIZES = [
    ("all3", 3, None),
    ("ax0", 3, (0,)),
    ("ax02", 3, (0, 2)),
    ("ax1_of_2", 2, (1,)),
    ("scalar", 0, None),
]
# (name, a ndim, b ndim, (a axes, b axes), a dtype, b dtype)
DOTS = [
    ("rnn", 3, 2, ((2,), (0,)), "float32", "float32"),
    ("two_axes", 3, 3, ((1, 2), (0, 1)), "float64", "float64"),
    ("swapped", 3, 3, ((2, 0), (0, 2)), "float32", "float32"),
    ("to_scalar", 2, 2, ((0, 1), (0, 1)), "float64", "float64"),
    ("b_first", 2, 3, ((0,), (1,)), "float32", "float32"),
    ("outer", 2, 1, ((), ()), "float64", "float64"),
    ("mixed", 3, 2, ((2,), (0,)), "float32", "float64"),
    ("int_x_float", 3, 2, ((2,), (0,)), "int32", "float64"),
]
# a/b shapes per dot case, then alternatives with zero-length axes
SHAPES = {
    "rnn": [((5, 3, 4), (4, 6)), ((0, 3, 4), (4, 6)), ((5, 3, 0), (0, 6)), ((1, 1, 1), (1, 1))],
    "two_axes": [((2, 3, 4), (3, 4, 5)), ((2, 0, 4), (0, 4, 5))],
    "swapped": [((2, 3, 4), (4, 5, 2)), ((3, 1, 2), (2, 4, 3))],
    "to_scalar": [((3, 4), (3, 4)), ((0, 4), (0, 4))],
    "b_first": [((4, 3), (2, 4, 5)), ((1, 3), (2, 1, 5))],
    "outer": [((2, 3), (4,)), ((0, 3), (4,))],
    "mixed": [((2, 3, 4), (4, 5))],
    "int_x_float": [((2, 3, 4), (4, 5))],
}
TOL = {"float32": 2e-5, "float64": 1e-12}


def var(dtype, ndim):
    return TensorType(dtype, (None,) * ndim)()


@pytest.fixture(scope="module")
def kernels():
    """(node, thunk) by case name, all compiled into one module."""
    nodes = {f"size_{n}": ReductionSize(ax)(var("float32", nd)).owner for n, nd, ax in SIZES}
    nodes["size_int"] = ReductionSize((1,))(var("int8", 2)).owner
    for name, na, nb, axes, da, db in DOTS:
        nodes[f"dot_{name}"] = TensorDot(axes)(var(da, na), var(db, nb)).owner
    thunks = compile_nodes(list(nodes.values()))
    assert all(t is not None for t in thunks)
    return {key: (node, t) for (key, node), t in zip(nodes.items(), thunks, strict=True)}


def perform(node, *inputs):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, list(inputs), storage)
    return storage[0][0]


def views(x):
    """`x`'s values as C, Fortran, strided and reversed arrays (same shape, same values)."""
    out = [x.copy(), np.asfortranarray(x)]
    if x.ndim:
        big = np.zeros(tuple(2 * s for s in x.shape), x.dtype)
        big[tuple(slice(None, None, 2) for _ in x.shape)] = x
        out.append(big[tuple(slice(None, None, 2) for _ in x.shape)])
        out.append(x[..., ::-1].copy()[..., ::-1])
        out.append(np.moveaxis(np.moveaxis(x, 0, -1).copy(), -1, 0))
    return out


def random(rng, shape, dtype):
    if np.dtype(dtype).kind == "i":
        return rng.integers(-50, 50, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape", [(4, 0, 3), (2, 5, 7), (1, 1, 1)])
@pytest.mark.parametrize("name", [n for n, nd, _ in SIZES if nd == 3])
def test_reduction_size_matches_perform(kernels, name, shape):
    node, thunk = kernels[f"size_{name}"]
    for x in views(np.ones(shape, "float32")):
        got, want = thunk(x), perform(node, x)
        assert got.dtype == want.dtype == np.int64 and got.shape == want.shape == ()
        assert int(got) == int(want)


def test_reduction_size_other_ranks_and_dtypes(kernels):
    node, thunk = kernels["size_ax1_of_2"]
    x = np.zeros((3, 9), "float32")[:, ::-2]
    assert int(thunk(x)) == int(perform(node, x)) == 5
    node, thunk = kernels["size_scalar"]
    assert int(thunk(np.float32(2))) == int(perform(node, np.float32(2))) == 1
    node, thunk = kernels["size_int"]
    x = np.zeros((2, 6), "int8")
    assert int(thunk(x)) == int(perform(node, x)) == 6


def test_reduction_size_rejects_a_wrong_rank(kernels):
    with pytest.raises(TypeError, match="expected an input of 3 dims"):
        kernels["size_all3"][1](np.zeros((2, 2), "float32"))


@pytest.mark.parametrize("name", [d[0] for d in DOTS])
def test_tensordot_matches_perform(kernels, name):
    node, thunk = kernels[f"dot_{name}"]
    rng = np.random.default_rng(len(name))
    da, db = node.inputs[0].dtype, node.inputs[1].dtype
    out = node.outputs[0].dtype
    for sa, sb in SHAPES[name]:
        a0, b0 = random(rng, sa, da), random(rng, sb, db)
        want = perform(node, a0, b0)
        for a, b in zip(views(a0), views(b0)[::-1], strict=False):
            got = thunk(a, b)
            assert got.dtype == want.dtype == np.dtype(out) and got.shape == want.shape
            scale = np.tensordot(np.abs(a0), np.abs(b0), node.op.axes).astype(out)
            np.testing.assert_array_less(np.abs(got - want), TOL[out] * (scale + 1))


def test_tensordot_propagates_nan_and_inf(kernels):
    node, thunk = kernels["dot_rnn"]
    a = np.ones((2, 3, 4), "float32")
    b = np.ones((4, 5), "float32")
    a[0, 1, 2], b[3, 4] = np.nan, np.inf
    np.testing.assert_array_equal(thunk(a, b), perform(node, a, b))


def test_tensordot_rejects_mismatched_lengths(kernels):
    node, thunk = kernels["dot_rnn"]
    a, b = np.ones((2, 3, 4), "float32"), np.ones((5, 5), "float32")
    with pytest.raises(ValueError, match="shape-mismatch for sum"):
        perform(node, a, b)
    with pytest.raises(ValueError, match="shape-mismatch for sum"):
        thunk(a, b)


def test_integer_tensordot_stays_on_numpy():
    node = TensorDot(((1,), (0,)))(var("int64", 3), var("int64", 2)).owner
    assert kernel_for(node) is None


def test_function_under_the_c_linker_matches_the_numpy_engine():
    import labsym as ls
    from labsym.compile import Mode

    x, w = var("float32", 3), var("float32", 2)
    out = ls.tensor.tensordot(x, w, [[2], [0]])
    outputs = [out, out.mean(), x.mean(axis=(0, 2))]
    fc = ls.function([x, w], outputs, mode=Mode(linker="c|py", optimizer="fast_run"))
    fp = ls.function([x, w], outputs, mode=Mode(linker="py", optimizer="fast_run"))
    native = {type(n.op) for n in fc.maker.fgraph.toposort() if kernel_for(n) is not None}
    assert {TensorDot, ReductionSize} <= native
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5, 4)).astype("float32")[:, ::-1]
    b = rng.standard_normal((4, 3)).astype("float32")
    for got, want in zip(fc(a, b), fp(a, b), strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
