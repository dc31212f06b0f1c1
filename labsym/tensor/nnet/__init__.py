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
from labsym.tensor.nnet import bn, conv, sigm  # noqa: E402 - Theano's submodules
from labsym.tensor.nnet.sigm import scalar_sigmoid

# Theano's op instances and spellings (Theano 1.0 calls log_softmax `logsoftmax`)
logsoftmax = log_softmax
softmax_op = Softmax(-1)
logsoftmax_op = LogSoftmax(-1)
softmax_grad = SoftmaxGrad(-1)

__all__ = [
    "CrossentropyCategorical1Hot",
    "CrossentropyCategorical1HotGrad",
    "LogSoftmax",
    "Softmax",
    "SoftmaxGrad",
    "SoftmaxWithBias",
    "batch_normalization",
    "binary_crossentropy",
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
]
