"""The notebook widgets driven from Python: RewriteStepper, TrainingMonitor, NodeInspector."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.magics.widgets import NodeInspector, RewriteStepper, TrainingMonitor
from labsym.magics.widgets.monitor import format_duration, line_chart_svg

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- TrainingMonitor ---------------------------------------------------------------------
def _clocked(monitor: TrainingMonitor, times: list[float]) -> None:
    """Make the monitor read time from `times[0]` (set by the test), starting at 0."""
    monitor._start = 0.0
    monitor._now = lambda: times[0]


def test_monitor_widget_shows_progress_rate_eta_and_values():
    monitor = TrainingMonitor(total=10, title="logistic", frontend="widget")
    clock = [0.0]
    _clocked(monitor, clock)
    for step in range(1, 5):
        clock[0] = step * 0.5
        monitor.update(step, cost=1.0 / step, acc=step / 8)
    assert monitor._progress.value == 4.0
    assert monitor._status.value == "step 4/10 (40%) · 2 steps/s · elapsed 00:02 · ETA 00:03"
    assert monitor._values.value == "cost=0.25, acc=0.5"
    assert monitor.latest == {"cost": 0.25, "acc": 0.5}
    assert monitor.series["cost"] == [(1, 1.0), (2, 0.5), (3, 1 / 3), (4, 0.25)]
    chart = monitor._chart.value
    assert chart.startswith("<svg") and chart.count("<polyline") == 2
    assert "cost = 0.25" in chart and "acc = 0.5" in chart
    assert monitor._title.value == "<b>logistic</b>"
    bundle = monitor._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].endswith(chart) and "<p>step 4/10 (40%)" in bundle["text/html"]
    assert bundle["text/plain"].startswith("<TrainingMonitor 'logistic': step 4/10 (40%)")


def test_monitor_redraws_every_n_updates_and_on_close():
    monitor = TrainingMonitor(total=100, frontend="widget", every=3)
    for step in range(1, 5):
        monitor.update(step, cost=float(step))
    assert monitor._progress.value == 3.0  # drawn at update 3, not yet at 4
    assert monitor._values.value == "cost=3"
    monitor.close()
    assert monitor._progress.value == 4.0 and monitor._values.value == "cost=4"
    assert monitor._progress.bar_style == "success"
    with pytest.raises(RuntimeError, match="update after close"):
        monitor.update(5, cost=1.0)


def test_monitor_context_manager_and_failure_colour():
    with TrainingMonitor(total=3, frontend="widget") as monitor:
        monitor.update(cost=np.float32(2.0))  # step defaults to previous + 1
        monitor.update(cost=np.array(1.0))
    assert monitor.closed and monitor.step == 2 and monitor.latest == {"cost": 1.0}
    with pytest.raises(ZeroDivisionError), TrainingMonitor(total=3, frontend="widget") as failing:
        failing.update(cost=1.0)
        raise ZeroDivisionError
    assert failing._progress.bar_style == "danger"


def test_monitor_escapes_names_and_title():
    monitor = TrainingMonitor(title=HOSTILE, frontend="widget")
    monitor.update(1, **{HOSTILE: 1.0})
    monitor.update(2, **{HOSTILE: 2.0})
    assert ESCAPED in monitor._chart.value and HOSTILE not in monitor._chart.value
    assert monitor._title.value == f"<b>{ESCAPED}</b>"
    assert monitor._status.value.startswith("step 2 · ")  # no total: no percentage, no ETA
    assert "ETA" not in monitor._status.value


def test_monitor_terminal_fallback_is_a_tqdm_bar():
    out = io.StringIO()
    monitor = TrainingMonitor(total=3, title="train", file=out)
    assert monitor.frontend == "text"  # pytest is no Jupyter kernel
    for step in range(1, 4):
        monitor.update(step, cost=1.0 / step)
    monitor.close()
    text = out.getvalue()
    assert "train: 100%" in text and "3/3" in text
    assert "cost=0.3333" in text
    assert monitor.widget is None


def test_monitor_in_a_kernel_is_a_widget_shown_at_once(monkeypatch):
    import IPython
    import IPython.display

    class FakeKernelShell:
        kernel = object()

    class FakeHandle:
        def __init__(self) -> None:
            self.updates: list = []

        def update(self, obj) -> None:
            self.updates.append(obj._repr_mimebundle_())

    shown, handle = [], FakeHandle()

    def display(obj, display_id=False):
        shown.append((obj, display_id))
        return handle

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    monkeypatch.setattr(IPython.display, "display", display)
    with TrainingMonitor(total=2) as monitor:
        assert monitor.frontend == "widget" and shown == [(monitor, True)]
        assert monitor._bar is None
        monitor.update(cost=3.0)
        monitor.update(cost=2.0)
    # the output is replaced at the end: the saved notebook keeps the final chart
    [final] = handle.updates
    assert "application/vnd.jupyter.widget-view+json" in final
    assert "step 2/2 (100%)" in final["text/html"] and "cost = 2</text>" in final["text/html"]


def test_monitor_in_a_kernel_without_ipywidgets_prints_a_text_bar(monkeypatch):
    import IPython

    class FakeKernelShell:
        kernel = object()

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    out = io.StringIO()
    monitor = TrainingMonitor(total=2, file=out)
    assert monitor.frontend == "text" and monitor.widget is None
    monitor.close()
    assert "0/2" in out.getvalue()


def test_monitor_without_tqdm_prints_plain_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    out = io.StringIO()
    monitor = TrainingMonitor(total=4, title="run", every=2, file=out)
    clock = [0.0]
    _clocked(monitor, clock)
    for step in range(1, 5):
        clock[0] = float(step)
        monitor.update(step, cost=10.0 - step)
    assert out.getvalue().splitlines() == [
        "run: step 2/4 (50%) · 1 steps/s · elapsed 00:02 · ETA 00:02 · cost=8",
        "run: step 4/4 (100%) · 1 steps/s · elapsed 00:04 · ETA 00:00 · cost=6",
    ]


def test_monitor_bad_arguments():
    with pytest.raises(ValueError, match="total must be a positive int or None, got 0"):
        TrainingMonitor(total=0)
    with pytest.raises(ValueError, match="frontend must be one of"):
        TrainingMonitor(frontend="browser")
    with pytest.raises(ValueError, match="every must be a positive int"):
        TrainingMonitor(every=0)
    monitor = TrainingMonitor(frontend="widget")
    with pytest.raises(TypeError, match="update: acc must be a number"):
        monitor.update(1, acc="high")


def test_line_chart_coordinates_and_nan_gap():
    svg = line_chart_svg({"cost": [(0, 1.0), (5, float("nan")), (10, 3.0)]})
    # plot area x 56..472, y 18..102; the NaN is left out of the line, the label shows the last
    assert 'points="56.0,102.0 472.0,18.0"' in svg
    assert "cost = 3</text>" in svg
    assert 'height="120"' in svg


def test_format_duration_as_tqdm():
    assert format_duration(65) == "01:05"
    assert format_duration(3725) == "1:02:05"


def test_widgets_import_without_ipywidgets_and_monitor_is_exported():
    code = (
        "import sys, labsym.magics.widgets as w; assert 'ipywidgets' not in sys.modules; "
        "import labsym.magics as m; assert m.TrainingMonitor is w.TrainingMonitor"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- NodeInspector -------------------------------------------------------------------------
def test_inspector_finds_first_inf_then_nan_of_log_x_times_x():
    x = T.dvector("x")
    f = labsym.function([x], T.log(x) * x, mode="FAST_COMPILE")
    inspector = NodeInspector(f, [0.0, 1.0, np.e])
    rows = inspector.rows
    assert [(r.index, r.node) for r in rows] == [
        (None, "input"),
        (0, "Elemwise{log,no_inplace}"),
        (1, "Elemwise{mul,no_inplace}"),
    ]
    assert (rows[0].shape, rows[0].dtype, rows[0].min, rows[0].max) == ((3,), "float64", 0.0, np.e)
    log_row, mul_row = rows[1], rows[2]
    assert (log_row.nan, log_row.inf) == (0, 1)  # log(0) = -inf comes first
    assert (log_row.min, log_row.max, log_row.mean) == (0.0, 1.0, 0.5)  # over finite entries
    assert (mul_row.nan, mul_row.inf) == (1, 0)  # -inf * 0 = nan
    assert inspector.first_bad is log_row
    assert str(inspector.first_bad_node.op) == "Elemwise{log,no_inplace}"
    assert inspector.summary().startswith(
        "3 values, 2 with NaN/Inf; first at node 0: Elemwise{log,no_inplace} -> "
    )
    np.testing.assert_allclose(inspector.outputs[0][1:], [0.0, np.e])
    text = str(inspector)
    assert text.splitlines()[3].endswith("<-- first NaN/Inf")


def test_inspector_on_the_fused_graph():
    x = T.dvector("x")
    f = labsym.function([x], T.log(x) * x)  # FAST_RUN fuses log and mul into one Composite
    inspector = NodeInspector(f, [0.0, 2.0])
    assert "Composite" in inspector.first_bad.node
    assert (inspector.first_bad.nan, inspector.first_bad.inf) == (1, 0)


def test_inspector_leaves_shared_variables_and_inputs_alone():
    x = T.dvector("x")
    w = labsym.shared(np.array([1.0, 2.0]), name="w")
    counter = labsym.shared(np.int64(0), name="counter")
    f = labsym.function([x], x * w, updates=[(w, w * 2), (counter, counter + 1)])
    given = np.array([3.0, 4.0])
    inspector = NodeInspector(f, given)
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])
    assert counter.get_value() == 0
    np.testing.assert_array_equal(given, [3.0, 4.0])
    assert [r.node for r in inspector.rows[:3]] == ["input", "shared", "shared"]
    np.testing.assert_array_equal(inspector.outputs[0], [3.0, 8.0])
    np.testing.assert_array_equal(inspector.outputs[1], [2.0, 4.0])  # w's update, not committed
    assert inspector.first_bad is None
    assert inspector.summary().endswith("all finite")
    np.testing.assert_array_equal(f(given), [3.0, 8.0])  # the function itself still works


def test_inspector_keeps_values_that_inplace_nodes_overwrite():
    x = T.dvector("x")
    mode = labsym.Mode(optimizer="fast_run", excluding=["fusion"]).including("inplace")
    f = labsym.function([x], T.log(T.exp(x) * 1.0) + 1, mode=mode)
    inspector = NodeInspector(f, [0.0, 1.0])
    ops = [r.node for r in inspector.rows]
    assert ops == [
        "input",
        "Elemwise{exp,no_inplace}",
        "Elemwise{Log}[(0, 0)]",
        "Elemwise{Add}[(0, 0)]",
    ]
    exp_var, log_var = (node.outputs[0] for node in inspector.nodes[1:3])
    np.testing.assert_allclose(inspector.values[exp_var], [1.0, np.e])  # Log overwrote it
    np.testing.assert_allclose(inspector.values[log_var], [0.0, 1.0])  # Add overwrote it
    np.testing.assert_allclose(inspector.outputs[0], [1.0, 2.0])


def test_inspector_checks_inputs_like_a_call():
    x = T.dvector("x")
    f = labsym.function([x], x + 1)
    with pytest.raises(TypeError, match="Bad input argument x at index 0"):
        NodeInspector(f, [[1.0]])
    with pytest.raises(TypeError, match="missing required input x"):
        NodeInspector(f)
    with pytest.raises(TypeError, match="needs a compiled labsym function"):
        NodeInspector(x + 1, [1.0])
    assert NodeInspector(f, x=[1.0]).outputs[0].tolist() == [2.0]


def test_inspector_html_escapes_and_marks_the_first_bad_row():
    x = T.dvector(HOSTILE)
    f = labsym.function([x], T.log(x) * x, mode="FAST_COMPILE")
    html = NodeInspector(f, [0.0]).html()
    assert HOSTILE not in html and f"<td>{ESCAPED}</td>" in html
    assert '<tr style="background:#fdd"><td>0</td><td>Elemwise{log,no_inplace}</td>' in html
    assert html.count("background:#fdd") == 1


def test_inspector_graph_highlights_the_bad_node():
    x = T.dvector("x")
    f = labsym.function([x], T.log(x) * x, mode="FAST_COMPILE")
    inspector = NodeInspector(f, [0.0])
    graph = inspector.graph_svg()
    assert graph is not None  # graphviz-pure is in the jupyter extra
    assert graph.count('fill="#ff0000"') == 1  # only the log node is red
    children = inspector.widget.children
    assert children[0].value == inspector.html()
    assert children[1].value.startswith("<svg")
    bundle = inspector._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith(inspector.html()) and "<svg" in bundle["text/html"]
    assert bundle["text/plain"] == str(inspector)


# --- RewriteStepper ------------------------------------------------------------------------
def _log1p_function(name: str = "x", **kwargs):
    x = T.dvector(name)
    return labsym.function([x], T.log(1 + x), **kwargs)


def test_stepper_over_a_history_mode_function():
    f = _log1p_function(mode=labsym.Mode().with_history())
    stepper = RewriteStepper(f)
    rules = [r.rule for r in stepper.records]
    assert rules[-1] == "log1p_from_log"
    last = len(stepper) - 1
    page = stepper.html(last)
    assert f"<b>step {last + 1}/{len(stepper)}</b>" in page
    assert "rule <code>log1p_from_log</code>" in page
    assert "math: <code>log(1 + x) -&gt; log1p(x)</code>" in page
    assert "Elemwise{log1p,no_inplace}(x)" in page
    assert page.count("<svg") == 2 and "<?xml" not in page
    assert 'fill="#ff0000"' in page  # removed / added nodes are highlighted


def test_stepper_recompiles_a_function_without_history():
    from labsym.compile import _PROFILED

    f = _log1p_function(profile=True)
    profiles = len(_PROFILED)
    stepper = RewriteStepper(f)
    assert f.maker.fgraph.history is None  # the user's function is untouched
    assert len(_PROFILED) == profiles  # and the copy is not profiled
    assert "log1p_from_log" in [r.rule for r in stepper.records]


def test_stepper_widget_follows_slider_and_buttons():
    stepper = RewriteStepper(_log1p_function())
    widget = stepper.widget
    assert widget.children[1].value == stepper.html(0)
    stepper._slider.value = 1
    assert stepper.index == 1 and stepper._view.value == stepper.html(1)
    stepper._next.click()
    assert stepper.index == 2 and stepper._view.value == stepper.html(2)
    stepper._prev.click()
    stepper._prev.click()
    stepper._prev.click()  # stops at the first step
    assert stepper.index == 0
    stepper.go(len(stepper) - 1)
    assert stepper._slider.value == len(stepper) - 1
    assert stepper._play.max == len(stepper) - 1
    with pytest.raises(IndexError, match="out of range"):
        stepper.go(len(stepper))


def test_stepper_and_inspector_drawings_escape_names():
    f = _log1p_function(HOSTILE)
    stepper = RewriteStepper(f)
    pages = [stepper.html(i) for i in range(len(stepper))]
    assert all(HOSTILE not in page for page in pages)
    assert any(ESCAPED in page and "<svg" in page for page in pages)
    bundle = NodeInspector(f, [0.0])._repr_mimebundle_()
    assert HOSTILE not in bundle["text/html"] and ESCAPED in bundle["text/html"]


def test_stepper_escapes_names_and_falls_back_to_text(monkeypatch):
    import labsym.viz.graphviz as graphviz

    monkeypatch.setattr(graphviz, "svg", lambda *a, **k: None)  # as without any dot renderer
    stepper = RewriteStepper(_log1p_function(HOSTILE, mode=labsym.Mode().with_history()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = stepper.html(len(stepper) - 1)
    assert HOSTILE not in page and ESCAPED in page
    assert "<svg" not in page and "<pre>Elemwise{log1p,no_inplace}" in page


def test_stepper_without_ipywidgets_still_displays(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    stepper = RewriteStepper(_log1p_function())
    assert stepper._repr_mimebundle_() == {"text/plain": str(stepper), "text/html": stepper.html()}
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        _ = stepper.widget


def test_stepper_takes_a_function_graph():
    f = _log1p_function(mode=labsym.Mode().with_history())
    assert RewriteStepper(f.maker.fgraph).records == f.maker.fgraph.history
    with pytest.raises(ValueError, match="optimized without history"):
        RewriteStepper(_log1p_function().maker.fgraph)


def test_stepper_empty_history_and_bad_arguments():
    stepper = RewriteStepper([])
    assert stepper.html().startswith("<p>No rewrites were applied")
    assert stepper.widget.children[0].children[1].disabled
    with pytest.raises(TypeError, match="takes a compiled function, a FunctionGraph"):
        RewriteStepper(42)
    text = str(RewriteStepper(_log1p_function()))
    assert "log1p_from_log: Elemwise{log,no_inplace}" in text
