"""A notebook whose graphs carry hostile names: markup that would run script if any renderer put
kernel-supplied text into the page as HTML instead of as text.

Each payload either opens a dialog (alert) or sets `window.__xss`; the browser tests listen for
both, the fallback tests look for the payloads unescaped in the SVG/HTML a front end shows.
"""

from __future__ import annotations

from html import escape

import nbformat

from tests.browser.lab import code_notebook

ALERT_NAME = "<img src=x onerror=alert(1)>"
PAYLOADS = (
    ALERT_NAME,
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=2>",
    "<script>window.__xss=3</script>",
)
HOSTILE_CELLS = (
    "import labsym as theano\nimport labsym.tensor as T",
    f"a = T.dvector({PAYLOADS[0]!r})\n"
    f"b = T.dvector({PAYLOADS[1]!r})\n"
    "c = T.exp(a) * b\n"
    f"c.name = {PAYLOADS[2]!r}\n"
    "c",
    f"f = theano.function([a, b], c, name={PAYLOADS[3]!r}, profile=True)\n"
    "f([1.0, 2.0], [3.0, 4.0])\n"
    "f.profile",
)
GRAPH_CELL = 1  # the cell that shows the Variable `c`: the interactive graph in Lab


def escaped(payload: str) -> str:
    """A payload as SVG/HTML text shows it (what Graphviz and labsym's HTML write)."""
    return escape(payload, quote=False)


def hostile_notebook() -> nbformat.NotebookNode:
    """The hostile cells as a v4 notebook for the `python3` kernel, without outputs."""
    return code_notebook({f"hostile{i}": source for i, source in enumerate(HOSTILE_CELLS)})
