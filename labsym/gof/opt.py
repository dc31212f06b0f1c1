"""Theano's `theano.gof.opt` names for writing rewrites: local_optimizer, PatternSub, OpSub.

Facade: re-exports only.
"""

from labsym.optim.user_api import (
    FromFunctionLocalOptimizer,
    LocalOptimizer,
    OpSub,
    PatternSub,
    local_optimizer,
)

__all__ = ["FromFunctionLocalOptimizer", "LocalOptimizer", "OpSub", "PatternSub", "local_optimizer"]
