"""Theano's looping API: scan (sequences with taps, recurrent outputs, updates, until) and
map/reduce/foldl/foldr. The step function is called once on placeholders to build the inner graph.

May import core.graph, core.shared, core.variable, core.ops and core.scan_op.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Constant, Variable, ancestors, clone_graph
from labsym.core.ops.opfromgraph import free_variables
from labsym.core.scan_op import ScanInfo, apply_scan
from labsym.core.shared import SharedVariable
from labsym.core.type import TensorType


class until:  # noqa: N801 - Theano's name
    """Stop condition a scan step may return: the loop ends after the step where it is true.

    Example: `return x * 2, until(x * 2 > limit)` inside the step function.
    """

    def __init__(self, condition: Any) -> None:
        from labsym.core.variable import as_tensor_variable

        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}")


@dataclass
class _Sequence:
    var: Variable
    taps: list[int]
    placeholders: list[Variable] = field(default_factory=list)


@dataclass
class _State:
    initial: Variable
    taps: list[int]
    placeholders: list[Variable] = field(default_factory=list)

    @property
    def span(self) -> int:
        return -min(self.taps)


def _check_taps(taps: Any, what: str) -> list[int]:
    taps = [taps] if isinstance(taps, int) else list(taps)
    if len(set(taps)) != len(taps) or not all(isinstance(t, int) for t in taps):
        raise ValueError(f"scan: the taps of {what} must be distinct integers, got {taps}")
    return taps


def _sequences(sequences: Any) -> list[_Sequence]:
    from labsym.core.variable import as_tensor_variable

    items = [] if sequences is None else sequences if isinstance(sequences, (list, tuple)) else [sequences]
    out = []
    for j, item in enumerate(items):
        var, taps = (item.get("input"), item.get("taps", [0])) if isinstance(item, Mapping) else (item, [0])
        var = as_tensor_variable(var)
        if var.ndim == 0:
            raise TypeError(f"scan: sequence {j} ({var}) is a scalar; sequences are iterated over their first axis")
        taps = _check_taps(taps, f"sequence {j}")
        if taps:
            out.append(_Sequence(var, taps))
    return out


def _outputs_info(outputs_info: Any) -> list[_State | None]:
    from labsym.core.variable import as_tensor_variable

    if outputs_info is None:
        return []
    items = outputs_info if isinstance(outputs_info, (list, tuple)) else [outputs_info]
    out: list[_State | None] = []
    for k, item in enumerate(items):
        if isinstance(item, Mapping):
            initial, taps = item.get("initial"), item.get("taps", [-1])
        else:
            initial, taps = item, [-1]
        taps = _check_taps(taps, f"outputs_info[{k}]")
        if initial is None or not taps:
            out.append(None)
            continue
        if any(t >= 0 for t in taps):
            raise ValueError(f"scan: outputs_info[{k}] has taps {taps}; output taps must be negative (past steps)")
        initial = as_tensor_variable(initial)
        if taps != [-1] and initial.ndim == 0:
            raise ValueError(f"scan: outputs_info[{k}] with taps {taps} needs an initial value with a leading time axis")
        out.append(_State(initial, taps))
    return out


def _state_row_type(state: _State) -> TensorType:
    t = state.initial.type
    return t if state.taps == [-1] else TensorType(t.dtype, t.shape[1:])


def _name(var: Variable, tap: int, default: str) -> str:
    return f"{var.name or default}[t{tap:+d}]" if tap else f"{var.name or default}[t]"


def _split_result(result: Any) -> tuple[list, list, Any]:
    """(outputs, update pairs, condition) from what fn returned, in any of Theano's layouts."""

    def is_outputs(x: Any) -> bool:
        return isinstance(x, Variable) or (
            isinstance(x, (list, tuple)) and all(isinstance(v, Variable) for v in x)
        )

    def is_updates(x: Any) -> bool:
        return isinstance(x, Mapping) or (
            isinstance(x, (list, tuple))
            and len(x) > 0
            and all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], Variable) for p in x)
        )

    def as_list(x: Any) -> list:
        return list(x) if isinstance(x, (list, tuple)) else [x]

    def pairs(x: Any) -> list:
        return list(x.items()) if isinstance(x, Mapping) else [tuple(p) for p in x]

    if isinstance(result, until):
        return [], [], result.condition
    if is_outputs(result):
        return as_list(result), [], None
    if is_updates(result):
        return [], pairs(result), None
    parts = list(result) if isinstance(result, (list, tuple)) else [result]
    outs, ups, cond = [], [], None
    kinds_seen = set()
    for part in parts:
        if isinstance(part, until) and "cond" not in kinds_seen:
            cond, kind = part.condition, "cond"
        elif is_outputs(part) and "outs" not in kinds_seen and "ups" not in kinds_seen:
            outs, kind = as_list(part), "outs"
        elif is_updates(part) and "ups" not in kinds_seen:
            ups, kind = pairs(part), "ups"
        else:
            raise ValueError(
                "scan: fn must return outputs, or (outputs, updates), (outputs, until(cond)) or "
                f"(outputs, updates, until(cond)); it returned {result!r}"
            )
        kinds_seen.add(kind)
    return outs, ups, cond


