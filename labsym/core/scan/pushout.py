"""Moving work out of a Scan's loop, and dropping outputs nobody reads.

- `pushout_accumulators`: a state that only sums per-step terms (`acc' = acc + f(...)`, the
  gradients of non-sequences in a backward loop) leaves the loop: the loop stacks the values
  the terms read, and one batched expression after the loop sums them (a sum of per-step
  products `dot(x[t].T, d[t])` becomes one tensordot, Theano's PushOutDot1).
- `pushout_sequence_ops`: inner nodes that read only sequences and non-sequences (`dot(x[t], W)`)
  are computed for every step at once before the loop and read as a new sequence.
- `prune_outputs`: outputs without clients (a gradient nobody asked for) are not computed,
  inputs the loop no longer reads are not passed.

Each returns the replacement outputs of the Scan node (None where an output is unused), or
None when there is nothing to do. May import core.graph, core.ops and core.scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from labsym.core.fgraph import OUTPUT
from labsym.core.graph import Apply, Constant, Variable, ancestors, clone_graph, io_toposort
from labsym.core.ops import blas
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.ifelse import ifelse
from labsym.core.ops.math import cast, gt
from labsym.core.ops.shape import shape_i, specify_shape
from labsym.core.scan.op import Scan, apply_scan
from labsym.core.scan.vectorize import batch_nodes, movable


@dataclass
class _Layout:
    """A Scan node's groups, each entry (inner value(s), outer value, old outer output)."""

    node: Apply
    seqs: list[tuple[Variable, Variable]]
    states: list[tuple[list[Variable], Variable, Variable, tuple[int, ...], bool, Variable]]
    nits: list[tuple[Variable, Variable | None]]
    shared: list[tuple[Variable, Variable, Variable, Variable]]
    nonseqs: list[tuple[Variable, Variable]]
    cond: list[Variable] = field(default_factory=list)
    outputs: list[Variable] = field(default_factory=list)  # the rebuilt node's, in order

    @classmethod
    def of(cls, node: Apply) -> _Layout:
        op, info = node.op, node.op.info
        seqs, inits, shared, nonseqs = info.outer_groups(node.inputs[1:])
        in_seqs, in_taps, in_shared, in_nonseqs = info.inner_groups(op.fgraph.inputs)
        s_out, n_out, sh_out = info.output_groups(op.fgraph.outputs)
        o_states, o_nits, o_shared = info.output_groups(node.outputs)
        return cls(
            node,
            list(zip(in_seqs, seqs, strict=True)),
            [
                (taps, init, out, t, final, o)
                for taps, init, out, t, final, o in zip(
                    in_taps, inits, s_out, info.state_taps, info.final_only, o_states, strict=True
                )
            ],
            list(zip(n_out, o_nits, strict=True)),
            list(zip(in_shared, shared, sh_out, o_shared, strict=True)),
            list(zip(in_nonseqs, nonseqs, strict=True)),
            op.fgraph.outputs[-1:] if info.as_while else [],
        )

    def rebuild(self) -> dict[Variable, Variable]:
        """A new Scan node of this layout: {old outer output: new outer output}; the new
        outputs in order are in `self.outputs`. Without outputs, no node (an empty map)."""
        self.outputs = []
        if not (self.states or self.nits or self.shared):
            return {}
        info = replace(
            self.node.op.info,
            n_seqs=len(self.seqs),
            state_taps=tuple(s[3] for s in self.states),
            final_only=tuple(s[4] for s in self.states),
            n_nit_sot=len(self.nits),
            n_shared=len(self.shared),
            n_nonseqs=len(self.nonseqs),
        )
        inner_in = [i for i, _ in self.seqs] + [v for s in self.states for v in s[0]]
        inner_in += [s[0] for s in self.shared] + [i for i, _ in self.nonseqs]
        inner_out = [s[2] for s in self.states] + [o for o, _ in self.nits]
        inner_out += [s[2] for s in self.shared] + self.cond
        outer = [self.node.inputs[0], *(o for _, o in self.seqs), *(s[1] for s in self.states)]
        outer += [s[1] for s in self.shared] + [o for _, o in self.nonseqs]
        outs = apply_scan(inner_in, inner_out, info, outer, self.node.op.mode)
        self.outputs = outs
        olds = [s[5] for s in self.states] + [o for _, o in self.nits] + [s[3] for s in self.shared]
        return {old: out for old, out in zip(olds, outs, strict=True) if old is not None}


