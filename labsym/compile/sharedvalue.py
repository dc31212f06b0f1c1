"""Theano's `theano.compile.sharedvalue` names: shared and SharedVariable.

Facade: re-exports only.
"""

from labsym.core.shared import SharedVariable, shared, shared_constructor

__all__ = ["SharedVariable", "shared", "shared_constructor"]
