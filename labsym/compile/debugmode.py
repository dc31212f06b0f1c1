"""DebugMode: a Mode that checks every applied rewrite and every node's implementations per call.

Slow on purpose: it evaluates the graph before and after each rewrite and runs each node both
ways, raising a DebugModeError that names the rule or node. May import core and compile.Mode.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.python.callgen import NumPyProgram, link_per_node
from labsym.backends.python.thunks import node_function
from labsym.backends.python.vm import PythonLinker
from labsym.compile import Mode
from labsym.config import config
from labsym.core.errors import describe_node_failure
from labsym.core.fgraph import OUTPUT, FunctionGraph
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.io import CallPlan, NodeCode
from labsym.core.op import Op

__all__ = [
    "BadDestroyMap",
    "BadOptimization",
    "BadThunkOutput",
    "BadViewMap",
    "DebugMode",
    "DebugModeError",
    "InvalidValueError",
    "StochasticOrder",
]

# (rtol, atol) by dtype: an approximate comparison for floats, exact for everything else
_TOLERANCE = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "complex64": (1e-4, 1e-5)}
_DEFAULT_TOLERANCE = (1e-5, 1e-8)


class DebugModeError(Exception):
    """Base of the errors DebugMode raises: a graph computed something other than it declares."""


class BadOptimization(DebugModeError):
    """A rewrite rule changed the value of the expression it replaced."""


class BadThunkOutput(DebugModeError):
    """Two implementations of one node (perform, numpy_callable) gave different values."""


class BadDestroyMap(DebugModeError):
    """A node modified an input that its op's destroy_map does not list."""


class BadViewMap(DebugModeError):
    """A node returned an output sharing memory with an input its op's view_map does not list."""


class StochasticOrder(DebugModeError):
    """Rewriting the same graph twice gave different graphs: a rewrite is not deterministic."""


class InvalidValueError(DebugModeError):
    """A node produced a value its declared output type rejects (dtype, ndim or static shape)."""


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


# ---------------------------------------------------------------------------------- values
def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (np.generic, int, float, complex, bool, str, type(None))):
        return value
    return copy.deepcopy(value)


def _aliases(a: Any, b: Any) -> bool:
    arrays = isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    if not arrays or not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=1 << 20))
    except np.exceptions.TooHardError:
        return True


def _unchanged(before: Any, after: Any) -> bool:
    if not isinstance(before, np.ndarray):
        return True  # only array buffers can be written in place
    after = np.asarray(after)
    if before.shape != after.shape or before.dtype != after.dtype:
        return False
    return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))


def _difference(
    expected: Any,
    got: Any,
    dtype: str,
    ignore_nonfinite: bool,
    labels: tuple[str, str] = ("before", "after"),
) -> str | None:
    """Why `got` does not match `expected` (None if it does), with the first differing element.

    With `ignore_nonfinite`, elements where `expected` is nan or inf may take any value: a
    rewrite may make a naive, overflowing form finite (that is what stabilization is for).
    """
    a, b = np.asarray(expected), np.asarray(got)
    if a.shape != b.shape:
        return f"the shapes differ: {a.shape} ({labels[0]}) vs {b.shape} ({labels[1]})"
    if a.dtype.kind in "fc":
        rtol, atol = _TOLERANCE.get(dtype, _DEFAULT_TOLERANCE)
        with np.errstate(all="ignore"):
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if ignore_nonfinite:
            close |= ~np.isfinite(a)
    else:
        close = a == b
    if np.all(close):
        return None
    where = tuple(int(i) for i in np.argwhere(~np.asarray(close))[0])
    count = f"{np.count_nonzero(~close)} of {a.size} elements differ"
    return f"at index {where}: {a[where]!s} ({labels[0]}) vs {b[where]!s} ({labels[1]}); {count}"


def _run_perform(node: Apply, args: Sequence[Any]) -> list[Any]:
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    node.op.perform(node, list(args), storage)
    return [cell[0] for cell in storage]


