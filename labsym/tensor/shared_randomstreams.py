"""Theano's `theano.tensor.shared_randomstreams`: RandomStreams, symbolic NumPy RandomState draws.

Re-exports only.
"""

from labsym.core.ops.random import RandomStateSharedVariable
from labsym.core.ops.random_streams import RandomStreams
from labsym.tensor import raw_random

__all__ = ["RandomStateSharedVariable", "RandomStreams", "raw_random"]
