"""The tutorial notebooks in a real JupyterLab: run every cell in chromium, then check what the
user sees — the interactive graph, its tooltip, the profile legend, the widgets — and that the
page logged no error and opened no dialog."""

from __future__ import annotations

import re

from tests.browser.lab import (
    NODE,
    LabTab,
    drawn_ids,
    hover_shows_vector_a,
    shape_text,
    tooltip_rows,
)


def test_lab_loads_the_labsym_extension(tab: LabTab):
    """The page loads labsym-jupyter (this checkout's bundle) next to ipywidgets' manager."""
    names = tab.federated_extensions()
    assert "labsym-jupyter" in names and "@jupyter-widgets/jupyterlab-manager" in names, names
    tab.assert_clean()


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


REWRITES_MIME = "application/vnd.labsym.rewrites+json"


def _check_history_view(tab: LabTab) -> None:
    """`f.maker.fgraph.history` as the extension shows it: ▶ moves to the next rewrite, whose
    rule and before/after graphs (as sent by the kernel) are then on show."""
    index = tab.cell_index("f.maker.fgraph.history")
    (doc,) = [
        o["data"][REWRITES_MIME]
        for o in tab.cells()[index]["outputs"]
        if "data" in o and REWRITES_MIME in o["data"]
    ]
    view = tab.cell(index).locator(".labsym-rewrites")
    steps = doc["steps"]
    assert int(view.get_attribute("data-step-count")) == len(steps) >= 2
    for k in (0, 1):
        if k:
            view.locator("button.labsym-step-next").click()
        assert (
            view.locator(".labsym-step-position").text_content() == f"step {k + 1} of {len(steps)}"
        )
        assert view.get_attribute("data-step") == str(k)
        assert steps[k]["rule"] in view.locator(".labsym-step-rule").text_content()
        for side in ("before", "after"):
            graph = steps[k][f"{side}_graph"]
            pane = view.locator(f'.labsym-step-pane[data-side="{side}"]')
            if graph is not None:
                assert set(tab.node_ids(pane.locator(".labsym-graph"))) == drawn_ids(graph)
    tab.screenshot("07-rewrite-history-view", tab.cell(index))


def _step_view(cell) -> tuple[str, str]:
    """(`step k/n` text, the drawing's markup) of a rewrite stepper's view."""
    view = cell.locator(".widget-html-content").last
    head = re.search(r"step \d+/\d+", view.text_content()).group(0)
    return head, view.inner_html()


def test_rewrite_steppers_step_and_redraw(tab: LabTab):
    """07: the RewriteStepper widget's prev/next buttons change the step, its slider and the
    drawn graphs; so do the extension's own steps through a rewrite-history display."""
    tab.open("07_graph_rewrites.ipynb")
    tab.run_all()
    _check_history_view(tab)
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


def test_basics_graphs_draw_every_node_and_hover_shows_its_shape(tab: LabTab):
    """01: each graph the kernel sent is drawn interactively, box for box; hovering a
    variable shows its name and shape, as the JSON gives them."""
    tab.open("01_basics.ipynb")
    tab.run_all()
    checked = 0
    for cell in tab.cells():
        docs = tab.graph_docs(cell["index"]) if cell["type"] == "code" else []
        if not docs:
            continue
        for doc, graph in zip(docs, tab.rendered_graphs(cell["index"])):
            ids = tab.node_ids(graph)
            assert len(ids) == len(set(ids)) == len(drawn_ids(doc)), cell["source"]
            assert set(ids) == drawn_ids(doc)
            assert int(graph.get_attribute("data-node-count")) == len(ids)
            checked += 1
    assert checked >= 3, f"01_basics showed {checked} interactive graphs"

    index, graph, doc = hover_shows_vector_a(tab)
    tab.screenshot("01-graph-tooltip", tab.cell(index))
    _check_edge_hover_click_and_search(tab, graph, doc)
    tab.assert_clean()


# the screen point halfway along an edge's path (an edge's box centre may be off the curve)
_EDGE_MIDPOINT = """(g) => {
  const path = g.querySelector('path.labsym-edge-hit') || g.querySelector('path');
  const point = path.getPointAtLength(path.getTotalLength() / 2);
  const m = path.getScreenCTM();
  return {x: point.x * m.a + point.y * m.c + m.e, y: point.x * m.b + point.y * m.d + m.f};
}"""


