"""Theano's `theano.tensor.nnet` namespace: sigmoid, softplus, relu, softmax, crossentropies.

Facade: re-exports only.
"""

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

__all__ = [
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
