"""Rules of the inplace phase (last): elementwise ops write into a dead input's buffer.

Saves one allocation per rewritten node; optim.destroy decides which buffers are dead.
May import core, optim.patterns and optim.destroy.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.optim.destroy import destroy_handler
from labsym.optim.patterns import Rule


def _same_buffer_shape(node: Apply, index: int) -> bool:
    """Whether input `index` has the output's dtype and is never broadcast (equal runtime shape)."""
    inp, out = node.inputs[index].type, node.outputs[0].type
    return inp.dtype == out.dtype and all(
        i != 1 or o == 1 for i, o in zip(inp.shape, out.shape, strict=True)
    )


def _with_inplace(op: Any, index: int) -> Any:
    """The same op, writing output 0 into input `index`: rebuilt from its props by name."""
    props = {name: getattr(op, name) for name in op.__props__}
    props["inplace_pattern"] = {0: index}
    return type(op)(**props)


def elemwise_inplace(fgraph: Any, node: Apply) -> list | None:
    """f(a, b) -> f(a, b) computed into a's buffer, for the first input that is dead afterwards.

    Fires on every op that takes an `inplace_pattern` prop: Elemwise (`Elemwise{Add}[(0, 0)]`)
    and fusion's Composite (`Elemwise{Composite{...}}[(0, 1)]`), as Theano's
    inplace_elemwise_optimizer did. Only inputs the function itself computed qualify: never an
    argument the user passed, a shared value or a constant, nor anything viewing them
    (DestroyHandler).
    """
    op = node.op
    if "inplace_pattern" not in getattr(op, "__props__", ()) or op.inplace_pattern:
        return None
    if len(node.outputs) != 1:
        return None
    handler = destroy_handler(fgraph)
    for index in range(len(node.inputs)):
        if _same_buffer_shape(node, index) and handler.can_destroy(node, index):
            # the same inputs and output type: make_node could realign inputs or compute test values
            return Apply(
                _with_inplace(op, index), list(node.inputs), [node.outputs[0].clone()]
            ).outputs
    return None


RULES = [
    Rule(
        "elemwise_inplace",
        ("inplace",),
        node_rule=elemwise_inplace,
        tracks=(Op,),
        math="f(a, b) -> f(a, b) written into a's buffer, when a is computed here and dead after",
    ),
]
