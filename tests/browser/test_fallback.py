"""Front ends without labsym's Lab extension (VS Code, nbconvert HTML, GitHub) show the SVG/HTML
fallback of the same bundle: it is there, it draws the same graph as the JSON, and it shows hostile
names as escaped text. Runs without a browser; the last test opens nbconvert's page in chromium."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.viz.display import SMALL_GRAPH, mimebundle
from labsym.viz.graphjson import MIME
from labsym.viz.history import MIME as REWRITES_MIME
from tests.browser.hostile import PAYLOADS, escaped, hostile_notebook
from tests.browser.server import write_kernelspec

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
# the mime types VS Code's and nbconvert's HTML output renderers show (no labsym renderer there)
FALLBACKS = ("image/svg+xml", "text/html")
# a Graphviz node group (nbconvert's HTML sanitizer reorders the attributes)
NODE_TITLE = re.compile(r'<g [^>]*class="node"[^>]*>\s*<title>([^<]*)</title>')
SVG_DATA_URI = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def drawn_ids(markup: str) -> list[str]:
    """The graph-JSON ids of the nodes a Graphviz SVG (alone or inside HTML) draws."""
    return NODE_TITLE.findall(markup)


def with_svg_images(page: str) -> str:
    """An HTML page with the SVG documents of its data-URI images appended (nbconvert shows
    image/svg+xml outputs as base64 <img> elements)."""
    images = [base64.b64decode(data).decode("utf-8") for data in SVG_DATA_URI.findall(page)]
    return "\n".join([page, *images])


def json_ids(doc: dict) -> list[str]:
    """The ids of the JSON nodes a drawing shows as shapes: intermediate results are edges."""
    return [row["id"] for row in doc["nodes"] if row.get("role") != "intermediate"]


def assert_escaped(markup: str) -> None:
    """Every hostile payload shows as text; none is left as markup."""
    for payload in PAYLOADS:
        assert payload not in markup, f"unescaped {payload!r}"
    assert escaped(PAYLOADS[0]) in markup or escaped(PAYLOADS[3]) in markup


@pytest.fixture(scope="module")
def hostile_function():
    a = T.dvector(PAYLOADS[0])
    b = T.dvector(PAYLOADS[1])
    c = T.exp(a) * b
    c.name = PAYLOADS[2]
    f = theano.function([a, b], c, name=PAYLOADS[3], profile=True)
    f([1.0, 2.0], [3.0, 4.0])
    return c, f


def test_variable_bundle_svg_draws_the_json_graph(hostile_function):
    c, _ = hostile_function
    bundle = mimebundle(c)
    assert MIME in bundle and "image/svg+xml" in bundle
    svg = bundle["image/svg+xml"]
    assert svg.startswith("<svg")
    assert sorted(drawn_ids(svg)) == sorted(json_ids(bundle[MIME]))
    assert_escaped(svg)
    assert escaped(PAYLOADS[2]) in svg


@pytest.mark.parametrize("which", ["function", "profile"])
def test_report_html_embeds_the_svg_of_the_json_graph(hostile_function, which):
    _, f = hostile_function
    bundle = mimebundle(f if which == "function" else f.profile)
    assert MIME in bundle and "text/html" in bundle
    page = bundle["text/html"]
    assert "<svg" in page
    assert sorted(drawn_ids(page)) == sorted(json_ids(bundle[MIME]))
    assert_escaped(page)


def test_large_graph_falls_back_to_debugprint_html():
    """Past SMALL_GRAPH apply nodes no SVG is drawn; the HTML fallback lists every node."""
    x = T.dvector(PAYLOADS[0])
    y = x
    for step in range(SMALL_GRAPH + 1):
        y = T.exp(y) if step % 2 else T.sin(y)
    bundle = mimebundle(y)
    assert "image/svg+xml" not in bundle and "text/html" in bundle
    page = bundle["text/html"]
    n_apply = sum(row["kind"] == "apply" for row in bundle[MIME]["nodes"])
    assert n_apply == SMALL_GRAPH + 1
    assert page.count("Elemwise{exp") + page.count("Elemwise{sin") == n_apply
    assert_escaped(page)


def test_rewrite_history_bundle_has_an_html_fallback():
    x = T.dvector(PAYLOADS[0])
    f = theano.function([x], T.log(1 + x), mode=theano.Mode().with_history())
    records = f.maker.fgraph.history
    assert len(records) >= 2
    bundle = mimebundle(records)
    assert REWRITES_MIME in bundle and "text/html" in bundle
    page = bundle["text/html"]
    for record in records:
        assert record.rule in page
    assert_escaped(page)


@pytest.fixture(scope="module")
def nbconvert_html(tmp_path_factory, monkeypatch_module) -> tuple[list, str]:
    """01_basics and the hostile notebook executed (kernel: this interpreter), then converted by
    `jupyter nbconvert --to html`: (the executed notebooks, their HTML pages)."""
    tmp = tmp_path_factory.mktemp("nbconvert")
    write_kernelspec(tmp / "jupyter")
    monkeypatch_module.setenv("JUPYTER_PATH", str(tmp / "jupyter"))
    notebooks = [
        ("01_basics", nbformat.read(ROOT / "notebooks" / "01_basics.ipynb", as_version=4)),
        ("hostile", hostile_notebook()),
    ]
    pages = []
    for name, nb in notebooks:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        path = tmp / f"{name}.ipynb"
        nbformat.write(nb, path)
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        pages.append(path.with_suffix(".html").read_text(encoding="utf-8"))
    return [nb for _, nb in notebooks], pages


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_nbconvert_html_shows_every_graph_as_svg(nbconvert_html):
    """Each output's graph JSON is drawn in the HTML page: its SVG, or its report's HTML."""
    notebooks, pages = nbconvert_html
    for nb, page in zip(notebooks, pages):
        drawn = set(drawn_ids(with_svg_images(page)))
        graphs = [
            out["data"][MIME]
            for cell in nb.cells
            for out in cell.get("outputs", [])
            if MIME in out.get("data", {})
        ]
        assert graphs, "the notebook produced no graph"
        for doc in graphs:
            assert set(json_ids(doc)) <= drawn
        assert with_svg_images(page).count("<svg") >= len(graphs)


def test_nbconvert_html_escapes_hostile_names(nbconvert_html):
    _, (_, hostile_page) = nbconvert_html
    markup = with_svg_images(hostile_page)
    assert_escaped(markup)
    for payload in PAYLOADS[:3]:  # the names drawn in the graphs
        assert escaped(payload) in markup


def test_nbconvert_page_runs_no_script_in_a_browser(browser_context, nbconvert_html, tmp_path):
    """The converted hostile page, opened in chromium: graphs drawn, no dialog, no marker."""
    _, (_, hostile_page) = nbconvert_html
    path = tmp_path / "hostile.html"
    path.write_text(hostile_page, encoding="utf-8")
    page = browser_context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)  # an onerror/onload handler would have run by now
        assert page.locator("svg g.node").count() >= 3
        assert page.evaluate("window.__xss") is None
        assert page.locator('img[src="x"]').count() == 0
        assert not dialogs, dialogs
    finally:
        page.close()
