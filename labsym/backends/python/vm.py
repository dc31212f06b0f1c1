"""The NumPy linker: each node becomes one call of its op's fast NumPy callable or `perform`.

The statements it emits are stitched by backends.python.callgen into one straight-line
function, so the "VM" has no interpreter loop. May import core and backends.python.
"""

from __future__ import annotations

import types
from typing import Any

from labsym.backends.python.callgen import NumPyProgram, call_statement, link_per_node
from labsym.core.graph import Apply
from labsym.core.io import CallPlan, NodeCode
from labsym.core.op import c_code_only_message


def perform_thunk(node: Apply, outer_mode: Any = None):
    """A callable running `node.op.perform` on fresh output storage; returns the outputs.

    An op with an inner graph (`perform_in_mode`) compiles it with the outer function's Mode.
    """
    op = node.op
    n_out = len(node.outputs)
    if outer_mode is not None and hasattr(op, "perform_in_mode"):
        run_in_mode = op.perform_in_mode

        def perform(node: Apply, inputs: list, storage: list) -> None:
            run_in_mode(outer_mode, node, inputs, storage)

        op = types.SimpleNamespace(perform=perform)

    if n_out == 1:

        def thunk(*inputs: Any) -> Any:
            storage: list[list[Any]] = [[None]]
            op.perform(node, list(inputs), storage)
            return storage[0][0]

    else:

        def thunk(*inputs: Any) -> tuple:
            storage: list[list[Any]] = [[None] for _ in range(n_out)]
            op.perform(node, list(inputs), storage)
            return tuple(s[0] for s in storage)

    return thunk


class PythonLinker:
    """Emits `out = f(in...)` per node, with f the op's NumPy callable (or a perform thunk)."""

    name = "py"
    allow_gc = True  # subclasses that skip __init__ keep the default

    def __init__(self, allow_gc: bool = True) -> None:
        self.allow_gc = allow_gc  # False for Theano's `_nogc` names: intermediates are kept

    def link(self, fgraph: Any, plan: CallPlan) -> NumPyProgram:
        """The whole-graph link step: this linker's statement per node, as one program."""
        if not self.allow_gc:
            plan.allow_gc = False
        return link_per_node(self, fgraph, plan)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        blocked = c_code_only_message(node.op)
        if blocked is not None:  # refuse at compile time, not at the first call
            raise NotImplementedError(f"cannot compile {node}: {blocked}")
        fast = node.op.numpy_callable(node) if len(node.outputs) == 1 else None
        fn = fast if fast is not None else perform_thunk(node, outer_mode)
        return call_statement(node, f"_f{index}", fn)
