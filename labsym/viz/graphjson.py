"""graph_json: a graph (Variable, Function, FunctionGraph) as plain JSON data, schema version 1.

The contract the notebook renderers read (docs/graph-json.md); every string in it is data.
May import labsym.core and labsym.utils.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core.fgraph import FunctionGraph
from labsym.core.function import Function
from labsym.core.graph import Apply, Constant, Variable, graph_inputs, io_toposort
from labsym.core.ops import blas, elemwise, gemm, reduce, shape, subtensor
from labsym.core.ops.opfromgraph import OpFromGraph
from labsym.core.ops.random import RandomOp
from labsym.core.scan.op import Scan
from labsym.core.shared import SharedVariable

__all__ = ["CATEGORIES", "MIME", "ROLES", "SCHEMA_VERSION", "graph_json"]

MIME = "application/vnd.labsym.graph+json"
SCHEMA_VERSION = 1
CATEGORIES = ("elemwise", "blas", "reduce", "shape", "random", "scan", "opfromgraph", "other")
ROLES = ("input", "output", "shared", "constant", "intermediate")

# the op families each category is made of, by the module that defines them
_CATEGORY_MODULES = {
    elemwise.__name__: "elemwise",
    "labsym.core.ops.composite": "elemwise",
    blas.__name__: "blas",
    gemm.__name__: "blas",
    reduce.__name__: "reduce",
    shape.__name__: "shape",
    subtensor.__name__: "shape",
}


def graph_json(obj: Any, *, profile: Any = None, title: str | None = None) -> dict:
    """The graph of `obj` as a JSON-serialisable dict (schema "labsym.graph", version 1).

    `obj` is a Variable, an Apply, a list of Variables, a compiled Function (its optimized graph
    and updates) or a FunctionGraph; `profile` (a ProfileStats, by default a Function's own)
    attaches each node's time. Notebook renderers draw from this data, so it holds no markup.

    Examples
    --------
    >>> import json, labsym.tensor as T
    >>> x = T.dvector("x")
    >>> g = graph_json(x * 2)
    >>> [n["op"] for n in g["nodes"] if n["kind"] == "apply"]
    ['InplaceDimShuffle{x}', 'Elemwise{mul,no_inplace}']
    >>> json.loads(json.dumps(g))["version"]
    1
    """
    inputs, outputs, topo, updates, default_profile = _resolve(obj)
    profile = default_profile if profile is None else profile
    builder = _Builder("")
    doc = {"schema": "labsym.graph", "version": SCHEMA_VERSION, "title": title}
    doc.update(builder.build(inputs, outputs, topo, updates))
    doc["profile"] = _attach_profile(doc, builder, topo, profile)
    return doc


def _resolve(obj: Any) -> tuple[list, list, list[Apply], list[tuple[Variable, Variable]], Any]:
    """(inputs, outputs, toposort, [(shared, update)], profile) of anything graph_json accepts."""
    if isinstance(obj, Function):
        fgraph = obj.maker.fgraph
        n_out = len(obj.maker.outputs)
        n_explicit = len(obj.maker.inputs)
        shared_inputs = dict(zip(obj.maker.shared, fgraph.inputs[n_explicit:], strict=True))
        targets = [shared_inputs.get(t) for t, _ in obj.maker.updates]
        targets += [fgraph.inputs[i] for i, spec in enumerate(obj.maker.inputs) if spec.update]
        updates = [
            (t, out)
            for t, out in zip(targets, fgraph.outputs[n_out:], strict=True)
            if t is not None
        ]
        return fgraph.inputs, fgraph.outputs[:n_out], fgraph.toposort(), updates, obj.profile
    if isinstance(obj, FunctionGraph):
        return obj.inputs, obj.outputs, obj.toposort(), [], None
    if isinstance(obj, Apply):
        obj = obj.outputs
    if isinstance(obj, Variable):
        obj = [obj]
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(v, Variable) for v in obj):
        inputs = graph_inputs(obj)
        return inputs, list(obj), io_toposort(inputs, obj), [], None
    raise TypeError(
        "graph_json needs a Variable, an Apply, a non-empty list of Variables, a Function or a "
        f"FunctionGraph, got {type(obj).__name__}"
    )


class _Builder:
    """Numbers variables and applies in toposort order (deterministic ids) and collects rows."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.var_ids: dict[Variable, str] = {}
        self.apply_ids: dict[Apply, str] = {}
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.clusters: list[dict] = []

    def build(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        topo: list[Apply],
        updates: list[tuple[Variable, Variable]],
    ) -> dict:
        """The nodes/edges/inputs/outputs/updates/clusters rows of one graph."""
        self.outputs = set(outputs)
        self.inputs = set(inputs)
        for var in inputs:
            self._var(var)
        for index, node in enumerate(topo):
            self._apply(node, index)
        for var in outputs:
            self._var(var)
        pairs = [[self._var(shared), self._var(update)] for shared, update in updates]
        for shared_id, update_id in pairs:
            self.edges.append(
                {"source": update_id, "target": shared_id, "position": None, "kind": "update"}
            )
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "inputs": [self.var_ids[v] for v in inputs],
            "outputs": [self.var_ids[v] for v in outputs],
            "updates": pairs,
            "clusters": self.clusters,
        }

    def _var(self, var: Variable) -> str:
        if var in self.var_ids:
            return self.var_ids[var]
        var_id = self.var_ids[var] = f"{self.prefix}v{len(self.var_ids)}"
        dims, shape_from = _shape_of(var)
        row = {
            "id": var_id,
            "kind": "variable",
            "name": None if var.name is None else str(var.name),
            "type": str(var.type),
            "dtype": _dtype_of(var),
            "shape": dims,
            "shape_from": shape_from,
            "role": self._role(var),
            "source": _source(var),
        }
        if isinstance(var, Constant):
            row["value"] = _short_value(var.data)
        self.nodes.append(row)
        return var_id

    def _role(self, var: Variable) -> str:
        if isinstance(var, Constant):
            return "constant"
        if isinstance(var, SharedVariable):
            return "shared"
        if var in self.outputs:
            return "output"
        if var.owner is None:
            return "input"
        return "intermediate"

    def _apply(self, node: Apply, index: int) -> None:
        apply_id = self.apply_ids[node] = f"{self.prefix}a{len(self.apply_ids)}"
        in_ids = [self._var(v) for v in node.inputs]
        op = node.op
        destroyed = sorted({i for ins in getattr(op, "destroy_map", {}).values() for i in ins})
        viewed = sorted({i for ins in getattr(op, "view_map", {}).values() for i in ins})
        row = {
            "id": apply_id,
            "kind": "apply",
            "op": str(op),
            "op_class": type(op).__name__,
            "category": category_of(op),
            "inplace": bool(destroyed),
            "destroys": destroyed,
            "views": viewed,
            "index": index,
            "source": _source(node.outputs[0]) if node.outputs else None,
        }
        self.nodes.append(row)
        for position, var_id in enumerate(in_ids):
            self.edges.append(
                {"source": var_id, "target": apply_id, "position": position, "kind": "data"}
            )
        for position, out in enumerate(node.outputs):
            self.edges.append(
                {"source": apply_id, "target": self._var(out), "position": position, "kind": "data"}
            )
        inner = getattr(op, "fgraph", None)
        if isinstance(op, (Scan, OpFromGraph)) and isinstance(inner, FunctionGraph):
            self._cluster(apply_id, op, inner)

    def _cluster(self, apply_id: str, op: Any, inner: FunctionGraph) -> None:
        cluster_id = f"{self.prefix}c{len(self.clusters)}"
        sub = _Builder(f"{cluster_id}.")
        graph = sub.build(inner.inputs, inner.outputs, inner.toposort(), [])
        name = getattr(op, "name", None) or getattr(getattr(op, "info", None), "name", None)
        self.clusters.append(
            {
                "id": cluster_id,
                "apply": apply_id,
                "kind": category_of(op),
                "title": str(op),
                "name": None if name is None else str(name),
                **graph,
            }
        )


