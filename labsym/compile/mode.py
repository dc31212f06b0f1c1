"""Theano's `theano.compile.mode` names: Mode, get_mode and get_default_mode.

Facade: re-exports only.
"""

from labsym.compile import Mode, get_default_mode, get_mode

__all__ = ["Mode", "get_default_mode", "get_mode"]
