"""Theano's data-dependent selection ops: Nonzero, Choose, PermuteRowElements, Bartlett.

Each output depends on the values of an integer or boolean input, so each is one small op
with NumPy as its reference. May import core.graph, core.op, core.type, core.variable, ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.autodiff import grad_undefined
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import basic, shape
from labsym.core.ops import math as m
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


def _int_input(who: str, what: str, x: Any) -> Variable:
    x = as_tensor_variable(x)
    if not dtypes.is_integer(x.dtype) or x.dtype == "bool":
        raise TypeError(f"{who}: {what} must have an integer dtype, got {x} ({x.type})")
    return x


# ------------------------------------------------------------------------------ nonzero
class Nonzero(Op):
    """The indices of the non-zero elements, as an int64 matrix (ndim, count) (Theano's op)."""

    __props__ = ()

    def make_node(self, a: Any) -> Apply:
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError("Nonzero only supports non-scalar arrays.")
        return Apply(self, [a], [TensorType("int64", (a.ndim, None))()])

    def perform(self, node, inputs, output_storage):
        found = np.nonzero(inputs[0])
        output_storage[0][0] = np.array(found, dtype="int64").reshape(len(found), -1)

    def infer_shape(self, fgraph, node, input_shapes):
        count = m.neq(node.inputs[0], 0).sum(dtype="int64")
        return [(node.inputs[0].ndim, count)]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, 0, inputs[0])]


def nonzero(a: Any, return_matrix: bool = False) -> Any:
    """The indices of a's non-zero elements: one int64 vector per axis (as numpy.nonzero).

    With return_matrix=True, Theano's form: one (ndim, count) int64 matrix.

    Examples
    --------
    >>> nonzero(np.array([[0, 3], [4, 0]]))[1].eval()
    array([1, 0])
    """
    found = Nonzero()(a)
    if return_matrix:
        return found
    return tuple(found[i] for i in range(found.owner.inputs[0].ndim))


