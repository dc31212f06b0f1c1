"""Shared variables: symbolic variables with a persistent value that functions read and update.

May import core.graph, core.type, core.variable, core.dtypes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.type import TensorType
from labsym.core.variable import TensorVariable


class Container:
    """The storage cell holding a shared variable's current value.

    `lock` serializes the calls that update this value (see callgen): without it, two threads
    calling `c += 1` functions both read the old value and one increment is lost. It is
    reentrant so that a call made from inside another call (an inner function) cannot deadlock.
    """

    __slots__ = ("value", "type", "name", "lock")

    def __init__(self, type_: TensorType, value: Any, name: str | None) -> None:
        self.type = type_
        self.value = value
        self.name = name
        self.lock = threading.RLock()

    def __getstate__(self) -> tuple:
        return (self.value, self.type, self.name)  # a lock is per process: never pickled

    def __setstate__(self, state: tuple) -> None:
        self.value, self.type, self.name = state
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Container({self.name or self.type})"


class SharedVariable(TensorVariable):
    """A tensor variable with a value kept between calls and shared by every function using it."""

    def __init__(
        self,
        type_: TensorType,
        value: np.ndarray,
        name: str | None = None,
        strict: bool = False,
        allow_downcast: bool | None = None,
    ):
        super().__init__(type_, name=name)
        self.container = Container(type_, value, name)
        self.strict = strict
        self.allow_downcast = allow_downcast  # lets set_value downcast, as Theano's container
        self.default_update: Any = None

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> np.ndarray:
        """The current value; a copy unless `borrow=True` (then do not modify it in place)."""
        value = self.container.value
        return value if borrow else value.copy()

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Replace the value after checking ndim, static shape and dtype (safe casts only)."""
        where = f"set_value on shared variable {self.name or self} ({self.type})"
        if new_value is None:
            raise TypeError(f"{where}: None is not a value; give an array of dtype {self.dtype}")
        try:
            value = self.type.filter(
                new_value, strict=self.strict, allow_downcast=self.allow_downcast
            )
        except TypeError as exc:
            raise TypeError(f"{where}: {_set_value_reason(exc, new_value, self.dtype)}") from None
        if not borrow and value is new_value:
            value = value.copy()
        self.container.value = value

    @property
    def value(self) -> np.ndarray:
        return self.container.value

    def clone(self) -> SharedVariable:
        """A variable of this class sharing this one's container (subclasses with the same
        constructor arguments inherit it)."""
        cp = type(self)(
            self.type, self.container.value, self.name, self.strict, self.allow_downcast
        )
        cp.container = self.container
        cp.default_update = self.default_update
        cp.tag.__dict__.update(self.tag.__dict__)
        return cp

    def zero(self, borrow: bool = False) -> None:
        """Set the value to zeros of the current shape (Theano's `shared.zero()`)."""
        self.container.value = np.zeros_like(self.container.value)


_CONSTRUCTORS: list[Callable[..., SharedVariable]] = []


def shared_constructor(ctor: Callable[..., SharedVariable]) -> Callable[..., SharedVariable]:
    """Register a constructor `shared()` tries before the tensor one (Theano's registry).

    `ctor(value, name=, strict=, allow_downcast=, borrow=)` raises TypeError for a value it does
    not handle. The composition root registers them explicitly (compile._wire), never an import.
    """
    if ctor not in _CONSTRUCTORS:
        _CONSTRUCTORS.append(ctor)
    return ctor


def shared(
    value: Any,
    name: str | None = None,
    strict: bool = False,
    allow_downcast: bool | None = None,
    borrow: bool = False,
    broadcastable: Sequence[bool] | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: Any = None,
    target: str | None = None,
) -> SharedVariable:
    """A SharedVariable holding a copy of `value` (the array itself with borrow=True).

    Dimensions are not broadcastable unless `broadcastable`/`shape` says so, because the value
    may later change shape. Python floats keep float64, as in Theano. `target='gpu'` asks a
    registered device constructor to keep the value on the GPU (Theano's gpuarray `target`).
    """
    if isinstance(value, SharedVariable):
        raise TypeError("shared(): the value is already a shared variable")
    # as Theano's, the extra keywords reach the constructors; one not taking them is skipped
    extra = {
        key: arg
        for key, arg in (
            ("target", target),
            ("broadcastable", broadcastable),
            ("shape", shape),
            ("dtype", dtype),
        )
        if arg is not None
    }
    for ctor in reversed(_CONSTRUCTORS):  # the latest registered wins, as in Theano
        try:
            return ctor(
                value,
                name=name,
                strict=strict,
                allow_downcast=allow_downcast,
                borrow=borrow,
                **extra,
            )
        except TypeError:
            continue
    if target not in (None, "cpu"):
        raise TypeError(f"shared(target={target!r}): no device constructor accepted the value")
    if dtype is not None:
        array = np.asarray(value, dtype=dtypes.canonical_dtype(dtype))
    elif isinstance(value, np.ndarray):
        array = value
    else:
        array = np.asarray(value)
    if array.dtype.kind in "OUSV" or array.dtype.name not in dtypes.ALL_DTYPES:
        raise TypeError(f"shared(): cannot hold a value of dtype {array.dtype} ({value!r:.60})")
    if array is value and not borrow:
        array = array.copy()
    if broadcastable is not None and shape is not None:
        raise TypeError("shared(): give broadcastable or shape, not both")
    if broadcastable is not None:
        static = tuple(1 if b else None for b in broadcastable)
    elif shape is not None:
        static = tuple(shape)
    else:
        static = (None,) * array.ndim
    if len(static) != array.ndim:
        raise ValueError(
            f"shared(): pattern {static} has {len(static)} dims, the value has {array.ndim}"
        )
    type_ = TensorType(array.dtype.name, static)
    array = type_.filter(array)
    return SharedVariable(type_, array, name=name, strict=strict, allow_downcast=allow_downcast)


def _set_value_reason(exc: TypeError, value: Any, dtype: str) -> str:
    """The filter's reason, with the remedy that applies to set_value (not function()'s flag)."""
    reason = str(exc)
    if "allow_input_downcast" not in reason:
        return reason
    reason = reason.split(";")[0]  # the filter's remedy names function()'s argument
    cast = (
        f"value.astype('{dtype}')"
        if isinstance(value, (np.ndarray, np.generic))
        else f"numpy.asarray(value, dtype='{dtype}')"
    )
    return (
        f"{reason}; cast the value first (`{cast}`), or create the shared variable with "
        "shared(..., allow_downcast=True) so that set_value casts it"
    )


def collect_default_updates(roots: list, targets: set, skip: set = frozenset()) -> list:
    """(shared, default_update) pairs the graph of `roots` needs, transitively.

    Shared variables already in `targets` or in `skip` are left out; `targets` grows.
    """
    from labsym.core.graph import ancestors

    found_pairs = []
    frontier = list(roots)
    while frontier:
        found = []
        for var in ancestors(frontier):
            if (
                isinstance(var, SharedVariable)
                and var.default_update is not None
                and var not in targets
                and var not in skip
            ):
                targets.add(var)
                found_pairs.append((var, var.default_update))
                found.append(var.default_update)
        frontier = found
    return found_pairs