def _reachable(doc: dict, start: str, along: str, to: str) -> set[str]:
    """The graph-JSON ids reachable from `start` following edges from their `along` end to
    their `to` end (target->source: ancestors)."""
    step: dict[str, set[str]] = {}
    for edge in doc["edges"]:
        step.setdefault(edge[along], set()).add(edge[to])
    seen, stack = set(), [start]
    while stack:
        for nxt in step.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _check_edge_hover_click_and_search(tab: LabTab, graph, doc: dict) -> None:
    """Hovering an edge shows the dtype and shape of the variable it carries; clicking a node
    highlights exactly its ancestors and descendants; the search box marks the ops that match."""
    rows_by_id = {r["id"]: r for r in doc["nodes"]}
    folded = {r["id"] for r in doc["nodes"]} - drawn_ids(doc)
    edge = graph.locator("g.labsym-edge[data-variable-id]")
    carried = edge.evaluate_all("gs => gs.map(g => g.getAttribute('data-variable-id'))")
    k = next(i for i, v in enumerate(carried) if v in folded)  # an intermediate result
    variable = rows_by_id[carried[k]]
    graph.scroll_into_view_if_needed()
    point = edge.nth(k).evaluate(_EDGE_MIDPOINT)
    tab.page.mouse.move(point["x"], point["y"])
    tooltip = graph.locator('.labsym-tooltip[data-kind="edge"]')
    tooltip.wait_for(state="visible")
    rows = tooltip_rows(tooltip)
    assert rows["dtype"] == variable["dtype"] and rows["shape"] == shape_text(variable["shape"])

    row_a = next(r["id"] for r in doc["nodes"] if r.get("name") == "a")
    # a node in the middle: its ancestors and descendants are both proper subsets
    chosen = next(
        r["id"]
        for r in doc["nodes"]
        if r["kind"] == "apply"
        and "pow" in r["op"]
        and row_a in _reachable(doc, r["id"], "target", "source")
    )
    tab.page.mouse.move(0, 0)
    graph.locator(f'{NODE}[data-node-id="{chosen}"]').click()
    assert graph.locator(f"{NODE}.labsym-selected").get_attribute("data-node-id") == chosen
    for relation, direction in (
        ("ancestor", ("target", "source")),
        ("descendant", ("source", "target")),
    ):
        expected = _reachable(doc, chosen, *direction) & drawn_ids(doc)
        marked = graph.locator(f"{NODE}.labsym-{relation}").evaluate_all(
            "ns => ns.map(n => n.getAttribute('data-node-id'))"
        )
        assert set(marked) == expected and 0 < len(expected) < len(drawn_ids(doc)) - 1
    # the selection stays while another node is hovered (the picture in docs/lab-extension.png)
    graph.locator(f'{NODE}.labsym-ancestor[data-node-id="{row_a}"]').hover()
    graph.locator('.labsym-tooltip[data-kind="node"]').wait_for(state="visible")
    tab.screenshot("01-graph-selection-tooltip", graph)

    search = graph.locator("input.labsym-search")
    search.fill("mul")
    hits = [r["id"] for r in doc["nodes"] if r["kind"] == "apply" and "mul" in r["op"].lower()]
    assert graph.locator(".labsym-search-count").text_content() == f"{len(hits)} found"
    found = graph.locator(f"{NODE}.labsym-match").evaluate_all(
        "ns => ns.map(n => n.getAttribute('data-node-id'))"
    )
    assert sorted(found) == sorted(hits) and hits


def test_profile_heat_graph_has_its_legend(tab: LabTab):
    """06: the profile's graph colours nodes by share of time, with a heat legend whose top
    end is the slowest node's share."""
    tab.open("06_debugging.ipynb")
    tab.run_all()
    index = tab.cell_index("profile=True")
    (doc,) = tab.graph_docs(index)
    (graph,) = tab.rendered_graphs(index)
    legend = graph.locator('.labsym-legend[data-kind="profile"]')
    assert legend.is_visible()
    most = max(r["percent"] for r in doc["nodes"] if r["kind"] == "apply" and "percent" in r)
    assert legend.locator(".labsym-legend-max").text_content() == f"{most:.1f}%"
    heated = graph.locator(f"{NODE}[data-percent]")
    timed = [r for r in doc["nodes"] if r["kind"] == "apply" and "percent" in r]
    assert heated.count() == len(timed) > 0
    tab.screenshot("06-profile-heat-graph", tab.cell(index))
    tab.assert_clean()


def test_scan_inner_graph_expands_and_collapses(tab: LabTab):
    """04: a compiled scan is one box with a toggle; expanding it draws its body's boxes (as the
    JSON's cluster gives them) inside it, collapsing removes them again."""
    tab.open("04_loops.ipynb")
    tab.run_all()
    index = next(
        c["index"] for c in tab.cells() if c["type"] == "code" and c["source"].strip() == "power"
    )
    (doc,) = tab.graph_docs(index)
    (graph,) = tab.rendered_graphs(index)
    (cluster,) = [c for c in doc["clusters"] if c["kind"] == "scan"]
    outer = drawn_ids(doc)
    assert set(tab.node_ids(graph)) == outer
    scan = graph.locator(f'{NODE}[data-node-id="{cluster["apply"]}"]')
    scan.locator(".labsym-toggle").click()
    graph.locator(f"{NODE}.labsym-expanded").wait_for()
    assert set(tab.node_ids(graph)) == outer | drawn_ids(cluster)
    tab.screenshot("04-scan-expanded", tab.cell(index))
    scan.locator(".labsym-toggle").click()
    graph.locator(f"{NODE}.labsym-expanded").wait_for(state="detached")
    assert set(tab.node_ids(graph)) == outer
    tab.assert_clean()
