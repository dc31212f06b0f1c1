"""Theano's `theano.gof.type` names: Type, and Generic for arbitrary Python objects."""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Type


class Generic(Type):
    """The type of a variable holding any Python object (Theano's `generic`); no conversion."""

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return value

    def is_valid_value(self, value: Any) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)  # a singleton type, as Theano's SingletonType

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return type(self).__name__


generic = Generic()

__all__ = ["Generic", "Type", "generic"]