def _editable(node: Apply) -> bool:
    """A Scan these rewrites can rebuild (one returning initial rows is left alone)."""
    return isinstance(node.op, Scan) and not any(node.op.info.with_init)


def _replacements(node: Apply, found: dict[Variable, Variable]) -> list[Variable | None]:
    return [found.get(o) for o in node.outputs]


def _used(fgraph: Any, var: Variable) -> bool:
    return bool(fgraph.clients.get(var))


# ---------------------------------------------------------------- unused outputs
def prune_outputs(fgraph: Any, node: Apply) -> list[Variable | None] | None:
    """The Scan without the nit_sot outputs and states no client (nor kept output) reads, and
    without the sequences and non-sequences its kept outputs do not read."""
    if not _editable(node):
        return None
    lay = _Layout.of(node)
    nits = [(o, old) for o, old in lay.nits if _used(fgraph, old)]
    states = list(lay.states)
    while True:  # a state is needed if read outside or by a kept inner output
        kept_outs = [s[2] for s in states] + [o for o, _ in nits] + [s[2] for s in lay.shared]
        kept_outs += lay.cond
        needed = set()
        for k in range(len(states)):
            others = kept_outs[:k] + kept_outs[k + 1 :]
            needed |= set(ancestors(others))
        drop = [s for s in states if not _used(fgraph, s[5]) and not any(t in needed for t in s[0])]
        if not drop:
            break
        states = [s for s in states if s not in drop]
    outs = [s[2] for s in states] + [o for o, _ in nits] + [s[2] for s in lay.shared] + lay.cond
    reads = set(ancestors(outs))
    seqs = [(i, o) for i, o in lay.seqs if i in reads]
    nonseqs = [(i, o) for i, o in lay.nonseqs if i in reads]
    sizes = (len(nits), len(states), len(seqs), len(nonseqs))
    if sizes == (len(lay.nits), len(lay.states), len(lay.seqs), len(lay.nonseqs)):
        return None
    if not (states or nits or lay.shared):
        return None
    lay.nits, lay.states, lay.seqs, lay.nonseqs = nits, states, seqs, nonseqs
    return _replacements(node, lay.rebuild())


# ---------------------------------------------------------------- accumulators
def _accumulators(lay: _Layout) -> list[tuple[int, Variable]]:
    """(state index, per-step term) of the states updated as acc + term, acc read nowhere else."""
    fg = lay.node.op.fgraph
    found = []
    for k, (taps, _, out, t, final, _) in enumerate(lay.states):
        owner = out.owner
        if t != (-1,) or not final or owner is None or not isinstance(owner.op, Elemwise):
            continue
        if owner.op.scalar_op.name != "add" or len(owner.inputs) != 2:
            continue
        (tap,) = taps
        if tap not in owner.inputs or fg.clients.get(tap) != [(owner, owner.inputs.index(tap))]:
            continue
        if [c for c, _ in fg.clients.get(out, [])] != [OUTPUT]:
            continue
        term = owner.inputs[1 - owner.inputs.index(tap)]
        if term.type == out.type:
            found.append((k, term))
    return found


