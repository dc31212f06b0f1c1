"""TensorType (dtype + static shape) and its runtime value filter.

May import labsym.config, labsym.utils, core.graph and core.dtypes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Type

_KIND_NAMES = {
    (): "scalar",
    (None,): "vector",
    (None, None): "matrix",
    (1, None): "row",
    (None, 1): "col",
    (None, None, None): "tensor3",
    (None, None, None, None): "tensor4",
    (None, None, None, None, None): "tensor5",
}


def _normalize_shape(
    shape: Sequence[int | None] | None, broadcastable: Sequence[bool] | None
) -> tuple[int | None, ...]:
    if shape is not None and broadcastable is not None:
        raise TypeError("TensorType: give shape or broadcastable, not both")
    if broadcastable is not None:
        return tuple(1 if b else None for b in broadcastable)
    if shape is None:
        raise TypeError("TensorType needs a shape (e.g. (None, None)) or broadcastable=")
    out = []
    for dim in shape:
        if isinstance(dim, (bool, np.bool_)):
            out.append(1 if dim else None)  # Theano's positional broadcastable pattern
        elif dim is None:
            out.append(None)
        else:
            if int(dim) < 0:
                raise ValueError(f"TensorType: negative static dimension in shape {tuple(shape)}")
            out.append(int(dim))
    return tuple(out)


class TensorType(Type):
    """The type of an n-d array: a dtype and a static shape (an int or None per dimension).

    Theano's `broadcastable=(True, False)` is accepted and means shape `(1, None)`.
    """

    def __init__(
        self,
        dtype: object,
        shape: Sequence[int | None] | None = None,
        name: str | None = None,
        broadcastable: Sequence[bool] | None = None,
    ) -> None:
        self.dtype = dtypes.canonical_dtype(dtype)
        self.shape = _normalize_shape(shape, broadcastable)
        self.name = name
        self.numpy_dtype = np.dtype(self.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(d == 1 for d in self.shape)

    def clone(self, dtype: object = None, shape: Sequence[int | None] | None = None) -> TensorType:
        return TensorType(dtype or self.dtype, self.shape if shape is None else shape)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.dtype == self.dtype  # type: ignore[attr-defined]
            and other.shape == self.shape  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.shape))

    def kind_name(self) -> str:
        """'scalar', 'matrix', 'row'... or the shape pattern for other types."""
        if self.shape in _KIND_NAMES:
            return _KIND_NAMES[self.shape]
        dims = ["?" if d is None else str(d) for d in self.shape]
        return "shape=(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    def __str__(self) -> str:
        if self.name:
            return self.name
        return f"TensorType({self.dtype}, {self.kind_name()})"

    __repr__ = __str__

    def is_super(self, other: Type) -> bool:
        """Whether every value of `other` is a value of this type (same dtype, looser shape)."""
        if not isinstance(other, TensorType) or other.dtype != self.dtype:
            return False
        if other.ndim != self.ndim:
            return False
        return all(s is None or s == o for s, o in zip(self.shape, other.shape))

    # ------------------------------------------------------------------ runtime values
    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Convert `value` to an ndarray of this type, or raise TypeError saying why."""
        if type(value) is np.ndarray and value.dtype == self.numpy_dtype:
            data = value
        elif strict:
            raise TypeError(
                f"expected an ndarray of dtype {self.dtype}, got {type(value).__name__}"
                + (f" of dtype {value.dtype}" if hasattr(value, "dtype") else "")
            )
        else:
            data = self._convert(value, allow_downcast)
        if data.ndim != self.ndim:
            raise TypeError(
                f"wrong number of dimensions: expected {self.ndim} ({self.kind_name()}), "
                f"got {data.ndim} with shape {data.shape}"
            )
        for axis, (want, got) in enumerate(zip(self.shape, data.shape)):
            if want is not None and want != got:
                raise TypeError(
                    f"shape mismatch on axis {axis}: the type {self} requires length {want}, "
                    f"got shape {data.shape}"
                )
        return data

    def _convert(self, value: Any, allow_downcast: bool | None) -> np.ndarray:
        if allow_downcast:
            return np.asarray(value, dtype=self.numpy_dtype)
        scalar = _python_scalar(value, self.numpy_dtype)
        if scalar is not None:
            return scalar
        if isinstance(value, (np.ndarray, np.generic)):
            if dtypes.can_cast_safely(value.dtype.name, self.dtype):
                return np.asarray(value, dtype=self.numpy_dtype)
            raise TypeError(
                f"cannot store a value of dtype {value.dtype} in a {self.dtype} variable without "
                f"risking loss of precision; cast it (`.astype('{self.dtype}')`) or pass "
                "allow_input_downcast=True to function()"
            )
        if (
            isinstance(value, float)
            and allow_downcast is None
            and self.dtype in ("float32", "float16")
        ):
            return np.asarray(value, dtype=self.numpy_dtype)
        try:
            converted = np.asarray(value, dtype=self.numpy_dtype)
            original = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot convert {value!r} to an array of {self.dtype}: {exc}") from exc
        if original.dtype.kind not in "biufcO" or not _values_equal(original, converted):
            raise TypeError(
                f"the value {_short(value)} would change when stored as {self.dtype}; cast it "
                "explicitly or pass allow_input_downcast=True to function()"
            )
        return converted

    def values_eq(self, a: Any, b: Any) -> bool:
        return bool(np.shape(a) == np.shape(b) and np.array_equal(a, b))

    def values_eq_approx(self, a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(
            np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        )

    # ------------------------------------------------------------------ symbolic values
    def make_variable(self, name: str | None = None):  # -> TensorVariable
        from labsym.core.variable import TensorVariable

        if self.dtype == "float64":
            _check_float64(name)
        return TensorVariable(self, name=name)

    def make_constant(self, value: Any, name: str | None = None):  # -> TensorConstant
        from labsym.core.variable import TensorConstant

        return TensorConstant(self, self.filter(value, allow_downcast=True), name=name)


def _values_equal(a: np.ndarray, b: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        try:
            return bool(
                np.all((a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind in "fc" else a == b)
            )
        except TypeError:
            return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _python_scalar(value: Any, dtype: np.dtype) -> np.ndarray | None:
    """Fast exact conversion of a Python int/float (the common `f(2, 4)` call), else None."""
    if type(value) is float and dtype.kind == "f" and dtype.itemsize == 8:
        return np.asarray(value, dtype=dtype)
    if type(value) is int:
        bounds = exact_int_range(dtype)
        if bounds is not None and bounds[0] <= value <= bounds[1]:
            return np.asarray(value, dtype=dtype)
    return None


@functools.cache
def exact_int_range(dtype: np.dtype) -> tuple[int, int] | None:
    """The Python ints a value of `dtype` stores exactly (float16 only up to 2**11), or None."""
    if dtype.kind == "f":
        limit = 2 ** (np.finfo(dtype).nmant + 1)
        return -limit, limit
    if dtype.kind in "iu":
        return _int_bounds(dtype)
    return None


@functools.cache
def _int_bounds(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _check_float64(name: str | None) -> None:
    """Theano's warn_float64 flag: catch float64 creeping into a float32 (GPU) model."""
    from labsym.config import config

    policy = config.warn_float64
    if policy == "ignore":
        return
    msg = (
        f"a float64 variable{' ' + repr(name) if name else ''} was created (warn_float64={policy})"
    )
    if policy == "raise":
        raise TypeError(msg)
    if policy == "pdb":
        import pdb

        pdb.set_trace()
    else:
        import warnings

        warnings.warn(msg, stacklevel=4)
