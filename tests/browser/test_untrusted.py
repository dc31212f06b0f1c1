"""A notebook with hostile node names, saved with its outputs and reopened untrusted: JupyterLab
then only uses renderers declared safe, so the graph must still be drawn by labsym's (safe)
renderer, the names must show as text, and no payload may run (no dialog, no `window.__xss`, no
<img> element made from a name, no console error from a failed image load)."""

from __future__ import annotations

import nbformat

from tests.browser.hostile import ALERT_NAME, GRAPH_CELL, PAYLOADS, hostile_notebook
from tests.browser.lab import NODE, LabTab, drawn_ids

NAME = "hostile.ipynb"

_NO_PAYLOAD_RAN = """() => ({
  xss: window.__xss === undefined ? null : String(window.__xss),
  images: document.querySelectorAll('img[src="x"]').length,
  scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__xss'))
    .length,
})"""


def _assert_graph_shows_names_as_text(tab: LabTab) -> None:
    (doc,) = tab.graph_docs(GRAPH_CELL)
    (graph,) = tab.rendered_graphs(GRAPH_CELL)
    assert set(tab.node_ids(graph)) == drawn_ids(doc)
    labels = graph.locator(NODE).evaluate_all("nodes => nodes.map(n => n.textContent)")
    for payload in PAYLOADS[:3]:  # the variables' names, each a drawn box
        assert any(payload in label for label in labels), (payload, labels)
    row = next(r for r in doc["nodes"] if r.get("name") == ALERT_NAME)
    graph.locator(f'{NODE}[data-node-id="{row["id"]}"]').hover()
    tooltip = graph.locator(".labsym-tooltip")
    tooltip.wait_for(state="visible")
    assert ALERT_NAME in tooltip.text_content()
    # the function's name, in the profile graph's legend
    (profiled,) = tab.rendered_graphs(GRAPH_CELL + 1)
    assert PAYLOADS[3] in profiled.locator(".labsym-legend-totals").text_content()
    tab.page.wait_for_timeout(300)  # an onerror handler made from a name would have run by now
    assert tab.page.evaluate(_NO_PAYLOAD_RAN) == {"xss": None, "images": 0, "scripts": 0}


def test_hostile_names_untrusted_reopen(tab: LabTab):
    root = tab.server.root
    nbformat.write(hostile_notebook(), root / NAME)
    tab.open(NAME)
    tab.run_all()
    _assert_graph_shows_names_as_text(tab)
    tab.save()
    tab.close()

    saved = nbformat.read(root / NAME, as_version=4)
    assert saved.cells[GRAPH_CELL].outputs, "the notebook was saved without its outputs"
    # a byte changed since Lab signed it: the server no longer vouches for the outputs
    saved.metadata["labsym_test"] = "received from someone else"
    nbformat.write(saved, root / NAME)

    tab.load()
    tab.open(NAME)
    cells = tab.cells()
    assert not any(c["trusted"] for c in cells if c["outputs"]), "the reopened notebook is trusted"
    _assert_graph_shows_names_as_text(tab)
    tab.screenshot("untrusted-hostile-names")
    tab.assert_clean()
