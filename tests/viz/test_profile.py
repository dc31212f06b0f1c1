"""Profiles as Theano printed them (summary text, at-exit report) and as HTML tables."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import labsym
import labsym.compile as compile_module
import labsym.tensor as T
from labsym.config import config
from labsym.core import profiling
from labsym.core.profiling import ProfileStats
from labsym.viz.profile import heat, profile_html, table_rows

# Theano 1.0's column formats (theano/compile/profiling.py), used as the oracle
THEANO_CLASS = " ".join(
    ["  %4.1f%% ", " %5.1f%% ", "   %7.3fs ", "     %8.2es ", "   %2s ", "%6d  ", " %4d  ", "%s"]
)
THEANO_OPS = " ".join(
    ["  %4.1f%% ", " %5.1f%% ", "   %7.3fs ", "     %8.2es ", "   %2s ", "  %4d  ", "  %4d  ", "%s"]
)
THEANO_APPLY = " ".join(
    ["  %4.1f%% ", " %5.1f%% ", "   %7.3fs ", "     %8.2es ", " %4d  ", "%3d", "%s", "%s", "%s"]
)
MUL = "Elemwise{mul,no_inplace}(Elemwise{exp,no_inplace}.0, TensorConstant{(1,) of 2})"


@pytest.fixture
def demo(monkeypatch):
    """A called, profiled 3-node function whose recorded times are then fixed by hand."""
    monkeypatch.setattr(profiling, "IMPORTED_AT", 87.5)
    monkeypatch.setattr(profiling, "time", types.SimpleNamespace(time=lambda: 100.0))
    x = T.dvector("x")
    f = labsym.function(
        [x], [T.exp(x) * 2, T.exp(x).sum()], name="demo", profile=True, mode="FAST_COMPILE"
    )
    f(np.ones(3))
    f(np.ones(3))
    stats = f.profile
    stats.node_times[:] = [0.003, 0.006, 0.001]  # exp, mul, sum
    stats.call_time, stats.compile_time = 0.02, 0.5
    stats.optimizer_time, stats.linker_time = 0.2, 0.1
    return f


def test_summary_prints_theano_layout_exactly(demo):
    out = io.StringIO()
    text = demo.profile.summary(file=out)
    elemwise, sum_class = "labsym.core.ops.elemwise.Elemwise", "labsym.core.ops.reduce.Sum"
    expected = [
        "Function profiling",
        "==================",
        "  Message: demo",
        "  Time in 2 calls to Function.__call__: 2.000000e-02s",
        "  Time in Function.fn.__call__: 2.000000e-02s (100.000%)",
        "  Time in thunks: 1.000000e-02s (50.000%)",
        "  Total compile time: 5.000000e-01s",
        "    Number of Apply nodes: 3",
        "    Theano Optimizer time: 2.000000e-01s",
        "       Theano validate time: 0.000000e+00s",
        "    Theano Linker time (includes C, CUDA code generation/compiling): 1.000000e-01s",
        "       Import time 0.000000e+00s",
        "       Node make_thunk time 1.000000e-01s",
        "",
        "Time since theano import 12.500s",
        "Class",
        "---",
        "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> <Class name>",
        THEANO_CLASS % (90.0, 90.0, 0.009, 0.00225, "Py", 4, 2, elemwise),
        THEANO_CLASS % (10.0, 100.0, 0.001, 0.0005, "Py", 2, 1, sum_class),
        "   ... (remaining 0 Classes account for   0.00%(0.00s) of the runtime)",
        "",
        "Ops",
        "---",
        "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> <Op name>",
        THEANO_OPS % (60.0, 60.0, 0.006, 0.003, "Py", 2, 1, "Elemwise{mul,no_inplace}"),
        THEANO_OPS % (30.0, 90.0, 0.003, 0.0015, "Py", 2, 1, "Elemwise{exp,no_inplace}"),
        THEANO_OPS % (10.0, 100.0, 0.001, 0.0005, "Py", 2, 1, "Sum{acc_dtype=float64}"),
        "   ... (remaining 0 Ops account for   0.00%(0.00s) of the runtime)",
        "",
        "Apply",
        "------",
        "<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>",
        THEANO_APPLY % (60.0, 60.0, 0.006, 0.003, 2, 1, "", "", MUL),
        THEANO_APPLY % (30.0, 90.0, 0.003, 0.0015, 2, 0, "", "", "Elemwise{exp,no_inplace}(x)"),
        THEANO_APPLY
        % (10.0, 100.0, 0.001, 0.0005, 2, 2, "", "", "Sum{acc_dtype=float64}(Elemwise{exp,"
           "no_inplace}.0)"),
        "   ... (remaining 0 Apply instances account for 0.00%(0.00s) of the runtime)",
        "",
    ]  # fmt: skip
    assert out.getvalue() == "\n".join(expected) + "\n"
    assert text == "\n".join(expected)
    # the Class row as literal text, so the oracle's format strings are checked too
    assert expected[18] == (
        "  90.0%    90.0%       0.009s       2.25e-03s     Py       4       2   " + elemwise
    )


def test_summary_cuts_rows_and_counts_the_rest(demo):
    lines = demo.profile.summary(file=io.StringIO(), n_ops_to_print=1, n_apply_to_print=2)
    lines = lines.split("\n")
    assert "   ... (remaining 1 Classes account for  10.00%(0.00s) of the runtime)" in lines
    assert "   ... (remaining 2 Ops account for  40.00%(0.00s) of the runtime)" in lines
    assert "   ... (remaining 1 Apply instances account for 10.00%(0.00s) of the runtime)" in lines
    assert sum(line.startswith("  60.0%") for line in lines) == 2  # mul: Ops and Apply rows


def test_summary_defaults_to_stderr_and_shows_nothing_more_in_ipython(demo, capsys):
    text = demo.profile.summary()
    assert capsys.readouterr().err == text + "\n"
    assert "Function profiling" in text  # Theano programs test the summary this way
    assert text._ipython_display_() is None  # the printed report is not shown twice


def test_uncalled_and_untimed_profiles():
    stats = ProfileStats(name="idle")
    assert "Class" not in stats.summary(file=io.StringIO())
    stats.call_count = 3
    assert stats.summary(file=io.StringIO()).endswith(
        "  No execution time accumulated (hint: try config profiling.time_thunks=1)"
    )


def test_rows_by_rejects_unknown_views():
    with pytest.raises(ValueError, match="rows_by\\(key\\) takes 'class', 'op' or 'apply'"):
        ProfileStats().rows_by("node")


def test_apply_rows_carry_the_last_calls_output_shapes():
    x = T.dmatrix("x")
    f = labsym.function([x], (x * 2).sum(axis=0), profile=True, mode="FAST_COMPILE")
    by_id = sorted(f.profile.rows_by("apply"), key=lambda r: r.node_id)
    assert [r.shapes for r in by_id] == ["(None, None)", "(None,)"]  # before any call: types
    f(np.ones((3, 4)))
    by_id = sorted(f.profile.rows_by("apply"), key=lambda r: r.node_id)
    assert [r.shapes for r in by_id] == ["(3, 4)", "(4,)"]


def _profiled(name: str, calls: int) -> ProfileStats:
    x = T.dvector("x")
    f = labsym.function([x], T.exp(x), name=name, profile=True)
    for _ in range(calls):
        f(np.ones(2))
    return f.profile


def test_profiles_print_at_exit_under_the_profile_flag_only(monkeypatch, capsys):
    monkeypatch.setattr(compile_module, "_PROFILED", [])
    used, unused = _profiled("used", 2), _profiled("unused", 0)
    quiet = ProfileStats(name="quiet", atexit_print=False)
    x = T.dvector("x")
    labsym.function([x], x + 1, profile=quiet)(np.ones(2))
    # profile=True is enough to be listed, as in Theano; atexit_print=False is not
    assert [id(p) for p in compile_module._PROFILED] == [id(used), id(unused)]
    compile_module._print_profiles_at_exit()
    assert capsys.readouterr() == ("", "")  # profile flag unset: nothing at exit
    with config.change_flags(profile=True):
        compile_module._print_profiles_at_exit()
    out, err = capsys.readouterr()
    assert out == "Skipping empty Profile\n"
    assert err.startswith("Function profiling\n==================\n  Message: used\n")
    assert "Message: unused" not in err and "Message: quiet" not in err


def test_several_profiles_at_exit_end_with_their_sum(monkeypatch):
    monkeypatch.setattr(compile_module, "_PROFILED", [])
    first, second = _profiled("first", 1), _profiled("second", 3)
    out = io.StringIO()
    compile_module.print_profiles(out)
    reports = out.getvalue().split("Function profiling\n")[1:]
    assert len(reports) == 3
    total = reports[2]
    assert "Message: Sum of all(2) printed profiles at exit excluding Scan op profile." in total
    assert "Time in 4 calls to Function.__call__" in total
    assert f"Number of Apply nodes: {len(first.nodes) + len(second.nodes)}" in total


def test_profiling_destination_flag_writes_a_file(monkeypatch, tmp_path):
    monkeypatch.setattr(compile_module, "_PROFILED", [])
    _profiled("to_file", 1)
    target = tmp_path / "profile.txt"
    with config.change_flags(profiling__destination=str(target)):
        compile_module.print_profiles()
    assert target.read_text().startswith("Function profiling\n")


def test_html_tables_hold_theanos_three_views(demo):
    stats = demo.profile
    page = profile_html(stats)
    for caption in (
        "<caption>Class</caption>",
        "<caption>Ops</caption>",
        "<caption>Apply</caption>",
    ):
        assert caption in page
    header = (
        "<th>% time</th><th>sum %</th><th>apply time (s)</th><th>time per call (s)</th>"
        "<th>#call</th><th>id</th><th>output shapes</th><th>Apply name</th>"
    )
    assert header in page
    assert table_rows(stats, "op") == [
        [60.0, 60.0, "6.000e-03", "3.000e-03", "Py", 2, 1, "Elemwise{mul,no_inplace}"],
        [30.0, 90.0, "3.000e-03", "1.500e-03", "Py", 2, 1, "Elemwise{exp,no_inplace}"],
        [10.0, 100.0, "1.000e-03", "5.000e-04", "Py", 2, 1, "Sum{acc_dtype=float64}"],
    ]
    assert table_rows(stats, "apply")[0] == [
        60.0, 60.0, "6.000e-03", "3.000e-03", 2, 1, "(3,)", MUL
    ]  # fmt: skip
    assert "<td>Elemwise{mul,no_inplace}(Elemwise{exp,no_inplace}.0, " in page


def test_heat_is_each_nodes_share_of_the_time(demo):
    from labsym.viz.graphjson import graph_json

    stats = demo.profile
    doc = graph_json(stats.fgraph, profile=stats)
    shares = heat(stats, doc)
    ops = {row["id"]: row["op"] for row in doc["nodes"] if row["kind"] == "apply"}
    assert {ops[k]: round(v, 6) for k, v in shares.items()} == {
        "Elemwise{exp,no_inplace}": 0.3,
        "Elemwise{mul,no_inplace}": 0.6,
        "Sum{acc_dtype=float64}": 0.1,
    }


def _run_script(flags: str) -> subprocess.CompletedProcess:
    script = (
        "import numpy as np, labsym, labsym.tensor as T\n"
        "x = T.dvector('x')\n"
        "f = labsym.function([x], T.exp(x), name='at_exit', profile=True)\n"
        "f(np.ones(2))\n"
    )
    env = {**os.environ, "LABSYM_FLAGS": flags}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_profile_flag_prints_profiles_when_the_program_exits():
    done = _run_script("profile=True")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("Function profiling\n==================\n  Message: at_exit\n")
    assert "  Time in 1 calls to Function.__call__: " in done.stderr
    quiet = _run_script("")
    assert quiet.returncode == 0 and quiet.stderr == ""  # profile=True alone: Theano stays quiet
