"""Theano's `theano.tensor.raw_random`: draw functions taking a RandomState variable.

Each returns [new_state, sample]; re-exports only.
"""

from labsym.core.ops.random import (
    RandomFunction,
    RandomStateSharedVariable,
    pack_random_state,
    unpack_random_state,
)
from labsym.core.ops.random_streams import (
    RandomStreams,
    binomial,
    choice,
    multinomial,
    normal,
    permutation,
    poisson,
    random_integers,
    uniform,
)

__all__ = [
    "RandomFunction",
    "RandomStateSharedVariable",
    "RandomStreams",
    "binomial",
    "choice",
    "multinomial",
    "normal",
    "pack_random_state",
    "permutation",
    "poisson",
    "random_integers",
    "uniform",
    "unpack_random_state",
]
