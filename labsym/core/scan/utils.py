"""scan's front end: tap specs, step placeholders, parsing what fn returns, updates, state types.

May import core.graph, core.shared, core.variable and core.ops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labsym.core import dtypes
from labsym.core.graph import Constant, Variable, clone_graph
from labsym.core.ops import math
from labsym.core.ops.math import cast
from labsym.core.ops.shape import shape, shape_padleft, specify_shape
from labsym.core.shared import SharedVariable, collect_default_updates
from labsym.core.testvalue import get_test_value
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant


class until:  # noqa: N801 - Theano's name
    """Stop condition a scan step may return: the loop ends after the step where it is true.

    Example: `return x * 2, until(x * 2 > limit)` inside the step function.
    """

    def __init__(self, condition: Any) -> None:

        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}")


@dataclass
class SequenceSpec:
    var: Variable
    taps: list[int]
    placeholders: list[Variable] = field(default_factory=list)


@dataclass
class StateSpec:
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


def normalize_sequences(sequences: Any) -> list[SequenceSpec]:

    items = (
        []
        if sequences is None
        else sequences
        if isinstance(sequences, (list, tuple))
        else [sequences]
    )
    out = []
    for j, item in enumerate(items):
        var, taps = (
            (item.get("input"), item.get("taps", [0])) if isinstance(item, Mapping) else (item, [0])
        )
        var = as_tensor_variable(var)
        if var.ndim == 0:
            raise TypeError(
                f"scan: sequence {j} ({var}) is a scalar; sequences are iterated over their "
                "first axis"
            )
        taps = _check_taps(taps, f"sequence {j}")
        if taps:
            out.append(SequenceSpec(var, taps))
    return out


def normalize_outputs_info(outputs_info: Any) -> list[StateSpec | None]:

    if outputs_info is None:
        return []
    items = outputs_info if isinstance(outputs_info, (list, tuple)) else [outputs_info]
    out: list[StateSpec | None] = []
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
            raise ValueError(
                f"scan: outputs_info[{k}] has taps {taps}; output taps must be negative "
                "(past steps)"
            )
        initial = as_tensor_variable(initial)
        if taps != [-1] and initial.ndim == 0:
            raise ValueError(
                f"scan: outputs_info[{k}] with taps {taps} needs an initial value with a "
                "leading time axis"
            )
        out.append(StateSpec(initial, taps))
    return out


def _state_row_type(state: StateSpec) -> TensorType:
    t = state.initial.type
    return t if state.taps == [-1] else TensorType(t.dtype, t.shape[1:])


def _name(var: Variable, tap: int, default: str) -> str:
    return f"{var.name or default}[t{tap:+d}]" if tap else f"{var.name or default}[t]"


def split_step_result(result: Any) -> tuple[list, list, Any]:
    """(outputs, update pairs, condition) from what fn returned, in any of Theano's layouts."""

    def is_outputs(x: Any) -> bool:
        return isinstance(x, Variable) or (
            isinstance(x, (list, tuple)) and all(isinstance(v, Variable) for v in x)
        )

    def is_updates(x: Any) -> bool:
        return isinstance(x, Mapping) or (
            isinstance(x, (list, tuple))
            and len(x) > 0
            and all(
                isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], Variable)
                for p in x
            )
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


def collect_updates(roots: list[Variable], updates: list) -> list[tuple]:
    """Explicit updates (keyed by the outer shared variables fn received) plus default updates."""

    out, targets = [], set()
    for key, value in updates:
        if not isinstance(key, SharedVariable):
            raise TypeError(f"scan: updates must target shared variables, got {key}")
        if key in targets:
            raise ValueError(f"scan: shared variable {key} is updated twice")
        targets.add(key)
        out.append((key, value if isinstance(value, Variable) else as_tensor_variable(value)))
    return out + collect_default_updates(roots + [v for _, v in out], targets)


def fit_update(target: SharedVariable, value: Variable) -> Variable:

    if value.type == target.type or not isinstance(target.type, TensorType):
        return value
    if (
        not isinstance(value.type, TensorType)
        or value.dtype != target.dtype
        or value.ndim != target.ndim
    ):
        raise TypeError(
            f"scan: the update of shared variable {target} ({target.type}) has type {value.type}; "
            "an update must keep the variable's dtype and ndim "
            f"(cast it with .astype('{target.dtype}'))"
        )
    return value if target.type.is_super(value.type) else specify_shape(value, target.type.shape)


