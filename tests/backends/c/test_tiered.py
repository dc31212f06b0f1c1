"""Tiered compile: FAST_RUN answers on the NumPy engine, then swaps in the C module it built.

WrongC's C code computes 3x where its perform computes 2x, so which tier ran is visible in the
result; real ops give the same values on both tiers (compared here within a few ulps).
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.linker import CProgram
from labsym.backends.c.module import c_compiler
from labsym.backends.c.tiered import TieredProgram, wait_native
from labsym.compile import Mode
from labsym.config import config
from tests.backends.c.userops import DoubleBoth, WrongC

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
V = np.array([1.0, -2.0, 0.5])


@pytest.fixture
def fresh_cache(tmp_path):
    """An empty compiledir, so that modules are built (not loaded from the cache)."""
    with config.change_flags(compiledir=str(tmp_path / "compiledir")):
        yield


def test_fast_run_answers_on_numpy_then_runs_c_after_the_swap(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x), profile=True)
    program = f._program
    assert isinstance(program, TieredProgram) and not program.native
    np.testing.assert_array_equal(f(V), 2 * V)  # first call: NumPy, no build
    assert not program._started
    np.testing.assert_array_equal(f(V), 2 * V)  # second call starts the build
    assert program._started
    assert wait_native(f, timeout=120)
    np.testing.assert_array_equal(f(V), 3 * V)  # the C thunk now
    assert f.profile.node_impls == ["C"] and f.profile.c_compile_time > 0
    assert "C module build time" in f.profile.summary(file=io.StringIO())


def test_calls_during_the_build_keep_answering(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) + WrongC()(x * 10))
    program = f._program
    program.start()
    seen = set()
    while not program.ready.is_set():
        seen.add(tuple(f(V)))
    seen.add(tuple(f(V)))
    assert program.native
    # NumPy (2x + 20x) or C (3x + 30x); a call mixing the tiers would give 23x or 32x
    assert seen <= {tuple(22 * V), tuple(33 * V)}
    assert tuple(f(V)) == tuple(33 * V)


def test_calls_handed_out_earlier_get_the_c_thunks(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x))
    raw = f.raw_call()  # a hot loop's call: starts the build
    np.testing.assert_array_equal(raw(f, V)[0], 2 * V)
    assert f._program._started and wait_native(f, timeout=120)
    np.testing.assert_array_equal(raw(f, V)[0], 3 * V)


def test_trust_input_survives_the_swap(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x))
    f.trust_input = True  # also starts the build
    assert wait_native(f, timeout=120)
    assert f.trust_input
    np.testing.assert_array_equal(f(V), 3 * V)


def test_a_cache_hit_links_synchronously(fresh_cache):
    x = T.dvector("x")
    first = labsym.function([x], WrongC()(x) * 2)
    assert wait_native(first, timeout=120)
    again = labsym.function([x], WrongC()(x) * 2)
    assert isinstance(again._program, CProgram) and again._program.native
    np.testing.assert_array_equal(again(V), 6 * V)


def test_explicit_c_linkers_wait_for_the_build(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x), mode=Mode(linker="c|py"))
    assert isinstance(f._program, CProgram) and wait_native(f)
    np.testing.assert_array_equal(f(V), 3 * V)


def test_a_failed_build_warns_and_stays_on_numpy(fresh_cache):
    class Broken(DoubleBoth):
        def c_code(self, node, name, inp, out, sub):
            return "not C at all;"

    x = T.dvector("x")
    f = labsym.function([x], Broken()(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not wait_native(f, timeout=120)
    assert any("failed to build" in str(w.message) for w in caught)
    assert "not C at all" in str(f._program.error)
    np.testing.assert_array_equal(f(V), 2 * V)


def test_the_issue_expression_gives_the_same_values_on_both_tiers(fresh_cache):
    x, y, z = T.dvectors("x", "y", "z")
    expr = T.exp(-(x**2)) * T.sin(y) + T.log1p(abs(z)) / (1 + x * x)
    f = labsym.function([x, y, z], expr)
    rng = np.random.default_rng(3)
    args = [rng.uniform(-3, 3, 1000) for _ in range(3)]
    args[0][:3] = [0.0, np.inf, -np.inf]
    args[2][:2] = [np.nan, -0.0]
    numpy_tier = f(*args)
    if not wait_native(f, timeout=120):
        pytest.skip("no C kernel renders this expression yet")
    c_tier = f(*args)
    # a few ulps per libmvec call; the sum of two terms of size ~1 may cancel, hence atol
    np.testing.assert_allclose(c_tier, numpy_tier, rtol=8 * np.finfo(float).eps, atol=1e-15)
    assert np.array_equal(np.isnan(c_tier), np.isnan(numpy_tier))


def test_a_module_that_failed_is_not_built_again(fresh_cache):
    class AlsoBroken(DoubleBoth):
        def c_code(self, node, name, inp, out, sub):
            return "still not C;"

    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, queued = (labsym.function([x], AlsoBroken()(x)) for _ in range(2))
        assert not wait_native(first, timeout=120)
        assert not wait_native(queued, timeout=120)  # linked before the failure was known
        again = labsym.function([x], AlsoBroken()(x))
        assert not isinstance(again._program, TieredProgram) and not wait_native(again)
    assert sum("failed to build" in str(w.message) for w in caught) == 1
    np.testing.assert_array_equal(again(V), 2 * V)


def test_a_call_running_during_the_swap_finishes_on_the_numpy_engine(fresh_cache):
    hooks = []

    class WaitsForTheBuild(WrongC):
        def perform(self, node, inputs, output_storage):
            if hooks:
                hooks.pop()()  # this call is half done when the C thunks are swapped in
            super().perform(node, inputs, output_storage)

    x = T.dvector("x")
    first = WaitsForTheBuild()(x)
    f = labsym.function([x], first + WrongC()(first * 10))
    hooks.append(lambda: f._program.wait(timeout=120))
    # NumPy: 2x + 2(20x); had the second node switched to C mid-call: 2x + 3(20x)
    np.testing.assert_array_equal(f(V), 42 * V)
    assert f._program.native
    np.testing.assert_array_equal(f(V), 93 * V)  # C: 3x + 3(30x)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_still_builds_in_the_background(fresh_cache):
    x = T.dvector("x")
    warm = labsym.function([x], WrongC()(x) - 1)
    assert wait_native(warm, timeout=120)  # the parent's worker thread exists now
    f = labsym.function([x], WrongC()(x) + 1)
    pid = os.fork()
    if pid == 0:  # the child: its copy of the worker thread does not run
        ok = wait_native(f, timeout=60) and f(V).tolist() == (3 * V + 1).tolist()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_cmodule_tiered_flag_makes_fast_run_wait(fresh_cache):
    x = T.dvector("x")
    with config.change_flags(cmodule__tiered=False):
        f = labsym.function([x], WrongC()(x) * 4)
    assert isinstance(f._program, CProgram) and f._program.native
    np.testing.assert_array_equal(f(V), 12 * V)


def test_a_transient_failure_to_start_the_compiler_is_retried(fresh_cache, monkeypatch):
    from labsym.backends.c import tiered

    real, failures = tiered.load_module, []

    def flaky(entries, nodes, code):
        if not failures:
            failures.append(1)
            raise OSError(14, "Bad address", "/usr/bin/gcc")
        return real(entries, nodes, code)

    monkeypatch.setattr(tiered, "load_module", flaky)
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) / 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert wait_native(f, timeout=120)
    assert failures == [1] and not [w for w in caught if "failed to build" in str(w.message)]
    np.testing.assert_allclose(f(V), V)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("unexpected"),  # anything at all: the build thread must survive it
        OSError(13, "Permission denied"),  # not a transient errno: no second try
    ],
)
def test_any_build_failure_warns_sets_ready_and_the_worker_goes_on(fresh_cache, monkeypatch, error):
    from labsym.backends.c import tiered

    real, calls = tiered.load_module, []

    def broken(entries, nodes, code):
        calls.append(1)
        raise error

    monkeypatch.setattr(tiered, "load_module", broken)
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) - 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not wait_native(f, timeout=60)  # returns: ready is set although the build raised
    assert f._program.ready.is_set() and f._program.error is error and calls == [1]
    assert any("failed to build" in str(w.message) for w in caught)
    np.testing.assert_allclose(f(V), 2 * V - 1)  # perform (2x): the NumPy tier
    monkeypatch.setattr(tiered, "load_module", real)
    g = labsym.function([x], WrongC()(x) + 5)  # the same worker thread builds the next one
    assert wait_native(g, timeout=120)
    np.testing.assert_allclose(g(V), 3 * V + 5)


def test_a_failing_swap_still_sets_ready(fresh_cache, monkeypatch):
    from labsym.backends.c import tiered

    def broken_swap(self, lib, seconds):
        raise RuntimeError("swap broke")

    monkeypatch.setattr(tiered.TieredProgram, "_swap", broken_swap)
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) * 7)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert not wait_native(f, timeout=30)
    assert f._program.ready.is_set() and "swap broke" in str(f._program.error)
    np.testing.assert_allclose(f(V), 14 * V)


def test_profiled_tiered_calls_time_c_nodes_once(fresh_cache):
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x), profile=True)
    raw = f.raw_call()  # generated before the swap: it times its statements in Python
    assert wait_native(f, timeout=120)
    stats = f.profile
    assert stats.timed_in_c == {0}
    before = stats.node_times[0]
    np.testing.assert_array_equal(f(V), 3 * V)  # the new call: the C thunk adds its own time
    after_call = stats.node_times[0]
    assert after_call > before and stats.node_calls[0] >= 1
    raw(f, V)  # the early call's thunk is unbound: only its Python timing adds
    thunk = raw.__globals__["_f0"]
    assert type(thunk).__name__ == "builtin_function_or_method" and thunk.__self__[1] is None
    assert stats.node_times[0] > after_call


def _in_child(body) -> int:
    """Run body() in a forked child; its exit status (1 if it raised, 2 if it hung 120 s)."""
    import time

    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            code = 0 if body() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return 2


def test_a_fork_while_a_build_holds_the_locks_builds_in_the_child(fresh_cache):
    from labsym.backends.c import module, tiered

    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) * 5)
    build_lock, queue_lock = module._BUILD_LOCK, tiered._QUEUE.mutex
    with build_lock:  # as a background build holding it at the fork
        f._program.start()  # queued: the worker blocks on the build lock
        with queue_lock:

            def child() -> bool:
                g = labsym.function([x], WrongC()(x) - 1, mode=Mode(linker="c|py"))
                h = labsym.function([x], WrongC()(x) + 9)
                return (
                    np.array_equal(g(V), 3 * V - 1)
                    and wait_native(h, timeout=60)
                    and np.array_equal(h(V), 3 * V + 9)
                    and wait_native(f, timeout=60)  # the parent's pending build, redone
                    and np.array_equal(f(V), 15 * V)
                )

            assert _in_child(child) == 0
    assert wait_native(f, timeout=120)  # the parent's own build goes on once released
    np.testing.assert_array_equal(f(V), 15 * V)


def test_a_tiered_function_renders_its_module_once(fresh_cache, monkeypatch):
    from labsym.backends.c import module, tiered

    rendered = []

    def counting(entries):
        rendered.append(len(entries))
        return real(entries)

    real = module.render_module
    monkeypatch.setattr(module, "render_module", counting)
    monkeypatch.setattr(tiered, "render_module", counting)
    x = T.dvector("x")
    f = labsym.function([x], WrongC()(x) * 6)  # digest, cache lookup, build, cache key
    assert isinstance(f._program, TieredProgram) and wait_native(f, timeout=120)
    np.testing.assert_array_equal(f(V), 18 * V)
    assert len(rendered) == 1
