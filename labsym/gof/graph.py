"""Theano's `theano.gof.graph` names: the graph classes and traversals (inputs, io_toposort...).

Facade: re-exports only.
"""

from labsym.core.graph import Apply, Constant, Variable, ancestors, io_toposort
from labsym.core.graph import graph_inputs as inputs

__all__ = ["Apply", "Constant", "Variable", "ancestors", "inputs", "io_toposort"]
