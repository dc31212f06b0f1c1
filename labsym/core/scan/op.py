"""The Scan op: a loop whose body is an inner graph, run step by step by a compiled function.

May import core.graph, core.fgraph, core.op, core.type, core.variable, core.ops.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.core import dtypes, testvalue
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply, Constant, Variable, ancestors
from labsym.core.op import Op
from labsym.core.ops.math import cast
from labsym.core.ops.opfromgraph import InnerFunctions, compile_inner, inner_output_shapes
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


@dataclass(frozen=True)
class ScanInfo:
    """How a Scan's inputs and outputs are grouped (Theano's `info` dict, as a record).

    `state_taps[k]` are the (negative) taps of state k; a `final_only` state keeps and returns
    only its last value, which is what reductions and gradient accumulators need. A `with_init`
    state (set by a rewrite, never by scan()) returns its history after its initial rows, so
    a backward loop reads `[init, h_0 .. h_T-1]` without joining them (empty: none).
    """

    n_seqs: int
    state_taps: tuple[tuple[int, ...], ...]
    final_only: tuple[bool, ...]
    n_nit_sot: int
    n_shared: int
    n_nonseqs: int
    as_while: bool = False
    truncate_gradient: int = -1
    name: str | None = None
    with_init: tuple[bool, ...] = ()

    def keeps_init(self, k: int) -> bool:
        return bool(self.with_init) and self.with_init[k]

    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    @property
    def spans(self) -> tuple[int, ...]:
        return tuple(-min(taps) for taps in self.state_taps)

    @property
    def n_taps(self) -> int:
        return sum(len(taps) for taps in self.state_taps)

    def outer_groups(self, items: Sequence[Any]) -> tuple[list, list, list, list]:
        """(sequences, initial buffers, shared, non-sequences) of the outer inputs after n_steps."""
        a = self.n_seqs
        b = a + self.n_states
        c = b + self.n_shared
        return list(items[:a]), list(items[a:b]), list(items[b:c]), list(items[c:])

    def inner_groups(self, items: Sequence[Any]) -> tuple[list, list[list], list, list]:
        """(sequence slices, taps per state, shared, non-sequences) of the inner inputs."""
        seqs = list(items[: self.n_seqs])
        pos, taps = self.n_seqs, []
        for state in self.state_taps:
            taps.append(list(items[pos : pos + len(state)]))
            pos += len(state)
        shared = list(items[pos : pos + self.n_shared])
        return seqs, taps, shared, list(items[pos + self.n_shared :])

    def output_groups(self, items: Sequence[Any]) -> tuple[list, list, list]:
        """(states, nit_sot, shared) of the outputs (inner outputs: the condition comes last)."""
        a = self.n_states
        b = a + self.n_nit_sot
        return list(items[:a]), list(items[a:b]), list(items[b : b + self.n_shared])


class Scan(Op):
    """Loop over steps: each step runs the inner graph on sequence slices, states and constants.

    Inputs: n_steps, sequences, recurrent states' initial buffers, shared states, non-sequences;
    outputs: states, non-recurrent outputs (nit_sot), shared states' final values.

    The inner graph is compiled once (with the compiler labsym.compile injects) and called per
    step from `perform`; gradients are a backward Scan (BPTT), R_op a tangent Scan.
    """

    def __init__(
        self,
        inner_inputs: Sequence[Variable],
        inner_outputs: Sequence[Variable],
        info: ScanInfo,
        mode: Any = None,
    ) -> None:
        n_in = info.n_seqs + info.n_taps + info.n_shared + info.n_nonseqs
        n_out = info.n_states + info.n_nit_sot + info.n_shared + int(info.as_while)
        if len(inner_inputs) != n_in or len(inner_outputs) != n_out:
            raise ValueError(
                f"Scan: info describes {n_in} inner inputs and {n_out} outputs, "
                f"got {len(inner_inputs)} and {len(inner_outputs)}"
            )
        if info.with_init and (
            len(info.with_init) != info.n_states
            or any(w and f for w, f in zip(info.with_init, info.final_only, strict=True))
        ):
            raise ValueError(f"Scan: bad with_init {info.with_init} for {info.final_only}")
        if len(info.final_only) != info.n_states or any(
            not t or max(t) >= 0 for t in info.state_taps
        ):
            raise ValueError(
                f"Scan: bad state taps {info.state_taps} / final_only {info.final_only}"
            )
        self.fgraph = FunctionGraph(inner_inputs, inner_outputs, clone=True)
        self.info = info
        self.mode = mode
        self._fns = InnerFunctions()
        self._connections: list[list[bool]] | None = None

    def __str__(self) -> str:
        return f"for{{cpu,{self.info.name or 'scan_fn'}}}"

    # ------------------------------------------------------------------ construction
    def make_node(self, n_steps: Any, *outer: Any) -> Apply:

        info = self.info
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or not dtypes.is_integer(n_steps.dtype):
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps.type}")
        n_steps = cast(n_steps, "int64")
        expected = info.n_seqs + info.n_states + info.n_shared + info.n_nonseqs
        if len(outer) != expected:
            raise TypeError(f"{self}: expected {expected} inputs after n_steps, got {len(outer)}")
        outer = [x if isinstance(x, Variable) else as_tensor_variable(x) for x in outer]
        seqs, inits, shared, nonseqs = info.outer_groups(outer)
        in_seqs, in_taps, in_shared, in_nonseqs = info.inner_groups(self.fgraph.inputs)
        for j, (seq, inner) in enumerate(zip(seqs, in_seqs)):
            _check_compatible(self, f"sequence {j}", seq, inner, extra_dim=True)
        for k, (init, taps) in enumerate(zip(inits, in_taps)):
            _check_compatible(self, f"initial state {k}", init, taps[0], extra_dim=True)
            if init.type.shape[0] is not None and init.type.shape[0] < info.spans[k]:
                raise ValueError(
                    f"{self}: initial state {k} has {init.type.shape[0]} rows, "
                    f"its taps need {info.spans[k]}"
                )
        for s, (var, inner) in enumerate(zip(shared, in_shared)):
            _check_compatible(self, f"shared variable {s}", var, inner, extra_dim=False)
        for j, (var, inner) in enumerate(zip(nonseqs, in_nonseqs)):
            _check_compatible(self, f"non-sequence {j}", var, inner, extra_dim=False)
        return Apply(self, [n_steps, *outer], self._output_types(n_steps, shared))

    def _output_types(self, n_steps: Variable, shared: list[Variable]) -> list[Variable]:
        info = self.info
        steps = None if info.as_while or not isinstance(n_steps, Constant) else int(n_steps.data)
        _, in_taps, _, _ = info.inner_groups(self.fgraph.inputs)
        _, nits, _ = info.output_groups(self.fgraph.outputs)
        outs = []
        for k, (taps, final) in enumerate(zip(in_taps, info.final_only)):
            row = taps[0].type
            rows = None if info.keeps_init(k) or steps is None else steps
            outs.append(
                TensorType(row.dtype, row.shape)()
                if final
                else TensorType(row.dtype, (rows, *row.shape))()
            )
        outs += [TensorType(o.type.dtype, (steps, *o.type.shape))() for o in nits]
        outs += [s.type() for s in shared]
        return outs

    # ------------------------------------------------------------------ evaluation
    def inner_function(self, outer_mode: Any = None) -> Callable[..., list]:
        """The compiled step: inner inputs -> inner outputs (compiled on first use), with this
        op's own mode if it has one, else the outer function's Mode."""
        mode = self.mode if self.mode is not None else outer_mode
        fn = self._fns.get(mode)
        if fn is None:
            compiled = compile_inner(self.fgraph.inputs, self.fgraph.outputs, mode, True, str(self))
            # the step loop passes arrays of the inner types and copies each result into its
            # own storage at once: a raw call (no checks, copies or 0-d conversion) suffices
            fn = types.MethodType(compiled.raw_call(), compiled)
            self._fns.put(mode, fn)
        return fn

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        self.perform_in_mode(None, node, inputs, output_storage)

    def perform_in_mode(
        self, outer_mode: Any, node: Apply, inputs: Sequence[Any], output_storage: list
    ) -> None:
        """`perform`, with the step compiled by the outer function's Mode (the linker passes it)."""
        info = self.info
        fn = self.inner_function(outer_mode)
        n_steps = int(inputs[0])
        if n_steps < 0:
            raise ValueError(f"{self}: asked to run a negative number of steps ({n_steps})")
        seqs, inits, shared, nonseqs = info.outer_groups(inputs[1:])
        for j, seq in enumerate(seqs):
            if seq.shape[0] < n_steps:
                raise ValueError(
                    f"{self}: sequence {j} has {seq.shape[0]} entries, "
                    f"fewer than the {n_steps} steps to run"
                )
        states = [
            _State(self, k, init, info, n_steps, node.outputs[k].dtype)
            for k, init in enumerate(inits)
        ]
        stacks = [
            _Stack(self, m, n_steps, node.outputs[info.n_states + m]) for m in range(info.n_nit_sot)
        ]
        done, shared = step_loop(info)(fn, n_steps, seqs, states, stacks, shared, nonseqs)
        outs = [state.result(done) for state in states] + [stack.result(done) for stack in stacks]
        outs += [np.array(v) if isinstance(v, np.ndarray) else v for v in shared]
        for store, value in zip(output_storage, outs):
            store[0] = value

    # ------------------------------------------------------------------ shapes
    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence[Any]) -> list:
        info = self.info
        if info.as_while:
            raise NotImplementedError(
                f"{self}: with until, the number of steps is known only at run time"
            )
        n = node.inputs[0]
        seq_shapes, init_shapes, shared_shapes, nonseq_shapes = info.outer_groups(input_shapes[1:])
        outs = [
            tuple(s[1:]) if final else (n + info.spans[k] if info.keeps_init(k) else n, *s[1:])
            for k, (s, final) in enumerate(zip(init_shapes, info.final_only))
        ]
        if info.n_nit_sot:
            inner_shapes = [tuple(s[1:]) for s in seq_shapes]
            for s, taps in zip(init_shapes, info.state_taps):
                inner_shapes += [tuple(s[1:])] * len(taps)
            inner_shapes += [tuple(s) for s in shared_shapes] + [tuple(s) for s in nonseq_shapes]
            _, _, _, in_nonseqs = info.inner_groups(self.fgraph.inputs)
            _, _, _, nonseqs = info.outer_groups(node.inputs[1:])
            found = inner_output_shapes(self.fgraph, inner_shapes, dict(zip(in_nonseqs, nonseqs)))
            _, nit_shapes, _ = info.output_groups(found)
            if any(s is None for s in nit_shapes):
                raise NotImplementedError(
                    f"{self}: an output's shape depends on values computed in the loop"
                )
            outs += [(n, *s) for s in nit_shapes]
        return outs + [tuple(s) for s in shared_shapes]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        if self._connections is None:
            self._connections = _connections(self)
        return self._connections

    # ------------------------------------------------------------------ derivatives
    def L_op(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], output_grads: Sequence[Any]
    ) -> list:
        from labsym.core.scan.grad import scan_l_op

        self._differentiable()
        return scan_l_op(self, list(inputs), list(outputs), list(output_grads))

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        from labsym.core.scan.grad import scan_r_op

        self._differentiable()
        return scan_r_op(self, list(inputs), list(eval_points))

    def _differentiable(self) -> None:
        if any(self.info.with_init):
            raise NotImplementedError(
                f"{self}: a Scan returning its initial rows (made by a compile-time rewrite) "
                "has no derivative; differentiate the graph before compiling it"
            )


