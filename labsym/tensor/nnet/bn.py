"""Theano's `theano.tensor.nnet.bn`: batch normalization for training and inference.

Facade: re-exports only.
"""

from labsym.core.ops.bn import (
    batch_normalization,
    batch_normalization_test,
    batch_normalization_train,
)

__all__ = ["batch_normalization", "batch_normalization_test", "batch_normalization_train"]
