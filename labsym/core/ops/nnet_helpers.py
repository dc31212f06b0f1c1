"""Theano 1.0's remaining tensor.nnet names: its argmax crossentropy op and graph builders.

CrossentropySoftmaxArgmax1HotWithBias (+ its Dx op), softmax_graph, confusion_matrix,
h_softmax, prepend_*_to_each_row, separable_conv2d. May import core and sibling op modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import basic, blas, conv, extra_ops, nnet
from labsym.core.ops import math as m
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


# ------------------------------------------------------------------------------ argmax crossentropy
class CrossentropySoftmaxArgmax1HotWithBias(Op):
    """(-log softmax(x + b)[i, y[i]], softmax(x + b), argmax(x + b)) over the rows of x.

    Theano's compound op for a classifier's output layer; the crossentropy is computed from
    the log-sum-exp of the shifted row, so it stays finite for any finite logits.
    """

    __props__ = ()

    def make_node(self, x: Any, b: Any, y_idx: Any) -> Apply:
        x = nnet._float_input(self, x, "x")
        b = nnet._float_input(self, b, "b")
        y_idx = nnet._int_vector(self, y_idx)
        if x.ndim != 2 or b.ndim != 1:
            raise ValueError(f"{self}: x must be a matrix and b a vector, got {x.type}, {b.type}")
        rows = nnet._static_rows(self, x, y_idx)
        dtype = dtypes.upcast(x.dtype, b.dtype)
        outputs = [
            TensorType(dtype, (rows,))(),
            TensorType(dtype, x.type.shape)(),
            TensorType(y_idx.dtype, (rows,))(),
        ]
        return Apply(self, [x, b, y_idx], outputs)

    def perform(self, node, inputs, output_storage):
        x, b, y_idx = inputs
        if b.shape[0] != x.shape[1]:
            raise ValueError(f"{self}: b has {b.shape[0]} entries for x with {x.shape[1]} columns")
        rows = nnet._check_targets(str(self), x, y_idx)
        dtype = node.outputs[0].dtype
        shifted = (x + b[None, :]).astype(dtype, copy=False)
        am = np.argmax(shifted, axis=1)
        # nll = -row[y] + max + log(sum(exp(row - max)))
        top = shifted[rows, am]
        e = np.exp(shifted - top[:, None])
        total = e.sum(axis=1)
        output_storage[0][0] = np.asarray(-shifted[rows, y_idx] + top + np.log(total), dtype)
        output_storage[1][0] = np.asarray(e / total[:, None], dtype)
        output_storage[2][0] = am.astype(node.outputs[2].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        x_shape, _, idx_shape = input_shapes
        return [(x_shape[0],), tuple(x_shape), tuple(idx_shape)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, True, False], [True, True, False], [False, False, False]]

    def grad(self, inputs, output_grads):
        x, b, y_idx = inputs
        g_nll, g_sm, _ = output_grads  # disconnected outputs arrive as zeros
        sm = nnet.softmax_with_bias(x, b)
        dx = CrossentropySoftmax1HotWithBiasDx()(g_nll, sm, y_idx)
        dx = dx + nnet.SoftmaxGrad(-1)(g_sm, sm)
        return [m.cast(dx, x.dtype), m.cast(dx.sum(axis=0), b.dtype), None]


class CrossentropySoftmax1HotWithBiasDx(Op):
    """The gradient in x of the crossentropy above: dy[i] * (sm[i] - onehot(y[i]))."""

    __props__ = ()

    def make_node(self, dy: Any, sm: Any, y_idx: Any) -> Apply:
        dy = nnet._float_input(self, dy, "dy")
        sm = nnet._float_input(self, sm, "sm")
        y_idx = nnet._int_vector(self, y_idx)
        if dy.ndim > 1:
            raise ValueError(f"{self}: dy must be a scalar or a vector, got {dy.type}")
        if sm.ndim != 2:
            raise ValueError(f"{self}: sm must be a matrix, got {sm.type}")
        return Apply(self, [dy, sm, y_idx], [TensorType(sm.dtype, sm.type.shape)()])

    def perform(self, node, inputs, output_storage):
        dy, sm, y_idx = inputs
        rows = nnet._check_targets(str(self), sm, y_idx)
        scale = np.broadcast_to(dy, (sm.shape[0],))
        out = sm * scale[:, None]
        out[rows, y_idx] -= scale
        output_storage[0][0] = np.asarray(out, dtype=sm.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def grad(self, inputs, output_grads):
        dy, sm, y_idx = inputs
        (g,) = output_grads
        rows = basic.arange(sm.shape[0])
        scale = dy if dy.ndim == 1 else m.fill(rows, dy)
        # out = dy[:, None] * sm - dy * onehot(y): linear in each of dy and sm
        g_dy = (g * sm).sum(axis=1) - g[rows, y_idx]
        if dy.ndim == 0:
            g_dy = g_dy.sum()
        g_sm = g * scale.dimshuffle(0, "x")
        return [m.cast(g_dy, dy.dtype), m.cast(g_sm, sm.dtype), None]


crossentropy_softmax_argmax_1hot_with_bias = CrossentropySoftmaxArgmax1HotWithBias()
crossentropy_softmax_1hot_with_bias_dx = CrossentropySoftmax1HotWithBiasDx()


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple:
    """(crossentropy, softmax(x + b), its row maximum, its row argmax), as Theano."""
    nll, sm, _ = crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, sm.max(axis=-1), sm.argmax(axis=-1)


def crossentropy_softmax_max_and_argmax_1hot(x: Any, y_idx: Any) -> tuple:
    """crossentropy_softmax_max_and_argmax_1hot_with_bias with a zero bias."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(x, m.zeros_like(x[0, :]), y_idx)


