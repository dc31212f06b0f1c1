"""The tutorial notebooks in a real JupyterLab: run every cell in chromium, then check what the
user sees — the interactive graph, its tooltip, the profile legend, the widgets — and that the
page logged no error and opened no dialog."""

from __future__ import annotations

import re

from tests.browser.lab import LabTab

# every distinct state of the training monitor's chart (its polylines' points) while cells run
_WATCH_CHARTS = """() => {
  const states = window.__labsymChartStates = [];
  const record = () => {
    for (const svg of document.querySelectorAll('.widget-html-content svg')) {
      const lines = [...svg.querySelectorAll('polyline')].map(l => l.getAttribute('points'));
      const state = lines.join('|');
      if (lines.length && states[states.length - 1] !== state) states.push(state);
    }
  };
  new MutationObserver(record).observe(document.body,
      {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def _points(state: str) -> list[int]:
    """The number of points of each polyline of one chart state."""
    return [len(line.split()) for line in state.split("|")]


def test_training_monitor_plot_updates_while_training(tab: LabTab):
    """02: the monitor's chart is redrawn during the loop, each time with more points."""
    tab.open("02_more_examples.ipynb")
    tab.page.evaluate(_WATCH_CHARTS)
    tab.run_all()
    states = tab.page.evaluate("window.__labsymChartStates")
    counts = [_points(state) for state in states]
    # 300 steps drawn every 10: the user sees the lines grow, not only the final picture
    assert len(states) >= 3, f"the chart was drawn {len(states)} times: {counts}"
    costs = [c[0] for c in counts]
    assert costs == sorted(costs) and costs[0] < costs[-1], costs
    cell = tab.cell(tab.cell_index("TrainingMonitor("))
    # closed after the loop: the progress bar is full and green
    assert cell.locator(".widget-hprogress .progress-bar-success").count() == 1
    status = cell.locator(".widget-label", has_text="steps/s").text_content()
    assert re.match(r"step (\d+)/\1 \(100%\)", status), status
    label = cell.locator(".widget-html-content svg text").first.text_content()
    assert re.fullmatch(r"cost = [0-9.e+-]+", label), label
    tab.screenshot("02-training-monitor", cell)
    tab.assert_clean()


def _step_view(cell) -> tuple[str, str]:
    """(`step k/n` text, the drawing's markup) of a rewrite stepper's view."""
    view = cell.locator(".widget-html-content").last
    head = re.search(r"step \d+/\d+", view.text_content()).group(0)
    return head, view.inner_html()


def test_rewrite_stepper_steps_and_redraws(tab: LabTab):
    """07: the stepper's prev/next buttons and slider change the step and the drawn graphs."""
    tab.open("07_graph_rewrites.ipynb")
    tab.run_all()
    cell = tab.cell(tab.cell_index("stepper = RewriteStepper(g)"))
    head, before = _step_view(cell)
    total = int(head.split("/")[1])
    assert head == f"step {total}/{total}" and total >= 2  # the cell went to the last step
    assert cell.locator(".widget-html-content svg").count() >= 1, "the step draws no graph"
    cell.get_by_role("button", name="◀ prev").click()
    tab.page.wait_for_function(
        "([el, old]) => !el.textContent.includes(old)",
        arg=[cell.locator(".widget-html-content").last.element_handle(), head],
    )
    head_after, after = _step_view(cell)
    assert head_after == f"step {total - 1}/{total}"
    assert after != before, "stepping back left the drawing unchanged"
    assert cell.locator(".widget-slider .widget-readout").text_content() == str(total - 2)
    tab.screenshot("07-rewrite-stepper", cell)
    cell.get_by_role("button", name="next ▶").click()
    tab.page.wait_for_function(
        "([el, old]) => !el.textContent.includes(old)",
        arg=[cell.locator(".widget-html-content").last.element_handle(), head_after],
    )
    assert _step_view(cell) == (head, before), "next did not bring the last step back"
    tab.assert_clean()