def _movable(fg: Any, roots: set[Apply], terms: list[Variable]) -> list[Apply]:
    """The nodes computing `terms` whose every result is read only by other such nodes or by
    `roots` (the accumulating adds): what can leave the loop, in order."""
    moved: set[Apply] = set()
    nodes = io_toposort(fg.inputs, terms)
    for apply in reversed(nodes):
        readers = [c for o in apply.outputs for c, _ in fg.clients.get(o, [])]
        if readers and all(r in moved or r in roots for r in readers):
            moved.add(apply)
    return [a for a in nodes if a in moved]


def _summed(term: Variable, new: dict, batched: set, n: Variable) -> Variable:
    """The sum over steps of a batched term; a per-step product becomes one tensordot."""
    owner = term.owner
    if (
        owner is not None
        and isinstance(owner.op, blas.Dot)
        and all(i in batched for i in owner.inputs)
    ):
        a_in, b_in = owner.inputs
        flat = _transposed_source(a_in, new, batched) if a_in.ndim == b_in.ndim == 2 else None
        if flat is not None:
            # sum_t a0[t].T @ b[t] = a0 with rows (t, k) transposed @ b with rows (t, k):
            # one GEMM of reshaped (at most block-copied) operands, no transposing copy
            rows_a = flat.reshape((-1, shape_i(flat, 2)))
            return blas.dot(rows_a.T, new[b_in].reshape((-1, shape_i(new[b_in], 2))))
        a, b = new[a_in], new[b_in]
        return blas.tensordot(a, b, [[0, a_in.ndim], [0, 1]])  # a's last inner axis, b's first
    value = new[term]
    return value.sum(axis=0) if term in batched else value * cast(n, value.dtype)


def _like(var: Variable, model: Variable) -> Variable:
    """var with model's type (the two branches of an ifelse must agree)."""
    if var.type == model.type:
        return var
    return specify_shape(var, model.type.shape) if var.type.is_super(model.type) else var


def _transposed_source(var: Variable, new: dict, batched: set) -> Variable | None:
    """The batched a0 when the inner matrix `var` is a0.T, else None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, DimShuffle) or owner.op.new_order != (1, 0):
        return None
    source = owner.inputs[0]
    return new[source] if source in batched and source in new else None


def pushout_accumulators(fgraph: Any, node: Apply) -> list[Variable | None] | None:
    """acc' = acc + term(step) -> the loop stacks what term reads; acc = acc0 + sum of terms."""
    if not _editable(node) or node.op.info.as_while:
        return None
    lay = _Layout.of(node)
    accs = _accumulators(lay)
    if not accs:
        return None
    fg = node.op.fgraph
    roots = {lay.states[k][2].owner for k, _ in accs}
    terms = [term for _, term in accs]
    moved = _movable(fg, roots, terms)
    made = {o for a in moved for o in a.outputs}
    n = node.inputs[0]
    new: dict[Variable, Variable] = {i: o for i, o in lay.nonseqs}
    batched: set[Variable] = set()
    stacked: list[Variable] = []
    for inner, outer in lay.seqs:
        new[inner] = outer[:n]
        batched.add(inner)
    needs = _unique([i for a in moved for i in a.inputs] + [t for t in terms if t not in made])
    for var in needs:
        if var in made or var in new or isinstance(var, Constant):
            continue
        stacked.append(var)  # computed in the loop (or a state's tap): stacked per step
        batched.add(var)
    lay.nits = lay.nits + [(v, None) for v in stacked]
    removed = {k for k, _ in accs}
    acc_states = [lay.states[k] for k, _ in accs]
    lay.states = [s for k, s in enumerate(lay.states) if k not in removed]
    found = lay.rebuild()
    first = len(lay.states) + len(lay.nits) - len(stacked)
    for m, var in enumerate(stacked):
        new[var] = lay.outputs[first + m]
    if not batch_nodes(moved, new, batched, n):
        return None
    values, starts = [], []
    for (_, term), state in zip(accs, acc_states, strict=True):
        init = state[1]
        values.append(init[0] + cast(_summed(term, new, batched, n), init.dtype))
        starts.append(_like(init[0], values[-1]))
    if stacked:  # with no step run, a stacked value has no known row shape: not read
        values = ifelse(gt(n, 0), values, starts)  # one lazy node: shared work stays lazy
    for state, value in zip(acc_states, values, strict=True):
        found[state[5]] = value
    return _replacements(node, found)


