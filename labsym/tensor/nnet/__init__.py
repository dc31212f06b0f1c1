"""Theano's `theano.tensor.nnet` namespace: sigmoid, softplus, relu, softmax, crossentropies.

Facade: re-exports only (plus Theano's op instances: softmax_op, softmax_grad, logsoftmax_op).
"""

from labsym.core.ops.activations import (
    crossentropy_softmax_1hot,
    crossentropy_softmax_1hot_with_bias,
    elu,
    selu,
    softsign,
)
from labsym.core.ops.bn import batch_normalization
from labsym.core.ops.conv import conv2d, conv2d_transpose
from labsym.core.ops.conv3d import conv3d
from labsym.core.ops.math import sigmoid, softplus
from labsym.core.ops.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
    SoftmaxWithBias,
    binary_crossentropy,
    categorical_crossentropy,
    crossentropy_categorical_1hot,
    hard_sigmoid,
    log_softmax,
    relu,
    sigmoid_binary_crossentropy,
    softmax,
    softmax_with_bias,
    ultra_fast_sigmoid,
)
from labsym.core.ops.nnet_helpers import (
    CrossentropySoftmax1HotWithBiasDx,
    CrossentropySoftmaxArgmax1HotWithBias,
    confusion_matrix,
    conv2d_grad_wrt_inputs,
    crossentropy_softmax_1hot_with_bias_dx,
    crossentropy_softmax_argmax_1hot_with_bias,
    crossentropy_softmax_max_and_argmax_1hot,
    crossentropy_softmax_max_and_argmax_1hot_with_bias,
    h_softmax,
    prepend_0_to_each_row,
    prepend_1_to_each_row,
    prepend_scalar_to_each_row,
    separable_conv2d,
    softmax_graph,
)
from labsym.tensor.nnet import abstract_conv, bn, conv, neighbours, sigm  # noqa: E402 - Theano's submodules
from labsym.tensor.nnet.sigm import scalar_sigmoid

# Theano's op instances and spellings (Theano 1.0 calls log_softmax `logsoftmax`)
logsoftmax = log_softmax
softmax_op = Softmax(-1)
logsoftmax_op = LogSoftmax(-1)
softmax_grad = SoftmaxGrad(-1)
crossentropy_categorical_1hot_grad = CrossentropyCategorical1HotGrad()
abstract_conv2d = conv2d  # Theano's nnet.abstract_conv2d is the same conv2d

__all__ = [
    "CrossentropyCategorical1Hot",
    "CrossentropyCategorical1HotGrad",
    "LogSoftmax",
    "Softmax",
    "SoftmaxGrad",
    "SoftmaxWithBias",
    "batch_normalization",
    "binary_crossentropy",
    "abstract_conv",
    "bn",
    "categorical_crossentropy",
    "conv",
    "conv2d",
    "conv2d_transpose",
    "crossentropy_categorical_1hot",
    "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias",
    "elu",
    "hard_sigmoid",
    "log_softmax",
    "logsoftmax",
    "logsoftmax_op",
    "relu",
    "scalar_sigmoid",
    "selu",
    "neighbours",
    "sigm",
    "sigmoid",
    "sigmoid_binary_crossentropy",
    "softmax",
    "softmax_grad",
    "softmax_op",
    "softmax_with_bias",
    "softplus",
    "softsign",
    "ultra_fast_sigmoid",
    # Theano 1.0 names added for issue 7
    "abstract_conv2d",
    "conv2d_grad_wrt_inputs",
    "conv3d",
    "crossentropy_categorical_1hot_grad",
    "CrossentropySoftmax1HotWithBiasDx",
    "CrossentropySoftmaxArgmax1HotWithBias",
    "confusion_matrix",
    "crossentropy_softmax_1hot_with_bias_dx",
    "crossentropy_softmax_argmax_1hot_with_bias",
    "crossentropy_softmax_max_and_argmax_1hot",
    "crossentropy_softmax_max_and_argmax_1hot_with_bias",
    "h_softmax",
    "prepend_0_to_each_row",
    "prepend_1_to_each_row",
    "prepend_scalar_to_each_row",
    "separable_conv2d",
    "softmax_graph",
]
