"""Theano's `theano.tensor.shared_randomstreams`: RandomStreams, symbolic NumPy-style draws.

Facade: re-exports only.
"""

from labsym.core.ops.random_streams import RandomStreams

__all__ = ["RandomStreams"]
