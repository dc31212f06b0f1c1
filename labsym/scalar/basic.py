"""Theano's `theano.scalar.basic`: re-exports labsym/core/scalar_ops.py.

Facade: re-exports only.
"""

from labsym.core.scalar_ops import *  # noqa: F403 - Theano's star-exported namespace
from labsym.core.scalar_ops import __all__  # noqa: F401 - the facade keeps the name list
