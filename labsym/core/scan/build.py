"""Theano's looping API: scan (taps, recurrent outputs, updates, until), map, reduce, foldl, foldr.

May import core.graph, core.exceptions, core.shared, core.variable, core.ops, scan.op, scan.utils.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.core.exceptions import MissingInputError
from labsym.core.graph import Variable, clone_graph
from labsym.core.ops.opfromgraph import free_variables
from labsym.core.scan.op import ScanInfo, apply_scan
from labsym.core.scan.utils import (
    collect_updates,
    count_steps,
    fit_update,
    initial_buffer,
    make_placeholders,
    nonseq_placeholders,
    normalize_non_sequences,
    normalize_outputs_info,
    normalize_sequences,
    reconcile_states,
    sequence_slices,
    split_step_result,
    until,
)
from labsym.core.shared import SharedVariable
from labsym.core.type import TensorType
from labsym.core.updates import OrderedUpdates
from labsym.core.variable import as_tensor_variable

__all__ = ["foldl", "foldr", "map", "reduce", "scan", "until"]


@dataclass
class _Body:
    """The step's graph in the op's layout, and what maps it back to the user's terms."""

    states: list
    inner_in: list
    inner_out: list
    outer_tail: list  # shared states (aliases), non-sequences, implicit inputs
    order: list[int]
    targets: list
    as_while: bool
    n_nonseqs: int


def _call_step(fn: Callable, seqs: list, infos: list, nonseq_outer: list, slices: list) -> tuple:
    """Call fn on the taps' placeholders and the outer non-sequences: (outputs, updates, cond)."""

    states = [s for s in infos if s is not None]
    args = make_placeholders(seqs, states, slices) + nonseq_outer
    outs, ups, cond = split_step_result(fn(*args))
    outs = [as_tensor_variable(o) for o in outs]
    infos = infos or [None] * len(outs)
    if len(outs) != len(infos):
        raise ValueError(
            f"scan: fn returned {len(outs)} outputs but outputs_info describes {len(infos)}; "
            "give None in outputs_info for each output that does not feed back"
        )
    return outs, ups, cond, infos


def _check_strict(implicit: list) -> None:
    """strict=True: every shared variable the step reads (and does not update) was passed.

    As in Theano, strict is about shared variables; other free variables become inputs.
    """
    missing = [v for v in implicit if isinstance(v, SharedVariable)]
    if missing:
        names = ", ".join(str(v) for v in missing)
        raise MissingInputError(
            f"scan: strict=True, but fn uses the shared variable(s) {names} without receiving "
            "them; pass them in non_sequences (and as arguments of fn)"
        )


def _bind_free(roots: list, bound: list, targets: list) -> tuple:
    """Replace the variables the step reads without receiving them by inner placeholders.

    Returns (roots, shared-state placeholders, implicit outer inputs, their placeholders).
    """
    free = free_variables(roots, bound)
    shared_ph = [t.type(t.name) for t in targets]
    implicit = [v for v in free if v not in targets]
    implicit_ph = [v.type(v.name) for v in implicit]
    memo = {t: ph for t, ph in zip(targets, shared_ph) if t in free}
    memo.update(zip(implicit, implicit_ph))
    if memo:
        _, roots, _ = clone_graph([], roots, memo=memo, copy_inputs=False)
    return roots, shared_ph, implicit, implicit_ph