def _collect_updates(roots: list[Variable], updates: list, nonseq_outer: dict) -> list[tuple]:
    """Explicit updates (keys mapped back to outer shared variables) plus default updates."""
    from labsym.core.variable import as_tensor_variable

    out, targets = [], set()
    for key, value in updates:
        key = nonseq_outer.get(key, key)
        if not isinstance(key, SharedVariable):
            raise TypeError(f"scan: updates must target shared variables, got {key}")
        if key in targets:
            raise ValueError(f"scan: shared variable {key} is updated twice")
        targets.add(key)
        out.append((key, value if isinstance(value, Variable) else as_tensor_variable(value)))
    frontier = roots + [v for _, v in out]
    while frontier:
        found = []
        for var in ancestors(frontier):
            if isinstance(var, SharedVariable) and var.default_update is not None and var not in targets:
                targets.add(var)
                out.append((var, var.default_update))
                found.append(var.default_update)
        frontier = found
    return out


def _fit_update(target: SharedVariable, value: Variable) -> Variable:
    from labsym.core.ops.shape import specify_shape

    if value.type == target.type or not isinstance(target.type, TensorType):
        return value
    if not isinstance(value.type, TensorType) or value.dtype != target.dtype or value.ndim != target.ndim:
        raise TypeError(
            f"scan: the update of shared variable {target} ({target.type}) has type {value.type}; "
            f"an update must keep the variable's dtype and ndim (cast it with .astype('{target.dtype}'))"
        )
    return value if target.type.is_super(value.type) else specify_shape(value, target.type.shape)


def _retyped(states: list[_State], k: int, new_type: TensorType, roots: list) -> tuple[dict, list]:
    """(old -> new placeholders of state k, roots rebuilt on them)."""
    memo = {old: new_type(old.name) for old in states[k].placeholders}
    _, rebuilt, _ = clone_graph([], roots, memo=memo, copy_inputs=False)
    return memo, rebuilt


def _weak_state_dtype(states: list[_State], k: int, roots: list, shape: tuple, candidates: list[str]) -> str:
    """The narrowest dtype that the step keeps for a state whose initial value is a Python number.

    NEP 50 lets a Python number take its neighbours' dtype; here the neighbours are the step's
    other inputs, so `outputs_info=0` over a float32 sequence gives a float32 state.
    """
    out = roots[k].dtype
    for dtype in candidates:
        if dtypes.is_float(dtype) == dtypes.is_float(out) and dtype != out:
            _, rebuilt = _retyped(states, k, TensorType(dtype, shape), roots)
            if rebuilt[k].dtype == dtype:
                return dtype
    return out


def _reconcile_states(states: list[_State], roots: list[Variable], candidates: list[str]) -> list[Variable]:
    """Loosen state placeholders until every step output fits its state's type.

    A Python-number initial value takes the dtype the step keeps; static lengths that differ
    become unknown. Anything else that differs is the user's error, reported here.
    """
    for _ in range(4):
        changed = False
        for k, state in enumerate(states):
            ph, out = state.placeholders[0], roots[k]
            if ph.type == out.type or ph.type.is_super(out.type):
                continue
            if ph.ndim != out.ndim:
                raise TypeError(
                    f"scan: fn returns {out.type} for output {k}, but its initial state "
                    f"(outputs_info[{k}]) gives {ph.type}; a state must keep its number of dimensions"
                )
            shape = tuple(a if a == b else None for a, b in zip(ph.type.shape, out.type.shape))
            dtype = ph.dtype
            if out.dtype != ph.dtype:
                if not getattr(state.initial, "weak", False):
                    raise TypeError(
                        f"scan: the initial state (outputs_info[{k}]) has dtype {ph.dtype}, but fn returns "
                        f"dtype {out.dtype} for that output; cast one of them (e.g. .astype('{ph.dtype}'))"
                    )
                dtype = _weak_state_dtype(states, k, roots, shape, candidates)
            memo, roots = _retyped(states, k, TensorType(dtype, shape), roots)
            state.placeholders = [memo[old] for old in state.placeholders]
            changed = True
        if not changed:
            return roots
    raise TypeError("scan: the outputs' types do not settle; give initial states of the outputs' exact types")


