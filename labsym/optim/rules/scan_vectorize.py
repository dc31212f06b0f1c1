"""Scan rewrites that take work out of loops (Theano's scan_eqopt family, for a map and more).

- scan_vectorize: a Scan that only maps (jacobian's and hessian's loop over rows) becomes its
  batched inner graph: whole-array ops (a GEMM instead of one GEMV per row) that the later
  phases fuse and specialize like any other graph. Scans with recurrent state, or whose inner
  graph has an op without a batching rule, stay as they are. The batched graph holds every
  step's intermediates at once (the loop holds one step's): where they would not fit in
  memory, `mode.excluding('scan_vectorize')` keeps the loop.
- scan_pushout_seqs_ops: products of sequences and non-sequences computed before the loop.
- scan_pushout_accumulators: sums of per-step terms (a backward loop's weight gradients)
  computed after the loop from stacked values, a sum of products as one tensordot.
- scan_prune_outputs: outputs nobody reads are not computed.
- scan_keep_init + scan_join_init (specialize): a state's history joined after its initial
  rows (what a backward loop reads) is the forward loop's own buffer, not a copy.

May import core and optim (patterns).
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply, Variable
from labsym.core.ops.basic import Join
from labsym.core.scan import history, pushout
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
    Rule(
        "scan_prune_outputs",
        ("canonicalize",),
        node_rule=pushout.prune_outputs,
        tracks=(Scan,),
        math="for(...) with an unread output -> for(...) without it",
        extra={"tags": ("scan", "remove_constants_and_unused_inputs_scan")},
    ),
    Rule(
        "scan_pushout_seqs_ops",
        ("canonicalize",),
        node_rule=pushout.pushout_sequence_ops,
        tracks=(Scan,),
        math="for{t}(f(dot(x[t], W), h)) -> for{t}(f(xW[t], h)), xW = x . W",
        extra={"tags": ("scan", "scanOp_pushout_seqs_ops")},
    ),
    Rule(
        "scan_pushout_accumulators",
        ("canonicalize",),
        node_rule=pushout.pushout_accumulators,
        tracks=(Scan,),
        math="acc' = acc + dot(x[t].T, d(t)) -> acc = acc0 + tensordot(x, d_stacked)",
        extra={"tags": ("scan", "scanOp_pushout_output", "PushOutDot1")},
    ),
    Rule(
        "scan_keep_init",
        ("specialize",),
        node_rule=history.keep_init,
        tracks=(Scan,),
        math="join(0, h0, for(h0).h) -> for{with_init}(h0).h (the loop's buffer)",
        extra={"tags": ("scan", "scan_join_init")},
    ),
    Rule(
        "scan_join_init",
        ("specialize",),
        node_rule=history.join_init,
        tracks=(Join,),
        math="join(0, h0, full[1:]) -> full, full = for{with_init}(h0).h",
        extra={"tags": ("scan",)},
    ),
]