def _destroyed(node: Apply) -> set[int]:
    return {i for ins in (getattr(node.op, "destroy_map", {}) or {}).values() for i in ins}


class OutputGuard(Op):
    """Returns a copy of its input: DebugMode puts it on the outputs of a graph with no node.

    Theano's functions copied such outputs with DeepCopyOp; here it gives DebugMode a node
    whose call checks the graph as it was before rewriting.
    """

    __props__ = ()

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: Any) -> None:
        output_storage[0][0] = _copy(inputs[0])

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


def _frozen_order(refs: Sequence[Any]) -> list[Frozen]:
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
    for frozen in _frozen_order(refs):
        args = [_ref_value(r, inputs, values) for r in frozen.inputs]
        if any(a is _MISSING for a in args):
            continue
        destroyed = _destroyed(frozen.node)
        args = [_copy(a) if i in destroyed else a for i, a in enumerate(args)]
        try:
            with np.errstate(all="ignore"):
                values[id(frozen)] = _run_perform(frozen.node, args)
        except Exception as exc:
            if failures is not None:
                failures.append((frozen, args, exc))
    return values


def _ref_value(ref: Any, inputs: dict[Variable, Any], values: dict[int, list]) -> Any:
    if isinstance(ref, tuple):
        outputs = values.get(id(ref[0]))
        return _MISSING if outputs is None else outputs[ref[1]]
    if isinstance(ref, Constant):
        return ref.data
    return inputs.get(ref, _MISSING)


_MISSING = object()


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


def _guard_outputs(fgraph: FunctionGraph) -> None:
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
        _guard_outputs(fgraph)
        self.store[fgraph] = Recorded(original, tuple(found))
        self._check_stable(fgraph, copies)
        return result

    def _check_stable(self, fgraph: FunctionGraph, copies: Sequence[FunctionGraph]) -> None:
        first = graph_signature(fgraph)
        for attempt, copy_ in enumerate(copies, start=2):
            self.inner(copy_)
            _guard_outputs(copy_)
            other = graph_signature(copy_)
            if other != first:
                at = next((i for i, (a, b) in enumerate(zip(first, other)) if a != b), None)
                where = "in length" if at is None else f"first at node {at}"
                raise StochasticOrder(
                    f"StochasticOrder: rewriting the same graph gave a different graph on attempt "
                    f"{attempt} ({where}):\n{fgraph}\nvs\n{copy_}"
                )


def _bad_optimization(item: Replacement, problem: str) -> BadOptimization:
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
        before = _ref_value(item.old_ref, inputs, values)
        after = _ref_value(item.new_ref, inputs, values)
        if before is _MISSING or after is _MISSING:
            continue
        problem = _difference(before, after, item.old.type.dtype, ignore_nonfinite=True)
        if problem is not None:
            return item, problem
    return None


# ---------------------------------------------------------------------------------- nodes
def _type_error(node: Apply, impl: str, outputs: Sequence[Any]) -> InvalidValueError | None:
    for j, (var, value) in enumerate(zip(node.outputs, outputs, strict=True)):
        if impl == "numpy_callable" and isinstance(value, np.generic):
            value = np.asarray(value)
        try:
            var.type.filter(value, strict=True)
        except (TypeError, ValueError) as exc:
            return InvalidValueError(
                f"InvalidValueError: {impl} of {node} returned output {j}, which its type "
                f"{var.type} rejects: {exc}"
            )
    return None


def _nonfinite_error(node: Apply, outputs: Sequence[Any]) -> InvalidValueError | None:
    """Theano's check_isfinite: a float output holding NaN or Inf is an invalid value."""
    for j, value in enumerate(outputs):
        arr = np.asarray(value)
        if arr.dtype.kind not in "fc" or bool(np.isfinite(arr).all()):
            continue
        nan, inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
        return InvalidValueError(
            f"InvalidValueError: perform of {node} returned output {j} with non-finite elements "
            f"(nan: {nan}, inf: {inf}); DebugMode(check_isfinite=False) or the flag "
            "DebugMode.check_finite=False allows them"
        )
    return None


