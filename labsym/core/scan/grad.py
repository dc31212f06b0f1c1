"""Derivatives of Scan: back-propagation through time as a backward Scan, R_op as a tangent Scan.

May import core.graph, core.autodiff, core.ops and core.scan.op.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from labsym.core import dtypes
from labsym.core.autodiff import Rop, grad, grad_undefined
from labsym.core.graph import Variable, ancestors, clone_graph
from labsym.core.ops import basic, math
from labsym.core.ops.opfromgraph import inner_graph_building, is_zero_gradient
from labsym.core.ops.shape import shape_i, shape_padleft
from labsym.core.ops.subtensor import set_subtensor
from labsym.core.scan.op import Scan, ScanInfo, apply_scan
from labsym.core.type import TensorType


def _is_float(var: Variable) -> bool:
    return isinstance(var.type, TensorType) and dtypes.is_float(var.type.dtype)


def _loose(var: Variable, extra: int = 0, name: str | None = None) -> Variable:
    """A fresh variable of var's dtype with `extra` leading axes and no static lengths."""
    return TensorType(var.type.dtype, (None,) * (var.type.ndim + extra))(name)


def _frontier(op: Scan) -> list[Variable]:
    """Tensors of the inner graph computed from shared states (random draws, counters).

    The backward loop cannot re-run shared states (it has no per-step values of them), so the
    forward loop is re-run with these tensors as extra outputs and they are fed back instead.
    """
    info = op.info
    _, _, shared, _ = info.inner_groups(op.fgraph.inputs)
    if not shared:
        return []
    states, nits, _ = info.output_groups(op.fgraph.outputs)
    needed = set(ancestors(states + nits))
    tainted = set(shared)
    found = [v for v in shared if v in needed and isinstance(v.type, TensorType)]
    for node in op.fgraph.toposort():
        if not any(i in tainted for i in node.inputs):
            continue
        tainted.update(node.outputs)
        opaque = any(i in tainted and not isinstance(i.type, TensorType) for i in node.inputs)
        found += [
            o for o in node.outputs if opaque and o in needed and isinstance(o.type, TensorType)
        ]
    return found


def _history_source(op: Scan, inputs: list, outputs: list, frontier: list) -> tuple[list, list]:
    """(full state histories, frontier values per step), re-running the loop when needed."""
    info = op.info
    if not frontier and not any(info.final_only):
        return outputs[: info.n_states], []
    states, nits, shared = info.output_groups(op.fgraph.outputs)
    cond = op.fgraph.outputs[-1:] if info.as_while else []
    aug = dataclasses.replace(
        info, final_only=(False,) * info.n_states, n_nit_sot=info.n_nit_sot + len(frontier)
    )
    outs = apply_scan(
        op.fgraph.inputs, states + nits + frontier + shared + cond, aug, inputs, op.mode
    )
    first = info.n_states + info.n_nit_sot
    return outs[: info.n_states], outs[first : first + len(frontier)]


