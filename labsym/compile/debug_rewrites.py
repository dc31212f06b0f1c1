"""DebugMode's rewrite checks: snapshots of each replacement a rewrite made, and their values.

RecordingRewriter runs the Mode's rewriter while freezing the graph before and after every
replacement; at call time find_bad_rewrite evaluates both sides with `perform` on the call's
inputs. It also rewrites copies of the graph to catch non-deterministic rules. May import core
and compile.debug_errors / compile.debug_values.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.compile.debug_errors import BadOptimization, StochasticOrder
from labsym.compile.debug_values import copy_value, destroyed, difference, run_perform
from labsym.core.fgraph import OUTPUT, FunctionGraph
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op


@dataclass(frozen=True)
class Recorded:
    """What DebugMode keeps from compiling one graph: its outputs before rewriting (frozen)
    and every replacement the rewrites made."""

    original: tuple
    replacements: tuple


@dataclass(frozen=True)
class Replacement:
    """One variable swapped for another by a rewrite, with both graphs as they were then."""

    old: Variable
    new: Variable
    rule: str
    math: str
    old_ref: Any
    new_ref: Any


class OutputGuard(Op):
    """Returns a copy of its input: DebugMode puts it on the outputs of a graph with no node.

    Theano's functions copied such outputs with DeepCopyOp; here it gives DebugMode a node
    whose call checks the graph as it was before rewriting.
    """

    __props__ = ()

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: Any) -> None:
        output_storage[0][0] = copy_value(inputs[0])

    def infer_shape(self, fgraph: Any, node: Apply, shapes: Sequence[Any]) -> list:
        return [shapes[0]]


# ---------------------------------------------------------------------------------- rewrites
class Frozen:
    """A node as it was when a rewrite happened: its Apply and its inputs' frozen states.

    Later rewrites edit nodes in place; checking a rewrite on the graph as it was then keeps
    the check local (a tolerated rounding difference elsewhere cannot be amplified into it).
    """

    __slots__ = ("inputs", "node")

    def __init__(self, node: Apply, inputs: tuple) -> None:
        self.node = node
        self.inputs = inputs  # each a leaf Variable or (Frozen, output index)


class Freezer:
    """Snapshots variables' graphs, sharing identical frozen nodes between snapshots."""

    def __init__(self) -> None:
        self.table: dict[tuple, Frozen] = {}

    def freeze(self, root: Variable) -> Any:
        """`root` as a leaf Variable or (Frozen, output index), from the graph as it is now."""
        memo: dict[Variable, Any] = {}
        stack = [root]
        while stack:
            var = stack[-1]
            node = var.owner
            if var in memo or node is None:
                memo.setdefault(var, var)
                stack.pop()
                continue
            missing = [i for i in node.inputs if i not in memo]
            if missing:
                stack.extend(missing)
                continue
            refs = tuple(memo[i] for i in node.inputs)
            frozen = self.table.setdefault((node, refs), Frozen(node, refs))
            memo.update((out, (frozen, out.index)) for out in node.outputs)
            stack.pop()
        return memo[root]


def frozen_order(refs: Sequence[Any]) -> list[Frozen]:
    """The frozen nodes the refs depend on, each after its inputs."""
    order: list[Frozen] = []
    done: set[int] = set()
    stack = [(r[0], False) for r in refs if isinstance(r, tuple)]
    while stack:
        frozen, expanded = stack.pop()
        if id(frozen) in done:
            continue
        if expanded:
            done.add(id(frozen))
            order.append(frozen)
            continue
        stack.append((frozen, True))
        stack.extend(
            (r[0], False) for r in frozen.inputs if isinstance(r, tuple) and id(r[0]) not in done
        )
    return order


def evaluate_frozen(
    refs: Sequence[Any],
    inputs: dict[Variable, Any],
    failures: list[tuple[Frozen, list, Exception]] | None = None,
) -> dict[int, list]:
    """Outputs (by id of Frozen) of every frozen node the refs need, computed with `perform`.

    A node whose inputs are unknown or whose perform fails gets no entry; failures, in
    evaluation order, go to `failures` when given. Destroyed inputs are copied first.
    """
    values: dict[int, list] = {}
    for frozen in frozen_order(refs):
        args = [ref_value(r, inputs, values) for r in frozen.inputs]
        if any(a is MISSING for a in args):
            continue
        gone = destroyed(frozen.node)
        args = [copy_value(a) if i in gone else a for i, a in enumerate(args)]
        try:
            with np.errstate(all="ignore"):
                values[id(frozen)] = run_perform(frozen.node, args)
        except Exception as exc:
            if failures is not None:
                failures.append((frozen, args, exc))
    return values


def ref_value(ref: Any, inputs: dict[Variable, Any], values: dict[int, list]) -> Any:
    if isinstance(ref, tuple):
        outputs = values.get(id(ref[0]))
        return MISSING if outputs is None else outputs[ref[1]]
    if isinstance(ref, Constant):
        return ref.data
    return inputs.get(ref, MISSING)


MISSING = object()


