"""Theano's `theano.compile.io` names: In and Out.

Facade: re-exports only.
"""

from labsym.core.io import In, Out

SymbolicInput = In  # Theano's base class of In; labsym has one input-spec class
SymbolicOutput = Out

__all__ = ["In", "Out", "SymbolicInput", "SymbolicOutput"]