def _destroy_error(
    node: Apply, impl: str, before: Sequence[Any], after: Sequence[Any]
) -> BadDestroyMap | None:
    destroyed = _destroyed(node)
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        # an input sharing memory with a destroyed one may change with it
        if i in destroyed or any(_aliases(after[d], new) for d in destroyed):
            continue
        if not _unchanged(old, new):
            declared = getattr(node.op, "destroy_map", {}) or {}
            return BadDestroyMap(
                f"BadDestroyMap: {impl} of {node} modified input {i} ({node.inputs[i]}) in place, "
                f"but {node.op}.destroy_map ({declared}) does not list it. Declare "
                "destroy_map = {output: [input]} or write into a new array."
            )
    return None


def _view_error(
    node: Apply, impl: str, outputs: Sequence[Any], inputs: Sequence[Any]
) -> BadViewMap | None:
    views = getattr(node.op, "view_map", {}) or {}
    destroys = getattr(node.op, "destroy_map", {}) or {}
    for j, out in enumerate(outputs):
        declared = set(views.get(j, ())) | set(destroys.get(j, ()))
        for i, inp in enumerate(inputs):
            if i in declared or not _aliases(out, inp):
                continue
            if any(_aliases(inp, inputs[d]) for d in declared):
                continue  # the same buffer reached through a declared input
            return BadViewMap(
                f"BadViewMap: {impl} of {node} returned output {j} sharing memory with input {i} "
                f"({node.inputs[i]}), but {node.op}.view_map ({views}) does not list it. Declare "
                "view_map = {output: [input]} or return a copy."
            )
    return None


