"""Theano's `theano.tensor.nnet` namespace: sigmoid, softplus, relu, softmax, crossentropies.

Facade: re-exports only.
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
    binary_crossentropy,
    categorical_crossentropy,
    crossentropy_categorical_1hot,
    hard_sigmoid,
    log_softmax,
    relu,
    sigmoid_binary_crossentropy,
    softmax,
    ultra_fast_sigmoid,
)
from labsym.tensor.nnet import bn, conv  # noqa: E402 - Theano's submodules

__all__ = [
    "batch_normalization",
    "bn",
    "conv",
    "conv2d",
    "conv2d_transpose",
    "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias",
    "elu",
    "selu",
    "softsign",
    "binary_crossentropy",
    "categorical_crossentropy",
    "crossentropy_categorical_1hot",
    "hard_sigmoid",
    "log_softmax",
    "relu",
    "sigmoid",
    "sigmoid_binary_crossentropy",
    "softmax",
    "softplus",
    "ultra_fast_sigmoid",
]