def _assemble(
    fn: Callable, seqs: list, infos: list, nonseq_outer: list, slices: list, strict: bool
) -> _Body:
    """Call fn; return the inner graph and outer inputs in the op's layout."""
    outs, ups, cond, infos = _call_step(fn, seqs, infos, nonseq_outer, slices)
    states = [s for s in infos if s is not None]
    state_outs = [o for o, i in zip(outs, infos) if i is not None]
    nit_outs = [o for o, i in zip(outs, infos) if i is None]
    conds = [] if cond is None else [cond]
    pairs = collect_updates(state_outs + nit_outs + conds, ups)
    targets = [t for t, _ in pairs]
    # the non-sequences fn received become inner placeholders, except updated shared ones
    kept = {o: ph for o, ph in nonseq_placeholders(nonseq_outer).items() if o not in targets}
    roots = state_outs + nit_outs + [v for _, v in pairs] + conds
    if kept:
        _, roots, _ = clone_graph([], roots, memo=kept, copy_inputs=False)
    seq_ph = [ph for s in seqs for ph in s.placeholders]
    bound = seq_ph + [ph for s in states for ph in s.placeholders] + list(kept.values())
    roots, shared_ph, implicit, implicit_ph = _bind_free(roots, bound, targets)
    if strict:
        _check_strict(implicit)
    candidates = sorted(
        {v.type.dtype for v in bound + implicit_ph if isinstance(v.type, TensorType)},
        key=lambda d: (np.dtype(d).itemsize, d),
    )
    roots = reconcile_states(states, roots, candidates)
    n_out = len(outs)
    updates = [fit_update(t, v) for t, v in zip(targets, roots[n_out : n_out + len(targets)])]
    state_ph = [ph for s in states for ph in s.placeholders]
    return _Body(
        states=states,
        inner_in=seq_ph + state_ph + shared_ph + list(kept.values()) + implicit_ph,
        inner_out=roots[:n_out] + updates + roots[n_out + len(targets) :],
        outer_tail=[_alias(t) for t in targets] + list(kept) + implicit,
        order=_user_order(infos),
        targets=targets,
        as_while=bool(conds),
        n_nonseqs=len(kept) + len(implicit),
    )


def _alias(var: SharedVariable) -> SharedVariable:
    """var's value without its default update: the loop's updates are returned, not implied.

    Otherwise function() would also apply the update of a draw made inside the step, once,
    outside the loop; without the returned updates every call replays the same draws.
    """
    alias = var.clone()
    alias.default_update = None
    return alias


def _user_order(infos: list) -> list[int]:
    """Position in the op's outputs of each user output (states first, then nit_sot)."""
    n_states = sum(1 for i in infos if i is not None)
    order, k, m = [], 0, 0
    for info in infos:
        if info is not None:
            order.append(k)
            k += 1
        else:
            order.append(n_states + m)
            m += 1
    return order


def _scan(
    fn: Callable,
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any,
    n_steps: Any,
    truncate_gradient: int,
    go_backwards: bool,
    mode: Any,
    name: str | None,
    strict: bool,
    final_only: bool,
) -> tuple[list, OrderedDict]:
    """Build the Scan node: (outputs in the user's order, updates)."""
    seqs = normalize_sequences(sequences)
    slices = [s for seq in seqs for s in sequence_slices(seq, go_backwards)]
    steps = count_steps(seqs, n_steps)
    body = _assemble(
        fn,
        seqs,
        normalize_outputs_info(outputs_info),
        normalize_non_sequences(non_sequences),
        slices,
        strict,
    )
    states = body.states
    info = ScanInfo(
        n_seqs=len(slices),
        state_taps=tuple(tuple(s.taps) for s in states),
        final_only=(bool(final_only),) * len(states),
        n_nit_sot=len(body.order) - len(states),
        n_shared=len(body.targets),
        n_nonseqs=body.n_nonseqs,
        as_while=body.as_while,
        truncate_gradient=int(truncate_gradient),
        name=name,
    )
    inits = [initial_buffer(s, s.placeholders[0].dtype) for s in states]
    outer = [steps, *slices, *inits, *body.outer_tail]
    outs = apply_scan(body.inner_in, body.inner_out, info, outer, mode)
    updates = OrderedUpdates(zip(body.targets, outs[info.n_states + info.n_nit_sot :]))
    return [outs[i] for i in body.order], updates


