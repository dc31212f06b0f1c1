"""Applies rules to a FunctionGraph until nothing changes, recording each rewrite when asked.

Replacements are type-checked: dtypes are cast back, looser static shapes are re-asserted
with specify_shape, and anything else (or a cycle) makes the rule not fire.
May import core and optim.patterns.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from labsym.core.fgraph import FunctionGraph, InconsistencyError
from labsym.core.graph import Apply, Constant, Variable, ancestors, clone_graph, io_toposort
from labsym.optim.patterns import Rule, node_keys, rule_key


@dataclass(frozen=True)
class Subgraph:
    """A private copy of the nodes one rewrite removed or added, cut at owner-less leaves.

    `inputs` are fresh leaf copies of the variables the part reads from the rest of the graph,
    so walking `outputs` never reaches the live graph, which later rewrites keep changing.
    """

    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]

    @property
    def nodes(self) -> list[Apply]:
        """The copied Apply nodes, operands first."""
        return io_toposort(list(self.inputs), list(self.outputs))


@dataclass(frozen=True)
class RewriteRecord:
    """One applied rewrite, as plain data: where, which rule, the node before and after.

    `before`/`after` are one-line descriptions; `before_graph`/`after_graph` keep the
    structure: the nodes the rewrite removed and the nodes it added (viz draws each step).
    """

    phase: str
    rule: str
    before: str
    after: str
    math: str = ""
    before_graph: Subgraph | None = None
    after_graph: Subgraph | None = None


class History(list):
    """The rewrites applied while optimizing one graph, in order."""

    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for record in self:
            counts[record.rule] += 1
        return dict(counts)


def _describe(var: Variable) -> str:
    node = var.owner
    if node is None:
        return str(var)
    return f"{node.op}({', '.join(str(i) for i in node.inputs)})"


def _snapshot(outputs: Sequence[Variable], inside: Any) -> Subgraph:
    """Copy the nodes above `outputs` for which inside(node) holds, with leaf copies below."""
    frontier: list[Variable] = []
    seen: set[Variable] = set()
    stack = list(outputs)
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner is None or not inside(var.owner):
            frontier.append(var)
        else:
            stack.extend(var.owner.inputs)
    inputs, copies, _ = clone_graph(frontier, list(outputs))
    return Subgraph(tuple(inputs), tuple(copies))


def _new_nodes(fgraph: FunctionGraph, var: Variable) -> set[Apply]:
    """The nodes above `var` that are not (yet) in the graph."""
    found: set[Apply] = set()
    stack = [var]
    while stack:
        var = stack.pop()
        if var.owner is None or var in fgraph.variables or var.owner in found:
            continue
        found.add(var.owner)
        stack.extend(var.owner.inputs)
    return found


def _removed(fgraph: FunctionGraph, outputs: Sequence[Variable]) -> Subgraph:
    """What a replacement pruned: the nodes above `outputs` no longer in the graph."""
    return _snapshot(outputs, lambda node: node not in fgraph.apply_nodes)


def _fit_type(old: Variable, new: Any) -> Variable | None:
    """`new` adjusted to old's type (cast, specify_shape), or None if it cannot be."""
    from labsym.core.ops.math import cast
    from labsym.core.ops.shape import specify_shape
    from labsym.core.variable import as_tensor_variable

    new = as_tensor_variable(new)
    if new.type == old.type:
        return new
    if new.ndim != old.ndim:
        return None
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    for o, n in zip(old.type.shape, new.type.shape):
        if n == 1 and o != 1:
            return None  # new would be broadcast where old is not: a different runtime shape
        if o is not None and n is not None and o != n:
            return None
    if old.type.is_super(new.type):
        return new
    return specify_shape(new, old.type.shape)


def _depends_on(fgraph: FunctionGraph, new: Variable, old: Variable) -> bool:
    """Whether `new` is computed from `old` (replacing old by it would make a cycle).

    Walks the rule's new nodes back to the variables already in the graph; those that are
    ancestors of `old` (a rule usually reads old's operands) cannot depend on it, which a
    breadth-first walk back from old finds in a few steps. Only the others get a full
    ancestor walk, so a rewrite of a long chain costs what it changes, not the chain."""
    frontier: set[Variable] = set()
    stack, seen = [new], set()
    while stack:
        var = stack.pop()
        if var is old:
            return True
        if var in seen:
            continue
        seen.add(var)
        if var in fgraph.variables:
            if var.owner is not None:  # an owner-less variable depends on nothing
                frontier.add(var)
        elif var.owner is not None:
            stack.extend(var.owner.inputs)
    queue, behind = deque([old]), {old}
    while queue and frontier:
        var = queue.popleft()
        for inp in var.owner.inputs if var.owner is not None else ():
            if inp not in behind:
                behind.add(inp)
                frontier.discard(inp)
                queue.append(inp)
    return bool(frontier) and old in ancestors(frontier, fgraph.inputs)


