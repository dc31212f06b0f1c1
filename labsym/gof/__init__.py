"""Theano's `theano.gof` names for writing custom Ops: Op, Apply, Variable, Constant, Type, ...

Facade: re-exports only.
"""

from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply, Constant, Type, Variable, graph_inputs
from labsym.core.op import Op
from labsym.utils import Scratchpad

__all__ = [
    "Apply",
    "Constant",
    "FunctionGraph",
    "Op",
    "Scratchpad",
    "Type",
    "Variable",
    "graph_inputs",
]