def _check_compatible(op: Op, what: str, outer: Variable, inner: Variable, extra_dim: bool) -> None:
    """Outer values must have the inner variable's dtype and ndim (plus the time axis)."""
    if not isinstance(inner.type, TensorType):
        if outer.type != inner.type:
            raise TypeError(
                f"{op}: {what} has type {outer.type}, the inner graph expects {inner.type}"
            )
        return
    ndim = inner.type.ndim + int(extra_dim)
    if (
        not isinstance(outer.type, TensorType)
        or outer.type.dtype != inner.type.dtype
        or outer.type.ndim != ndim
    ):
        steps = " with one more (time) axis" if extra_dim else ""
        raise TypeError(
            f"{op}: {what} has type {outer.type}; the inner graph expects dtype {inner.type.dtype} "
            f"and {ndim} dims ({inner.type}{steps})"
        )


class _State:
    """One recurrent state's rows: initial rows then one per step, or for a state that returns
    only its last value a ring of its last `span` rows (row a of the history at a % span)."""

    def __init__(
        self, op: Scan, k: int, init: np.ndarray, info: ScanInfo, n_steps: int, dtype: str
    ) -> None:
        span = info.spans[k]
        if init.shape[0] < span:
            raise ValueError(
                f"{op}: initial state {k} has {init.shape[0]} rows; its taps "
                f"{info.state_taps[k]} need {span}"
            )
        self.op, self.k, self.span, self.final = op, k, span, info.final_only[k]
        self.first = 0 if info.keeps_init(k) else span  # the first returned row
        self.row_shape = init.shape[1:]
        self.rows = np.empty((span if self.final else span + n_steps, *self.row_shape), dtype)
        self.rows[:span] = init[:span]

    def bad_value(self, i: int, value: np.ndarray) -> None:
        raise ValueError(
            f"{self.op}: at step {i} the inner function returned shape {value.shape} for state "
            f"{self.k}, whose initial value has rows of shape {self.row_shape}; "
            "a state must keep its shape"
        )

    def result(self, done: int) -> np.ndarray:
        if self.final:
            return self.rows[(self.span + done - 1) % self.span, ...].copy()
        return self.rows[self.first : self.span + done]