class _Backward:
    """Builds the inner graph of the backward loop for one Scan node.

    The backward loop runs over the reversed steps carrying, per state, the gradient still owed
    to its last `span` values (a "carry"), and summing the non-sequences' gradients.
    """

    def __init__(self, op: Scan, frontier: list, g_states: list, g_nits: list) -> None:
        self.op, self.info = op, op.info
        seqs, taps, shared, nonseqs = self.info.inner_groups(op.fgraph.inputs)
        self.fwd_seqs, self.fwd_taps, self.fwd_shared, self.fwd_nonseqs = (
            seqs,
            taps,
            shared,
            nonseqs,
        )
        self.diff_states = [k for k, t in enumerate(taps) if _is_float(t[0])]
        self.diff_nonseqs = [j for j, v in enumerate(nonseqs) if _is_float(v)]
        self.seq_ph = [v.type(v.name) for v in seqs]
        self.tap_ph = [[v.type(v.name) for v in t] for t in taps]
        self.front_ph = [v.type() for v in frontier]
        self.g_state_ph = {
            k: _loose(taps[k][0], 0, f"g_out{k}") for k, g in enumerate(g_states) if g is not None
        }
        nit_outs = self.info.output_groups(op.fgraph.outputs)[1]
        self.g_nit_ph = {
            m: _loose(nit_outs[m], 0, f"g_nit{m}") for m, g in enumerate(g_nits) if g is not None
        }
        # a state with one tap back carries one row (no rows axis: no indexing per step)
        self.carry_ph = {
            k: _loose(taps[k][0], int(self.info.spans[k] > 1), f"carry{k}")
            for k in self.diff_states
        }
        self.acc_ph = {j: _loose(nonseqs[j], 0, f"acc{j}") for j in self.diff_nonseqs}
        self.nonseq_ph = [v.type(v.name) for v in nonseqs]
        self.frontier = frontier
        self.reused: list[tuple[int, Variable]] = []

    def _recomputed(self) -> tuple[list, list]:
        """The forward step's differentiable outputs, rebuilt on the backward placeholders."""
        memo: dict = dict(zip(self.fwd_seqs, self.seq_ph))
        for fwd, new in zip(self.fwd_taps, self.tap_ph):
            memo.update(zip(fwd, new))
        memo.update(zip(self.frontier, self.front_ph))
        memo.update(zip(self.fwd_nonseqs, self.nonseq_ph))
        states, nits, _ = self.info.output_groups(self.op.fgraph.outputs)
        _, outs, _ = clone_graph([], states + nits, memo=memo, copy_inputs=False)
        if any(v in set(self.fwd_shared) for v in ancestors(outs)):
            raise NotImplementedError(
                f"{self.op}: cannot differentiate through a non-tensor shared state"
            )
        return outs[: len(states)], outs[len(states) :]

    def step(self) -> tuple[list, list, list]:
        """(inner inputs, inner outputs, which per-step sequence gradients exist)."""

        state_outs, nit_outs = self._recomputed()
        known: dict = {}

        def add(out: Variable, g: Variable) -> None:
            if _is_float(out):
                g = math.cast(g, out.dtype)
                known[out] = known[out] + g if out in known else g

        for k in self.diff_states:
            adjoint = self.carry_ph[k] if self.info.spans[k] == 1 else self.carry_ph[k][0]
            if k in self.g_state_ph:
                adjoint = adjoint + self.g_state_ph[k]
            add(state_outs[k], adjoint)
        for m, g in self.g_nit_ph.items():
            add(nit_outs[m], g)
        wrt = [v for v in self.seq_ph if _is_float(v)]
        wrt += [v for k in self.diff_states for v in self.tap_ph[k]]
        wrt += [self.nonseq_ph[j] for j in self.diff_nonseqs]
        found = (
            grad(
                None,
                wrt,
                known_grads=known,
                disconnected_inputs="ignore",
                return_disconnected="None",
            )
            if (known and wrt)
            else [None] * len(wrt)
        )
        found = self._reuse_forward_values(found, state_outs, nit_outs)
        grads = dict(zip(wrt, found))
        carries = [self._new_carry(k, grads) for k in self.diff_states]
        accs = [self._accumulate(j, grads) for j in self.diff_nonseqs]
        seq_grads = [j for j, v in enumerate(self.seq_ph) if grads.get(v) is not None]
        inner_in = self.seq_ph + [v for t in self.tap_ph for v in t] + self.front_ph
        inner_in += list(self.g_state_ph.values()) + list(self.g_nit_ph.values())
        inner_in += [ph for _, ph in self.reused]
        inner_in += [self.carry_ph[k] for k in self.diff_states] + [
            self.acc_ph[j] for j in self.diff_nonseqs
        ]
        inner_in += self.nonseq_ph
        inner_out = carries + accs + [grads[self.seq_ph[j]] for j in seq_grads]
        return inner_in, inner_out, seq_grads

    def _reuse_forward_values(self, found: list, state_outs: list, nit_outs: list) -> list:
        """The gradients with the step's recomputed outputs (tanh's grad reads tanh(x)) replaced
        by the forward loop's stored values, fed as sequences: the forward is not re-run where
        only its outputs are needed. Sets `reused`: (forward output index, placeholder)."""
        outs = [*state_outs, *nit_outs]
        needed = set(ancestors([g for g in found if g is not None]))
        self.reused = [(i, o.type(o.name)) for i, o in enumerate(outs) if o in needed]
        if not self.reused:
            return found
        memo = {outs[i]: ph for i, ph in self.reused}
        kept = [g for g in found if g is not None]
        _, cloned, _ = clone_graph([], kept, memo=memo, copy_inputs=False)
        it = iter(cloned)
        return [None if g is None else next(it) for g in found]

    def _new_carry(self, k: int, grads: dict) -> Variable:
        """carry'[d] = carry[d + 1] + (gradient of tap -(d + 1)): the debt moves one step back."""

        carry, span = self.carry_ph[k], self.info.spans[k]
        row = carry if span == 1 else carry[0]
        by_tap = dict(zip(self.info.state_taps[k], self.tap_ph[k]))
        rows = []
        for d in range(span):
            ph = by_tap.get(-(d + 1))
            g = grads.get(ph) if ph is not None else None
            rows.append(math.zeros_like(row) if g is None else math.cast(g, carry.dtype))
        if span == 1:
            return rows[0]
        fresh = basic.stack(*rows)
        return basic.join(0, carry[1:], math.zeros_like(carry[:1])) + fresh

    def _accumulate(self, j: int, grads: dict) -> Variable:

        g = grads.get(self.nonseq_ph[j])
        acc = self.acc_ph[j]
        return acc if g is None else acc + math.cast(g, acc.dtype)


