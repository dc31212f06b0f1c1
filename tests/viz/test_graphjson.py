"""graph_json: schema version 1 (docs/graph-json.md): ids, roles, shapes, profile, updates."""

from __future__ import annotations

import json

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.core.profiling import ProfileStats
from labsym.viz.graphjson import CATEGORIES, MIME, ROLES, SCHEMA_VERSION, graph_json

HOSTILE = "<script>alert(1)</script>"

_DOC_KEYS = {
    "schema": str,
    "version": int,
    "title": (str, type(None)),
    "nodes": list,
    "edges": list,
    "inputs": list,
    "outputs": list,
    "updates": list,
    "clusters": list,
    "profile": (dict, type(None)),
}
_APPLY_KEYS = {
    "id": str,
    "kind": str,
    "op": str,
    "op_class": str,
    "category": str,
    "inplace": bool,
    "destroys": list,
    "views": list,
    "index": int,
    "source": (str, type(None)),
}
_VARIABLE_KEYS = {
    "id": str,
    "kind": str,
    "name": (str, type(None)),
    "type": str,
    "dtype": (str, type(None)),
    "shape": (list, type(None)),
    "shape_from": (str, type(None)),
    "role": str,
    "source": (str, type(None)),
}
_EDGE_KEYS = {"source": str, "target": str, "position": (int, type(None)), "kind": str}


def _check_keys(row: dict, spec: dict, where: str) -> None:
    for key, types in spec.items():
        assert key in row, f"{where}: missing {key!r}"
        assert isinstance(row[key], types), f"{where}.{key} = {row[key]!r}"


def validate(doc: dict, top: bool = True) -> None:
    """A small schema check of docs/graph-json.md: required keys, types and references."""
    if top:
        _check_keys(doc, _DOC_KEYS, "document")
        assert doc["schema"] == "labsym.graph" and doc["version"] == SCHEMA_VERSION
    ids = set()
    for row in doc["nodes"]:
        assert row["id"] not in ids, f"duplicate id {row['id']}"
        ids.add(row["id"])
        if row["kind"] == "apply":
            _check_keys(row, _APPLY_KEYS, row["id"])
            assert row["category"] in CATEGORIES
            for key in ("time_s", "percent"):
                assert isinstance(row.get(key, 0.0), float)
        else:
            assert row["kind"] == "variable"
            _check_keys(row, _VARIABLE_KEYS, row["id"])
            assert row["role"] in ROLES
            assert row["shape"] is None or all(
                d is None or isinstance(d, int) for d in row["shape"]
            )
    for edge in doc["edges"]:
        _check_keys(edge, _EDGE_KEYS, "edge")
        assert edge["kind"] in ("data", "update")
        assert edge["source"] in ids and edge["target"] in ids
    assert set(doc["inputs"]) <= ids and set(doc["outputs"]) <= ids
    for pair in doc["updates"]:
        assert len(pair) == 2 and set(pair) <= ids
    for cluster in doc["clusters"]:
        spec = {"id": str, "apply": str, "kind": str, "title": str, "name": (str, type(None))}
        _check_keys(cluster, spec, "cluster")
        assert cluster["apply"] in ids and cluster["kind"] in ("scan", "opfromgraph")
        validate(cluster, top=False)


def _rows(doc: dict, kind: str) -> list[dict]:
    return [row for row in doc["nodes"] if row["kind"] == kind]


def _trained_function(**kwargs):
    x = T.dvector("x")
    w = labsym.shared(np.ones(3), "w")
    cost = T.sum(x * w)
    return labsym.function([x], cost, updates=[(w, w - 0.1 * x)], mode="FAST_COMPILE", **kwargs)


def test_constants_of_the_contract() -> None:
    assert MIME == "application/vnd.labsym.graph+json"
    assert SCHEMA_VERSION == 1


def test_variable_graph_rows_ids_and_round_trip() -> None:
    x = T.dvector("x")
    y = x * 2
    doc = graph_json(y, title="double")
    validate(doc)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["title"] == "double" and doc["profile"] is None
    assert [(r["id"], r["op"], r["category"]) for r in _rows(doc, "apply")] == [
        ("a0", "InplaceDimShuffle{x}", "shape"),
        ("a1", "Elemwise{mul,no_inplace}", "elemwise"),
    ]
    variables = {r["id"]: r for r in _rows(doc, "variable")}
    assert variables["v0"]["name"] == "x" and variables["v0"]["role"] == "input"
    assert variables["v1"]["role"] == "constant" and variables["v1"]["value"] == "2"
    assert doc["inputs"] == ["v0", "v1"] and doc["outputs"] == ["v3"]
    assert variables["v3"]["role"] == "output"
    # ids are given in toposort order: the same graph gives the same document
    assert graph_json(y, title="double") == doc
    assert {"source": "v2", "target": "a1", "position": 1, "kind": "data"} in doc["edges"]
    assert _rows(doc, "apply")[0]["views"] == [0]


def test_hostile_names_stay_plain_strings() -> None:
    x = T.dvector(HOSTILE)
    doc = graph_json(T.exp(x), title=HOSTILE)
    assert doc["title"] == HOSTILE
    assert _rows(doc, "variable")[0]["name"] == HOSTILE
    text = json.dumps(doc)
    assert json.loads(text)["nodes"][0]["name"] == HOSTILE


