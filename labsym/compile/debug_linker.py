"""DebugMode's linker: per node, perform and the other implementation run and are compared.

The other implementation is the node's C kernel when the wrapped linker is a C linker (Theano's
check_c_code), the op's numpy_callable on the NumPy engine, or any other linker's code for the
node. May import core, backends and compile.debug_*.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labsym.backends.c.linker import CLinker, NoCCodeError, build_thunks, c_entries
from labsym.backends.python.callgen import NumPyProgram, link_per_node
from labsym.backends.python.thunks import node_function
from labsym.backends.python.vm import PythonLinker
from labsym.compile.debug_errors import DebugModeError
from labsym.compile.debug_rewrites import (
    Frozen,
    Recorded,
    Replacement,
    bad_optimization,
    evaluate_frozen,
    find_bad_rewrite,
    frozen_order,
)
from labsym.compile.debug_values import (
    copy_value,
    implementation_errors,
    nonfinite_error,
    run_perform,
    strides_error,
    thunk_output_error,
    warn_input_not_reused,
)
from labsym.core.errors import describe_node_failure
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply
from labsym.core.io import CallPlan, NodeCode
from labsym.core.op import c_code_only_message


@dataclass(frozen=True)
class CheckOptions:
    """What every node's thunk checks: DebugMode's constructor arguments and flags."""

    check_isfinite: bool = False
    check_py_code: bool = True
    require_matching_strides: int = 0
    warn_input_not_reused: bool = False


@dataclass(frozen=True)
class Implementation:
    """A node's implementation besides perform: `fn(*inputs) -> tuple of outputs`, its label,
    and whether it is native (C) code (check_py_code=False then runs it alone)."""

    fn: Callable[..., tuple]
    label: str
    native: bool = False


def _as_tuple(fn: Callable[..., Any], n_outputs: int) -> Callable[..., tuple]:
    if n_outputs != 1:
        return lambda *args: tuple(fn(*args))
    return lambda *args: (fn(*args),)


def numpy_implementation(node: Apply) -> Implementation | None:
    """The op's numpy_callable (one output only), or None when it has none."""
    fast = node.op.numpy_callable(node) if len(node.outputs) == 1 else None
    return None if fast is None else Implementation(_as_tuple(fast, 1), "numpy_callable")


class GraphChecker:
    """The per-function state of DebugMode: the recorded rewrites and each node's checking thunk."""

    def __init__(
        self, fgraph: FunctionGraph, recorded: Recorded | None, options: CheckOptions
    ) -> None:
        # no reference to fgraph itself: DebugLinker files checkers under it weakly
        self.options = options
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
            v: copy_value(local_values[names[v]])
            for v in self.inputs
            if names.get(v) in local_values
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
            self.pending[self._blamed_node(item)] = bad_optimization(item, problem)

    def _raise_removed_failure(self, failures: Sequence[tuple[Frozen, list, Exception]]) -> None:
        """Raise the first error of the graph before rewriting, from a node rewrites removed."""
        before = {id(frozen) for frozen in frozen_order(self.original)}
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
        self, node: Apply, index: int, impl: Implementation | None
    ) -> Callable[..., tuple]:
        """A callable running `node` with perform and `impl` and checking both.

        It returns perform's outputs as a tuple, which the emitted statement unpacks; perform
        is skipped (and `impl`'s outputs returned) for native code when check_py_code is off or
        the op has no perform (a C-only op).
        """
        options = self.options
        native = impl is not None and impl.native
        run_py = not native or (options.check_py_code and c_code_only_message(node.op) is None)

        def thunk(*inputs: Any) -> tuple:
            if index in self.pending:
                raise self.pending.pop(index)
            before = [copy_value(v) for v in inputs]
            outputs: Sequence[Any] | None = None
            if run_py:
                outputs = run_perform(node, inputs)
                error = implementation_errors(node, "perform", before, inputs, outputs)
                if error is None and options.check_isfinite:
                    error = nonfinite_error(node, outputs)
                if error is not None:
                    raise error
                if options.warn_input_not_reused:
                    warn_input_not_reused(node, "perform", outputs, inputs)
            if impl is not None:
                args = [copy_value(v) for v in before] if run_py else list(inputs)
                got = impl.fn(*args)
                error = implementation_errors(node, impl.label, before, args, got)
                if error is None and outputs is not None:
                    error = self._compare(node, impl.label, outputs, got, before)
                elif error is None and options.check_isfinite:
                    error = nonfinite_error(node, got, impl.label)
                if error is not None:
                    raise error
                if options.warn_input_not_reused:
                    warn_input_not_reused(node, impl.label, got, args)
                if outputs is None:
                    outputs = got
            return tuple(outputs)  # type: ignore[arg-type]

        return thunk

    def _compare(
        self,
        node: Apply,
        label: str,
        expected: Sequence[Any],
        got: Sequence[Any],
        inputs: Sequence[Any],
    ) -> DebugModeError | None:
        for j, (want, have) in enumerate(zip(expected, got, strict=True)):
            error = thunk_output_error(node, j, label, want, have, inputs) or strides_error(
                node, j, label, want, have, self.options.require_matching_strides
            )
            if error is not None:
                return error
        return None