# ------------------------------------------------------------------------------ graph builders
def softmax_graph(c: Any) -> Variable:
    """exp(c) / exp(c).sum(axis=-1, keepdims=True): softmax written out (no shift for stability)."""
    c = as_tensor_variable(c)
    return m.exp(c) / m.exp(c).sum(axis=-1, keepdims=True)


def confusion_matrix(actual: Any, pred: Any) -> list[Variable]:
    """[counts of (actual, predicted) label pairs as an int64 matrix, the sorted labels]."""
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    if actual.ndim != 1:
        raise ValueError("actual must be 1-d tensor variable")
    if pred.ndim != 1:
        raise ValueError("pred must be 1-d tensor variable")
    order = extra_ops.unique(basic.concatenate([actual, pred]))
    one_hot_actual = m.cast(m.eq(actual.dimshuffle(0, "x"), order), "int64")
    one_hot_pred = m.cast(m.eq(pred.dimshuffle(0, "x"), order), "int64")
    return [blas.dot(one_hot_actual.T, one_hot_pred), order]


def h_softmax(
    x: Any,
    batch_size: Any,
    n_outputs: Any,
    n_classes: Any,
    n_outputs_per_class: Any,
    W1: Any,  # noqa: N803 - Theano's names
    b1: Any,
    W2: Any,  # noqa: N803
    b2: Any,
    target: Any = None,
) -> Variable:
    """Two-level hierarchical softmax: P(class | x) * P(output | class, x).

    Without `target`, all n_outputs probabilities per row (batch_size, n_outputs); with
    target (batch_size,) or (batch_size, 1), only each row's target probability (a vector).
    W1: (features, n_classes), b1: (n_classes,), W2: (n_classes, features, n_outputs_per_class),
    b2: (n_classes, n_outputs_per_class); outputs are grouped in classes in label order.
    """
    x, W1, b1, W2, b2 = (as_tensor_variable(v) for v in (x, W1, b1, W2, b2))  # noqa: N806
    class_probs = nnet.softmax(blas.dot(x, W1) + b1)
    if target is None:
        activations = blas.tensordot(x, W2, [[1], [1]]) + b2
        probs = nnet.softmax(activations.reshape((-1, n_outputs_per_class)))
        probs = probs.reshape((batch_size, n_classes, -1))
        probs = class_probs.dimshuffle(0, 1, "x") * probs
        return probs.reshape((batch_size, -1))[:, :n_outputs]
    target = as_tensor_variable(target).flatten()
    target_classes = target // n_outputs_per_class
    in_class = target % n_outputs_per_class
    # row i: dot(x[i], W2[class_i]) + b2[class_i]
    weights = W2[target_classes]
    activations = (x.dimshuffle(0, 1, "x") * weights).sum(axis=1) + b2[target_classes]
    rows = basic.arange(batch_size)
    output_probs = nnet.softmax(activations)[rows, in_class]
    return class_probs[rows, target_classes] * output_probs


