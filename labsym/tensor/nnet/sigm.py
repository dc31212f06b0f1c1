"""Theano's `theano.tensor.nnet.sigm`: sigmoid and softplus and their scalar ops.

Facade: re-exports only; ScalarSigmoid/ScalarSoftplus match the table records by `isinstance`.
"""

from labsym.core.ops.math import sigmoid, softplus
from labsym.core.ops.nnet import hard_sigmoid, ultra_fast_sigmoid
from labsym.scalar.basic import sigmoid as scalar_sigmoid
from labsym.scalar.basic import softplus as scalar_softplus
from labsym.scalar.basic import table_record_class

ScalarSigmoid = table_record_class("ScalarSigmoid", "sigmoid", __name__)
ScalarSoftplus = table_record_class("ScalarSoftplus", "softplus", __name__)

__all__ = [
    "ScalarSigmoid",
    "ScalarSoftplus",
    "hard_sigmoid",
    "scalar_sigmoid",
    "scalar_softplus",
    "sigmoid",
    "softplus",
    "ultra_fast_sigmoid",
]
