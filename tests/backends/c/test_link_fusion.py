"""Link-time fusion of reduce(elementwise) in the C program (backends/c/fusion.py)."""

from __future__ import annotations

import tracemalloc
import warnings
import zlib

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.fusion import FusedEntry, fuse_reductions
from labsym.backends.c.linker import build_thunks, c_entries
from labsym.backends.c.module import c_compiler
from labsym.backends.c.tiered import wait_native
from labsym.compile import DebugMode, Mode
from labsym.core.ops import math
from labsym.core.ops.elemwise import Elemwise
from labsym.core.type import TensorType

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
C = Mode(linker="c|py", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")


def fused_pairs(f) -> list[tuple[str, str]]:
    """(elementwise op, reduction op) of each pair the C linker fuses in f's graph."""
    fgraph = f.maker.fgraph
    nodes = fgraph.toposort()
    entries = fuse_reductions(fgraph, nodes, c_entries(nodes))
    return [
        (str(nodes[j].inputs[0].owner.op), str(nodes[j].op))
        for j, e in entries.items()
        if isinstance(e, FusedEntry)
    ]


def unallocated(f) -> list[str]:
    """Nodes of a profiled function whose last call produced no array (the packed ones)."""
    prof = f.profile
    return [
        str(n.op) for n, s in zip(prof.nodes, prof.node_run_shapes, strict=True) if s == (None,)
    ]


def layouts(a: np.ndarray) -> list[np.ndarray]:
    """`a`'s values as C-contiguous, transposed-copy, strided and negative-stride arrays."""
    strided = np.zeros((a.shape[0], 2 * a.shape[1], a.shape[2]), a.dtype)
    strided[:, ::2] = a
    return [
        a.copy(),
        np.asfortranarray(a),
        strided[:, ::2],
        a[::-1].copy()[::-1],
        a[:, :, ::-1].copy()[:, :, ::-1],
    ]


def expressions(x, y, dtype):
    """Reductions of elementwise expressions: sum/max/min/prod/all/any, several axes."""
    exprs = [
        (x**2).sum(),
        T.exp(x - y).sum(axis=0),
        (x * y + 1).max(axis=(0, 2)),
        abs(x - y).min(axis=1),
        (x * 0 + y - x).sum(axis=(0, 2)),
        (x > y).all(axis=2),
        (x >= y).any(),
        T.maximum(x, y).min(),
    ]
    if dtype.startswith("float"):
        exprs += [(1 + 0.1 * T.tanh(x)).prod(axis=2), T.sqrt(abs(x) + y * y).max(axis=1)]
    else:
        exprs += [(x % 3 + 1).prod(axis=2), (x * y - 2).max(axis=1)]
    return exprs


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_fused_reductions_equal_the_numpy_engine(dtype):
    x = TensorType(dtype, (None, None, None))("x")
    y = TensorType(dtype, (None, 1, None))("y")  # broadcast along axis 1
    outs = expressions(x, y, dtype)
    f = labsym.function([x, y], outs, mode=C, profile=True)
    g = labsym.function([x, y], outs, mode=PY)
    assert len(fused_pairs(f)) == len(outs)
    rng = np.random.default_rng(zlib.crc32(dtype.encode()))
    shape = (4, 6, 5)
    if dtype.startswith("float"):
        xv = rng.standard_normal(shape).astype(dtype)
        yv = rng.standard_normal((4, 1, 5)).astype(dtype)
        xv[1, 2, 3] = np.nan  # propagates (or compares False) as in NumPy
    else:
        xv = rng.integers(-3, 4, shape).astype(dtype)
        yv = rng.integers(-3, 4, (4, 1, 5)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for xl in layouts(xv):
        for got, want in zip(f(xl, yv[:, :, ::-1].copy()[:, :, ::-1]), g(xv, yv), strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    assert sorted(unallocated(f)) == sorted(ew for ew, _ in fused_pairs(f))


def test_the_elementwise_temporary_is_never_allocated():
    w = T.dmatrix("w")
    f = labsym.function([w], (w**2).sum(), mode=C)
    g = labsym.function([w], (w**2).sum(), mode=PY)
    assert fused_pairs(f) == [("Elemwise{sqr,no_inplace}", "Sum{acc_dtype=float64}")]
    assert "PyTuple_Pack" in _module_text(f)
    wv = np.random.default_rng(0).standard_normal((500, 400))  # 1.6 MB
    peaks = []
    for fn in (f, g):
        fn(wv)
        tracemalloc.start()
        result = fn(wv)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        np.testing.assert_allclose(result, (wv**2).sum(), rtol=1e-12)
    assert peaks[0] < wv.nbytes / 10 <= wv.nbytes <= peaks[1]  # NumPy's temporary is W-sized


def _module_text(f) -> str:
    fgraph = f.maker.fgraph
    nodes = fgraph.toposort()
    entries = fuse_reductions(fgraph, nodes, c_entries(nodes))
    return "\n".join(e.kernel.body for e in entries.values())


def test_an_elementwise_result_with_another_use_is_not_fused():
    x = T.dmatrix("x")
    sq = x**2
    f = labsym.function([x], [sq.sum(axis=1), sq.max()], mode=C)
    h = labsym.function([x], [sq, sq.sum()], mode=C)
    assert fused_pairs(f) == [] and fused_pairs(h) == []
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(v)[0], (v**2).sum(axis=1))
    np.testing.assert_allclose(h(v)[1], (v**2).sum())


def test_the_fused_builtin_also_reduces_an_array_the_numpy_engine_computed():
    """A call that straddles a tiered swap hands the reduction the NumPy engine's value."""
    x, y = T.dmatrix("x"), T.dvector("y")
    f = labsym.function([x, y], T.exp(x - y).sum(axis=0), mode=C)
    fgraph = f.maker.fgraph
    nodes = fgraph.toposort()
    entries = fuse_reductions(fgraph, nodes, c_entries(nodes))
    (j,) = [j for j, e in entries.items() if isinstance(e, FusedEntry)]
    producer = nodes[j].inputs[0].owner
    i = nodes.index(producer)
    thunks = build_thunks(entries, nodes)
    xv, yv = np.random.default_rng(1).standard_normal((3, 4)), np.arange(4.0)
    packed = thunks[i](*_producer_args(producer, xv, yv))
    assert type(packed) is tuple
    want = np.exp(xv - yv).sum(axis=0)
    np.testing.assert_allclose(thunks[j](packed), want, rtol=1e-12)
    np.testing.assert_allclose(thunks[j](np.exp(xv - yv)), want, rtol=1e-12)
    np.testing.assert_allclose(thunks[j](np.exp(xv - yv)[::-1][::-1].T.T), want, rtol=1e-12)


def _producer_args(producer, xv, yv):
    """The producer's inputs for x = xv, y = yv (through the DimShuffle of y, if any)."""
    values = {"x": xv, "y": yv}
    args = []
    for v in producer.inputs:
        if v.name in values:
            args.append(values[v.name])
        else:  # InplaceDimShuffle{x,0}(y)
            args.append(yv[None, :])
    return args


def test_tiered_functions_run_the_fused_module(tmp_path):
    x = T.fmatrix("x")
    outs = [T.exp(x).sum(axis=1), (x * x).max()]
    v = np.random.default_rng(2).standard_normal((5, 3)).astype("float32")
    with labsym.config.change_flags(compiledir=str(tmp_path)):  # empty: built in the background
        f = labsym.function([x], outs, mode=Mode(linker="cvm"), profile=True)
        first = f(v)
        assert unallocated(f) == []  # the NumPy engine's first call
        assert wait_native(f, timeout=120)
    assert len(fused_pairs(f)) == 2
    for got, want in zip(f(v), first, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert sorted(unallocated(f)) == sorted(ew for ew, _ in fused_pairs(f))
    np.testing.assert_allclose(f(v[::-1])[0], np.exp(v[::-1]).sum(axis=1), rtol=1e-6)


def test_debugmode_checks_the_unfused_nodes():
    """DebugMode compares every node's output with perform: the elementwise node computes."""
    x = T.dmatrix("x")
    f = labsym.function([x], (x**2 + 1).sum(axis=0), mode=DebugMode(linker="c|py"))
    v = np.random.default_rng(3).standard_normal((4, 3))
    np.testing.assert_allclose(f(v), (v**2 + 1).sum(axis=0), rtol=1e-12)


def test_profile_puts_the_fused_time_on_the_reduction():
    w = T.dmatrix("w")
    f = labsym.function([w], T.exp(w).sum(), mode=C, profile=True)
    wv = np.random.default_rng(4).standard_normal((300, 300))
    for _ in range(3):
        np.testing.assert_allclose(f(wv), np.exp(wv).sum(), rtol=1e-12)
    prof = f.profile
    names = [str(n.op) for n in prof.nodes]
    red = names.index("Sum{acc_dtype=float64}")
    ew = [i for i, n in enumerate(names) if "exp" in n][0]
    assert prof.node_impls[red] == prof.node_impls[ew] == "C"
    assert prof.node_calls[red] == prof.node_calls[ew] == 3
    assert prof.node_times[red] > prof.node_times[ew]


def test_fp_warnings_are_numpys():
    x = T.dvector("x")
    f = labsym.function([x], T.exp(x).sum(), mode=C)
    g = labsym.function([x], T.exp(x).sum(), mode=PY)
    assert fused_pairs(f)
    big = np.array([1.0, 800.0])
    for fn in (f, g):
        with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
            assert fn(big) == np.inf
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert fn(np.array([1.0, 2.0])) == pytest.approx(np.exp(1.0) + np.exp(2.0))


def test_empty_max_raises_numpys_error():
    x = T.dmatrix("x")
    f = labsym.function([x], T.exp(x).max(axis=0), mode=C)
    assert fused_pairs(f)
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        f(np.zeros((0, 3)))
    np.testing.assert_array_equal(f(np.zeros((2, 0))), np.zeros(0))


def test_not_fused_when_a_node_in_between_overwrites_the_inputs():
    """The fused kernel reads the inputs at the reduction: an inplace node scheduled between
    the two (here destroying a view of the input) would change what it reads."""
    a = T.dvector("a")
    t = T.exp(a)
    s = (t * 2).sum()
    u = Elemwise(math.add.scalar_op, {0: 0})(t.dimshuffle(0), 1.0)  # writes into t's memory
    mode = Mode(linker="c|py", optimizer=None)
    f = labsym.function([a], [s, u], mode=mode, accept_inplace=True)
    fgraph = f.maker.fgraph
    nodes = fgraph.toposort()
    mul, red, add = (
        next(n for n in nodes if str(n.op).startswith(k))
        for k in ("Elemwise{mul", "Sum", "Elemwise{Add")
    )
    rest = [n for n in nodes if n not in (mul, red, add)]
    safe, unsafe = rest + [mul, red, add], rest + [mul, add, red]
    for order, fused in ((safe, True), (unsafe, False)):
        entries = fuse_reductions(fgraph, order, c_entries(order))
        assert any(isinstance(e, FusedEntry) for e in entries.values()) == fused
    v = np.array([0.5, -1.0])
    got_s, got_u = f(v)
    np.testing.assert_allclose(got_s, 2 * np.exp(v).sum())
    np.testing.assert_allclose(got_u, np.exp(v) + 1)


def test_a_failing_fused_pair_keeps_its_error_and_reports_the_elementwise_inputs():
    x, y = T.dmatrix("x"), T.dvector("y")
    f = labsym.function([x, y], (x - y).max(axis=0), mode=C)
    assert fused_pairs(f)
    with pytest.raises(ValueError, match="zero-size array") as info:
        f(np.ones((0, 4)), np.full(4, 2.0))
    text = str(info.value)
    assert "run fused with Elemwise{sub,no_inplace}(x, " in text
    assert "Inputs shapes: [(0, 4), (1, 4)]" in text
    g = labsym.function([x, y], T.log(x - y).sum(axis=0), mode=C)
    assert fused_pairs(g)
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="invalid"):
        g(np.ones((2, 2)), np.full(2, 2.0))
