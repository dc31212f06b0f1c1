"""OrderedUpdates (Theano's `theano.updates`): the (shared variable -> new value) mapping.

Programs build their updates with it and join two sets with `+`; a key updated twice with
different values is a `KeyError('Collision', key)`, as in Theano. scan returns one.
May import core.shared.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any

from labsym.core.shared import SharedVariable


def _check_key(key: Any) -> None:
    if not isinstance(key, SharedVariable):
        raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)


class OrderedUpdates(OrderedDict):
    """Dict-like mapping from SharedVariable keys to their new values; `+` is the union."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        first = args[0] if args else None
        if isinstance(first, dict) and len(first) > 1 and not isinstance(first, OrderedDict):
            warnings.warn(
                "Initializing an `OrderedUpdates` from a non-ordered dictionary with 2+ "
                "elements could make your code non-deterministic. You can use an "
                "OrderedDict that is available at theano.compat.OrderedDict for python 2.6+.",
                stacklevel=2,
            )
        super().__init__(*args, **kwargs)
        for key in self:
            _check_key(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _check_key(key)
        super().__setitem__(key, value)

    def update(self, other: Any = None) -> None:  # type: ignore[override]
        """Add `other`'s pairs; a key already present must map to the same value."""
        if other is None:
            return
        if isinstance(other, dict) and len(other) > 1 and not isinstance(other, OrderedDict):
            warnings.warn(
                "Updating an `OrderedUpdates` with a non-ordered dictionary with 2+ elements "
                "could make your code non-deterministic",
                stacklevel=2,
            )
        for key, val in OrderedDict(other).items():
            if key in self:
                if self[key] is val:  # Theano's ==, which is identity for variables
                    continue
                raise KeyError("Collision", key)
            self[key] = val

    def __add__(self, other: Any) -> OrderedUpdates:
        rval = OrderedUpdates()
        rval.update(self)
        rval.update(other)
        return rval

    def __radd__(self, other: Any) -> OrderedUpdates:
        rval = OrderedUpdates()
        rval.update(other)
        rval.update(self)
        return rval


__all__ = ["OrderedUpdates"]
