"""Theano's `theano.gof.opt` names for writing rewrites: local_optimizer, PatternSub, OpSub and
the navigators that apply them to a FunctionGraph (TopoOptimizer, EquilibriumOptimizer...).

Facade: re-exports only.
"""

from labsym.optim.navigators import (
    EquilibriumOptimizer,
    MergeOptimizer,
    TopoOptimizer,
    in2out,
    out2in,
)
from labsym.optim.user_api import (
    FromFunctionLocalOptimizer,
    LocalOptimizer,
    OpSub,
    PatternSub,
    local_optimizer,
)

__all__ = [
    "EquilibriumOptimizer",
    "FromFunctionLocalOptimizer",
    "LocalOptimizer",
    "MergeOptimizer",
    "OpSub",
    "PatternSub",
    "TopoOptimizer",
    "in2out",
    "local_optimizer",
    "out2in",
]
