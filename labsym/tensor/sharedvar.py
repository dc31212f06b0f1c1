"""Theano's `theano.tensor.sharedvar`: the shared tensor variable class and its constructor.

Facade: re-exports only (labsym has one shared class for tensors and scalars).
"""

from labsym.core.shared import SharedVariable, shared

TensorSharedVariable = SharedVariable
ScalarSharedVariable = SharedVariable
tensor_constructor = shared
scalar_constructor = shared

__all__ = [
    "ScalarSharedVariable",
    "SharedVariable",
    "TensorSharedVariable",
    "scalar_constructor",
    "tensor_constructor",
]
