"""A ProfileStats as HTML: totals, Theano's Class / Ops / Apply tables and a heat graph.

The rows are ProfileStats.rows_by (the same numbers as the text summary); the heat graph colours
each node by its share of the time. May import labsym.core and labsym.viz.
"""

from __future__ import annotations

from typing import Any

from labsym.core.profiling import ProfileStats
from labsym.viz.html import STYLE, escape, section, table

TABLE_HEADERS = {
    "class": ["% time", "sum %", "apply time (s)", "time per call (s)", "type", "#call",
              "#apply", "Class name"],
    "op": ["% time", "sum %", "apply time (s)", "time per call (s)", "type", "#call", "#apply",
           "Op name"],
    "apply": ["% time", "sum %", "apply time (s)", "time per call (s)", "#call", "id",
              "output shapes", "Apply name"],
}  # fmt: skip
TITLES = {"class": "Class", "op": "Ops", "apply": "Apply"}


def totals_rows(stats: ProfileStats) -> list[tuple[str, Any]]:
    """(label, value) pairs of the report's head: calls, times, node count."""
    return [
        ("Message", stats.name),
        ("Calls to Function.__call__", stats.call_count),
        ("Time in calls (s)", _sig(stats.call_time)),
        ("Time in thunks (s)", _sig(stats.thunk_time)),
        ("Total compile time (s)", _sig(stats.compile_time)),
        ("Optimizer time (s)", _sig(stats.optimizer_time)),
        ("Linker time (s)", _sig(stats.linker_time)),
        ("Number of Apply nodes", len(stats.node_names)),
    ]


def table_rows(stats: ProfileStats, key: str, n: int | None = None) -> list[list[Any]]:
    """The rows of one view ('class', 'op' or 'apply') as numbers and names, slowest first."""
    whole = stats.thunk_time
    cumulative = 0.0
    rows = []
    for row in stats.rows_by(key)[:n]:
        cumulative += row.seconds
        if row.calls == 0:
            continue
        head = [
            round(100 * row.seconds / whole, 1) if whole else 0.0,
            round(100 * cumulative / whole, 1) if whole else 0.0,
            _sig(row.seconds),
            _sig(row.seconds / row.calls),
        ]
        if key == "apply":
            rows.append([*head, row.calls, row.node_id, row.shapes, row.label])
        else:
            rows.append([*head, row.impl, row.calls, row.applies, row.label])
    return rows


def heat(stats: ProfileStats, doc: dict) -> dict[str, float]:
    """graph_json apply id -> share of the thunk time (0..1), for to_dot(heat=...)."""
    whole = stats.thunk_time
    return {
        row["id"]: row["time_s"] / whole
        for row in doc["nodes"]
        if row["kind"] == "apply" and "time_s" in row and whole
    }


def profile_html(
    stats: ProfileStats, graph_svg: str | None = None, n_ops: int = 20, n_apply: int = 20
) -> str:
    """The whole profile as one HTML block; `graph_svg` (already rendered) goes last."""
    parts = [
        STYLE,
        f"<div class='labsym-profile'><h3>Function profiling: {escape(stats.name)}</h3>",
        table(["", ""], totals_rows(stats)),
    ]
    if stats.thunk_time > 0:
        for key in ("class", "op", "apply"):
            n = n_apply if key == "apply" else n_ops
            parts.append(table(TABLE_HEADERS[key], table_rows(stats, key, n), caption=TITLES[key]))
    elif stats.call_count > 0:
        parts.append("<p>No execution time accumulated.</p>")
    else:
        parts.append("<p>Not called yet: call the function, then show its profile.</p>")
    if graph_svg is not None:
        parts.append(section("Time per node (white: none, red: all)", graph_svg))
    parts.append("</div>")
    return "".join(parts)


def _sig(seconds: float) -> str:
    return f"{seconds:.3e}"
