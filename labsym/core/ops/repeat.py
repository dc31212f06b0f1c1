"""Repeat (NumPy's repeat) and its adjoint _RepeatSum, with the user function repeat.

May import core.graph, core.op, core.type, core.dtypes, core.variable and the sibling modules
math, reduce and shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import base, reduce
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.shape import lengths_of
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

__all__ = ["Repeat", "repeat"]


class Repeat(base.NumpyOp):
    """Each element of `x` repeated along `axis` (NumPy's `repeat`); repeats a scalar or vector."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def make_node(self, x: Any, repeats: Any) -> Apply:
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x} ({x.type})")
        if repeats.ndim > 1 or not dtypes.is_integer(repeats.dtype) or repeats.dtype == "bool":
            raise TypeError(f"{self}: repeats must be an int or an int vector, got {repeats.type}")
        repeats = m.cast(repeats, "int64")
        static = list(x.type.shape)
        n = static[self.axis]
        if repeats.ndim == 1:
            counts = sh.static_entries(repeats, repeats.type.shape[0] or 0)
            length = repeats.type.shape[0]
            if None not in (n, length) and n != length:
                raise ValueError(f"{self}: {length} repeats for an axis of length {n}")
            known = length is not None and None not in counts
            static[self.axis] = int(sum(counts)) if known else None
        else:
            r = sh.static_int(repeats)
            static[self.axis] = n * r if None not in (n, r) else None
        return Apply(self, [x, repeats], [TensorType(x.dtype, static)()])

    def numpy_callable(self, node: Apply):
        axis = self.axis

        def repeat_array(x, repeats):
            return np.repeat(x, repeats, axis=axis)

        return repeat_array

    def infer_shape(self, fgraph, node, input_shapes):
        out = list(input_shapes[0])
        static = node.outputs[0].type.shape[self.axis]
        repeats = node.inputs[1]
        if static is not None:
            out[self.axis] = static
        elif repeats.ndim == 0:
            out[self.axis] = base.prod_lengths([out[self.axis], repeats])
        else:
            out[self.axis] = reduce.sum(repeats)
        return [tuple(out)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, repeats = inputs
        (gz,) = output_grads
        if repeats.ndim == 1:
            return [base.float_grad(_RepeatSum(self.axis)(gz, repeats), x), None]
        # out[.., i*r + j, ..] = x[.., i, ..]: view gz as (.., n, r, ..) and sum over r
        lengths = lengths_of(x)
        lengths.insert(self.axis + 1, repeats)
        return [base.float_grad(sh.reshape(gz, lengths).sum(axis=self.axis + 1), x), None]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]  # linear


class _RepeatSum(Op):
    """Sums of consecutive runs of `repeats[i]` slices along `axis`: the adjoint of Repeat."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def __str__(self) -> str:
        return f"RepeatSum{{{self.axis}}}"

    def make_node(self, gz: Any, repeats: Any) -> Apply:
        gz, repeats = as_tensor_variable(gz), as_tensor_variable(repeats)
        static = list(gz.type.shape)
        static[self.axis] = repeats.type.shape[0]
        return Apply(self, [gz, repeats], [TensorType(gz.dtype, static)()])

    def perform(self, node, inputs, output_storage):
        gz, repeats = inputs
        moved = np.moveaxis(gz, self.axis, 0)
        out = np.zeros((len(repeats),) + moved.shape[1:], dtype=gz.dtype)
        np.add.at(out, np.repeat(np.arange(len(repeats)), repeats), moved)
        output_storage[0][0] = np.moveaxis(out, 0, self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        out = list(input_shapes[0])
        out[self.axis] = input_shapes[1][0]
        return [tuple(out)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        return [Repeat(self.axis)(output_grads[0], inputs[1]), None]


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Variable:
    """Each element of `x` repeated (NumPy's `repeat`); axis None repeats the flattened `x`.

    Examples
    --------
    >>> v = dvector('v'); repeat(v, 2).eval({v: np.array([1., 2.])})
    array([1., 1., 2., 2.])
    """
    x = as_tensor_variable(x)
    if axis is None:
        return Repeat(0)(sh.flatten(x), repeats)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"repeat: axis {axis} is out of range for {x} ({x.type})")
    return Repeat(axis % x.ndim)(x, repeats)
