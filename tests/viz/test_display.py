"""Rich displays through a real IPython shell: exact mime keys, contents, escaping, laziness."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

import labsym
import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.config import Config, config
from labsym.core import profiling
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.type import TensorType
from labsym.viz import display, graphviz, history
from labsym.viz.debugprint import debugprint
from labsym.viz.dot import RendererMissing
from labsym.viz.graphjson import MIME
from labsym.viz.html import escape, table
from labsym.viz.pprint import pp

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PLAIN, HTML, SVG = "text/plain", "text/html", "image/svg+xml"


class Shout(Op):
    """An op whose printed name is markup: op names are data too."""

    def __str__(self) -> str:
        return "<b>shout</b>"

    def make_node(self, x):
        return Apply(self, [x], [TensorType("float64", (None,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


@pytest.fixture(scope="module")
def ip():
    shell = InteractiveShell.instance()
    shell.run_cell("import labsym", store_history=False)
    display.register_formatters(shell)  # labsym was imported before this shell existed
    return shell


def fmt(ip, obj) -> dict:
    data, _ = ip.display_formatter.format(obj)
    return data


def _in_fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_import_labsym_loads_no_notebook_packages():
    code = (
        "import sys, labsym; "
        "print([m for m in ('IPython', 'graphviz', 'ipywidgets') if m in sys.modules])"
    )
    assert _in_fresh_python(code) == "[]"


def test_import_labsym_in_a_shell_is_enough_for_rich_displays():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_cell('import labsym, labsym.tensor as T; x = T.dvector(\"x\")')\n"
        "data, _ = ip.display_formatter.format(ip.user_ns['x'])\n"
        "print(sorted(data))"
    )
    assert _in_fresh_python(code) == str(sorted([PLAIN, SVG, MIME]))


def test_ipython_imported_without_a_shell_registers_nothing():
    code = (
        "import IPython, labsym\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "print(IPython.get_ipython(), InteractiveShell.initialized())"
    )
    assert _in_fresh_python(code) == "None False"  # no shell was made just to register


def test_variable_bundle_is_pp_svg_and_graph_json(ip):
    x = T.dvector(HOSTILE)
    y = T.exp(x) * 2
    data = fmt(ip, y)
    assert set(data) == {PLAIN, SVG, MIME}
    assert data[PLAIN] == pp(y)
    assert HOSTILE not in data[SVG] and ESCAPED in data[SVG]
    assert data[SVG].startswith("<svg")
    doc = json.loads(json.dumps(data[MIME]))
    assert (doc["schema"], doc["version"]) == ("labsym.graph", 1)
    nodes = {n["id"]: n for n in doc["nodes"]}
    names = [nodes[i]["name"] for i in doc["inputs"] if nodes[i]["role"] == "input"]
    assert names == [HOSTILE]  # verbatim: it is data
    assert [nodes[i]["role"] for i in doc["outputs"]] == ["output"]


def test_variable_without_renderer_or_too_big_shows_escaped_debugprint(ip, monkeypatch):
    x = T.dvector(HOSTILE)
    y = x + 1
    monkeypatch.setattr(display, "SMALL_GRAPH", 0)
    data = fmt(ip, y)
    assert set(data) == {PLAIN, HTML, MIME}
    assert data[HTML] == "<pre>" + escape(debugprint(y, file="str")) + "</pre>"
    assert ESCAPED in data[HTML] and HOSTILE not in data[HTML]
    monkeypatch.setattr(display, "SMALL_GRAPH", 200)

    def missing(*args, **kwargs):
        raise RendererMissing("no dot")

    monkeypatch.setattr(graphviz, "render", missing)
    monkeypatch.setattr(graphviz, "warn_no_renderer", lambda: None)
    assert set(fmt(ip, y)) == {PLAIN, HTML, MIME}


def test_function_bundle_is_the_compile_report(ip):
    x = T.dvector(HOSTILE)
    w = labsym.shared(np.ones(3), name="w")
    f = function([x], (x * w).sum(), updates=[(w, w + x)], name="step", mode=Mode(linker="py"))
    data = fmt(ip, f)
    assert set(data) == {PLAIN, HTML, MIME}
    maker = f.maker
    lines = data[PLAIN].split("\n")
    assert lines[:8] == [
        f"<labsym.Function step({HOSTILE})>",
        "  mode: Mode(linker=py, optimizer=fast_run)",
        "  linker: py",
        f"  apply nodes before rewriting: {maker.nodes_before}",
        "  apply nodes after rewriting: 2",
        f"  compile time (s): {maker.compile_time:.3e}",
        f"  optimizer time (s): {maker.optimizer_time:.3e}",
        f"  linker time (s): {maker.linker_time:.3e}",
    ]
    assert "\n".join(lines[8:]) == debugprint(f, file="str").rstrip("\n")
    assert maker.nodes_before == 3  # mul, sum, add: before specialize made mul+sum a dot
    assert 0 < maker.optimizer_time + maker.linker_time <= maker.compile_time
    page = data[HTML]
    assert HOSTILE not in page and f"<h3>Function step({ESCAPED})</h3>" in page
    assert f"<tr><td>{ESCAPED}</td><td>TensorType(float64, vector)</td><td></td></tr>" in page
    assert f"<tr><td>w</td><td>(w + {ESCAPED})</td></tr>" in page  # the update, as pp shows it
    assert "<tr><td>Sum{acc_dtype=float64}" in page  # the unnamed output, as pp shows it
    assert '<tr><td>apply nodes before rewriting</td><td class="num">3</td></tr>' in page
    for timing in maker.fgraph.phase_timings:
        row = f'<tr><td>{timing.phase}</td><td class="num">{timing.rewrites}</td>'
        assert row in page
    assert "<svg" in page and "<?xml" not in page  # the optimized graph, inlined
    doc = data[MIME]
    assert doc["updates"] and len(doc["inputs"]) == 2  # x and the shared w


def test_function_report_lists_rules_when_history_is_recorded(ip):
    x = T.dvector("x")
    f = function([x], T.log(1 + T.exp(x)), mode=Mode(linker="py").with_history())
    page = fmt(ip, f)[HTML]
    counts = f.maker.fgraph.history.by_rule()
    assert '<tr><td>softplus_from_log_exp</td><td class="num">1</td></tr>' in page
    assert len(counts) == page.split("<caption>Rules applied</caption>")[1].count("<tr><td>")


def test_op_names_are_escaped_in_html_and_svg(ip):
    x = T.dvector("x")
    f = function([x], Shout()(x), mode=Mode(linker="py"))
    page = fmt(ip, f)[HTML]
    assert "<b>shout</b>" not in page and "&lt;b&gt;shout&lt;/b&gt;" in page
    svg = fmt(ip, Shout()(x))[SVG]
    assert "<b>" not in svg and "&lt;b&gt;shout&lt;/b&gt;" in svg


def test_profile_bundle_tables_and_heat_graph(ip, monkeypatch):
    monkeypatch.setattr(profiling, "time", types.SimpleNamespace(time=lambda: 1.0))
    x = T.dvector(HOSTILE)
    f = function([x], T.exp(x).sum(), profile=True, mode=Mode(linker="py"))
    f(np.ones(3))
    stats = f.profile
    stats.node_times[:] = [0.75, 0.25]
    stats.call_time = 2.0
    data = fmt(ip, stats)
    assert set(data) == {PLAIN, HTML, MIME}
    assert data[PLAIN] == str(stats) == "\n".join(stats.summary_lines())
    page = data[HTML]
    for caption in ("Class", "Ops", "Apply"):
        assert f"<caption>{caption}</caption>" in page
    assert HOSTILE not in page and f"Elemwise{{exp,no_inplace}}({ESCAPED})" in page
    assert "<svg" in page and 'fill="#ff4040"' in page  # 75% of the node time: strong red
    timed = [n for n in data[MIME]["nodes"] if n["kind"] == "apply"]
    assert sorted(n["time_s"] for n in timed) == [0.25, 0.75]


def test_profile_of_several_functions_has_no_graph(ip):
    merged = profiling.ProfileStats(name="a").merged([], "sum")
    data = fmt(ip, merged)
    assert set(data) == {PLAIN, HTML}
    assert "Not called yet" in data[HTML]


def test_history_bundle(ip):
    x = T.dvector("x")
    f = function([x], T.log(1 + T.exp(x)), mode=Mode(linker="py").with_history())
    records = f.maker.fgraph.history
    data = fmt(ip, records)
    assert set(data) == {PLAIN, HTML, history.MIME}
    assert data[PLAIN] == history.history_text(records)
    assert data[history.MIME] == history.history_json(records)


def test_config_bundle_shows_values_and_where_they_come_from(ip, tmp_path):
    cfg = Config.from_environment(
        environ={"LABSYM_FLAGS": "floatX=float32", "THEANO_FLAGS": "mode=FAST_COMPILE"},
        home=str(tmp_path),
    )
    cfg.optimizer_excluding = HOSTILE
    with cfg.change_flags(optimizer="None"):
        data = fmt(ip, cfg)
        assert cfg.source_of("optimizer") == "change_flags"
        assert data[PLAIN] == str(cfg)
    assert cfg.source_of("optimizer") == "default"
    assert set(data) == {PLAIN, HTML}
    page = data[HTML]
    assert "<td>floatX</td><td>&#x27;float32&#x27;</td><td>LABSYM_FLAGS</td>" in page
    assert "<td>mode</td><td>&#x27;FAST_COMPILE&#x27;</td><td>THEANO_FLAGS</td>" in page
    assert "<td>optimizer</td><td>&#x27;None&#x27;</td><td>change_flags</td>" in page
    assert f"<td>optimizer_excluding</td><td>&#x27;{ESCAPED}&#x27;</td><td>assignment" in page
    assert HOSTILE not in page
    assert "<td>device</td><td>&#x27;cpu&#x27;</td><td>default</td>" in page
    # flags set from outside the defaults come first
    assert page.index("LABSYM_FLAGS") < page.index("<td>default</td>")
    assert "4 set from outside the defaults" in page


def test_the_global_config_displays(ip):
    assert set(fmt(ip, config)) == {PLAIN, HTML}


def test_mimebundle_rejects_other_objects():
    with pytest.raises(TypeError, match="mimebundle needs one of Variable, Function, .*got int"):
        display.mimebundle(3)


def test_compile_report_is_the_function_bundle():
    x = T.dvector("x")
    f = function([x], x + 1)
    assert display.compile_report(f) == display.mimebundle(f)


def test_html_helpers_escape_every_cell():
    assert escape(HOSTILE) == ESCAPED
    assert escape("\"a\" & 'b'") == "&quot;a&quot; &amp; &#x27;b&#x27;"
    page = table(["<h>"], [[HOSTILE], [1.5]], caption="<c>")
    assert page == (
        '<table class="labsym-table"><caption>&lt;c&gt;</caption>'
        "<thead><tr><th>&lt;h&gt;</th></tr></thead><tbody>"
        f'<tr><td>{ESCAPED}</td></tr><tr><td class="num">1.5</td></tr></tbody></table>'
    )
    with pytest.raises(ValueError, match="table row \\['a', 'b'\\] has 2 cells, not 1"):
        table(["one"], [["a", "b"]])


def test_config_table_names_the_rc_file_a_flag_came_from(tmp_path):
    from labsym.viz.configview import config_rows

    rc = tmp_path / ".labsymrc"
    rc.write_text("[global]\nfloatX = float32\n[warn]\nround = True\n")
    cfg = Config.from_environment(environ={}, home=str(tmp_path))
    rows = {row[0]: row[1:3] for row in config_rows(cfg)}
    assert rows["floatX"] == ["'float32'", str(rc)]
    assert rows["warn.round"] == ["True", str(rc)]
    assert rows["mode"] == ["'FAST_RUN'", "default"]


def test_huge_graphs_keep_a_bounded_debugprint_in_the_bundle():
    x = T.dvector("x")
    y = x
    for k in range(2000):  # a deep chain: its debugprint indentation grows quadratically
        y = T.sin(y) + k
    full = debugprint(y, file="str")
    assert len(full) > 10 * display.TEXT_LIMIT
    bundle = display.variable_bundle(y)
    shown = bundle["text/html"]
    assert len(shown) < 1.1 * display.TEXT_LIMIT  # HTML escaping adds a little
    assert "more lines not shown" in shown and "labsym.printing.debugprint" in shown
    first = full.splitlines()[0]
    assert first.split("[id")[0].strip() in shown
    assert len(bundle[MIME]["nodes"]) > 4000  # the JSON still carries the whole graph
    f = function([x], y, mode=Mode(linker="py", optimizer=None))
    report = display.compile_report(f)
    assert len(report["text/plain"]) < display.TEXT_LIMIT + 5000
    assert display.bounded("a\nb\n", 100) == "a\nb\n"
    assert display.bounded("a\nb\nc\n", 3) == (
        "a\n... 2 more lines not shown (6 characters in all); labsym.printing.debugprint(...) "
        "prints them\n"
    )
