"""Theano's `theano.scalar` namespace: scalar types, dtype rules, scalar ops and ScalarOp bases.

Facade: re-exports labsym/scalar/basic.py (Theano's `theano.scalar.basic`).
"""

from labsym.core.ops.composite import Composite
from labsym.scalar import basic
from labsym.scalar.basic import *  # noqa: F403 - Theano's star-exported namespace
from labsym.scalar.basic import __all__ as _basic_all

__all__ = ["Composite", "basic", *_basic_all]
