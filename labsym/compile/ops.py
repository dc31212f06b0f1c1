"""Theano's `theano.compile.ops` names: as_op, ViewOp, and the shape ops Theano kept here.

Re-exports, plus ViewOp (an identity view the rewrites remove) and Theano's shape_i helpers.
"""

from __future__ import annotations

from typing import Any

from labsym.core.gradient_ops import _GradientView
from labsym.core.graph import Variable
from labsym.core.op import _AsOp as FromFunctionOp
from labsym.core.op import as_op
from labsym.core.ops.deepcopy import DeepCopyOp, deep_copy_op
from labsym.core.ops.shape import (
    Rebroadcast,
    Shape,
    Shape_i,
    SpecifyShape,
    shape,
    specify_shape,
)
from labsym.core.ops.shape import shape_i as _shape_i


class ViewOp(_GradientView):
    """Theano's ViewOp: `x` itself, as a view; the gradient passes through unchanged.

    Like Theano's local_view_op, the canonicalize phase removes it from compiled graphs.
    """

    __props__ = ()

    def __str__(self) -> str:
        return "ViewOp"

    def grad(self, inputs: Any, output_grads: Any) -> list:
        return [output_grads[0]]


view_op = ViewOp()


def shape_i(var: Any, i: int, fgraph: Any = None) -> Variable:
    """`var.shape[i]` as a Shape_i node (Theano's helper; `fgraph` is accepted, not needed)."""
    return _shape_i(var, i)


def shape_i_op(i: int) -> Shape_i:
    """The Shape_i op for axis `i` (equal ops for equal axes, so they merge)."""
    return Shape_i(i)


__all__ = [
    "DeepCopyOp",
    "FromFunctionOp",
    "Rebroadcast",
    "Shape",
    "Shape_i",
    "SpecifyShape",
    "ViewOp",
    "as_op",
    "deep_copy_op",
    "shape",
    "shape_i",
    "shape_i_op",
    "specify_shape",
    "view_op",
]
