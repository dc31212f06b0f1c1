"""Theano's `theano.tensor.nnet.abstract_conv`: re-exports labsym/core/ops/abstract_conv.py.

Facade: re-exports only.
"""

from labsym.core.ops.abstract_conv import *  # noqa: F403 - Theano's module namespace
from labsym.core.ops.abstract_conv import __all__  # noqa: F401 - the facade keeps the name list
