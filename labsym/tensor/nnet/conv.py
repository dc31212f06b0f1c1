"""Theano's `theano.tensor.nnet.conv` / `abstract_conv`: conv2d, conv2d_transpose and their ops.

Facade: re-exports only.
"""

from labsym.core.ops.conv import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    conv2d,
    conv2d_transpose,
)

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d", "conv2d_transpose"]
