"""Theano's `theano.tensor.xlogx`: xlogx(x) = x * log(x) and xlogy0(x, y) = x * log(y), 0 at x = 0.

Facade: re-exports the two Elemwise ops of core.ops.special.
"""

from labsym.core.ops.special import xlogx, xlogy0

__all__ = ["xlogx", "xlogy0"]
