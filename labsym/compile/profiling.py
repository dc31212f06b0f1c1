"""Theano's `theano.compile.profiling` names: ProfileStats, the per-function profile.

Facade: re-exports only.
"""

from labsym.core.profiling import ProfileStats

__all__ = ["ProfileStats"]