class _Stack:
    """A non-recurrent output's storage, allocated at the first step from its shape."""

    def __init__(self, op: Scan, m: int, n_steps: int, out: Variable) -> None:
        self.op, self.m, self.n_steps, self.out = op, m, n_steps, out
        self.array: np.ndarray | None = None

    def start(self, value: np.ndarray) -> np.ndarray:
        self.array = np.empty((self.n_steps, *value.shape), dtype=self.out.dtype)
        return self.array

    def bad_value(self, i: int, value: np.ndarray) -> None:
        assert self.array is not None
        raise ValueError(
            f"{self.op}: output {self.m} has shape {value.shape} at step {i} but "
            f"{self.array.shape[1:]} at step 0; every step must return the same shape"
        )

    def result(self, done: int) -> np.ndarray:
        if self.array is None:
            return np.zeros((0, *(d or 0 for d in self.out.type.shape[1:])), dtype=self.out.dtype)
        return self.array[:done]


@functools.lru_cache(maxsize=256)
def step_loop(info: ScanInfo) -> Callable[..., tuple[int, list]]:
    """The step loop of a Scan layout, generated as straight-line Python and cached.

    Each step passes views of sequence rows and state taps to the compiled inner function, then
    checks each new row's shape and copies it into preallocated storage: no per-step lists,
    method calls or allocations beyond what the inner function itself does.
    """
    head = ["def scan_loop(fn, n_steps, seqs, states, stacks, shared, nonseqs):"]
    body, args = [], [f"q{j}[i, ...]" for j in range(info.n_seqs)]
    head += [f"    q{j} = seqs[{j}]" for j in range(info.n_seqs)]
    tail = []  # before returning: the rebound last values back into their rows
    for k, (taps, final) in enumerate(zip(info.state_taps, info.final_only, strict=True)):
        span = info.spans[k]
        head.append(f"    b{k} = states[{k}].rows; z{k} = states[{k}].row_shape")
        if final and taps == (-1,):
            # only the last value is kept: rebind it (the step's fresh result) instead of
            # copying it into a ring row every step; nothing writes into step results
            head.append(f"    s{k} = b{k}[0, ...]; d{k} = b{k}.dtype")
            args.append(f"s{k}")
            body += [
                f"        v = r[{k}]",
                f"        if v.shape != z{k}: states[{k}].bad_value(i, v)",
                f"        s{k} = v if v.__class__ is _nd and v.dtype is d{k} else _as(v, d{k})",
            ]
            tail.append(f"b{k}[0] = s{k}")
            continue
        args += [f"b{k}[{_row(span + t, span if final else 0)}, ...]" for t in taps]
        body += [
            f"        v = r[{k}]",
            f"        if v.shape != z{k}: states[{k}].bad_value(i, v)",
            f"        b{k}[{_row(span, span if final else 0)}] = v",
        ]
    for m in range(info.n_nit_sot):
        head.append(f"    a{m} = y{m} = None")
        body += [
            f"        v = r[{info.n_states + m}]",
            f"        if a{m} is None: a{m} = stacks[{m}].start(v); y{m} = v.shape",
            f"        elif v.shape != y{m}: stacks[{m}].bad_value(i, v)",
            f"        a{m}[i] = v",
        ]
    shared = [f"h{s}" for s in range(info.n_shared)]
    head += [f"    {h} = shared[{s}]" for s, h in enumerate(shared)]
    first = info.n_states + info.n_nit_sot
    body += [f"        {h} = r[{first + s}]" for s, h in enumerate(shared)]
    head += [f"    c{j} = nonseqs[{j}]" for j in range(info.n_nonseqs)]
    args += shared + [f"c{j}" for j in range(info.n_nonseqs)]
    if info.as_while:
        done = "; ".join([*tail, f"return i + 1, [{', '.join(shared)}]"])
        body.append(f"        if r[-1]: {done}")
    lines = [*head, "    for i in range(n_steps):", f"        r = fn({', '.join(args)})", *body]
    lines += [f"    {line}" for line in tail]
    lines.append(f"    return n_steps, [{', '.join(shared)}]")
    namespace: dict[str, Any] = {"_nd": np.ndarray, "_as": np.asarray}
    exec(compile("\n".join(lines), f"<scan-loop-{info.name or 'scan_fn'}>", "exec"), namespace)
    return namespace["scan_loop"]


