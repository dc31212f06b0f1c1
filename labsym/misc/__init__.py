"""Theano's `theano.misc`: pickling helpers (pkl_utils) and `_asarray` (safe_asarray)."""

from labsym.misc import pkl_utils, safe_asarray

__all__ = ["pkl_utils", "safe_asarray"]