def _steps(info: ScanInfo, inputs: list, outputs: list, histories: list) -> Variable:
    """How many steps the forward loop ran (outputs' length; n_steps when nothing is stacked)."""

    stacked = histories + outputs[info.n_states : info.n_states + info.n_nit_sot]
    if stacked:
        return shape_i(stacked[0], 0)
    return inputs[0]


def scan_l_op(op: Scan, inputs: list, outputs: list, output_grads: list) -> list:
    """Gradients of a Scan's inputs: one backward Scan over the reversed steps (BPTT)."""

    info = op.info
    g_states, g_nits, _ = info.output_groups(
        [
            None if is_zero_gradient(g) or not _is_float(o) else math.cast(g, o.dtype)
            for o, g in zip(outputs, output_grads)
        ]
    )
    seqs, inits, shared, nonseqs = info.outer_groups(inputs[1:])
    result: list = [None] * len(inputs)
    for s in range(info.n_shared):
        result[1 + info.n_seqs + info.n_states + s] = grad_undefined(
            op,
            1 + info.n_seqs + info.n_states + s,
            shared[s],
            "gradients do not flow through shared-variable updates",
        )
    if all(g is None for g in g_states + g_nits):
        return result
    frontier = _frontier(op)
    histories, front_values = _history_source(op, inputs, outputs, frontier)
    back = _Backward(
        op, frontier, [None if info.final_only[k] else g for k, g in enumerate(g_states)], g_nits
    )
    with inner_graph_building():
        inner_in, inner_out, seq_grads = back.step()
    T = _steps(info, inputs, outputs, histories)
    k_trunc = info.truncate_gradient
    n_back = T if k_trunc < 0 else math.minimum(T, k_trunc)
    outer = _backward_inputs(
        op, back, inputs, outputs, histories, front_values, g_states, g_nits, T
    )
    n_carry, n_acc = len(back.diff_states), len(back.diff_nonseqs)
    back_info = ScanInfo(
        n_seqs=len(seqs)
        + info.n_taps
        + len(front_values)
        + len(back.g_state_ph)
        + len(back.g_nit_ph)
        + len(back.reused),
        state_taps=((-1,),) * (n_carry + n_acc),
        final_only=(True,) * (n_carry + n_acc),
        n_nit_sot=len(seq_grads),
        n_shared=0,
        n_nonseqs=len(nonseqs),
        name=f"grad_of_{info.name or 'scan_fn'}",
    )
    outs = apply_scan(inner_in, inner_out, back_info, [n_back, *outer], op.mode)
    _fill_results(result, info, back, inputs, outs, seq_grads, T, n_back)
    return result


def _reversed_steps(var: Variable, start: Any, T: Variable) -> Variable:
    return var[start : start + T][::-1]


def _backward_inputs(
    op, back, inputs, outputs, histories, front_values, g_states, g_nits, T
) -> list:
    """Outer inputs of the backward loop (after n_steps), in its layout."""

    info = op.info
    seqs, inits, _, nonseqs = info.outer_groups(inputs[1:])
    outer = [s[:T][::-1] for s in seqs]
    for k, (init, taps) in enumerate(zip(inits, info.state_taps)):
        span = info.spans[k]
        full = basic.join(0, init[:span], histories[k])
        outer += [_reversed_steps(full, span + t, T) for t in taps]
    outer += [v[::-1] for v in front_values]
    outer += [g_states[k][::-1] for k in back.g_state_ph] + [g_nits[m][::-1] for m in back.g_nit_ph]
    stacked = histories + outputs[info.n_states : info.n_states + info.n_nit_sot]
    outer += [stacked[i][:T][::-1] for i, _ in back.reused]
    for k in back.diff_states:
        carry = math.zeros_like(inits[k][: info.spans[k]])
        if info.final_only[k] and g_states[k] is not None:
            carry = set_subtensor(carry[0], g_states[k])
        outer.append(carry if info.spans[k] == 1 else shape_padleft(carry))
    outer += [shape_padleft(math.zeros_like(nonseqs[j])) for j in back.diff_nonseqs]
    return outer + nonseqs