# ---------------------------------------------------------------- sequence-only nodes
def pushout_sequence_ops(fgraph: Any, node: Apply) -> list[Variable | None] | None:
    """Inner nodes reading only sequences, non-sequences and constants, whose results the
    loop's state-dependent part reads: products of sequences computed for all steps before
    the loop (read as new sequences), loop invariants once (read as new non-sequences)."""
    if not _editable(node) or node.op.info.as_while:
        return None
    lay = _Layout.of(node)
    fg = node.op.fgraph
    free = {i for i, _ in lay.seqs} | {i for i, _ in lay.nonseqs}
    outside: list[Apply] = []
    for apply in fg.toposort():
        if all(i in free or isinstance(i, Constant) for i in apply.inputs) and movable(apply):
            outside.append(apply)
            free.update(apply.outputs)
    per_step = _dependents(outside, {i for i, _ in lay.seqs})
    invariant = _dependents(outside, {i for i, _ in lay.nonseqs}) - per_step
    made = {o for a in outside for o in a.outputs}
    moved = set(outside)
    inside = [a for a in fg.toposort() if a not in moved]
    read = _unique([i for a in inside for i in a.inputs] + fg.outputs[: _n_inner_outs(lay)])
    products = (blas.Dot, blas.TensorDot)
    seq_front = [v for v in read if v in made and v in per_step]
    if not any(isinstance(a.op, products) and a.outputs[0] in per_step for a in outside):
        seq_front = []  # only cheap per-step work: not worth a stored sequence
    inv_front = [v for v in read if v in made and v in invariant]
    if not (seq_front or inv_front):
        return None
    n = node.inputs[0]
    new: dict[Variable, Variable] = {i: o for i, o in lay.nonseqs}
    batched: set[Variable] = set()
    for inner, outer in lay.seqs:
        new[inner] = outer[:n]
        batched.add(inner)
    todo = outside if seq_front else [a for a in outside if a.outputs[0] not in per_step]
    if not batch_nodes(todo, new, batched, n):
        return None
    memo = {v: v.type(v.name) for v in seq_front + inv_front}
    lay.seqs += [(memo[v], new[v]) for v in seq_front]
    lay.nonseqs += [(memo[v], new[v]) for v in inv_front]
    _replace_inner(lay, memo)
    return _replacements(node, lay.rebuild())


def _dependents(nodes: Sequence[Apply], sources: set[Variable]) -> set[Variable]:
    """The outputs of `nodes` (in order) computed from `sources`."""
    found = set(sources)
    for apply in nodes:
        if any(i in found for i in apply.inputs):
            found.update(apply.outputs)
    return found


def _n_inner_outs(lay: _Layout) -> int:
    return len(lay.states) + len(lay.nits) + len(lay.shared)


def _unique(items: Sequence[Variable]) -> list[Variable]:
    return list(dict.fromkeys(items))


def _replace_inner(lay: _Layout, memo: dict[Variable, Variable]) -> None:
    """Make the layout's inner outputs read memo[v] where they read v (a cloned graph)."""
    outs = [s[2] for s in lay.states] + [o for o, _ in lay.nits] + [s[2] for s in lay.shared]
    outs += lay.cond
    _, cloned, _ = clone_graph([], outs, memo=dict(memo), copy_inputs=False)
    it = iter(cloned)
    lay.states = [(s[0], s[1], next(it), *s[3:]) for s in lay.states]
    lay.nits = [(next(it), old) for _, old in lay.nits]
    lay.shared = [(s[0], s[1], next(it), s[3]) for s in lay.shared]
    lay.cond = [next(it) for _ in lay.cond]
