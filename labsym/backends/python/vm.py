"""The NumPy linker: each node becomes one call of its op's fast NumPy callable or `perform`.

The statements it emits are stitched by core.callgen into one straight-line function, so the
"VM" has no interpreter loop. May import core.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.io import NodeCode
from labsym.core.op import c_code_only_message


def perform_thunk(node: Apply):
    """A callable running `node.op.perform` on fresh output storage; returns the outputs."""
    op = node.op
    n_out = len(node.outputs)

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

    def node_code(self, fgraph: Any, node: Apply, index: int) -> NodeCode:
        blocked = c_code_only_message(node.op)
        if blocked is not None:  # refuse at compile time, not at the first call
            raise NotImplementedError(f"cannot compile {node}: {blocked}")
        fast = node.op.numpy_callable(node) if len(node.outputs) == 1 else None
        fn = fast if fast is not None else perform_thunk(node)
        key = f"_f{index}"
        args = ", ".join(f"{{in{i}}}" for i in range(len(node.inputs)))
        outs = ", ".join(f"{{out{i}}}" for i in range(len(node.outputs)))
        if len(node.outputs) > 1:
            outs += ","
        return NodeCode(node, f"{outs} = {key}({args})", {key: fn})
