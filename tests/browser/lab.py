"""Drive one JupyterLab tab with Playwright: open a notebook, run it, read what the kernel sent.

The front end is driven through `window.jupyterapp` (the server exposes it): its commands open,
run and save notebooks, and each cell's output model holds the exact bundles the kernel sent, so a
test compares what is drawn with what was sent. Every console error, uncaught page error and
browser dialog (alert/confirm/prompt) is recorded; `assert_clean` fails on any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from tests.browser.server import LabServer

GRAPH_MIME = "application/vnd.labsym.graph+json"
# the extension's DOM (jupyter-extension/README.md): one .labsym-graph per rendered graph output,
# a g.labsym-node[data-node-id] per box, one .labsym-tooltip, .labsym-legend, .labsym-search
GRAPH = ".labsym-graph"
NODE = "g.labsym-node[data-node-id]"
APP_TIMEOUT_MS = 90_000  # loading Lab, rendering outputs
ACTION_TIMEOUT_MS = 30_000  # a click, a hover, a wait for a widget to change
RUN_TIMEOUT_MS = 180_000  # running every cell of a notebook

# open `path` as a notebook and wait for its kernel; the panel is kept as window.__labsymPanel
_OPEN = """async (path) => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  window.__labsymPanel = panel;
  return panel.sessionContext.session !== null && panel.sessionContext.session !== undefined;
}"""

# run every cell; resolves once the last one finished (false when one failed)
_RUN_ALL = """async (timeoutMs) => {
  const app = window.jupyterapp, panel = window.__labsymPanel;
  app.shell.activateById(panel.id);
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cells still running after ${timeoutMs} ms`)),
                       timeoutMs);
  });
  try {
    return await Promise.race([app.commands.execute('notebook:run-all-cells'), late]);
  } finally {
    clearTimeout(timer);
  }
}"""

# [{index, type, trusted, outputs: [nbformat output JSON]}] of the open notebook
_CELLS = """() => {
  const cells = window.__labsymPanel.content.model.cells;
  const rows = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    const json = cell.toJSON();
    rows.push({index: i, type: cell.type, trusted: cell.trusted, source: json.source,
               outputs: json.outputs || []});
  }
  return rows;
}"""

# Notebook 7 shows one notebook per page: keep its panel once its kernel is up
_ADOPT_CURRENT = """async () => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  window.__labsymPanel = panel;
  return panel.sessionContext.session !== null && panel.sessionContext.session !== undefined;
}"""

_SAVE = """async () => {
  const panel = window.__labsymPanel;
  await panel.context.save();
  return panel.context.path;
}"""

_CLOSE = """async () => {
  const panel = window.__labsymPanel;
  if (panel) { await panel.sessionContext.shutdown(); panel.dispose(); }
  window.__labsymPanel = undefined;
}"""


def code_notebook(cells: dict[str, str]) -> nbformat.NotebookNode:
    """A v4 notebook for the `python3` kernel of code cells {cell id: source}, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells.values()]
    for cell, cell_id in zip(nb.cells, cells, strict=True):
        cell.id = cell_id
    return nb


def drawn_ids(doc: dict) -> set[str]:
    """The graph-JSON ids the extension draws as boxes: every node but the intermediate
    variables it folds into their edges (made by an apply node, read by one, and neither an
    output nor an end of an update)."""
    variables = {row["id"] for row in doc["nodes"] if row["kind"] == "variable"}
    made, read, pinned = set(), set(), set(doc.get("outputs", []))
    for edge in doc["edges"]:
        if edge["kind"] == "update":
            pinned |= {edge["source"], edge["target"]}
        elif edge["target"] in variables:
            made.add(edge["target"])
        elif edge["source"] in variables:
            read.add(edge["source"])
    return {row["id"] for row in doc["nodes"]} - ((made & read) - pinned)


def shape_text(dims: list | None) -> str:
    """A shape as the extension writes it: `(?,)`, `(3, ?)`, `()`; `n/a` without one."""
    if dims is None:
        return "n/a"
    parts = ["?" if d is None else str(d) for d in dims]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def tooltip_rows(tooltip: Any) -> dict[str, str]:
    """A tooltip's table as {first cell: second cell}."""
    return dict(
        tooltip.locator("tr").evaluate_all(
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
        )
    )


def hover_shows_vector_a(tab: LabTab) -> tuple[int, Any, dict]:
    """In 01_basics (run), hovering variable `a` of the `a = T.vector("a")` cell's graph shows
    its name and shape `(?,)`; returns that cell's index, its drawn graph and its graph JSON."""
    index = tab.cell_index('a = T.vector("a")')
    (doc,) = tab.graph_docs(index)
    (graph,) = tab.rendered_graphs(index)
    row = next(r for r in doc["nodes"] if r["kind"] == "variable" and r["name"] == "a")
    tooltip = graph.locator(".labsym-tooltip")
    assert tooltip.is_hidden()
    graph.locator(f'{NODE}[data-node-id="{row["id"]}"]').hover()
    tooltip.wait_for(state="visible")
    rows = tooltip_rows(tooltip)
    assert rows["variable"] == "a" and rows["shape"] == shape_text(row["shape"]) == "(?,)", rows
    return index, graph, doc


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


class LabTab:
    """One browser tab on the Lab server, with its console errors, page errors and dialogs."""

    def __init__(self, context: Any, server: LabServer, artifacts: Path) -> None:
        self.server = server
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = context.new_page()
        self.page.set_default_timeout(ACTION_TIMEOUT_MS)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("dialog", self._on_dialog)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location}")

    def _on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def load(self) -> None:
        """Load the Lab front end (a reset workspace: nothing restored from an earlier test)."""
        self.page.goto(self.server.url("lab?reset"), wait_until="domcontentloaded")
        self.page.wait_for_function(
            "window.jupyterapp !== undefined && document.querySelector('#jp-main-dock-panel')",
            timeout=APP_TIMEOUT_MS,
        )
        # the file browser off: the notebook gets the width (and the screenshots show it)
        self.page.evaluate(
            "async () => { await window.jupyterapp.restored; "
            "window.jupyterapp.shell.collapseLeft(); }"
        )

    def federated_extensions(self) -> list[str]:
        """The names of the prebuilt extensions the page was told to load."""
        return self.page.evaluate(
            "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
            ".federated_extensions.map(e => e.name)"
        )

    def open(self, path: str) -> None:
        """Open notebook `path` (relative to the server root) and wait for its kernel."""
        started = self.page.evaluate(_OPEN, path)
        assert started, f"{path}: no kernel session started"

    def run_all(self) -> None:
        """Run every cell and wait for the last one; fails on a cell that raised."""
        ok = self.page.evaluate(_RUN_ALL, RUN_TIMEOUT_MS)
        errors = [
            f"cell {cell['index']}: {out.get('ename')}: {out.get('evalue')}"
            for cell in self.cells()
            for out in cell["outputs"]
            if out["output_type"] == "error"
        ]
        assert ok and not errors, f"run all failed: {errors}"

    def cells(self) -> list[dict]:
        """The open notebook's cells as nbformat JSON, with each cell's trust."""
        return self.page.evaluate(_CELLS)

    def cell_index(self, needle: str) -> int:
        """The index of the first code cell whose source contains `needle`."""
        for cell in self.cells():
            if cell["type"] == "code" and needle in _text(cell["source"]):
                return cell["index"]
        raise AssertionError(f"no code cell contains {needle!r}")

    def graph_docs(self, index: int) -> list[dict]:
        """The graph JSON documents the kernel sent in cell `index`'s outputs."""
        outputs = self.cells()[index]["outputs"]
        return [out["data"][GRAPH_MIME] for out in outputs if GRAPH_MIME in out.get("data", {})]

    def rendered_graphs(self, index: int) -> list[Any]:
        """The .labsym-graph elements in cell `index`'s outputs, once there is one per graph
        document the kernel sent and each has drawn its boxes."""
        expected = len(self.graph_docs(index))
        graphs = self.cell(index).locator(GRAPH)
        self.page.wait_for_function(
            """([cell, n]) => {
              const graphs = cell.querySelectorAll('.labsym-graph');
              return graphs.length === n &&
                [...graphs].every(g => g.querySelector('g.labsym-node') !== null);
            }""",
            arg=[self.cell(index).element_handle(), expected],
        )
        return [graphs.nth(i) for i in range(expected)]

    def node_ids(self, graph: Any) -> list[str]:
        """The data-node-id of every box drawn in one .labsym-graph."""
        return graph.locator(NODE).evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('data-node-id'))"
        )

    def cell(self, index: int) -> Any:
        """The locator of cell `index` in the notebook view."""
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)

    def save(self) -> str:
        """Save the notebook (outputs included); its path."""
        return self.page.evaluate(_SAVE)

    def close(self) -> None:
        """Shut the notebook's kernel down and close its tab."""
        self.page.evaluate(_CLOSE)

    def screenshot(self, name: str, locator: Any = None) -> Path:
        """Save a PNG of the page (or of one element) under the artifacts folder."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        """No console error, no uncaught page error, no alert/confirm/prompt dialog."""
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        assert not self.page_errors, f"page errors: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


# Notebook 7's own start-up race, jupyter/notebook#7862 (open): a plugin's settings load before
# those of its bundled shortcuts plugin, whose pluginChanged handler then reads
# `plugins[shortcuts].schema` of undefined; seen here with labsym's and ipywidgets' extensions off
UPSTREAM_STARTUP_ERROR = "Cannot read properties of undefined (reading 'schema')"


class NotebookTab(LabTab):
    """One browser tab on a Notebook 7 server: each notebook is a page of its own. Notebook's
    known start-up error (UPSTREAM_STARTUP_ERROR, thrown in its own core bundle) is kept apart in
    `upstream_errors`; every other page error fails `assert_clean`."""

    def __init__(self, context: Any, server: LabServer, artifacts: Path) -> None:
        self.upstream_errors: list[str] = []
        super().__init__(context, server, artifacts)

    def _on_page_error(self, error: Any) -> None:
        stack = getattr(error, "stack", None) or ""
        first_frame = next((line for line in stack.splitlines() if " at " in line), "")
        if (
            str(error) == UPSTREAM_STARTUP_ERROR
            and "/static/notebook/notebook_core." in first_frame
        ):
            self.upstream_errors.append(first_frame.strip())
        else:
            super()._on_page_error(error)

    def load(self) -> None:
        """Nothing to load up front: `open` loads the notebook's page."""

    def open(self, path: str) -> None:
        """Load notebook `path`'s page (relative to the server root) and wait for its kernel."""
        self.page.goto(self.server.url(f"notebooks/{path}"), wait_until="domcontentloaded")
        self.page.wait_for_function(
            "window.jupyterapp !== undefined && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext !== undefined",
            timeout=APP_TIMEOUT_MS,
        )
        started = self.page.evaluate(_ADOPT_CURRENT)
        assert started, f"{path}: no kernel session started"
