"""The tooltip of the bottom node of a graph (an output, the node most often hovered) must be
readable: inside the graph's canvas, which clips what overflows it (a regression test: the
extension once placed every tooltip below the pointer)."""

from __future__ import annotations

import nbformat

from tests.browser.lab import NODE, LabTab, code_notebook

NAME = "tooltip.ipynb"
SOURCE = 'import labsym.tensor as T\nx = T.dvector("x")\ny = (T.exp(x) * 2).sum()\ny'


def test_bottom_node_tooltip_is_inside_the_canvas(tab: LabTab):
    nbformat.write(code_notebook({"tooltip": SOURCE}), tab.server.root / NAME)
    tab.open(NAME)
    tab.run_all()
    (doc,) = tab.graph_docs(0)
    (graph,) = tab.rendered_graphs(0)
    (output,) = doc["outputs"]
    graph.locator(f'{NODE}[data-node-id="{output}"]').hover()
    tooltip = graph.locator(".labsym-tooltip")
    tooltip.wait_for(state="visible")
    assert "shape" in tooltip.text_content()
    box = tooltip.bounding_box()
    canvas = graph.locator(".labsym-canvas").bounding_box()
    tab.screenshot("tooltip-bottom-node", graph)
    assert box["y"] >= canvas["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"]
    assert box["x"] >= canvas["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
    tab.assert_clean()
