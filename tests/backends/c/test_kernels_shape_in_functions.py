"""The view, indexing, alloc and join kernels inside whole functions: labsym.function with the C
linker gives what the NumPy engine gives, the C module runs them, and inputs stay untouched
(views feeding inplace rewrites must not write through to the caller's arrays)."""

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.compile import Mode

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

MINE = (
    "DimShuffle",
    "Subtensor",
    "IncSubtensor",
    "AdvancedSubtensor1",
    "AdvancedIncSubtensor1",
    "AdvancedSubtensor",
    "AdvancedIncSubtensor",
    "Reshape",
    "Alloc",
    "Join",
    "Split",
    "ARange",
)


def _graph():
    x, v, idx, i = T.dmatrix("x"), T.dvector("v"), T.lvector("idx"), T.lscalar("i")
    parts = T.split(x, T.stack([i, x.shape[0] - i]), 2, axis=0)
    outputs = [
        x[1:, ::-1].T * 2,
        T.set_subtensor(x[i], v),
        T.inc_subtensor(x[1:, ::2], 1.5),
        T.concatenate([x, x[::-1] + 1], axis=0),
        x[idx] + 1,
        T.inc_subtensor(x[idx], v),
        x[T.arange(x.shape[0]), idx[: x.shape[0]] % x.shape[1]] * 3,
        T.alloc(v, 3, v.shape[0]) - 1,
        x.reshape((-1,))[::2] ** 2,
        parts[1] - parts[0].sum(),
    ]
    return [x, v, idx, i], outputs


@pytest.fixture(scope="module")
def functions():
    inputs, outputs = _graph()
    c = labsym.function(inputs, outputs, mode=Mode(linker="c|py"))
    py = labsym.function(inputs, outputs, mode=Mode(linker="py"))
    return c, py


def test_my_ops_in_the_function_have_c_kernels(functions):
    c, _ = functions
    nodes = [n for n in c.maker.fgraph.toposort() if type(n.op).__name__ in MINE]
    assert len(nodes) >= 8
    assert all(kernel_for(n) is not None for n in nodes), [str(n.op) for n in nodes]


@pytest.mark.parametrize("seed", range(3))
def test_c_function_equals_numpy_engine_and_leaves_inputs_alone(functions, seed):
    c, py = functions
    rng = np.random.default_rng(seed)
    rows, cols = 4 + seed, 3 + seed
    x = rng.standard_normal((2 * rows, cols))[::2]  # a strided input
    v = rng.standard_normal(cols)
    idx = rng.integers(-rows, rows, 2 * rows)
    i = int(rng.integers(0, rows))
    snapshot = [a.copy() for a in (x, v, idx)]
    got, want = c(x, v, idx, i), py(x, v, idx, i)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14)
    for a, before in zip((x, v, idx), snapshot, strict=True):
        np.testing.assert_array_equal(a, before)
    with pytest.raises(IndexError):
        c(x, v, np.full(2 * rows, rows), i)  # an index out of bounds, as the NumPy engine