def _retyped(
    states: list[StateSpec], k: int, new_type: TensorType, roots: list
) -> tuple[dict, list]:
    """(old -> new placeholders of state k, roots rebuilt on them)."""
    memo = {old: new_type(old.name) for old in states[k].placeholders}
    _, rebuilt, _ = clone_graph([], roots, memo=memo, copy_inputs=False)
    return memo, rebuilt


def _weak_state_dtype(
    states: list[StateSpec], k: int, roots: list, shape: tuple, candidates: list[str]
) -> str:
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


def reconcile_states(
    states: list[StateSpec], roots: list[Variable], candidates: list[str]
) -> list[Variable]:
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
                    f"(outputs_info[{k}]) gives {ph.type}; a state must keep its number of "
                    "dimensions"
                )
            shape = tuple(a if a == b else None for a, b in zip(ph.type.shape, out.type.shape))
            dtype = ph.dtype
            if out.dtype != ph.dtype:
                if not getattr(state.initial, "weak", False):
                    raise TypeError(
                        f"scan: the initial state (outputs_info[{k}]) has dtype {ph.dtype}, "
                        f"but fn returns dtype {out.dtype} for that output; cast one of them "
                        f"(e.g. .astype('{ph.dtype}'))"
                    )
                dtype = _weak_state_dtype(states, k, roots, shape, candidates)
            memo, roots = _retyped(states, k, TensorType(dtype, shape), roots)
            state.placeholders = [memo[old] for old in state.placeholders]
            changed = True
        if not changed:
            return roots
    raise TypeError(
        "scan: the outputs' types do not settle; give initial states of the outputs' exact types"
    )


def count_steps(seqs: list[SequenceSpec], n_steps: Any) -> Variable:
    """min(n_steps, each sequence's usable length), as a constant when all are static."""

    static, symbolic = [], []
    for seq in seqs:
        width = max(seq.taps) - min(seq.taps)
        length = seq.var.type.shape[0]
        if length is not None:
            if length - width < 0:
                raise ValueError(
                    f"scan: sequence {seq.var} has {length} entries, fewer than its taps "
                    f"{seq.taps} need"
                )
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


def sequence_slices(seq: SequenceSpec, go_backwards: bool) -> list[Variable]:
    low, high = min(seq.taps), max(seq.taps)
    slices = []
    for tap in seq.taps:
        start, cut = tap - low, high - tap
        part = seq.var if start == 0 and cut == 0 else seq.var[start : (-cut if cut else None)]
        slices.append(part[::-1] if go_backwards else part)
    return slices


def initial_buffer(state: StateSpec, dtype: str) -> Variable:

    init = cast(state.initial, dtype)
    if state.taps == [-1]:
        return shape_padleft(init)
    return init if init.type.shape[0] == state.span else init[: state.span]


def _test_value(var: Variable, index: int | None) -> Any:
    """var's test value (one step of it when `index` is given), or None when it has none."""

    try:
        value = get_test_value(var)
        return value if index is None else value[index]
    except (AttributeError, IndexError, TypeError):
        return None


def make_placeholders(seqs: list, states: list, slices: list) -> list[Variable]:
    """The variables fn is called on before the non-sequences: sequence taps, then state taps."""
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
    for ph in args:
        if ph.tag.test_value is None:
            del ph.tag.test_value
    return args


def normalize_non_sequences(non_sequences: Any) -> list[Variable]:

    items = (
        []
        if non_sequences is None
        else non_sequences
        if isinstance(non_sequences, (list, tuple))
        else [non_sequences]
    )
    return [v if isinstance(v, Variable) else as_tensor_variable(v) for v in items]


def nonseq_placeholders(nonseqs: list[Variable]) -> dict[Variable, Variable]:
    """Outer non-sequence -> the inner placeholder that replaces it once fn has built the step.

    fn is called on the outer variables themselves, as in Theano, so a step may differentiate
    through them (`T.grad(y[i], x)` with y and x non-sequences); constants stay in the inner
    graph and a variable passed twice gets one placeholder.
    """
    out: dict[Variable, Variable] = {}
    for outer in nonseqs:
        if not isinstance(outer, Constant) and outer not in out:
            out[outer] = outer.type(outer.name)
    return out
