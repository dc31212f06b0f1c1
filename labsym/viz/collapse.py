"""collapse_chains: a graph_json document with repeated chains drawn as one "... ×N" node.

The rule: a link joins apply A to apply B when A has one output, that output is unnamed, is no
graph output or update, and is read only by B. Linked nodes form paths (followed in toposort
order). Along a path, a stretch whose ops repeat with a period of 1 to 4 nodes, at least
`min_length` times (`add add add`, or `mul add mul add mul add`), becomes one node labelled
"op ×N" or "(op1 → op2) ×N". Its other inputs feed the summary node (each once), constants that
only it reads (and nodes computed from them alone) are counted in its label, and its last node's
outputs leave it. Pure data in, data out; imports nothing from labsym.
"""

from __future__ import annotations

import copy

__all__ = ["collapse_chains"]

MAX_PERIOD = 4


def collapse_chains(doc: dict, min_length: int = 3) -> dict:
    """A copy of a graph_json document (and its clusters) with op chains summarised."""
    doc = copy.deepcopy(doc)
    _collapse_in_place(doc, min_length)
    return doc


def _collapse_in_place(doc: dict, min_length: int) -> None:
    for cluster in doc.get("clusters", []):
        _collapse_in_place(cluster, min_length)
    rows = {row["id"]: row for row in doc["nodes"]}
    data = [e for e in doc["edges"] if e["kind"] == "data"]
    produced = {e["source"]: [] for e in data if rows[e["source"]]["kind"] == "apply"}
    readers: dict[str, list[str]] = {}
    for edge in data:
        if rows[edge["source"]]["kind"] == "apply":
            produced[edge["source"]].append(edge["target"])
        else:
            readers.setdefault(edge["source"], []).append(edge["target"])
    kept = set(doc["outputs"]) | {v for pair in doc["updates"] for v in pair}
    following = {}
    for apply_id, out_ids in produced.items():
        if len(out_ids) == 1 and out_ids[0] not in kept and rows[out_ids[0]]["name"] is None:
            read_by = readers.get(out_ids[0], [])
            if len(read_by) == 1:
                following[apply_id] = read_by[0]
    owner = {e["target"]: e["source"] for e in data if rows[e["target"]]["kind"] == "variable"}
    feeding: dict[str, list[str]] = {}
    for edge in data:
        if rows[edge["target"]]["kind"] == "apply":
            feeding.setdefault(edge["target"], []).append(edge["source"])
    graph = (rows, readers, produced, owner, feeding)
    visited: set[str] = set()
    for row in list(doc["nodes"]):
        if row["kind"] != "apply" or row["id"] in visited:
            continue
        path = [row["id"]]
        while path[-1] in following and following[path[-1]] not in visited:
            path.append(following[path[-1]])
        visited.update(path)
        for start, stop, period in periodic_runs([rows[a]["op"] for a in path], min_length):
            chain = path[start:stop]
            _merge(doc, graph, chain, period, {produced[a][0] for a in chain[:-1]})


def periodic_runs(ops: list[str], min_length: int) -> list[tuple[int, int, int]]:
    """(start, stop, period) of each stretch of `ops` repeating >= min_length times, greedily."""
    runs = []
    i = 0
    while i < len(ops):
        covered, best_period = 0, 1
        for period in range(1, MAX_PERIOD + 1):
            j = i + period
            while j < len(ops) and ops[j] == ops[j - period]:
                j += 1
            repeats = (j - i) // period
            if repeats >= min_length and repeats * period > covered:
                covered, best_period = repeats * period, period
        if covered:
            runs.append((i, i + covered, best_period))
            i += covered
        else:
            i += 1
    return runs


def _constant_part(var_id: str, allowed: set[str], graph: tuple, found: set[str]) -> bool:
    """Whether `var_id` is computed from constants alone and read only by `allowed` nodes.

    Adds it (and the applies and variables it is made of) to `found` when it is.
    """
    rows, readers, produced, owners, feeding_of = graph
    if not set(readers.get(var_id, [])) <= allowed:
        return False
    if rows[var_id]["role"] == "constant":
        found.add(var_id)
        return True
    owner = owners.get(var_id)
    if owner is None or produced.get(owner) != [var_id]:
        return False
    feeding = feeding_of.get(owner, [])
    part: set[str] = set()
    if all(_constant_part(v, allowed | {owner}, graph, part) for v in feeding):
        found |= part | {owner, var_id}
        return True
    return False


def _merge(doc: dict, graph: tuple, chain: list[str], period: int, inner_vars: set[str]) -> None:
    """Replace the nodes of `chain` by its first node, relabelled "op ×N" or "(op → op) ×N"."""
    rows = graph[0]
    members = set(chain)
    head = rows[chain[0]]
    # side inputs made of constants that only this chain reads are counted, not drawn
    private: set[str] = set()
    for edge in doc["edges"]:
        if edge["target"] in members and edge["source"] not in inner_vars:
            _constant_part(edge["source"], members, graph, private)
    dropped = (members - {head["id"]}) | inner_vars | private
    edges, fed = [], set()
    for edge in doc["edges"]:
        source, target = edge["source"], edge["target"]
        if target in members and source not in inner_vars:
            if source in private or source in fed:
                continue
            fed.add(source)
            edges.append({**edge, "target": head["id"], "position": None})
        elif source == chain[-1]:
            edges.append({**edge, "source": head["id"]})
        elif source not in dropped and target not in dropped:
            edges.append(edge)
    doc["edges"] = edges
    ops = [rows[a]["op"] for a in chain[:period]]
    repeats = len(chain) // period
    label = f"{ops[0]} ×{repeats}" if period == 1 else f"({' → '.join(ops)}) ×{repeats}"
    n_constants = sum(1 for v in private if rows[v].get("role") == "constant")
    if n_constants:
        label += f" (+{n_constants} constants)"
    head.update(label=label, collapsed=repeats, members=list(chain))
    for key in ("time_s", "percent"):
        if key in head:
            head[key] = sum(rows[a].get(key, 0.0) for a in chain)
    doc["nodes"] = [row for row in doc["nodes"] if row["id"] not in dropped]
    doc["inputs"] = [v for v in doc["inputs"] if v not in dropped]