def replace_outputs(
    fgraph: FunctionGraph,
    node: Apply,
    new_outputs: Sequence[Any],
    rule: Rule,
    phase: str,
    history: History | None,
) -> bool:
    """Swap node's outputs for the rule's results; False (graph unchanged) if they don't fit."""
    if len(new_outputs) != len(node.outputs):
        raise ValueError(f"rule {rule.name} returned {len(new_outputs)} outputs for {node}")
    pairs = []
    for old, new in zip(node.outputs, new_outputs):
        if new is None or new is old:
            continue
        fitted = _fit_type(old, new)
        if fitted is None or _depends_on(fgraph, fitted, old):
            return False
        if fitted.owner is not None and fitted not in fgraph.variables:
            fitted.trace = old.trace  # errors keep pointing at the user's line, not the rule
        pairs.append((old, fitted))
    if not pairs:
        return False
    records = []
    if history is not None:
        for old, new in pairs:  # the added nodes, found before they join the graph
            records.append((old, new, _describe(old), _describe(new), _new_nodes(fgraph, new)))
    try:  # all pairs or none: a refused one undoes those before it
        fgraph.replace_all(pairs, reason=rule.name)
    except InconsistencyError:
        return False
    for old, new, before, after, added in records:
        after_graph = _snapshot([new], added.__contains__)
        history.append(  # type: ignore[union-attr]
            RewriteRecord(
                phase, rule.name, before, after, rule.math, _removed(fgraph, [old]), after_graph
            )
        )
    return True


class RuleIndex:
    """Rules filed by the op they fire on, so each node only tries rules that can match it."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.by_key: dict[Any, list[Rule]] = defaultdict(list)
        for rule in rules:
            for spec in rule.tracks:
                self.by_key[rule_key(spec)].append(rule)

    def candidates(self, node: Apply) -> list[Rule]:
        found: list[Rule] = []
        for key in node_keys(node):
            found.extend(self.by_key.get(key, ()))
        return found


def apply_to_fixed_point(
    fgraph: FunctionGraph,
    rules: Sequence[Rule],
    phase: str,
    history: History | None = None,
    max_passes: int = 30,
    order: str = "in_to_out",
) -> int:
    """Sweep the graph applying rules until a sweep changes nothing; returns rewrites done."""
    index = RuleIndex(rules)
    total = 0
    for _ in range(max_passes):
        changed = 0
        nodes = io_toposort(fgraph.inputs, fgraph.outputs)  # depth-first: rules see operands first
        if order == "out_to_in":
            nodes.reverse()
        for node in nodes:
            if node not in fgraph.apply_nodes:
                continue
            for rule in index.candidates(node):
                result = rule.apply(fgraph, node)
                if result and replace_outputs(fgraph, node, result, rule, phase, history):
                    changed += 1
                    break
        total += changed
        if not changed:
            break
    return total


def merge(fgraph: FunctionGraph, history: History | None = None) -> int:
    """Merge equal constants and identical nodes (same op, same inputs): compute once."""
    merged = 0
    constants: dict[Any, Constant] = {}
    for var in sorted((v for v in fgraph.variables if isinstance(v, Constant)), key=id):
        key = var.signature()
        keep = constants.setdefault(key, var)
        if keep is not var and fgraph.clients.get(var):
            fgraph.replace(var, keep, reason="merge")
            merged += 1
    seen: dict[Any, Apply] = {}
    for node in io_toposort(fgraph.inputs, fgraph.outputs):
        if node not in fgraph.apply_nodes:
            continue
        ids = tuple(id(i) for i in node.inputs)
        scalar = getattr(node.op, "scalar_op", None)
        # commutative ops merge whatever their input order: x + y == y + x
        key = (node.op, tuple(sorted(ids)) if scalar is not None and scalar.commutative else ids)
        other = seen.get(key)
        if other is None:
            seen[key] = node
            continue
        described = (_describe(node.outputs[0]), _describe(other.outputs[0]))
        for old, new in zip(node.outputs, other.outputs):
            if old in fgraph.variables:
                fgraph.replace(old, new, reason="merge")
        if history is not None:
            kept = _snapshot(other.outputs, lambda n, other=other: n is other)
            history.append(
                RewriteRecord(
                    "merge", "merge", *described, "", _removed(fgraph, node.outputs), kept
                )
            )
        merged += 1
    return merged


@dataclass
class PhaseTiming:
    """Seconds and rewrites per phase, for profiles and the rewrite report."""

    phase: str
    seconds: float
    rewrites: int


def timed(phase: str, fn: Any, *args: Any) -> PhaseTiming:
    start = time.perf_counter()
    n = fn(*args)
    return PhaseTiming(phase, time.perf_counter() - start, n)
