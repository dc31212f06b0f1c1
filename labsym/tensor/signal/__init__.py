"""Theano's `theano.tensor.signal` namespace: the `pool` submodule.

Facade: re-exports only.
"""

from labsym.tensor.signal import pool

__all__ = ["pool"]
