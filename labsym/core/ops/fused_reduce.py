"""FusedReduce: a CAReduce of a fused elementwise program, as one node (`sum(exp(x - m))`).

The fusion phase makes it when the elementwise result has no other use, so a native backend
can reduce the values as it computes them, with no temporary array. `perform` runs the two
NumPy computations it replaces, so results are those of the unfused graph.
May import core (graph, op, type) and core.ops (composite, reduce, shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.core.graph import Apply
from labsym.core.ops.base import NumpyOp
from labsym.core.ops.composite import Composite
from labsym.core.ops.reduce import CAReduce
from labsym.core.ops.shape import broadcast_shape_symbolic


class FusedReduce(NumpyOp):
    """`reduce_op(composite(*inputs))` where `composite` has one output."""

    __props__ = ("reduce_op", "composite")

    def __init__(self, reduce_op: CAReduce, composite: Composite) -> None:
        if len(composite.outputs) != 1:
            raise ValueError(f"FusedReduce: {composite} must have one output")
        self.reduce_op = reduce_op
        self.composite = composite

    def __str__(self) -> str:
        inner = str(self.composite)
        if inner.startswith("Elemwise{") and inner.endswith("}"):
            inner = inner[len("Elemwise{") : -1]
        return f"{self.reduce_op}{{{inner}}}"

    def scalar_node(self, node: Apply) -> Apply:
        """The Composite node this op reads (a fresh Apply over node's inputs)."""
        return self.composite.make_node(*node.inputs)

    def make_node(self, *inputs: Any) -> Apply:
        inner = self.composite.make_node(*inputs)
        reduced = self.reduce_op.make_node(inner.outputs[0])
        return Apply(self, list(inner.inputs), [reduced.outputs[0].type()])

    def numpy_callable(self, node: Apply) -> Callable[..., Any]:
        inner = self.scalar_node(node)
        elementwise = self.composite._function_for(inner)
        reduce = self.reduce_op.numpy_callable(self.reduce_op.make_node(inner.outputs[0]))
        dtype = np.dtype(inner.outputs[0].dtype)

        def fused_reduce(*inputs: Any) -> Any:
            return reduce(np.asarray(elementwise(*inputs), dtype=dtype))

        return fused_reduce

    def infer_shape(self, fgraph, node, input_shapes):
        shape = broadcast_shape_symbolic([v.type for v in node.inputs], input_shapes)
        return self.reduce_op.infer_shape(fgraph, node, [shape])
