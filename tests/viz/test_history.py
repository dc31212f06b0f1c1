"""Rewrite history keeps graph structure; its text, HTML table and JSON views."""

from __future__ import annotations

import json

import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.core.graph import Apply
from labsym.optim.driver import History, RewriteRecord
from labsym.viz.graphjson import graph_json
from labsym.viz.history import MIME, history_html, history_json, history_text

HOSTILE = "<script>alert(1)</script>"


def _ops(nodes: list[Apply]) -> list[str]:
    return [str(node.op) for node in nodes]


def _history(expr_of, name: str = "x") -> tuple[History, object]:
    x = T.dvector(name)
    f = function([x], expr_of(x), mode=Mode(linker="py").with_history())
    return f.maker.fgraph.history, x


def test_records_keep_the_removed_and_added_subgraphs():
    history, x = _history(lambda x: T.log(1 + T.exp(x)) * 3)
    (step,) = [r for r in history if r.rule == "softplus_from_log_exp"]
    assert step.phase == "stabilize" and step.math == "log(1 + exp(x)) -> softplus(x)"
    assert _ops(step.before_graph.nodes) == [
        "Elemwise{exp,no_inplace}",
        "Elemwise{add,no_inplace}",
        "Elemwise{log,no_inplace}",
    ]
    assert _ops(step.after_graph.nodes) == ["softplus"]
    # the cut points are private leaf copies: walking a record never reaches the live graph
    leaves = step.before_graph.inputs + step.after_graph.inputs
    assert all(leaf.owner is None for leaf in leaves)
    assert "x" in [leaf.name for leaf in step.before_graph.inputs]
    assert all(leaf is not x for leaf in leaves)


def test_records_stay_as_they_were_when_later_rewrites_change_the_graph():
    history, _ = _history(lambda x: T.log(1 + T.exp(x)) * 3)
    rules = [r.rule for r in history]
    assert rules.index("softplus_from_log_exp") < rules.index("fuse_elemwise")
    (step,) = [r for r in history if r.rule == "softplus_from_log_exp"]
    (softplus,) = step.after_graph.outputs
    assert (
        str(softplus.owner.op) == "softplus"
    )  # fusion later folded the live node into a Composite
    (fused,) = [r for r in history if r.rule == "fuse_elemwise"]
    assert _ops(fused.before_graph.nodes) == ["softplus", "Elemwise{mul,no_inplace}"]
    assert _ops(fused.after_graph.nodes)[0].startswith("Elemwise{Composite{")


def test_merge_records_keep_the_dropped_and_the_kept_node():
    history, _ = _history(lambda x: T.exp(x) + T.exp(x))
    (merge,) = [r for r in history if r.rule == "merge" and "exp" in r.before]
    assert _ops(merge.before_graph.nodes) == _ops(merge.after_graph.nodes)
    assert merge.before_graph.outputs[0] is not merge.after_graph.outputs[0]


def test_history_views_text_html_and_json():
    history, _ = _history(lambda x: T.log(1 + T.exp(x)), name=HOSTILE)
    steps = list(history)
    lines = history_text(history).split("\n")
    assert len(lines) == len(steps)
    index = [r.rule for r in steps].index("softplus_from_log_exp")
    head = f"{index:>3} stabilize    softplus_from_log_exp: {steps[index].before} -> softplus("
    assert lines[index].startswith(head)
    page = history_html(history)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert HOSTILE not in page and '<table class="labsym-table labsym-pre">' in page
    # the after part as a debugprint tree of the kept subgraph
    assert f"<td>softplus [id A] &#x27;&#x27;\n |{escaped} [id B]</td></tr>" in page
    assert f"<caption>{len(steps)} rewrites" in page
    doc = json.loads(json.dumps(history_json(history)))
    assert (doc["schema"], doc["version"], len(doc["steps"])) == ("labsym.rewrites", 1, len(steps))
    step = doc["steps"][index]
    assert (step["phase"], step["rule"], step["math"]) == (
        "stabilize",
        "softplus_from_log_exp",
        "log(1 + exp(x)) -> softplus(x)",
    )
    before = step["before_graph"]
    assert (before["schema"], before["version"]) == ("labsym.graph", 1)
    ops = [n["op"] for n in before["nodes"] if n["kind"] == "apply"]
    assert ops == [
        "Elemwise{exp,no_inplace}",
        "Elemwise{add,no_inplace}",
        "Elemwise{log,no_inplace}",
    ]
    names = {n["id"]: n.get("name") for n in before["nodes"]}
    assert HOSTILE in [names[i] for i in before["inputs"]]  # the name is data, kept verbatim
    assert step["after_graph"] == graph_json(list(steps[index].after_graph.outputs))


def test_records_without_structure_and_empty_histories():
    plain = History([RewriteRecord("canonicalize", "mul_by_one", "x * 1", "x", "x * 1 -> x")])
    assert history_json(plain)["steps"][0]["before_graph"] is None
    assert "<td>x * 1</td><td>x</td>" in history_html(plain)  # the one-line texts instead
    assert history_text(History()) == "no rewrites recorded"
    assert MIME == "application/vnd.labsym.rewrites+json"