def category_of(op: Any) -> str:
    """The drawing category of an op: one of CATEGORIES (colour and legend key)."""
    if isinstance(op, Scan):
        return "scan"
    if isinstance(op, OpFromGraph):
        return "opfromgraph"
    if isinstance(op, RandomOp):
        return "random"
    if isinstance(op, elemwise.DimShuffle):
        return "shape"
    found = _CATEGORY_MODULES.get(type(op).__module__)
    if found is not None:
        return found
    if getattr(op, "view_map", None):
        return "shape"
    return "other"


def _dtype_of(var: Variable) -> str | None:
    dtype = getattr(var.type, "dtype", None)
    return None if dtype is None else str(dtype)


def _shape_of(var: Variable) -> tuple[list[int | None] | None, str | None]:
    """(dims with None for unknown, "type"|"test_value"|None): static dims, then a known value's."""
    static = getattr(var.type, "shape", None)
    if static is None:
        return None, None
    dims = [None if d is None else int(d) for d in static]
    if None not in dims:
        return dims, "type"
    value = _known_value(var)
    value_shape = getattr(value, "shape", None)
    if value_shape is None or len(value_shape) != len(dims):
        return dims, "type"
    return [int(v) if d is None else d for d, v in zip(dims, value_shape)], "test_value"


def _known_value(var: Variable) -> Any:
    # a constant's data, a shared variable's current value, or a test value
    if isinstance(var, Constant):
        return var.data
    if isinstance(var, SharedVariable):
        return var.container.value
    return getattr(var.tag, "test_value", None)


def _source(var: Variable) -> str | None:
    trace = getattr(var, "trace", None)
    if trace is None:
        return None
    return f"{trace.filename}:{trace.lineno}"


def _short_value(data: Any) -> str:
    """A constant's value as Theano's pydotprint showed it: its first printed line, shortened."""
    text = str(np.asarray(data)) if not isinstance(data, str) else data
    text = text.split("\n", 1)[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _attach_profile(doc: dict, builder: _Builder, topo: list[Apply], profile: Any) -> dict | None:
    """Adds time_s/percent/calls to each profiled apply row; the profile's totals, or None."""
    if profile is None:
        return None
    times = list(getattr(profile, "node_times", []))
    calls = list(getattr(profile, "node_calls", []))
    if len(times) != len(topo):
        # a profile of another graph: its per-node rows cannot be matched to these nodes
        return None
    call_time = float(getattr(profile, "call_time", 0.0))
    node_total = float(sum(times))
    # Theano's pydotprint: percent of the time spent in Function.__call__
    whole = call_time or node_total
    rows = {row["id"]: row for row in doc["nodes"]}
    for node, seconds, count in zip(topo, times, calls or [0] * len(times)):
        row = rows[builder.apply_ids[node]]
        row["time_s"] = float(seconds)
        row["percent"] = 100.0 * seconds / whole if whole else 0.0
        row["calls"] = int(count)
    return {
        "name": str(getattr(profile, "name", "")),
        "call_count": int(getattr(profile, "call_count", 0)),
        "call_time_s": call_time,
        "node_time_s": node_total,
        "compile_time_s": float(getattr(profile, "compile_time", 0.0)),
    }