def prepend_scalar_to_each_row(val: Any, mat: Any) -> Variable:
    """mat with a first column of `val` (Theano's Prepend_scalar_to_each_row)."""
    mat = as_tensor_variable(mat)
    if mat.ndim != 2:
        raise TypeError(f"prepend_scalar_to_each_row: mat must be a matrix, got {mat.type}")
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"prepend_scalar_to_each_row: val must be a scalar, got {val.type}")
    column = m.fill(mat[:, :1], m.cast(val, mat.dtype))
    return basic.concatenate([column, mat], axis=1)


def prepend_0_to_each_row(mat: Any) -> Variable:
    """mat with a first column of zeros."""
    return prepend_scalar_to_each_row(0.0, mat)


def prepend_1_to_each_row(mat: Any) -> Variable:
    """mat with a first column of ones."""
    return prepend_scalar_to_each_row(1.0, mat)


def separable_conv2d(
    input: Any,  # noqa: A002 - Theano's name
    depthwise_filters: Any,
    pointwise_filters: Any,
    num_channels: int,
    input_shape: Any = None,
    depthwise_filter_shape: Any = None,
    pointwise_filter_shape: Any = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
) -> Variable:
    """A depthwise convolution (each input channel by its own filters) then a 1x1 pointwise one.

    depthwise_filters: (num_channels * depth_multiplier, 1, rows, cols); channel c uses filters
    [c * depth_multiplier, (c + 1) * depth_multiplier). border_mode, subsample and
    filter_dilation apply to the depthwise step; the pointwise step is 'valid', stride 1.
    """
    if not isinstance(num_channels, (int, np.integer)) or num_channels < 1:
        raise TypeError(
            f"separable_conv2d: num_channels must be a positive int, got {num_channels}"
        )
    x = as_tensor_variable(input)
    dw = as_tensor_variable(depthwise_filters)
    if input_shape is not None:
        x = conv._hinted(x, input_shape, "input_shape")
    if depthwise_filter_shape is not None:
        dw = conv._hinted(dw, depthwise_filter_shape, "depthwise_filter_shape")
    multiplier = dw.shape[0] // num_channels
    maps = [
        conv.conv2d(
            x[:, c : c + 1],
            dw[c * multiplier : (c + 1) * multiplier],
            border_mode=border_mode,
            subsample=subsample,
            filter_flip=filter_flip,
            filter_dilation=filter_dilation,
        )
        for c in range(int(num_channels))
    ]
    depthwise = maps[0] if len(maps) == 1 else basic.concatenate(maps, axis=1)
    return conv.conv2d(
        depthwise, pointwise_filters, filter_shape=pointwise_filter_shape, filter_flip=filter_flip
    )


def no_groups(who: str, num_groups: int, unshared: bool) -> None:
    """Refuse Theano's grouped and unshared convolutions, which labsym does not implement."""
    if num_groups != 1 or unshared:
        raise NotImplementedError(
            f"{who}: grouped (num_groups > 1) and unshared convolutions are not supported"
        )


def conv2d_grad_wrt_inputs(
    output_grad: Any,
    filters: Any,
    input_shape: Any,
    filter_shape: Any = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
    unshared: bool = False,
) -> Variable:
    """The gradient of conv2d(inputs, filters) wrt inputs of `input_shape` (conv2d_transpose).

    Theano's name for the transposed convolution; `subsample` is the stride of the
    convolution being differentiated. Grouped and unshared convolutions are not supported.
    """
    no_groups("conv2d_grad_wrt_inputs", num_groups, unshared)
    return conv.conv2d_transpose(
        output_grad,
        filters,
        input_shape,
        filter_shape=filter_shape,
        border_mode=border_mode,
        input_dilation=subsample,
        filter_flip=filter_flip,
        filter_dilation=filter_dilation,
    )
