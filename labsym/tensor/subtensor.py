"""Theano's `theano.tensor.subtensor`: the indexing op classes and set/inc_subtensor.

Facade: re-exports only.
"""

from labsym.core.ops.subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    IncSubtensor,
    Subtensor,
    inc_subtensor,
    set_subtensor,
    take,
)

__all__ = [
    "AdvancedIncSubtensor",
    "AdvancedIncSubtensor1",
    "AdvancedSubtensor",
    "AdvancedSubtensor1",
    "IncSubtensor",
    "Subtensor",
    "inc_subtensor",
    "set_subtensor",
    "take",
]
