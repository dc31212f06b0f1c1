"""Theano's `theano.compile.builders` names: OpFromGraph, an op defined by a graph.

Facade: re-exports only.
"""

from labsym.core.ops.opfromgraph import OpFromGraph

__all__ = ["OpFromGraph"]
