"""Theano's `theano.compile.ops` names: as_op (and its op class) and the shape ops Theano kept here.

Facade: re-exports only.
"""

from labsym.core.op import _AsOp as FromFunctionOp
from labsym.core.op import as_op
from labsym.core.ops.deepcopy import DeepCopyOp, deep_copy_op
from labsym.core.ops.shape import Shape, Shape_i, SpecifyShape, shape, specify_shape

__all__ = [
    "DeepCopyOp",
    "FromFunctionOp",
    "Shape",
    "Shape_i",
    "SpecifyShape",
    "as_op",
    "deep_copy_op",
    "shape",
    "specify_shape",
]