def scan(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    n_steps: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
    profile: Any = False,
    allow_gc: bool | None = None,
    strict: bool = False,
    return_list: bool = False,
    return_updates: bool = True,
) -> Any:
    """Loop `fn` over sequences and recurrent states; returns (outputs, updates).

    The loop is one node of the graph, so it compiles once, differentiates (BPTT) and runs
    the number of steps the data asks for. `fn` receives, in order: each sequence's taps
    (`dict(input=u, taps=[-4, 0])` gives u[t-4], u[t]), each recurrent output's taps
    (`dict(initial=x0, taps=[-3, -1])`; a plain initial value means taps [-1]; None marks an
    output that does not feed back), then the non_sequences themselves, as in Theano (so
    `lambda i, y, x: grad(y[i], x)` differentiates through them). It returns the step's outputs,
    optionally with an updates dict and/or `until(condition)`. `updates` maps shared variables
    changed inside the loop (explicit updates, random draws) to their values after it.
    With `strict=True`, a shared variable the step reads (and does not update) must come
    through non_sequences, else MissingInputError.

    Examples
    --------
    >>> k, A = iscalar('k'), dvector('A')
    >>> result, updates = scan(lambda prior, A: prior * A, outputs_info=ones_like(A),
    ...                        non_sequences=A, n_steps=k)
    >>> function([A, k], result[-1])([1., 2., 3.], 3)     # A ** 3
    array([ 1.,  8., 27.])
    """
    del profile, allow_gc  # Theano's knobs; the inner function always frees its temporaries
    outputs, updates = _scan(
        fn,
        sequences,
        outputs_info,
        non_sequences,
        n_steps,
        truncate_gradient,
        go_backwards,
        mode,
        name,
        strict,
        final_only=False,
    )
    result = _format(outputs, return_list)
    if return_updates:
        return result, updates
    if updates:
        raise ValueError(
            f"scan: the loop updates {list(updates)}; call it with return_updates=True and pass "
            "the updates to function() so they are not lost"
        )
    return result


def _format(outputs: list, return_list: bool) -> Any:
    if return_list:
        return outputs
    if len(outputs) == 1:
        return outputs[0]
    return outputs or None


def map(  # noqa: A001 - Theano's name
    fn: Callable[..., Any],
    sequences: Any,
    non_sequences: Any = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, OrderedDict]:
    """Apply `fn` to each step of the sequences: (outputs, updates), like Python's map.

    Example: `squares, _ = map(lambda v: v ** 2, sequences=x)`.
    """
    return scan(
        fn,
        sequences=sequences,
        non_sequences=non_sequences,
        truncate_gradient=truncate_gradient,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
    )


def reduce(  # noqa: A001 - Theano's name
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, OrderedDict]:
    """Fold `fn` over the sequences, returning only the final states: (results, updates).

    Recurrent outputs keep only their last value while looping (no history in memory).
    Example: `total, _ = reduce(lambda v, acc: acc + v, sequences=x, outputs_info=zeros(()))`.
    """
    outputs, updates = _scan(
        fn,
        sequences,
        outputs_info,
        non_sequences,
        None,
        -1,
        go_backwards,
        mode,
        name,
        False,
        final_only=True,
    )
    finals = [o if _is_final(o) else o[-1] for o in outputs]
    return _format(finals, False), updates


def _is_final(out: Variable) -> bool:
    info = out.owner.op.info
    return out.index < info.n_states and info.final_only[out.index]


def foldl(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, OrderedDict]:
    """reduce from the first step to the last (Theano's foldl)."""
    return reduce(
        fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name
    )


def foldr(
    fn: Callable[..., Any],
    sequences: Any,
    outputs_info: Any,
    non_sequences: Any = None,
    mode: Any = None,
    name: str | None = None,
) -> tuple[Any, OrderedDict]:
    """reduce from the last step to the first (Theano's foldr)."""
    return reduce(
        fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name
    )