class DebugLinker:
    """Emits a call of each node's GraphChecker thunk; the first node also checks the rewrites.

    Wraps any linker (`base`, from backends/registry.py): a C linker's kernels (all of a
    function's in one module) are checked against `perform` node by node, nodes without a
    kernel against their numpy_callable; another linker's code for each node is checked as it
    is; the NumPy engine means numpy_callable.
    """

    name = "debug"

    def __init__(
        self, replacements: weakref.WeakKeyDictionary, options: CheckOptions, base: Any = None
    ) -> None:
        self.replacements = replacements
        self.options = options
        self.base = PythonLinker() if base is None else base
        self.checkers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.c_thunks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def link(self, fgraph: Any, plan: CallPlan) -> NumPyProgram:
        """The whole-graph link step: this linker's statement per node, as one program."""
        return link_per_node(self, fgraph, plan)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        checker = self.checkers.get(fgraph)
        if checker is None:
            checker = self.checkers[fgraph] = GraphChecker(
                fgraph, self.replacements.get(fgraph), self.options
            )
        key = f"_dbg{index}"
        args = ", ".join(f"{{in{i}}}" for i in range(len(node.inputs)))
        outs = "".join(f"{{out{i}}}, " for i in range(len(node.outputs)))
        code = f"{outs}= {key}({args})"
        impl = self.implementation(fgraph, node, index, outer_mode)
        if (impl is None or not impl.native) and c_code_only_message(node.op) is not None:
            raise NotImplementedError(f"cannot compile {node}: {c_code_only_message(node.op)}")
        namespace: dict[str, Any] = {key: checker.node_thunk(node, index, impl)}
        if index == 0:
            # before any node, outside lazy branches: check the rewrites on this call's inputs
            namespace["_dbg_begin"] = checker.begin
            return NodeCode(node, code, namespace, prologue="_dbg_begin(locals())")
        return NodeCode(node, code, namespace)

    def implementation(
        self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None
    ) -> Implementation | None:
        """What `node` is checked against: its C kernel, another linker's code, numpy_callable."""
        if isinstance(self.base, CLinker):
            thunk = self._c_thunks(fgraph, outer_mode).get(node)
            if thunk is None:
                return numpy_implementation(node)
            label = f"linker {self.base.name}"
            return Implementation(_as_tuple(thunk, len(node.outputs)), label, native=True)
        if isinstance(self.base, PythonLinker):
            return numpy_implementation(node)
        code = self.base.node_code(fgraph, node, index, outer_mode)
        return Implementation(node_function(code), f"linker {getattr(self.base, 'name', '?')}")

    def _c_thunks(self, fgraph: Any, outer_mode: Any) -> dict[Apply, Callable[..., Any]]:
        """The C thunk of every node with a kernel, all built in one module (once per graph)."""
        thunks = self.c_thunks.get(fgraph)
        if thunks is None:
            nodes = fgraph.toposort()
            entries = c_entries(nodes, outer_mode)
            missing = sorted({str(n.op) for i, n in enumerate(nodes) if i not in entries})
            if self.base.strict and missing:
                raise NoCCodeError(
                    f"DebugMode(linker={self.base.name!r}) checks C code only, and these ops "
                    f"have no C code: {', '.join(missing)}; use linker='c|py' to check them "
                    "against their NumPy code"
                )
            built = build_thunks(entries, nodes)
            thunks = self.c_thunks[fgraph] = {nodes[i]: t for i, t in built.items()}
        return thunks
