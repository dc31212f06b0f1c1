"""Rewrite history (`Mode(...).with_history()`) as text, an HTML table and versioned JSON.

Reads the driver's RewriteRecords only: each step's phase, rule, math string, one-line
before/after, and its before/after subgraphs as graph_json documents (for the rewrite stepper
and the notebook renderer). May import labsym.core, labsym.optim and labsym.viz.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from labsym.optim.driver import RewriteRecord, Subgraph
from labsym.viz.html import STYLE, table

MIME = "application/vnd.labsym.rewrites+json"
SCHEMA_VERSION = 1
HEADERS = ["#", "phase", "rule", "math", "before", "after"]  # before/after: debugprint trees


def history_text(records: Sequence[RewriteRecord]) -> str:
    """One line per rewrite: `index phase rule: before -> after`."""
    if not records:
        return "no rewrites recorded"
    return "\n".join(
        f"{i:>3} {r.phase:<12} {r.rule}: {r.before} -> {r.after}" for i, r in enumerate(records)
    )


def history_html(records: Sequence[RewriteRecord]) -> str:
    """A table of the rewrites, with counts per phase in its caption."""
    per_phase = Counter(r.phase for r in records)
    caption = f"{len(records)} rewrites" + "".join(
        f"; {phase}: {count}" for phase, count in per_phase.items()
    )
    rows = [
        [i, r.phase, r.rule, r.math, subgraph_text(r.before_graph, r.before),
         subgraph_text(r.after_graph, r.after)]
        for i, r in enumerate(records)
    ]  # fmt: skip
    return STYLE + table(HEADERS, rows, caption=caption, pre=True)


def subgraph_text(part: Subgraph | None, line: str) -> str:
    """A record's before/after part as a debugprint tree; its one-line text if not kept."""
    from labsym.viz.debugprint import debugprint

    if part is None:
        return line
    tree = debugprint(list(part.outputs), file="str")
    return "\n".join(row.rstrip() for row in tree.strip("\n").split("\n"))


def subgraph_json(part: Subgraph | None) -> dict | None:
    """A record's before/after subgraph as a graph_json document (None when not kept)."""
    from labsym.viz.graphjson import graph_json

    if part is None:
        return None
    return graph_json(list(part.outputs))


def history_json(records: Sequence[RewriteRecord]) -> dict:
    """The history as JSON data: schema "labsym.rewrites", version 1, one entry per step."""
    return {
        "schema": "labsym.rewrites",
        "version": SCHEMA_VERSION,
        "steps": [
            {
                "index": i,
                "phase": r.phase,
                "rule": r.rule,
                "math": r.math,
                "before": r.before,
                "after": r.after,
                "before_graph": subgraph_json(r.before_graph),
                "after_graph": subgraph_json(r.after_graph),
            }
            for i, r in enumerate(records)
        ],
    }
