"""Debugging ops of Theano: Print (shows a value when computed) and Assert (checks conditions).

Both are identities on their first input, kept out of constant folding where printing matters.
May import core.graph, core.op and core.variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.variable import as_tensor_variable

__all__ = ["Assert", "Print", "assert_op"]


def _print_fn(op: Print, value: np.ndarray) -> None:
    """Theano's default: print `message attr = value` for each attribute (called if callable)."""
    for attr in op.attrs:
        shown = getattr(value, attr)
        print(op.message, attr, "=", shown() if callable(shown) else shown)


class Print(Op):
    """Identity that prints its value (or the named attributes of it) whenever it is computed.

    The debugging op of Theano: `x = Print('x')(x)`; attrs=('shape', 'mean') prints those.
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}  # output 0 is input 0

    def __init__(
        self,
        message: str = "",
        attrs: Sequence[str] = ("__str__",),
        global_fn: Callable[[Any, np.ndarray], None] = _print_fn,
    ) -> None:
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]
        self.global_fn(self, inputs[0])

    def do_constant_folding(self, node: Apply) -> bool:
        return False  # printing belongs to run time

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)


class Assert(Op):
    """Identity on x that raises AssertionError(msg) at run time when a condition is false.

    `Assert('x must be positive')(x, T.all(x > 0))`; array conditions must hold everywhere.
    """

    __props__ = ("msg",)
    view_map = {0: [0]}  # output 0 is input 0

    def __init__(self, msg: str = "labsym Assert failed!") -> None:
        self.msg = msg

    def make_node(self, value: Any, *conds: Any) -> Apply:
        value = as_tensor_variable(value)
        conditions = [as_tensor_variable(c) for c in conds]
        return Apply(self, [value, *conditions], [value.type()])

    def numpy_callable(self, node: Apply):
        msg = self.msg

        def check(value, *conds):
            for cond in conds:
                if not np.all(cond):
                    raise AssertionError(msg)
            return value

        return check

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def grad(self, inputs, output_grads):
        return [output_grads[0]] + [None] * (len(inputs) - 1)

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]


assert_op = Assert()