def _n_steps(seqs: list[_Sequence], n_steps: Any) -> Variable:
    """min(n_steps, each sequence's usable length), as a constant when all are static."""
    from labsym.core.ops import math
    from labsym.core.ops.shape import shape
    from labsym.core.variable import as_tensor_variable, constant

    static, symbolic = [], []
    for seq in seqs:
        width = max(seq.taps) - min(seq.taps)
        length = seq.var.type.shape[0]
        if length is not None:
            if length - width < 0:
                raise ValueError(f"scan: sequence {seq.var} has {length} entries, fewer than its taps {seq.taps} need")
            static.append(length - width)
        else:
            # shape(x)[0], not shape_i: Shape_i has no R_op, and Rop walks this graph too
            symbolic.append(shape(seq.var)[0] - width if width else shape(seq.var)[0])
    if n_steps is not None:
        n = as_tensor_variable(n_steps)
        if n.ndim != 0 or not dtypes.is_integer(n.dtype):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps!r}")
        if isinstance(n, Constant):
            static.append(int(n.data))
        else:
            symbolic.append(n)
    if not static and not symbolic:
        raise ValueError("scan: give sequences or n_steps; nothing says how many steps to run")
    if not symbolic:
        return constant(min(static), dtype="int64")
    total = math.cast(symbolic[0], "int64")
    for extra in symbolic[1:] + ([constant(min(static), dtype="int64")] if static else []):
        total = math.minimum(total, math.cast(extra, "int64"))
    return total


def _sequence_slices(seq: _Sequence, go_backwards: bool) -> list[Variable]:
    low, high = min(seq.taps), max(seq.taps)
    slices = []
    for tap in seq.taps:
        start, cut = tap - low, high - tap
        part = seq.var if start == 0 and cut == 0 else seq.var[start : (-cut if cut else None)]
        slices.append(part[::-1] if go_backwards else part)
    return slices


def _initial_buffer(state: _State, dtype: str) -> Variable:
    from labsym.core.ops.math import cast
    from labsym.core.ops.shape import shape_padleft

    init = cast(state.initial, dtype)
    if state.taps == [-1]:
        return shape_padleft(init)
    return init if init.type.shape[0] == state.span else init[: state.span]


def _test_value(var: Variable, index: int | None) -> Any:
    """var's test value (one step of it when `index` is given), or None when it has none."""
    from labsym.core.testvalue import get_test_value

    try:
        value = get_test_value(var)
        return value if index is None else value[index]
    except (AttributeError, IndexError, TypeError):
        return None


def _placeholders(seqs: list, states: list, nonseqs: list, slices: list) -> list[Variable]:
    """The variables fn is called on: sequence taps, state taps, non-sequences (in that order)."""
    args, k = [], 0
    for seq in seqs:
        row = TensorType(seq.var.dtype, seq.var.type.shape[1:])
        seq.placeholders = [row(_name(seq.var, t, "seq")) for t in seq.taps]
        for ph in seq.placeholders:
            ph.tag.test_value = _test_value(slices[k], 0)
            k += 1
        args += seq.placeholders
    for st in states:
        row = _state_row_type(st)
        st.placeholders = [row(_name(st.initial, t, "out")) for t in st.taps]
        for ph, t in zip(st.placeholders, st.taps):
            ph.tag.test_value = _test_value(st.initial, None if st.taps == [-1] else st.span + t)
        args += st.placeholders
    for outer in nonseqs:
        ph = outer.type(outer.name)
        ph.tag.test_value = _test_value(outer, None)
        args.append(ph)
    for ph in args:
        if ph.tag.test_value is None:
            del ph.tag.test_value
    return args


def _non_sequences(non_sequences: Any) -> list[Variable]:
    from labsym.core.variable import as_tensor_variable

    items = [] if non_sequences is None else non_sequences if isinstance(non_sequences, (list, tuple)) else [non_sequences]
    return [v if isinstance(v, Variable) else as_tensor_variable(v) for v in items]


