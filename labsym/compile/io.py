"""Theano's `theano.compile.io` names: In and Out.

Facade: re-exports only.
"""

from labsym.core.io import In, Out

__all__ = ["In", "Out"]