def test_shapes_from_static_type_test_value_and_shared_value() -> None:
    z = T.TensorType("float64", shape=(3, None))("z")
    m = T.dmatrix("m")
    m.tag.test_value = np.zeros((2, 5))
    s = labsym.shared(np.zeros((4, 6)), "s")
    doc = graph_json([z + 1, m + s])
    by_name = {r["name"]: r for r in _rows(doc, "variable") if r["name"]}
    assert (by_name["z"]["shape"], by_name["z"]["shape_from"]) == ([3, None], "type")
    assert (by_name["m"]["shape"], by_name["m"]["shape_from"]) == ([2, 5], "test_value")
    assert (by_name["s"]["shape"], by_name["s"]["role"]) == ([4, 6], "shared")
    assert by_name["z"]["dtype"] == "float64"


def test_source_line_of_each_variable() -> None:
    x = T.dvector("x")
    line = __import__("inspect").currentframe().f_lineno + 1
    y = T.exp(x)
    doc = graph_json(y)
    assert _rows(doc, "variable")[-1]["source"] == f"{__file__}:{line}"
    assert _rows(doc, "apply")[0]["source"] == f"{__file__}:{line}"


def test_function_updates_are_edges_back_to_the_shared_variable() -> None:
    doc = graph_json(_trained_function())
    validate(doc)
    variables = {r["id"]: r for r in _rows(doc, "variable")}
    [[shared_id, update_id]] = doc["updates"]
    assert variables[shared_id]["name"] == "w" and variables[shared_id]["role"] == "shared"
    assert variables[update_id]["role"] == "intermediate"
    assert {"source": update_id, "target": shared_id, "position": None, "kind": "update"} in doc[
        "edges"
    ]
    # the update expression is not a function output
    assert update_id not in doc["outputs"] and len(doc["outputs"]) == 1


def test_profile_times_are_attached_to_nodes() -> None:
    fn = _trained_function(profile=True)
    fn(np.ones(3))
    fn(np.ones(3))
    doc = graph_json(fn)
    validate(doc)
    applies = _rows(doc, "apply")
    assert all(r["calls"] == 2 and r["time_s"] > 0 for r in applies)
    assert doc["profile"]["call_count"] == 2
    assert doc["profile"]["node_time_s"] == pytest.approx(sum(r["time_s"] for r in applies))


def test_profile_percent_is_of_the_call_time() -> None:
    x = T.dvector("x")
    y = T.exp(x) + 1
    stats = ProfileStats(name="fake", call_count=4, call_time=2.0)
    n_applies = len(_rows(graph_json(y), "apply"))
    stats.node_times = [0.5] * n_applies
    stats.node_calls = [4] * n_applies
    doc = graph_json(y, profile=stats)
    assert [(r["time_s"], r["percent"], r["calls"]) for r in _rows(doc, "apply")] == [
        (0.5, 25.0, 4)
    ] * n_applies
    assert doc["profile"] == {
        "name": "fake",
        "call_count": 4,
        "call_time_s": 2.0,
        "node_time_s": 0.5 * n_applies,
        "compile_time_s": 0.0,
    }
    # a profile of another graph is not matched to these nodes
    stats.node_times = [0.5] * (n_applies + 1)
    assert graph_json(y, profile=stats)["profile"] is None


def test_scan_inner_graph_is_a_cluster() -> None:
    x = T.dvector("x")
    result, _ = labsym.scan(lambda a, acc: acc + a * 2, sequences=[x], outputs_info=[x[0]])
    doc = graph_json(result)
    validate(doc)
    [cluster] = doc["clusters"]
    scan_row = next(r for r in _rows(doc, "apply") if r["id"] == cluster["apply"])
    assert scan_row["category"] == "scan" and cluster["kind"] == "scan"
    assert cluster["title"] == scan_row["op"] == "for{cpu,scan_fn}"
    assert cluster["name"] is None
    assert all(r["id"].startswith("c0.") for r in cluster["nodes"])
    assert [r["op"] for r in _rows(cluster, "apply")] == [
        "Elemwise{mul,no_inplace}",
        "Elemwise{add,no_inplace}",
    ]


def test_opfromgraph_inner_graph_is_a_cluster() -> None:
    a, b = T.dscalars("a", "b")
    op = labsym.OpFromGraph([a, b], [a * b + 1])
    x = T.dscalar("x")
    doc = graph_json(op(x, x))
    validate(doc)
    [cluster] = doc["clusters"]
    assert (cluster["kind"], cluster["name"]) == ("opfromgraph", None)
    assert {r["name"] for r in _rows(cluster, "variable") if r["role"] == "input"} == {"a", "b"}


def test_categories_of_common_ops() -> None:
    x, y = T.dmatrices("x", "y")
    rng = labsym.tensor.shared_randomstreams.RandomStreams(1)
    doc = graph_json([T.dot(x, y), x.sum(axis=0), x.reshape((4,)), rng.uniform((2,))])
    got = {r["op_class"]: r["category"] for r in _rows(doc, "apply")}
    assert got["Dot"] == "blas"
    assert got["Sum"] == "reduce"
    assert got["Reshape"] == "shape"
    assert "random" in got.values()


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="graph_json needs a Variable.*got int"):
        graph_json(3)
    with pytest.raises(TypeError, match="got list"):
        graph_json([])