def flatnonzero(a: Any) -> Variable:
    """The indices of the non-zero elements of a.flatten() (numpy.flatnonzero)."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("Nonzero only supports non-scalar arrays.")
    return nonzero(a.flatten(), return_matrix=True)[0]


# ------------------------------------------------------------------------------ choose
class Choose(Op):
    """numpy.choose(a, choices, mode): element I from choices[a[I]] (Theano's op; no gradient)."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "raise") -> None:
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
        self.mode = mode

    def make_node(self, a: Any, choices: Any) -> Apply:
        a = as_tensor_variable(a)
        if not (dtypes.is_integer(a.dtype) or a.dtype == "bool"):
            raise TypeError(f"choose first argument must have an [u]int* dtype. Got {a.dtype}.")
        choices = as_tensor_variable(choices)
        if choices.ndim == 0:
            raise TypeError("choose: choices must be a sequence of tensors or a tensor of 1+ dims")
        out_ndim = max(a.ndim, choices.ndim - 1)
        a = shape.shape_padleft(a, out_ndim - a.ndim)
        pad = out_ndim - (choices.ndim - 1)
        if pad:
            choices = choices.dimshuffle(0, *(("x",) * pad), *range(1, choices.ndim))
        out_shape = tuple(
            1 if (da == 1 and dc == 1) else None
            for da, dc in zip(a.type.shape, choices.type.shape[1:])
        )
        return Apply(self, [a, choices], [TensorType(choices.dtype, out_shape)()])

    def perform(self, node, inputs, output_storage):
        a, choices = inputs
        out = np.choose(a, choices, mode=self.mode)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        a_shape, c_shape = input_shapes[0], input_shapes[1][1:]
        return [
            tuple(
                dc if da == 1 else da
                for da, dc in zip(
                    [1 if b == 1 else s for b, s in zip(node.inputs[0].type.shape, a_shape)],
                    c_shape,
                )
            )
        ]


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Variable:
    """numpy.choose: pick each element from the choice named by the integer array `a`.

    `choices` is a list of tensors of one shape (stacked) or a tensor whose first axis lists
    them; `out` must be None (Theano kept the argument for NumPy's signature).
    """
    if out is not None:
        raise TypeError("choose: the out argument is not supported (it must be None)")
    if isinstance(choices, (list, tuple)):
        choices = basic.stack(list(choices))
    return Choose(mode)(a, choices)


# ------------------------------------------------------------------------------ permutations
class PermuteRowElements(Op):
    """Each row (last axis) of x permuted by the matching row of y (inverse: the inverse map).

    x and y broadcast over their leading axes, as Theano's op: one permutation for every row
    of a matrix, one per row, or every permutation applied to one vector.
    """

    __props__ = ("inverse",)

    def __init__(self, inverse: bool = False) -> None:
        self.inverse = bool(inverse)

    def make_node(self, x: Any, y: Any) -> Apply:
        x = as_tensor_variable(x)
        y = _int_input("permute_row_elements", "the permutation", y)
        if x.ndim == 0 or y.ndim == 0:
            raise TypeError("permute_row_elements: x and the permutation need at least one axis")
        ndim = max(x.ndim, y.ndim)
        x = shape.shape_padleft(x, ndim - x.ndim)
        y = shape.shape_padleft(y, ndim - y.ndim)
        lead = tuple(
            1 if (dx == 1 and dy == 1) else None
            for dx, dy in zip(x.type.shape[:-1], y.type.shape[:-1])
        )
        return Apply(self, [x, y], [TensorType(x.dtype, lead + (x.type.shape[-1],))()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[-1] != y.shape[-1]:
            raise ValueError(
                f"PermuteRowElements: rows of length {x.shape[-1]} and permutations of "
                f"length {y.shape[-1]} differ"
            )
        lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
        xb = np.broadcast_to(x, lead + x.shape[-1:])
        yb = np.broadcast_to(y, lead + y.shape[-1:])
        if self.inverse:
            out = np.empty_like(xb)
            np.put_along_axis(out, yb, xb, axis=-1)  # out[..., y] = x
        else:
            out = np.take_along_axis(xb, yb, axis=-1)  # out = x[..., y]
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        x_static = node.inputs[0].type.shape
        lead = tuple(ly if bx == 1 else lx for lx, ly, bx in zip(xs[:-1], ys[:-1], x_static[:-1]))
        return [lead + (xs[-1],)]

    def grad(self, inputs, output_grads):
        (x, y), (gz,) = inputs, output_grads
        # the inverse permutation carries each output gradient back to its input position
        gx = PermuteRowElements(not self.inverse)(gz, y)
        broadcast = [
            axis
            for axis, (dx, dz) in enumerate(zip(x.type.shape, gx.type.shape))
            if dx == 1 and dz != 1
        ]
        if broadcast:
            gx = gx.sum(axis=broadcast, keepdims=True)
        if not dtypes.is_float(x.dtype):
            gx = None
        return [gx, grad_undefined(self, 1, y)]


def permute_row_elements(x: Any, y: Any, inverse: bool = False) -> Variable:
    """x with the elements of each row permuted by y (`x[..., y]`, or its inverse)."""
    return PermuteRowElements(inverse)(x, y)


def inverse_permutation(perm: Any) -> Variable:
    """The inverse of each permutation (last axis) in perm: `inv[perm[i]] = i`."""
    perm = _int_input("inverse_permutation", "perm", perm)
    return permute_row_elements(basic.arange(perm.shape[-1], dtype=perm.dtype), perm, True)


# ------------------------------------------------------------------------------ windows
class Bartlett(Op):
    """The Bartlett (triangular) window of M points, a float64 vector (numpy.bartlett)."""

    __props__ = ()

    def make_node(self, M: Any) -> Apply:  # noqa: N803 - NumPy's name
        M = as_tensor_variable(M)  # noqa: N806
        if M.ndim != 0:
            raise TypeError("Bartlett only works on scalar input")
        if not dtypes.is_integer(M.dtype) or M.dtype == "bool":
            raise TypeError("Bartlett only works on integer input")
        return Apply(self, [M], [TensorType("float64", (None,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.bartlett(int(inputs[0]))

    def infer_shape(self, fgraph, node, input_shapes):
        length = node.inputs[0]
        return [(m.maximum(length, 0),)]

    def grad(self, inputs, output_grads):
        return [None]


def bartlett(M: Any) -> Variable:  # noqa: N803 - NumPy's name
    """The Bartlett window: M points rising linearly from 0 to 1 and back (numpy.bartlett)."""
    return Bartlett()(M)
