"""A Scan that only maps (jacobian's and hessian's loop over rows) becomes its batched inner graph.

No loop remains: the rows are computed by whole-array ops (a GEMM instead of one GEMV per row),
which the later phases fuse and specialize like any other graph. Scans with recurrent state, or
whose inner graph has an op without a batching rule, stay as they are.

May import core and optim (patterns).
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply, Variable
from labsym.core.scan.op import Scan
from labsym.core.scan.vectorize import vectorize_map
from labsym.optim.patterns import Rule


def vectorize_scan_map(fgraph: Any, node: Apply) -> list[Variable] | None:
    """map(f, xs) -> f batched over the rows of xs, when every op of f has a batching rule."""
    return vectorize_map(node)


RULES = [
    Rule(
        "scan_vectorize",
        ("canonicalize",),
        node_rule=vectorize_scan_map,
        tracks=(Scan,),
        math="for{i}(f(xs[i], c)) -> f_batched(xs, c)  (no recurrent or shared state)",
        extra={"tags": ("scan", "scanOp_vectorize", "local_scan_vectorize")},
    ),
]