def _assemble(fn: Callable, seqs: list, infos: list, nonseq_outer: list, slices: list, strict: bool) -> tuple:
    """Call fn on placeholders; return the inner graph and outer inputs in the op's layout."""
    from labsym.core.variable import as_tensor_variable

    states = [s for s in infos if s is not None]
    args = _placeholders(seqs, states, nonseq_outer, slices)
    nonseq_ph = args[len(args) - len(nonseq_outer) :]
    outs, ups, cond = _split_result(fn(*args))
    outs = [as_tensor_variable(o) for o in outs]
    if not infos:
        infos = [None] * len(outs)
    if len(outs) != len(infos):
        raise ValueError(
            f"scan: fn returned {len(outs)} outputs but outputs_info describes {len(infos)}; give None "
            "in outputs_info for each output that does not feed back"
        )
    state_outs = [o for o, i in zip(outs, infos) if i is not None]
    nit_outs = [o for o, i in zip(outs, infos) if i is None]
    nonseq_map = dict(zip(nonseq_ph, nonseq_outer))
    conds = [] if cond is None else [cond]
    pairs = _collect_updates(state_outs + nit_outs + conds, ups, nonseq_map)
    targets = [t for t, _ in pairs]
    promoted = {outer: ph for ph, outer in nonseq_map.items() if outer in targets}
    kept = [(ph, outer) for ph, outer in nonseq_map.items() if outer not in promoted]
    bound = [ph for s in seqs for ph in s.placeholders] + [ph for s in states for ph in s.placeholders] + nonseq_ph
    roots = state_outs + nit_outs + [v for _, v in pairs] + conds
    free = free_variables(roots, bound)
    shared_ph = [promoted.get(t) or t.type(t.name) for t in targets]
    implicit = [v for v in free if v not in targets]
    if strict and implicit:
        raise ValueError(
            f"scan: strict=True, but fn uses {', '.join(str(v) for v in implicit)} without receiving "
            "them through non_sequences"
        )
    implicit_ph = [v.type(v.name) for v in implicit]
    memo = {t: ph for t, ph in zip(targets, shared_ph) if t in free}
    memo.update(zip(implicit, implicit_ph))
    if memo:
        _, roots, _ = clone_graph([], roots, memo=memo, copy_inputs=False)
    candidates = sorted({v.type.dtype for v in bound + implicit_ph if isinstance(v.type, TensorType)},
                        key=lambda d: (np.dtype(d).itemsize, d))
    roots = _reconcile_states(states, roots, candidates)
    bound = [ph for s in seqs for ph in s.placeholders] + [ph for s in states for ph in s.placeholders] + nonseq_ph
    n_s, n_n = len(state_outs), len(nit_outs)
    updates = [_fit_update(t, v) for t, v in zip(targets, roots[n_s + n_n : n_s + n_n + len(targets)])]
    inner_in = bound[: len(bound) - len(nonseq_ph)] + shared_ph + [ph for ph, _ in kept] + implicit_ph
    inner_out = roots[: n_s + n_n] + updates + roots[n_s + n_n + len(targets) :]
    user_order = _user_order(infos)
    outer_tail = [_alias(t) for t in targets] + [outer for _, outer in kept] + implicit
    return states, inner_in, inner_out, outer_tail, user_order, targets, bool(conds), len(kept) + len(implicit)


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


def _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards,
          mode, name, strict, final_only) -> tuple[list, OrderedDict]:
    seqs = _sequences(sequences)
    infos = _outputs_info(outputs_info)
    nonseq_outer = _non_sequences(non_sequences)
    slices = [s for seq in seqs for s in _sequence_slices(seq, go_backwards)]
    steps = _n_steps(seqs, n_steps)
    states, inner_in, inner_out, tail, order, targets, as_while, n_nonseqs = _assemble(
        fn, seqs, infos, nonseq_outer, slices, strict
    )
    info = ScanInfo(
        n_seqs=len(slices),
        state_taps=tuple(tuple(s.taps) for s in states),
        final_only=(bool(final_only),) * len(states),
        n_nit_sot=len(order) - len(states),
        n_shared=len(targets),
        n_nonseqs=n_nonseqs,
        as_while=as_while,
        truncate_gradient=int(truncate_gradient),
        name=name,
    )
    inits = [_initial_buffer(s, s.placeholders[0].dtype) for s in states]
    outs = apply_scan(inner_in, inner_out, info, [steps, *slices, *inits, *tail], mode)
    first_shared = info.n_states + info.n_nit_sot
    updates = OrderedDict(zip(targets, outs[first_shared:]))
    return [outs[i] for i in order], updates


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
    output that does not feed back), then the non_sequences. It returns the step's outputs,
    optionally with an updates dict and/or `until(condition)`. `updates` maps shared variables
    changed inside the loop (explicit updates, random draws) to their values after it.

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
        fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards,
        mode, name, strict, final_only=False,
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
    return scan(fn, sequences=sequences, non_sequences=non_sequences, truncate_gradient=truncate_gradient,
                go_backwards=go_backwards, mode=mode, name=name)


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
    outputs, updates = _scan(fn, sequences, outputs_info, non_sequences, None, -1, go_backwards, mode, name,
                             False, final_only=True)
    finals = [o if _is_final(o) else o[-1] for o in outputs]
    return _format(finals, False), updates


def _is_final(out: Variable) -> bool:
    info = out.owner.op.info
    return out.index < info.n_states and info.final_only[out.index]


def foldl(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedDict]:
    """reduce from the first step to the last (Theano's foldl)."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedDict]:
    """reduce from the last step to the first (Theano's foldr)."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