def _frozen_text(ref: Any, depth: int = 6, indent: str = "") -> list[str]:
    """An indented tree of a frozen graph (debugprint's layout, without ids)."""
    if not isinstance(ref, tuple):
        return [f"{indent}{ref}"]
    frozen, index = ref
    suffix = f".{index}" if len(frozen.node.outputs) > 1 else ""
    lines = [f"{indent}{frozen.node.op}{suffix}"]
    if depth > 1:
        for inp in frozen.inputs:
            lines += _frozen_text(inp, depth - 1, indent + " |")
    elif frozen.inputs:
        lines.append(indent + " |...")
    return lines


def guard_outputs(fgraph: FunctionGraph) -> None:
    """A graph of no node runs no checking thunk: copy its outputs, as Theano's DeepCopyOp did."""
    if not fgraph.apply_nodes:
        for i, out in enumerate(list(fgraph.outputs)):
            fgraph.change_input(OUTPUT, i, OutputGuard()(out))


def graph_signature(fgraph: FunctionGraph) -> list[tuple]:
    """The scheduled nodes as (op, where each input comes from): equal for equal graphs."""
    keys: dict[Variable, tuple] = {v: ("input", i) for i, v in enumerate(fgraph.inputs)}
    signature: list[tuple] = []
    for n, node in enumerate(fgraph.toposort()):
        sources = tuple(
            keys.get(v) or (("constant", v.signature()) if isinstance(v, Constant) else ("?",))
            for v in node.inputs
        )
        signature.append((str(node.op), sources))
        keys.update((out, ("node", n, k)) for k, out in enumerate(node.outputs))
    signature.append(tuple(keys.get(v, ("?",)) for v in fgraph.outputs))
    return signature


class RecordingRewriter:
    """Runs a rewriter while snapshotting each replacement it makes, for checking at call time.

    With `stability_patience` n > 1 it also rewrites n - 1 copies of the graph and raises
    StochasticOrder if one comes out different (Theano's DebugMode did the same).
    """

    def __init__(
        self,
        inner: Callable[[FunctionGraph], Any],
        store: weakref.WeakKeyDictionary,
        stability_patience: int = 1,
    ) -> None:
        self.inner = inner
        self.store = store
        self.stability_patience = stability_patience

    @property
    def phases(self) -> list[str]:
        return list(getattr(self.inner, "phases", []))

    def __call__(self, fgraph: FunctionGraph) -> Any:
        copies = [fgraph.clone() for _ in range(self.stability_patience - 1)]
        maths = {rule.name: rule.math for rule in getattr(self.inner, "rules", [])}
        freezer = Freezer()
        original = tuple(freezer.freeze(out) for out in fgraph.outputs)
        found: list[Replacement] = []
        seen: set[tuple[int, int]] = set()

        def record(
            event: str, client: Any, index: int, old: Variable, new: Variable, reason: str | None
        ) -> None:
            if (id(old), id(new)) in seen:
                return  # the same replacement, seen from another client of `old`
            seen.add((id(old), id(new)))
            rule = reason or "unnamed"
            frozen = (freezer.freeze(old), freezer.freeze(new))
            found.append(Replacement(old, new, rule, maths.get(rule, ""), *frozen))

        fgraph.add_listener(record)
        try:
            result = self.inner(fgraph)
        finally:
            fgraph.remove_listener(record)
        guard_outputs(fgraph)
        self.store[fgraph] = Recorded(original, tuple(found))
        self._check_stable(fgraph, copies)
        return result

    def _check_stable(self, fgraph: FunctionGraph, copies: Sequence[FunctionGraph]) -> None:
        first = graph_signature(fgraph)
        for attempt, copy_ in enumerate(copies, start=2):
            self.inner(copy_)
            guard_outputs(copy_)
            other = graph_signature(copy_)
            if other != first:
                at = next((i for i, (a, b) in enumerate(zip(first, other)) if a != b), None)
                where = "in length" if at is None else f"first at node {at}"
                raise StochasticOrder(
                    f"StochasticOrder: rewriting the same graph gave a different graph on attempt "
                    f"{attempt} ({where}):\n{fgraph}\nvs\n{copy_}"
                )


def bad_optimization(item: Replacement, problem: str) -> BadOptimization:
    math = f" ({item.math})" if item.math else ""
    before, after = "\n".join(_frozen_text(item.old_ref)), "\n".join(_frozen_text(item.new_ref))
    return BadOptimization(
        f"BadOptimization: rewrite {item.rule!r}{math} changed the value it replaced {problem}.\n"
        f"Before the rewrite:\n{before}\nAfter the rewrite:\n{after}\n"
        f"Exclude the rule to compile without it: mode.excluding({item.rule!r})"
    )


def find_bad_rewrite(
    replacements: Sequence[Replacement], inputs: dict[Variable, Any], values: dict[int, list]
) -> tuple[Replacement, str] | None:
    """The first replacement whose old and new values differ on these inputs, and how.

    Each side is evaluated (into `values`, by evaluate_frozen) on the graph as it was when the
    rewrite happened, so only the rule itself can make them differ.
    """
    for item in replacements:
        before = ref_value(item.old_ref, inputs, values)
        after = ref_value(item.new_ref, inputs, values)
        if before is MISSING or after is MISSING:
            continue
        problem = difference(before, after, item.old.type.dtype, ignore_nonfinite=True)
        if problem is not None:
            return item, problem
    return None
