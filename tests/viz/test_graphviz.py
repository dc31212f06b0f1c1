"""Graph drawings: golden DOT/SVG, renderer discovery, the no-renderer path, escaping, pydotprint.

Golden files live in tests/viz/golden/; `LABSYM_UPDATE_GOLDEN=1 pytest tests/viz` rewrites them.
SVG goldens are drawn by graphviz-pure (skipped cleanly when its binary is absent).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.printing import pydotprint
from labsym.viz import dot as dotmod
from labsym.viz.graphjson import graph_json
from labsym.viz.graphviz import _q, svg, to_dot

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = "<script>alert(1)</script>"
PURE = shutil.which("graphviz-pure") or shutil.which(
    str(Path(sys.executable).parent / "graphviz-pure")
)
needs_pure = pytest.mark.skipif(PURE is None, reason="graphviz-pure binary not installed")


def _normalise(text: str) -> str:
    # source lines name this file's absolute path (it depends on the checkout), and a cached
    # constant keeps the line that first made it (it depends on the tests run before)
    text = re.sub(r"\\ncreated at [^\"]*", "", text)  # DOT
    return re.sub(r"&#10;created at [^\"]*", "", text)  # SVG


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = _normalise(text)
    if os.environ.get("LABSYM_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def expression():
    x, y = T.dvectors("x", "y")
    h = T.tanh(x * y)
    h.name = "h"
    return (h + 1).sum()


def function_with_updates():
    x = T.dvector("x")
    w = labsym.shared(np.ones(3), "w")
    cost = T.sum(x * w)
    return labsym.function([x], cost, updates=[(w, w - 0.1 * x)], mode="FAST_COMPILE")


def scan_graph():
    x = T.dvector("x")
    result, _ = labsym.scan(lambda a, acc: acc + a * 2, sequences=[x], outputs_info=[x[0]])
    return result[-1]


def chain(n: int):
    x = T.dvector("x")
    y = x
    for _ in range(n):
        y = y + x
    return y


@pytest.fixture
def pure_dot(monkeypatch):
    if PURE is None:
        pytest.skip("graphviz-pure binary not installed")
    monkeypatch.setenv("LABSYM_DOT", PURE)
    return PURE


@pytest.fixture
def no_renderer(monkeypatch, tmp_path):
    """No LABSYM_DOT, an empty PATH and a Python with no graphviz-pure beside it."""
    monkeypatch.delenv("LABSYM_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setattr(dotmod, "_warned", False)


def _fake_exe(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


# ---------------------------------------------------------------- golden DOT and SVG
def test_golden_dot_expression() -> None:
    _check_golden("expression.dot", to_dot(expression()))


def test_golden_dot_function_with_updates() -> None:
    _check_golden("function_updates.dot", to_dot(function_with_updates()))


def test_golden_dot_scan_clusters() -> None:
    _check_golden("scan.dot", to_dot(scan_graph(), scan_graphs=True))


def test_golden_dot_not_compact_with_ids() -> None:
    _check_golden("expression_full.dot", to_dot(expression(), compact=False, with_ids=True))


def test_golden_svg_expression(pure_dot) -> None:
    _check_golden("expression.svg", svg(expression()))


def test_golden_svg_function_with_updates(pure_dot) -> None:
    _check_golden("function_updates.svg", svg(function_with_updates()))


def test_tooltip_names_the_creating_line() -> None:
    x = T.dvector("x")
    line = sys._getframe().f_lineno + 1
    y = T.exp(x)
    assert f'tooltip="Elemwise{{exp,no_inplace}}\\ncreated at {__file__}:{line}"' in to_dot(y)


# ---------------------------------------------------------------- renderer discovery
def test_find_dot_prefers_labsym_dot(monkeypatch, tmp_path) -> None:
    chosen = _fake_exe(tmp_path / "mine" / "my-dot")
    _fake_exe(tmp_path / "path" / "dot")
    monkeypatch.setenv("LABSYM_DOT", chosen)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert dotmod.find_dot() == chosen


def test_find_dot_then_dot_on_path(monkeypatch, tmp_path) -> None:
    on_path = _fake_exe(tmp_path / "path" / "dot")
    _fake_exe(tmp_path / "venv" / "bin" / "graphviz-pure")
    monkeypatch.delenv("LABSYM_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    assert dotmod.find_dot() == on_path


def test_find_dot_then_graphviz_pure_beside_python(monkeypatch, tmp_path) -> None:
    pure = _fake_exe(tmp_path / "venv" / "bin" / "graphviz-pure")
    monkeypatch.setenv("LABSYM_DOT", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    assert dotmod.find_dot() == pure


def test_find_dot_then_graphviz_pure_on_path(monkeypatch, tmp_path) -> None:
    pure = _fake_exe(tmp_path / "path" / "graphviz-pure")
    monkeypatch.delenv("LABSYM_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    assert dotmod.find_dot() == pure


def test_no_renderer_gives_one_notice_and_the_dot_text(no_renderer, tmp_path, capsys) -> None:
    assert dotmod.find_dot() is None
    with pytest.raises(dotmod.RendererMissing, match=r"pip install graphviz-pure"):
        dotmod.render("digraph G {}")
    with pytest.warns(UserWarning, match="LABSYM_DOT.*pip install graphviz-pure.*DOT text"):
        assert svg(expression()) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the notice is given once per session
        assert svg(expression()) is None
        image = pydotprint(expression(), format="png", return_image=True)
        pydotprint(expression(), outfile=str(tmp_path / "g.png"))
    assert image.decode() == to_dot(expression())
    assert (tmp_path / "g.dot").read_text() == to_dot(expression())
    assert not (tmp_path / "g.png").exists()
    assert capsys.readouterr().out == f"The output file is available at {tmp_path / 'g.dot'}\n"


def test_bad_labsym_dot_is_named_in_the_hint(no_renderer, monkeypatch) -> None:
    monkeypatch.setenv("LABSYM_DOT", "/nowhere/dot")
    with pytest.raises(dotmod.RendererMissing, match=r"LABSYM_DOT='/nowhere/dot' is not an"):
        dotmod.render("digraph G {}")


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown graph format 'bmpx'"):
        dotmod.render("digraph G {}", "bmpx")


# ---------------------------------------------------------------- escaping
def test_dot_quoting_keeps_user_text_literal() -> None:
    assert _q('a"b') == '"a\\"b"'
    assert _q("a\\N") == '"a\\\\N"'  # \N would otherwise print the node's name
    assert _q("one\ntwo\r") == '"one\\ntwo\\n"'
    assert _q("tab\there") == '"tab here"'


def test_hostile_name_in_dot_json_and_svg(pure_dot) -> None:
    x = T.dvector(HOSTILE)
    y = T.dvector('q"uote\\N')
    out = T.exp(x) + y
    text = to_dot(out)
    assert f'label="name={HOSTILE} TensorType(float64, vector)\\nshape=(?,)"' in text
    assert 'label="name=q\\"uote\\\\N TensorType(float64, vector)\\nshape=(?,)"' in text
    assert json.loads(json.dumps(graph_json(out)))["nodes"][0]["name"] == HOSTILE
    image = svg(out)
    assert "<script" not in image
    assert "name=&lt;script&gt;alert(1)&lt;/script&gt;" in image
    assert "name=q&quot;uote\\N" in image


# ---------------------------------------------------------------- pydotprint
@pytest.mark.parametrize(
    ("format", "head"), [("png", b"\x89PNG"), ("svg", b"<?xml"), ("dot", b"digraph G {")]
)
def test_pydotprint_writes_each_format(pure_dot, tmp_path, capsys, format, head) -> None:
    target = tmp_path / "pics" / "graph"
    assert pydotprint(function_with_updates(), outfile=str(target), format=format) is None
    written = tmp_path / "pics" / f"graph.{format}"
    assert written.read_bytes().startswith(head)
    assert capsys.readouterr().out == f"The output file is available at {written}\n"


def test_pydotprint_default_outfile_is_in_the_compiledir(pure_dot, tmp_path) -> None:
    with labsym.config.change_flags(compiledir=str(tmp_path)):
        pydotprint(expression(), format="svg", print_output_file=False)
    assert (tmp_path / "theano.pydotprint.cpu.svg").read_text().startswith("<?xml")


def test_pydotprint_return_image(pure_dot) -> None:
    image = pydotprint(expression(), format="svg", return_image=True)
    assert _normalise(image.decode()) == (GOLDEN / "expression.svg").read_text()


def test_pydotprint_scan_graphs_draws_inner_graphs_apart(pure_dot, tmp_path, capsys) -> None:
    x = T.dvector("x")
    result, _ = labsym.scan(lambda a: a * 2, sequences=[x], name="double")
    pydotprint(result, outfile=str(tmp_path / "s.dot"), format="dot", scan_graphs=True)
    # Theano's name: <outfile base>_<scan name>_<the scan's toposort index>
    [inner_file] = tmp_path.glob("s_double_*.dot")
    inner = inner_file.read_text()
    assert "Elemwise{mul,no_inplace}" in inner and "name=x[t]" in inner
    assert "cluster" not in (tmp_path / "s.dot").read_text()


def test_pydotprint_accepts_theano_only_arguments(tmp_path) -> None:
    with pytest.warns(UserWarning, match="cond_highlight is not drawn"):
        image = pydotprint(
            expression(),
            format="dot",
            return_image=True,
            cond_highlight=True,
            colorCodes={"Sum": "orange"},
            max_label_size=12,
            var_with_name_simple=True,
            high_contrast=False,
        )
    text = image.decode()
    assert '"a4" [label="Sum{acc_d..." shape="ellipse" color="orange"' in text
    assert 'label="x" shape="box" color="green"' in text
    assert "#FFAABB" not in text  # a user's colour codes replace the defaults
    with pytest.raises(ValueError, match="unknown graph format 'jpgx'"):
        pydotprint(expression(), format="jpgx")


def test_profiled_function_labels_and_heat() -> None:
    x = T.dvector("x")
    fn = labsym.function([x], T.exp(x), mode="FAST_COMPILE", profile=True)
    fn(np.ones(3))
    text = to_dot(fn, heat={"a0": 1.0})
    assert re.search(
        r'"a0" \[label="Elemwise\{exp,no_inplace\}   \(\d\.\d{3}s,\d+\.\d{3}%\)"', text
    )
    assert 'fillcolor="#FF0000"' in text
    assert 'fillcolor="#FFFFFF"' in to_dot(fn, heat={"a0": 0.0})


# ---------------------------------------------------------------- collapse and large graphs
def test_collapse_merges_a_chain_of_one_op() -> None:
    text = to_dot(chain(10), collapse=True)
    assert '"a0" [label="Elemwise{add,no_inplace} ×10"' in text
    assert text.count('shape="ellipse"') == 1
    assert '"v0" -> "a0";' in text and '"a0" -> "v10";' in text


def test_collapse_counts_private_constants_and_keeps_short_chains() -> None:
    x = T.dvector("x")
    y = x
    for i in range(5):
        y = y + i
    text = to_dot(y, collapse=True)
    assert "Elemwise{add,no_inplace} ×5 (+5 constants)" in text
    assert "val=" not in text
    assert to_dot(chain(2), collapse=True) == to_dot(chain(2))


def test_collapse_stops_at_named_results() -> None:
    x = T.dvector("x")
    a = x + x + x + x
    a.name = "a"
    b = a + x + x + x
    doc = graph_json(b)
    from labsym.viz.collapse import collapse_chains

    collapsed = collapse_chains(doc)
    labels = [r.get("label") for r in collapsed["nodes"] if r["kind"] == "apply"]
    assert labels == ["Elemwise{add,no_inplace} ×3", "Elemwise{add,no_inplace} ×3"]
    assert doc["nodes"] != collapsed["nodes"]  # the input document is not changed


def test_large_graph_draws_far_inputs_next_to_their_readers() -> None:
    text = to_dot(chain(1000))
    assert "graph [splines=line mclimit=0.01];" in text
    assert '"v0@a999" [label="name=x TensorType(float64, vector)\\nshape=(?,)"' in text
    # the input box itself is only drawn where it is read nearby
    assert '"v0" -> "a0"' in text and '"v0" -> "a999"' not in text


def test_viz_benchmark_cases_draw() -> None:
    from benchmarks import viz

    drawings = dict(viz.cases())
    assert drawings["to_dot 1000-node chain"]().count('shape="ellipse"') == 1000
    [mlp] = [fn for label, fn in drawings.items() if label.startswith("to_dot MLP step")]
    assert 'label="name=W1 TensorType(float32, matrix)\\nshape=(784, 500)"' in mlp()


def test_inplace_ops_are_marked() -> None:
    from labsym.core.ops.elemwise import Elemwise

    x, y = T.dvectors("x", "y")
    exp_inplace = Elemwise(T.exp(x).owner.op.scalar_op, inplace_pattern={0: 0})
    out = exp_inplace(x + y)
    [row] = [r for r in graph_json(out)["nodes"] if r.get("op") == "Elemwise{Exp}[(0, 0)]"]
    assert (row["inplace"], row["destroys"], row["views"]) == (True, [0], [])
    text = to_dot(out)
    assert '"a1" [label="Elemwise{Exp}[(0, 0)]" shape="ellipse" style="filled" ' in text
    assert 'fillcolor="#FFAABB" peripheries="2"' in text
    # Theano's red edge into the input the op destroys
    assert '"a0" -> "a1" [color="red" label="TensorType(float64, vector) shape=(?,)"];' in text


def test_cut_labels_that_repeat_get_theano_ids() -> None:
    x = T.dvector("x")

    def labels(text: str) -> list[str]:
        return re.findall(r'^  "a\d" \[label="([^"]*)"', text, flags=re.M)

    cut = labels(to_dot(T.exp(T.exp(T.exp(x))), max_label_size=20))
    assert cut == ["Elemwise{exp,no_i...", "Elemwise{exp... id=2", "Elemwise{exp... id=3"]
    with_ids = labels(to_dot(T.exp(T.exp(x)), with_ids=True))
    assert with_ids == ["Elemwise{exp,no_inplace} id=0", "Elemwise{exp,no_inplace} id=1"]


def test_collapse_summarises_a_repeated_pattern_of_ops() -> None:
    from labsym.viz.collapse import periodic_runs

    assert periodic_runs(list("aaab"), 3) == [(0, 3, 1)]
    assert periodic_runs(list("xababab"), 3) == [(1, 7, 2)]
    assert periodic_runs(list("abcabcab"), 3) == []
    x = T.dvector("x")
    y = x
    for _ in range(4):
        y = T.exp(y) * x
    text = to_dot(y, collapse=True)
    assert '"a0" [label="(Elemwise{exp,no_inplace} → Elemwise{mul,no_inplace}) ×4"' in text
    assert text.count('shape="ellipse"') == 1


def test_long_edges_make_a_graph_large() -> None:
    # chain(30): x is read by every node, so its edges skip 435 ranks in all (> STRETCH_BUDGET)
    assert '"v0@a29"' in to_dot(chain(30))
    assert "@" not in to_dot(chain(10)) and "splines" not in to_dot(chain(10))


def test_render_stops_a_layout_that_takes_too_long(monkeypatch, tmp_path) -> None:
    slow = tmp_path / "slow-dot"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    monkeypatch.setenv("LABSYM_DOT", str(slow))
    with pytest.raises(RuntimeError, match=r"slow-dot took over 0.2 s to lay out the graph"):
        dotmod.render("digraph G {}", timeout=0.2)


def test_render_reports_a_failing_dot(monkeypatch, tmp_path) -> None:
    broken = tmp_path / "broken-dot"
    broken.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("LABSYM_DOT", str(broken))
    with pytest.raises(RuntimeError, match=r"broken-dot -Tsvg failed \(exit 1\): syntax error"):
        dotmod.render("digraph G {}")
    with pytest.warns(UserWarning, match=r"graph not drawn: .*broken-dot -Tsvg failed"):
        assert svg(expression()) is None


class _HostileOp(labsym.Op):
    """A user op whose printed name is markup."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def __str__(self) -> str:
        return '<img src=x onerror="alert(1)">'


def test_hostile_op_name_in_dot_json_and_svg(pure_dot) -> None:
    out = _HostileOp()(T.dvector("x"))
    assert graph_json(out)["nodes"][1]["op"] == '<img src=x onerror="alert(1)">'
    assert '"a0" [label="<img src=x onerror=\\"alert(1)\\">" shape="ellipse"' in to_dot(out)
    image = svg(out, scan_graphs=True)
    assert "<img" not in image
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in image
