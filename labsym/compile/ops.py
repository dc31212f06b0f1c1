"""Theano's `theano.compile.ops` names: as_op for turning NumPy functions into Ops.

Facade: re-exports only.
"""

from labsym.core.op import as_op

__all__ = ["as_op"]