def _fill_results(result, info, back, inputs, outs, seq_grads, T, n_back) -> None:

    seqs, inits, _, nonseqs = info.outer_groups(inputs[1:])
    n_carry = len(back.diff_states)
    for i, k in enumerate(back.diff_states):
        owed = shape_padleft(outs[i]) if info.spans[k] == 1 else outs[i][::-1]
        if info.truncate_gradient >= 0:
            owed = math.switch(math.eq(n_back, T), owed, math.zeros_like(owed))
        init = inits[k]
        g = (
            owed
            if init.type.shape[0] == info.spans[k]
            else set_subtensor(math.zeros_like(init)[: info.spans[k]], owed)
        )
        result[1 + info.n_seqs + k] = math.cast(g, init.dtype)
    for i, j in enumerate(back.diff_nonseqs):
        result[1 + info.n_seqs + info.n_states + info.n_shared + j] = outs[n_carry + i]
    for i, j in enumerate(seq_grads):
        per_step = outs[n_carry + len(back.diff_nonseqs) + i][::-1]
        full = set_subtensor(math.zeros_like(seqs[j])[T - n_back : T], per_step)
        result[1 + j] = math.cast(full, seqs[j].dtype)


def _tangent_step(op: Scan, t_seq: list, t_nonseq: list) -> tuple[list, list, list, list]:
    """Inner graph of the tangent loop: (inputs, outputs, tangent states, tangent nit_sots).

    Every float state carries a tangent; sequences and non-sequences only where a direction
    is given.
    """

    info = op.info
    seqs, taps, shared_in, nonseq_in = info.inner_groups(op.fgraph.inputs)
    states, nits, shared_out = info.output_groups(op.fgraph.outputs)
    t_states = [k for k in range(info.n_states) if _is_float(taps[k][0])]
    t_nits = [m for m, o in enumerate(nits) if _is_float(o)]
    seq_t = [seqs[j].type() for j in t_seq]
    tap_t = [_loose(v) for k in t_states for v in taps[k]]
    nonseq_t = [nonseq_in[j].type() for j in t_nonseq]
    wrt = [seqs[j] for j in t_seq] + [v for k in t_states for v in taps[k]]
    wrt += [nonseq_in[j] for j in t_nonseq]
    targets = [states[k] for k in t_states] + [nits[m] for m in t_nits]
    with inner_graph_building():
        points = seq_t + tap_t + nonseq_t
        tangents = Rop(targets, wrt, points, disconnected_outputs="ignore") if targets else []
        tangents = [math.cast(t, o.dtype) for t, o in zip(tangents, targets)]
    cond = op.fgraph.outputs[-1:] if info.as_while else []
    inner_in = (
        seqs + seq_t + [v for t in taps for v in t] + tap_t + shared_in + nonseq_in + nonseq_t
    )
    n_ts = len(t_states)
    inner_out = states + tangents[:n_ts] + nits + tangents[n_ts:] + shared_out + cond
    return inner_in, inner_out, t_states, t_nits


def scan_r_op(op: Scan, inputs: list, eval_points: list) -> list:
    """Jacobian-vector products of a Scan's outputs: the loop re-run with tangents alongside."""

    info = op.info
    seqs, inits, shared, nonseqs = info.outer_groups(inputs[1:])
    p_seqs, p_inits, _, p_nonseqs = info.outer_groups(eval_points[1:])
    # Rop's zeros_like directions (inputs without an eval point) need no tangent in the loop
    t_seq = [j for j, p in enumerate(p_seqs) if not is_zero_gradient(p) and _is_float(seqs[j])]
    t_nonseq = [
        j for j, p in enumerate(p_nonseqs) if not is_zero_gradient(p) and _is_float(nonseqs[j])
    ]
    inner_in, inner_out, t_states, t_nits = _tangent_step(op, t_seq, t_nonseq)
    new_info = dataclasses.replace(
        info,
        n_seqs=info.n_seqs + len(t_seq),
        state_taps=info.state_taps + tuple(info.state_taps[k] for k in t_states),
        final_only=info.final_only + tuple(info.final_only[k] for k in t_states),
        n_nit_sot=info.n_nit_sot + len(t_nits),
        n_nonseqs=info.n_nonseqs + len(t_nonseq),
    )
    t_inits = [
        math.zeros_like(inits[k]) if p_inits[k] is None else math.cast(p_inits[k], inits[k].dtype)
        for k in t_states
    ]
    outer = [inputs[0], *seqs, *[math.cast(p_seqs[j], seqs[j].dtype) for j in t_seq]]
    outer += [*inits, *t_inits, *shared, *nonseqs]
    outer += [math.cast(p_nonseqs[j], nonseqs[j].dtype) for j in t_nonseq]
    outs = apply_scan(inner_in, inner_out, new_info, outer, op.mode)
    result: list = [None] * (info.n_states + info.n_nit_sot + info.n_shared)
    for i, k in enumerate(t_states):
        result[k] = outs[info.n_states + i]
    first_nit = info.n_states + len(t_states) + info.n_nit_sot
    for i, m in enumerate(t_nits):
        result[info.n_states + m] = outs[first_nit + i]
    return result
