"""Smoke tests of benchmarks/: tiny versions of every case builder still build, run and agree.

No timing assertions; the benchmarks' own NumPy cross-checks run on tiny sizes.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np
import pytest

import benchmarks
from benchmarks import cases, fusion, lenet, optimizer, run
from benchmarks.timing import Timing, interleaved, time_call

TINY_LAYERS = (12, 6, 3)


def test_time_call_and_interleaved_report_each_case_in_order() -> None:
    calls = {"a": 0, "b": 0}

    def counter(key):
        def fn():
            calls[key] += 1

        return fn

    timing = time_call("a", counter("a"), min_time=1e-4, repeats=3)
    assert timing.label == "a" and 0 < timing.best <= timing.median
    rows = interleaved(
        [("b", counter("b")), ("a", counter("a"))], rounds=2, min_time=1e-4, repeats=2
    )
    assert [r.label for r in rows] == ["b", "a"]
    assert calls["b"] >= 2 * 3 and "1.00x" in rows[0].row(rows[0])


def test_cases_add_and_logistic_step_match_numpy() -> None:
    a, b = np.arange(4.0), np.ones(4)
    np.testing.assert_array_equal(cases.add_labsym(a, b)(), a + b)
    rng = np.random.default_rng(0)
    n = cases.N  # logistic_numpy divides by cases.N, so the batch has that many rows
    X, y, w0 = rng.standard_normal((n, 5)), rng.integers(0, 2, n).astype("float64"), np.ones(5)
    reference, labsym_step = cases.logistic_numpy(X, y, w0), cases.logistic_labsym(X, y, w0)
    for _ in range(2):  # the second step checks the updates too
        expected, got = reference(), labsym_step()
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-10)


def test_fusion_candidates_agree_with_numpy_on_a_short_vector() -> None:
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal(50) for _ in range(3))
    found = dict(fusion.candidates(x, y, z))  # each is checked against NumPy inside
    assert {"numpy hand-written", "labsym FAST_RUN (fused)", "labsym without fusion"} <= set(found)


def test_lenet_labsym_step_matches_numpy_on_a_tiny_net() -> None:
    net = lenet.Net("tiny", 2, 2, 4)
    images, labels, params = lenet.make_data(net)
    reference = lenet.numpy_step(images, labels, params)
    labsym_step = lenet.labsym_step(images, labels, params, net)
    losses = np.array([[reference(), reference()], [labsym_step(), labsym_step()]])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)


def test_mlp_steps_agree_and_learn() -> None:
    x, y = optimizer.mlp_data(8, TINY_LAYERS[0], TINY_LAYERS[2])
    steps = dict(optimizer.mlp_steps(x, y, optimizer.mlp_params(TINY_LAYERS)))
    assert {"numpy hand-written step", "labsym FAST_RUN"} <= set(steps)
    first = steps["labsym FAST_RUN"]()
    later = [steps["labsym FAST_RUN"]() for _ in range(20)][-1]
    assert later < first  # SGD on a fixed batch lowers its loss


def test_mlp_steps_reject_a_library_that_disagrees(monkeypatch) -> None:
    x, y = optimizer.mlp_data(4, TINY_LAYERS[0], TINY_LAYERS[2])
    monkeypatch.setattr(optimizer, "labsym_mlp_step", lambda *args, **kw: lambda: 123.0)
    with pytest.raises(AssertionError, match="labsym FAST_RUN losses"):
        optimizer.mlp_steps(x, y, optimizer.mlp_params(TINY_LAYERS))


def test_pytensor_library_is_found_exactly_when_installed() -> None:
    missing = importlib.util.find_spec("pytensor") is None
    assert (optimizer.pytensor_library() is None) == missing


def _tiny_mlp(lib):
    return optimizer.mlp_graph(lib, optimizer.mlp_params(TINY_LAYERS))


def test_rewrite_cases_shrink_the_training_graphs_and_are_timed() -> None:
    found = optimizer.rewrite_cases(_tiny_mlp)
    assert found[0].label == "labsym FAST_RUN"
    for case in found:
        before, after = optimizer.node_counts(case)
        assert 0 < after < before, case.label
    rows = optimizer.time_rewrites(found, rounds=1, repeats=1)
    assert [r.label for r in rows] == [c.label for c in found]
    assert all(isinstance(r, Timing) and r.best > 0 for r in rows)
    logistic = optimizer.labsym_rewrite_case(optimizer.logistic_graph(optimizer.labsym_library()))
    before, after = optimizer.node_counts(logistic)
    assert after < before


def test_labsym_compile_case_builds_a_working_function() -> None:
    label, compile_fn = optimizer.compile_cases(_tiny_mlp)[0]
    x, y = optimizer.mlp_data(4, TINY_LAYERS[0], TINY_LAYERS[2])
    train = compile_fn()
    assert label == "labsym FAST_RUN" and np.isfinite(train(x, y)[0])


def test_run_selects_sections_in_pipeline_order(monkeypatch) -> None:
    assert run.selected(run.parse_args([]).only) == list(run.SECTIONS)
    assert run.selected(run.parse_args(["--only", "rnn", "fusion"]).only) == ["fusion", "rnn"]
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "nonsense"])
    seen = []
    for name in run.SECTIONS:
        monkeypatch.setitem(
            run.SECTIONS, name, lambda rounds, name=name: seen.append((name, rounds))
        )
    run.main(["--only", "mlp", "optimizer", "--rounds", "2"])
    assert seen == [("optimizer", 2), ("mlp", 2)]


def test_lenet_section_passes_its_rounds(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(lenet, "main", lambda rounds: seen.append(rounds))
    run.lenet_steps(4)
    assert seen == [4]


def test_rnn_section_runs_the_module_or_says_it_is_missing(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.delitem(sys.modules, "benchmarks.rnn", raising=False)
    monkeypatch.setattr(benchmarks, "__path__", [str(tmp_path)])  # a package without rnn.py
    run.rnn_steps(1)
    assert "rnn: skipped" in capsys.readouterr().out
    fake = types.ModuleType("benchmarks.rnn")
    fake.main = lambda rounds: print(f"rnn ran {rounds}")
    monkeypatch.setitem(sys.modules, "benchmarks.rnn", fake)
    run.rnn_steps(3)
    assert "rnn ran 3" in capsys.readouterr().out


@pytest.mark.skipif(
    importlib.util.find_spec("benchmarks.rnn") is None, reason="no benchmarks/rnn.py"
)
def test_rnn_module_exposes_main() -> None:
    rnn = importlib.import_module("benchmarks.rnn")
    assert callable(rnn.main)


# ---------------------------------------------------------------- the C-backend benchmarks
def test_c_backend_case_builders_agree_with_numpy_on_the_numpy_engine() -> None:
    from benchmarks import c_cases

    rng = np.random.default_rng(0)
    for dtype in ("float64", "float32"):
        x, y, z = (rng.standard_normal(30).astype(dtype) for _ in range(3))
        step, _ = c_cases.fused_labsym(x, y, z, "py")
        np.testing.assert_allclose(step(), c_cases.fused_numpy(x, y, z), rtol=1e-5)
    w, v = c_cases.hessian_data(6)
    step, _ = c_cases.hessian_labsym(w, v, "py")
    np.testing.assert_allclose(step(), c_cases.hessian_numpy(w, v)(), rtol=1e-10)
    for kind, (a, b, typ) in c_cases.call_inputs().items():
        for trust in (False, True):
            step, _ = c_cases.add_labsym(a, b, typ, "py", trust=trust)
            np.testing.assert_array_equal(step(), np.add(a, b), err_msg=kind)
    X, yv, w0 = cases.logistic_data()
    gemv, labels = c_cases.logistic_floor(X, yv, w0)()
    assert gemv.shape == (cases.N,) and labels.shape == (cases.FEATS,)


def test_c_backend_report_runs_and_writes_ratios(monkeypatch, tmp_path, capsys) -> None:
    from benchmarks import c_backend, c_cases

    monkeypatch.setattr(c_cases, "c_unavailable_reason", lambda: "disabled in the smoke test")
    monkeypatch.setattr(c_cases, "HESS_N", 5)
    monkeypatch.setattr(
        c_cases, "hessian_data", lambda n=5, seed=0: (np.eye(5) * 0.5, np.linspace(-1, 1, 5))
    )
    out = tmp_path / "report.md"
    c_backend.main(["--quick", "--only", "hessian", "calls", "--write", str(out)])
    text = out.read_text()
    assert "## hessian of sum(tanh(W @ x))" in text and "| hand-written NumPy |" in text
    assert "labsym C unavailable: disabled in the smoke test" in text
    assert text.count("## call overhead") == 4 and "1.00x" in text
    assert "labsym linker='py' (NumPy engine)" in capsys.readouterr().out


def test_c_backend_drops_a_candidate_that_disagrees() -> None:
    from benchmarks import c_backend

    notes: list[str] = []
    kept = c_backend._checked(
        [("good", lambda: np.ones(3)), ("bad", lambda: np.zeros(3)), ("absent", None)],
        np.ones(3),
        1e-9,
        notes,
    )
    assert [label for label, _ in kept] == ["good"] and "bad DROPPED" in notes[0]


def test_c_startup_child_reports_first_result_and_peak_rss() -> None:
    from benchmarks import c_startup

    for engine in ("numpy", "labsym-py"):
        numbers = c_startup._child(engine, batch=4)
        assert 0 < numbers["first"] < 60 and numbers["rss_mb"] > 10, engine


def test_c_backend_summary_judges_labsym_c_against_the_target() -> None:
    from benchmarks import c_backend

    c_label = "labsym linker='c|py' (C)"
    fast = c_backend.Table(
        "case",
        [Timing("JAX jit", 2e-3, 1e-3), Timing(c_label, 8e-4, 7e-4)],
        "JAX jit",
        "t",
        [],
        0.5,
    )
    slow = c_backend.Table("slow", [Timing(c_label, 3e-6, 3e-6)], c_label, "t", limit_s=2e-6)
    assert c_backend.verdict(fast) == ("800.00 us", "0.40x", "met")
    assert c_backend.verdict(slow)[2] == "NOT met"
    pair = ("labsym 'c|py', trust_input", "PyTensor CVM, trust_input")
    calls = c_backend.Table(
        "calls",
        [Timing(c_label, 1e-6, 1e-6), Timing(pair[0], 9e-7, 9e-7), Timing(pair[1], 8e-7, 8e-7)],
        c_label,
        "t",
        limit_s=2e-6,
        no_slower=pair,
    )
    assert c_backend.verdict(calls)[2] == "NOT met"  # under 2 us, but slower than PyTensor's
    text = c_backend.render_markdown([fast, slow], ["- header"])
    assert "| case | 800.00 us | 0.40x JAX jit | t | met |" in text
    assert "labsym linker='c\\|py' (C)" in text and "NOT met" in text  # pipes escaped in cells


def test_c_backend_shape_cases_agree_with_numpy_on_the_numpy_engine() -> None:
    from benchmarks import c_cases

    cases_ = c_cases.shape_cases(np.random.default_rng(0), rows=2000)
    for name, (kinds, expression, inputs, by_hand) in cases_.items():
        step, _ = c_cases.shape_labsym(kinds, expression, inputs, "py")
        np.testing.assert_allclose(step(), by_hand(*inputs), rtol=1e-6, err_msg=name)
