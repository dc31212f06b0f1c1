"""Theano's `theano.updates`: OrderedUpdates.

Facade: re-exports only.
"""

from labsym.core.updates import OrderedUpdates

__all__ = ["OrderedUpdates"]
