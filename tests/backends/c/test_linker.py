"""The C linker: one module per function inside the NumPy engine's program (c|py, c, _nogc)."""

from __future__ import annotations

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c import linker as linker_module
from labsym.backends.c.linker import CLinker, NoCCodeError
from labsym.backends.c.module import build_module, c_compiler
from labsym.compile import DebugMode, Mode
from labsym.compile.debugmode import BadThunkOutput
from tests.backends.c.userops import DoubleBoth, DoubleCOp, WrongC

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
CPY = Mode(linker="c|py", optimizer=None)


def test_strict_c_names_the_ops_without_c_code_at_compile_time():
    x = T.dvector("x")
    with pytest.raises(NoCCodeError, match=r"runs C code only.*ArgSortOp") as info:
        labsym.function(
            [x], DoubleBoth()(T.argsort(x).astype("float64")), mode=Mode(linker="c", optimizer=None)
        )
    assert "c|py" in str(info.value)
    f = labsym.function([x], DoubleCOp()(x), mode=Mode(linker="c", optimizer=None))
    np.testing.assert_array_equal(f(np.arange(3.0)), [0.0, 2.0, 4.0])


def test_nogc_keeps_intermediates_and_gc_frees_them():
    x = T.dvector("x")
    expr = DoubleBoth()(DoubleBoth()(x) + 1) * 3
    kept = labsym.function([x], expr, mode=Mode(linker="c|py_nogc", optimizer=None))
    freed = labsym.function([x], expr, mode=CPY)
    assert "del " not in kept.source and "del " in freed.source
    v = np.array([1.0, -2.0])
    np.testing.assert_array_equal(kept(v), (2 * (2 * v) + 2) * 3)
    np.testing.assert_array_equal(freed(v), kept(v))


def test_c_nodes_inside_lazy_branches_run_only_when_taken():
    c = T.dscalar("c")
    x = T.dvector("x")
    out = labsym.ifelse.ifelse(c > 0, DoubleCOp()(x), DoubleCOp()(-x) + 1)
    f = labsym.function([c, x], out, mode=Mode(linker="c|py"), profile=True)
    v = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(1.0, v), 2 * v)
    np.testing.assert_array_equal(f(-1.0, v), -2 * v + 1)
    calls = {str(n): k for n, k in zip(f.profile.nodes, f.profile.node_calls)}
    doubles = [k for name, k in calls.items() if name.startswith("DoubleCOp")]
    assert sorted(doubles) == [1, 1]  # each branch's C node ran once in two calls


def test_shared_updates_commit_c_results():
    w = labsym.shared(np.arange(4.0), name="w")
    step = labsym.function([], [], updates=[(w, DoubleBoth()(w) - 1)], mode=Mode(linker="c|py"))
    for _ in range(3):
        step()
    np.testing.assert_array_equal(w.get_value(), ((np.arange(4.0) * 2 - 1) * 2 - 1) * 2 - 1)


def test_scan_and_opfromgraph_inner_graphs_use_the_c_linker():
    x = T.dvector("x")
    doubled, _ = labsym.scan(lambda v: DoubleCOp()(v), sequences=[T.stack([x, x + 1])])
    inner = labsym.compile.OpFromGraph([x], [DoubleCOp()(x) + 1])
    f = labsym.function([x], [doubled, inner(x)], mode=Mode(linker="c|py"))
    v = np.array([0.5, 1.5])
    got_scan, got_ofg = f(v)
    np.testing.assert_array_equal(got_scan, [2 * v, 2 * (v + 1)])
    np.testing.assert_array_equal(got_ofg, 2 * v + 1)


def test_debugmode_checks_c_code_against_perform():
    x = T.dmatrix("x")
    good = labsym.function([x], DoubleBoth()(x) * 2, mode=DebugMode(linker="c|py"))
    v = np.random.default_rng(0).standard_normal((3, 2))
    np.testing.assert_array_equal(good(v), 4 * v)
    bad = labsym.function([x], WrongC()(x), mode=DebugMode(linker="c|py", optimizer=None))
    with pytest.raises(BadThunkOutput, match=r"perform and linker c\|py of WrongC\(x\) disagree"):
        bad(v)


def test_node_code_builds_one_module_for_the_whole_graph(monkeypatch):
    """A wrapping linker asks node by node: the first request builds every node's kernel."""
    x = T.dvector("x")
    f = labsym.function([x], DoubleBoth()(DoubleCOp()(x)), mode=CPY)
    fgraph = f.maker.fgraph
    built = []

    def counting(entries, *args, **kwargs):
        built.append([e.symbol for e in entries])
        return build_module(entries, *args, **kwargs)

    monkeypatch.setattr(linker_module, "build_module", counting)
    linker = CLinker()
    codes = [linker.node_code(fgraph, n, i) for i, n in enumerate(fgraph.toposort())]
    assert len(built) == 1 and len(built[0]) == 2
    first, second = (next(iter(c.namespace.values())) for c in codes)
    np.testing.assert_array_equal(second(first(np.array([1.0, 2.0]))), [4.0, 8.0])


def test_nanguardmode_wraps_the_c_linker():
    from labsym.compile import NanGuardMode

    x = T.dvector("x")
    f = labsym.function([x], T.log(DoubleBoth()(x)), mode=NanGuardMode(linker="c|py"))
    np.testing.assert_allclose(f(np.array([0.5, 1.0])), np.log([1.0, 2.0]))
    with pytest.raises(AssertionError, match="NaN"):
        f(np.array([-1.0]))


@pytest.mark.parametrize("linker", ["c|py", "cvm"])
def test_functions_with_a_c_linker_pickle_and_recompile(linker):
    import pickle

    x = T.dvector("x")
    f = labsym.function([x], DoubleBoth()(x) + 1, mode=Mode(linker=linker))
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g.maker.mode.linker, CLinker) and g.maker.mode.linker.name == linker
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [3.0, 5.0])


def test_debugmode_checks_the_library_kernels_of_a_fused_graph():
    x, y, z = T.dvectors("x", "y", "z")
    expr = T.exp(-(x**2)) * T.sin(y) + T.log1p(abs(z)) / (1 + x * x)
    outs = [expr, expr.sum(), T.nnet.softmax(T.stack([x, y]))]
    f = labsym.function([x, y, z], outs, mode=DebugMode(linker="c|py"))
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(50) for _ in range(3)]
    want = labsym.function([x, y, z], outs, mode="FAST_COMPILE")(*args)
    for got, expected in zip(f(*args), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-13)
