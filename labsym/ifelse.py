"""Theano's `theano.ifelse` module: the lazy `ifelse` and its op.

Facade: re-exports only.
"""

from labsym.core.ops.ifelse import IfElse, ifelse

__all__ = ["IfElse", "ifelse"]