class GraphChecker:
    """The per-function state of DebugMode: the recorded rewrites and each node's checking thunk."""

    def __init__(
        self, fgraph: FunctionGraph, recorded: Recorded | None, check_isfinite: bool = False
    ) -> None:
        # no reference to fgraph itself: DebugLinker files checkers under it weakly
        self.check_isfinite = check_isfinite
        self.inputs = list(fgraph.inputs)
        self.variables = fgraph.variables
        self.original = list(recorded.original) if recorded is not None else []
        self.replacements = list(recorded.replacements) if recorded is not None else []
        self.index = {node: i for i, node in enumerate(fgraph.toposort())}
        self.pending: dict[int, DebugModeError] = {}

    def begin(self, local_values: dict[str, Any]) -> None:
        """Run the graph before rewriting and check every recorded rewrite on this call's inputs.

        The inputs are read from the generated call's locals. An error of a node that the
        rewrites removed is raised here: other modes never run that node.
        """
        self.pending = {}
        if not self.replacements:
            return
        names = local_values["self"]._plan.local_names
        inputs = {
            v: _copy(local_values[names[v]]) for v in self.inputs if names.get(v) in local_values
        }
        refs = self.original + [
            r for item in self.replacements for r in (item.old_ref, item.new_ref)
        ]
        failures: list[tuple[Frozen, list, Exception]] = []
        values = evaluate_frozen(refs, inputs, failures)
        self._raise_removed_failure(failures)
        found = find_bad_rewrite(self.replacements, inputs, values)
        if found is not None:
            item, problem = found
            self.pending[self._blamed_node(item)] = _bad_optimization(item, problem)

    def _raise_removed_failure(self, failures: Sequence[tuple[Frozen, list, Exception]]) -> None:
        """Raise the first error of the graph before rewriting, from a node rewrites removed."""
        before = {id(frozen) for frozen in _frozen_order(self.original)}
        for frozen, args, exc in failures:
            if id(frozen) not in before or frozen.node in self.index:
                continue  # a node still in the graph: the real run reports its error
            message = describe_node_failure(frozen.node, args, exc) + (
                "\nDebugMode: this node is in the graph before rewriting; the rewrites removed "
                "it, so other modes do not run it and raise no error"
            )
            try:
                error = type(exc)(message)
            except Exception:
                error = RuntimeError(message)
            raise error from exc

    def _blamed_node(self, item: Replacement) -> int:
        """The node of the final graph computing (or else first reading) what a rewrite produced."""
        later = {r.old: r.new for r in self.replacements}
        var, steps = item.new, 0
        while var not in self.variables and var in later and steps < len(later):
            var, steps = later[var], steps + 1
        if var.owner in self.index:
            return self.index[var.owner]
        readers = [i for node, i in self.index.items() if var in node.inputs]
        return min(readers, default=0)

    def node_thunk(
        self, node: Apply, index: int, linked: Callable[..., tuple] | None = None, label: str = ""
    ) -> Callable[..., Any]:
        """A callable running `node` with each implementation and checking all of them.

        It returns perform's outputs as a tuple, which the emitted statement unpacks. `linked`
        is the wrapped linker's code for the node (None: the NumPy engine's numpy_callable).
        """
        label = label or "numpy_callable"
        if len(node.outputs) != 1:
            fast = None
        elif linked is not None:
            fast = lambda *args: linked(*args)[0]  # noqa: E731 - one output of the linked code
        else:
            fast = node.op.numpy_callable(node)

        def thunk(*inputs: Any) -> Any:
            if index in self.pending:
                raise self.pending.pop(index)
            before = [_copy(v) for v in inputs]
            outputs = _run_perform(node, inputs)
            error = (
                _type_error(node, "perform", outputs)
                or _destroy_error(node, "perform", before, inputs)
                or _view_error(node, "perform", outputs, inputs)
                or (_nonfinite_error(node, outputs) if self.check_isfinite else None)
            )
            if error is None and fast is not None:
                error = self._check_fast(node, fast, before, outputs[0], label)
            if error is not None:
                raise error
            return tuple(outputs)

        return thunk

    @staticmethod
    def _check_fast(
        node: Apply,
        fast: Callable[..., Any],
        before: Sequence[Any],
        expected: Any,
        label: str = "numpy_callable",
    ) -> DebugModeError | None:
        args = [_copy(v) for v in before]
        got = fast(*args)
        error = (
            _type_error(node, label, [got])
            or _destroy_error(node, label, before, args)
            or _view_error(node, label, [got], args)
        )
        if error is not None:
            return error
        labels = ("perform", label)
        problem = _difference(expected, got, node.outputs[0].type.dtype, False, labels)
        if problem is None:
            return None
        return BadThunkOutput(f"BadThunkOutput: perform and {label} of {node} disagree {problem}")


class DebugLinker:
    """Emits a call of each node's GraphChecker thunk; the first node also checks the rewrites.

    Wraps any linker (`base`, from backends/registry.py): each node's code from `base` is
    checked against `perform` (for the NumPy engine: its numpy_callable).
    """

    name = "debug"

    def __init__(
        self, replacements: weakref.WeakKeyDictionary, check_isfinite: bool, base: Any = None
    ) -> None:
        self.replacements = replacements
        self.check_isfinite = check_isfinite
        self.base = PythonLinker() if base is None else base
        self.checkers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def link(self, fgraph: Any, plan: CallPlan) -> NumPyProgram:
        """The whole-graph link step: this linker's statement per node, as one program."""
        return link_per_node(self, fgraph, plan)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        checker = self.checkers.get(fgraph)
        if checker is None:
            checker = self.checkers[fgraph] = GraphChecker(
                fgraph, self.replacements.get(fgraph), self.check_isfinite
            )
        key = f"_dbg{index}"
        args = ", ".join(f"{{in{i}}}" for i in range(len(node.inputs)))
        outs = "".join(f"{{out{i}}}, " for i in range(len(node.outputs)))
        code = f"{outs}= {key}({args})"
        linked, label = None, ""
        if not isinstance(self.base, PythonLinker):  # the NumPy engine runs numpy_callable
            base_code = self.base.node_code(fgraph, node, index, outer_mode)
            linked, label = node_function(base_code), f"linker {getattr(self.base, 'name', '?')}"
        namespace: dict[str, Any] = {key: checker.node_thunk(node, index, linked, label)}
        if index == 0:
            # before any node, outside lazy branches: check the rewrites on this call's inputs
            namespace["_dbg_begin"] = checker.begin
            return NodeCode(node, code, namespace, prologue="_dbg_begin(locals())")
        return NodeCode(node, code, namespace)


