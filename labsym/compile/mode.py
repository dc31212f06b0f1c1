"""Theano's `theano.compile.mode` names: Mode and get_mode.

Facade: re-exports only.
"""

from labsym.compile import Mode, get_mode

__all__ = ["Mode", "get_mode"]
