"""Theano's `theano.gof` names: graph classes, Op, linkers, local optimizers and exceptions.

Facade: re-exports only.
"""

from labsym.compile.optdb import EquilibriumDB, Query, SequenceDB
from labsym.core.exceptions import MissingInputError
from labsym.core.fgraph import FunctionGraph, InconsistencyError
from labsym.core.graph import Apply, Constant, Type, Variable, graph_inputs
from labsym.core.op import Op
from labsym.gof import graph, link, opt, utils
from labsym.gof.link import Container, OpWiseCLinker, PerformLinker, WrapLinker, WrapLinkerMany
from labsym.gof.opt import (
    EquilibriumOptimizer,
    LocalOptimizer,
    MergeOptimizer,
    OpSub,
    PatternSub,
    TopoOptimizer,
    local_optimizer,
)
from labsym.utils import Scratchpad

__all__ = [
    "Apply",
    "Constant",
    "Container",
    "EquilibriumDB",
    "EquilibriumOptimizer",
    "FunctionGraph",
    "InconsistencyError",
    "LocalOptimizer",
    "MergeOptimizer",
    "MissingInputError",
    "Op",
    "OpSub",
    "OpWiseCLinker",
    "PatternSub",
    "PerformLinker",
    "Query",
    "Scratchpad",
    "SequenceDB",
    "TopoOptimizer",
    "Type",
    "Variable",
    "WrapLinker",
    "WrapLinkerMany",
    "graph",
    "graph_inputs",
    "link",
    "local_optimizer",
    "opt",
    "utils",
]
