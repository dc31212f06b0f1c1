"""The extension in Notebook 7 (not only JupyterLab): 01_basics run in chromium draws every graph
the kernel sent, box for box, and hovering a node shows its shape, with no error or dialog."""

from __future__ import annotations

from tests.browser.lab import NotebookTab, drawn_ids, hover_shows_vector_a


def test_notebook7_draws_basics_graphs_and_hover_shows_shape(notebook_tab: NotebookTab):
    """01 in Notebook 7: each graph is drawn with exactly the JSON's boxes; hovering variable
    `a` shows its name and shape."""
    tab = notebook_tab
    tab.open("01_basics.ipynb")
    assert "labsym-jupyter" in tab.federated_extensions()
    assert tab.page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"
    assert tab.page.locator("#main-panel .jp-NotebookPanel").count() == 1, "not Notebook 7's shell"
    tab.run_all()
    checked = 0
    for cell in tab.cells():
        docs = tab.graph_docs(cell["index"]) if cell["type"] == "code" else []
        for doc, graph in zip(docs, tab.rendered_graphs(cell["index"]) if docs else []):
            ids = tab.node_ids(graph)
            assert len(ids) == len(set(ids)) and set(ids) == drawn_ids(doc), cell["source"]
            checked += 1
    assert checked >= 3, f"01_basics showed {checked} interactive graphs in Notebook 7"

    index, _, _ = hover_shows_vector_a(tab)
    tab.screenshot("notebook7-01-graph-tooltip", tab.cell(index))
    tab.screenshot("notebook7-01-page")
    tab.assert_clean()