def _row(offset: int, ring: int) -> str:
    """Index of history row i + offset: in the full rows, or in a ring of `ring` rows."""
    if ring:
        return "0" if ring == 1 else f"(i + {offset}) % {ring}"
    return "i" if offset == 0 else f"i + {offset}"


def _connections(op: Scan) -> list[list[bool]]:
    """connection[i][j]: outer input i influences outer output j (through any number of steps)."""
    info = op.info
    inner_in = op.fgraph.inputs
    index = {v: i for i, v in enumerate(inner_in)}
    outs = op.fgraph.outputs[: info.n_states + info.n_nit_sot + info.n_shared]
    deps = [{index[v] for v in ancestors([o]) if v in index} for o in outs]
    _, taps, shared, _ = info.inner_groups(range(len(inner_in)))
    feedback = [(set(t), k) for k, t in enumerate(taps)]
    feedback += [({s}, info.n_states + info.n_nit_sot + j) for j, s in enumerate(shared)]
    changed = True
    while changed:
        changed = False
        for dep in deps:
            for sources, j in feedback:
                if dep & sources and not deps[j] <= dep:
                    dep |= deps[j]
                    changed = True
    seqs, _, _, nonseqs = info.inner_groups(range(len(inner_in)))
    outer_sets = [set()] + [{s} for s in seqs] + [set(t) for t in taps]
    outer_sets += [{s} for s in shared] + [{n} for n in nonseqs]
    pattern = [[bool(src & dep) for dep in deps] for src in outer_sets]
    for k, final in enumerate(info.final_only):
        keeps = final or info.keeps_init(k)
        pattern[1 + info.n_seqs + k][k] = pattern[1 + info.n_seqs + k][k] or keeps
    first = 1 + info.n_seqs + info.n_states
    for j in range(info.n_shared):
        pattern[first + j][info.n_states + info.n_nit_sot + j] = True
    return pattern


def apply_scan(
    inner_inputs: Sequence[Variable],
    inner_outputs: Sequence[Variable],
    info: ScanInfo,
    outer_inputs: Sequence[Variable],
    mode: Any = None,
) -> list[Variable]:
    """Build a Scan node (computing test values when they are on); returns its outputs."""

    node = Scan(inner_inputs, inner_outputs, info, mode).make_node(*outer_inputs)
    testvalue.compute_node_test_value(node)
    return list(node.outputs)
