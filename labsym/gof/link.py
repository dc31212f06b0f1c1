"""Theano's `theano.gof.link` names: Container and the linkers with the per-node thunk protocol.

Facade: re-exports only.
"""

from labsym.backends.python.thunks import (
    OpWiseCLinker,
    PerformLinker,
    Thunk,
    WrapLinker,
    WrapLinkerMany,
)
from labsym.core.shared import Container

__all__ = ["Container", "OpWiseCLinker", "PerformLinker", "Thunk", "WrapLinker", "WrapLinkerMany"]
