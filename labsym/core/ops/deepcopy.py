"""DeepCopyOp, and where a compiled function needs it (Theano's insert_deepcopy).

A function output that is an input's or a constant's memory, or that another output views, is
returned as a copy, so the caller may modify it. May import core (graph, fgraph, op).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core.aliasing import alias_root, views_of
from labsym.core.fgraph import OUTPUT, FunctionGraph
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op


class DeepCopyOp(Op):
    """A copy of its input: the node Theano's functions put on an output aliasing an input."""

    __props__ = ()

    def make_node(self, x: Variable) -> Apply:
        return Apply(self, [x], [x.type()])

    def numpy_callable(self, node: Apply) -> Any:
        return _copy

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        output_storage[0][0] = _copy(inputs[0])

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence) -> list:
        return [input_shapes[0]]

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [output_grads[0]]


deep_copy_op = DeepCopyOp()  # Theano's theano.compile.ops.deep_copy_op


def _copy(value: Any) -> np.ndarray:
    return np.array(value, copy=True)


def insert_deepcopy(fgraph: FunctionGraph, borrow: Sequence[bool], updated: Sequence[Any]) -> None:
    """Put a DeepCopyOp on each output that shares memory with a graph input or constant, or
    that a later output views (unless the output is borrowed), as Theano's FunctionMaker did.

    `borrow[i]` is output i's borrow flag (update values are never borrowed); `updated` lists
    the graph inputs that updates overwrite, whose memory outputs may share.
    """
    protected = set(updated)
    outputs = list(fgraph.outputs)
    for i, out in enumerate(outputs):
        if i < len(borrow) and borrow[i]:
            continue
        root = alias_root(out)
        views = views_of(root, fgraph.clients)
        shares_later = any(outputs[j] in views for j in range(i + 1, len(outputs)))
        if shares_later or (root.owner is None and root not in protected):
            fgraph.change_input(OUTPUT, i, deep_copy_op.make_node(out).outputs[0], "deepcopy")