class DebugMode(Mode):
    """Theano's DebugMode: every call checks each applied rewrite and each node (slow; for tests).

    On each call it evaluates the expression every rewrite replaced and its replacement on the
    call's inputs (BadOptimization names the rule), runs each node with `perform` and with
    `numpy_callable`, or with the linker's code (C with `linker='c|py'`) (BadThunkOutput),
    and checks that nodes modify only the inputs in their destroy_map (BadDestroyMap), alias
    only those in view_map (BadViewMap) and return values
    of their declared types (InvalidValueError). It also runs the graph as it was before
    rewriting and raises the errors of nodes the rewrites removed (a shape mismatch that
    FAST_RUN's rewrites make disappear still raises). Updates behave exactly as in other modes.
    A graph that rewrites leave without a node gets an OutputGuard copy on each output, so it
    is still checked. The graph is rewritten `stability_patience` times in all (default: the
    flag DebugMode.patience) and StochasticOrder is raised if the results differ. With
    `check_isfinite` (default: the flag DebugMode.check_finite, True as in Theano) a float
    output holding NaN or Inf is an InvalidValueError.

    Examples
    --------
    >>> f = labsym.function([x], T.log(1 + x), mode='DebugMode')
    >>> f(np.array([0.5]))  # raises if a rewrite or an op misbehaves on these values
    array([0.40546511])
    """

    def __init__(
        self,
        optimizer: Any = "default",
        stability_patience: int | None = None,
        check_c_code: bool | None = None,
        check_py_code: bool | None = None,
        check_isfinite: bool | None = None,
        including: Any = (),
        excluding: Any = (),
        record_history: bool = False,
        name: str = "DebugMode",
        linker: Any = "py",
    ) -> None:
        if stability_patience is None:
            stability_patience = config.DebugMode__patience
        if type(stability_patience) is not int or stability_patience < 1:
            raise ValueError(f"stability_patience must be an int >= 1, got {stability_patience!r}")
        self.stability_patience = stability_patience
        # perform is always checked; C code is checked against it with a C linker
        # (DebugMode(linker='c|py')): the default 'py' keeps DebugMode free of compiles
        self.check_c_code = config.DebugMode__check_c if check_c_code is None else check_c_code
        self.check_py_code = True if check_py_code is None else check_py_code
        if not self.check_py_code:
            raise ValueError("check_py_code=False: labsym's DebugMode always checks perform")
        if check_isfinite is None:
            check_isfinite = config.DebugMode__check_finite
        self.check_isfinite = check_isfinite
        super().__init__(
            linker=linker,  # resolved by backends/registry.py (a C name needs a C compiler)
            optimizer=optimizer,
            name=name,
            including=including,
            excluding=excluding,
            record_history=record_history,
        )
        replacements: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        if self.rewriter is not None:
            self.rewriter = RecordingRewriter(self.rewriter, replacements, stability_patience)
        self.base_linker = self.linker
        self.linker = DebugLinker(replacements, check_isfinite, self.base_linker)

    def _derive(self, **changes: Any) -> DebugMode:
        args = {
            "optimizer": self.optimizer,
            "stability_patience": self.stability_patience,
            "check_isfinite": self.check_isfinite,
            "including": self.included,
            "excluding": self.excluded,
            "record_history": self.record_history,
            "name": self.name,
            "linker": self.linker_name or self.base_linker,
        }
        args.update(changes)
        return DebugMode(**args)
