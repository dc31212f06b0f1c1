"""Theano's old `theano.compat.python2x`: collection and itertools names older programs import.

Standard library re-exports, plus DefaultOrderedDict (an OrderedDict with a default factory).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from collections.abc import MutableMapping as DictMixin
from functools import partial
from itertools import combinations, combinations_with_replacement, permutations, product
from typing import Any


class DefaultOrderedDict(OrderedDict):
    """An OrderedDict that creates missing entries with `default_factory()`, like defaultdict."""

    def __init__(self, default_factory: Callable[[], Any] | None = None, *args: Any, **kw: Any):
        if default_factory is not None and not callable(default_factory):
            raise TypeError("first argument must be callable")
        super().__init__(*args, **kw)
        self.default_factory = default_factory

    def __missing__(self, key: Any) -> Any:
        if self.default_factory is None:
            raise KeyError(key)
        value = self[key] = self.default_factory()
        return value

    def __reduce__(self) -> tuple:
        args = () if self.default_factory is None else (self.default_factory,)
        return type(self), args, None, None, iter(self.items())

    def copy(self) -> DefaultOrderedDict:
        return type(self)(self.default_factory, self)

    __copy__ = copy


__all__ = [
    "Counter",
    "DefaultOrderedDict",
    "DictMixin",
    "OrderedDict",
    "all",
    "any",
    "combinations",
    "combinations_with_replacement",
    "defaultdict",
    "deque",
    "partial",
    "permutations",
    "product",
]

all = all  # noqa: A001, PLW0127 - Python 2.4's fallbacks, exported by the old module
any = any  # noqa: A001, PLW0127
