"""Theano's `theano.misc.safe_asarray._asarray`: numpy.asarray that honours 'floatX'."""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.config import config


def _asarray(a: Any, dtype: Any, order: str | None = None) -> np.ndarray:
    """`numpy.asarray(a, dtype, order)` where dtype may be 'floatX' (config.floatX).

    Theano used it where an old NumPy could return another dtype of the same kind.
    """
    if str(dtype) == "floatX":
        dtype = config.floatX
    return np.asarray(a, dtype=np.dtype(dtype), order=order)


__all__ = ["_asarray"]
