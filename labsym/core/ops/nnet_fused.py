"""Fused, numerically stable neural-network ops that the stabilize rewrites introduce.

CrossentropySoftmax1Hot and its gradient. May import core and core.ops.nnet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.ops import base, nnet
from labsym.core.ops import math as m
from labsym.core.type import TensorType

__all__ = ["CrossentropySoftmax1Hot", "CrossentropySoftmax1HotDx"]


def _logits(op: Any, x: Any) -> Any:
    x = nnet._float_input(op, x, "x")
    if x.ndim != 2:
        raise TypeError(f"{op}: x must be a matrix of logits (rows x classes), got {x.type}")
    return x


class CrossentropySoftmax1Hot(base.NumpyOp):
    """-log(softmax(x)[i, y[i]]) per row, computed as -log_softmax(x)[i, y[i]].

    crossentropy_categorical_1hot(softmax(x), y) in one op: finite for any finite logits,
    where the two-op graph takes log(0) = -inf once softmax underflows.
    """

    __props__ = ()

    def make_node(self, x: Any, y_idx: Any) -> Apply:
        x = _logits(self, x)
        y_idx = nnet._int_vector(self, y_idx)
        rows = nnet._static_rows(self, x, y_idx)
        return Apply(self, [x, y_idx], [TensorType(x.dtype, (rows,))()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)
        log_softmax = nnet._np_log_softmax((1,), dtype)
        name = str(self)

        def crossentropy_softmax(x, y_idx):
            rows = nnet._check_targets(name, x, y_idx)
            return np.asarray(-log_softmax(x)[rows, y_idx], dtype=dtype)

        return crossentropy_softmax

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def grad(self, inputs, output_grads):
        x, y_idx = inputs
        return [CrossentropySoftmax1HotDx()(output_grads[0], x, y_idx), None]


class CrossentropySoftmax1HotDx(base.NumpyOp):
    """The gradient of CrossentropySoftmax1Hot wrt x: (softmax(x) - onehot(y)) * dy[:, None].

    One op for the backward pass, so no -dy / p division by an underflowed probability.
    """

    __props__ = ()

    def make_node(self, dy: Any, x: Any, y_idx: Any) -> Apply:
        dy = nnet._float_input(self, dy, "dy")
        x = _logits(self, x)
        if dy.ndim != 1:
            raise TypeError(f"{self}: dy must be a vector (one gradient per row), got {dy.type}")
        y_idx = nnet._int_vector(self, y_idx)
        nnet._static_rows(self, x, y_idx, dy)
        out_type = TensorType(dtypes.upcast(dy.dtype, x.dtype), x.type.shape)
        return Apply(self, [dy, x, y_idx], [out_type()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)
        softmax = nnet._np_softmax((1,), dtype)
        name = str(self)

        def crossentropy_softmax_dx(dy, x, y_idx):
            rows = nnet._check_targets(name, x, y_idx)
            if dy.shape != y_idx.shape:
                raise ValueError(f"{name}: dy has shape {dy.shape}, y_idx {y_idx.shape}")
            out = softmax(x)
            out[rows, y_idx] -= 1
            out *= dy[:, None]
            return out

        return crossentropy_softmax_dx

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def grad(self, inputs, output_grads):
        dy, x, y_idx = inputs
        (g,) = output_grads
        # out = dy[:, None] * (sm - onehot): linear in dy, and dy[:, None] * sm in x
        diff = self(m.ones_like(dy), x, y_idx)
        g_x = nnet.SoftmaxGrad(-1)(g * dy.dimshuffle(0, "x"), nnet.softmax(x, axis=-1))
        return [(g * diff).sum(axis=1), g_x, None]
