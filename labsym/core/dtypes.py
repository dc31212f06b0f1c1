"""Dtype names, families and promotion rules (NumPy's, with Theano's int -> float choices).

May import numpy and labsym.config only.
"""

from __future__ import annotations

import numpy as np

BOOL = ("bool",)
INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
DISCRETE_DTYPES = BOOL + INT_DTYPES + UINT_DTYPES
CONTINUOUS_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES
ALL_DTYPES = DISCRETE_DTYPES + CONTINUOUS_DTYPES

# Theano's one-letter constructor prefixes: bscalar, wvector, imatrix, lrow, fcol, dtensor3, ...
PREFIX_DTYPES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
    "c": "complex64",
    "z": "complex128",
}


def canonical_dtype(dtype: object) -> str:
    """A dtype name ('float64'), accepting numpy dtypes, type objects and aliases like 'floatX'."""
    if isinstance(dtype, str) and dtype == "floatX":
        from labsym.config import config

        return config.floatX
    try:
        name = np.dtype(dtype).name  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(
            f"unknown dtype {dtype!r}; expected one of {', '.join(ALL_DTYPES)}"
        ) from exc
    if name not in ALL_DTYPES:
        raise TypeError(f"unsupported dtype {name!r}; expected one of {', '.join(ALL_DTYPES)}")
    return name


def upcast(*dtypes: str) -> str:
    """The dtype NumPy's promotion gives to a mix of arrays of these dtypes."""
    return np.result_type(*dtypes).name


def upgrade_to_float(dtype: str) -> str:
    """Float dtype an int input is computed in by float-valued ops (exp, sqrt, true_div)."""
    if dtype in CONTINUOUS_DTYPES:
        return dtype
    if dtype in ("bool", "int8", "uint8", "int16", "uint16"):
        return "float32"
    return "float64"


def python_scalar_dtype(value: object) -> str:
    """The default dtype of a Python scalar when nothing else in the expression decides it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64" if -(2**63) <= value < 2**63 else "float64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    raise TypeError(f"not a Python scalar: {value!r}")


def autocast_dtype(value: object) -> str:
    """The dtype Theano gave a Python scalar constant: the smallest that holds it exactly.

    `1` -> int8, `1000` -> int16, `0.5` -> float32, `0.1` -> float64; with floatX float32 or
    float16 every Python float takes floatX (Theano's config.cast_policy='custom').
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        for name in INT_DTYPES:
            info = np.iinfo(name)
            if info.min <= value <= info.max:
                return name
        return "uint64" if 0 <= value < 2**64 else "float64"
    if isinstance(value, float):
        from labsym.config import config

        if config.floatX in ("float32", "float16"):
            return config.floatX
        with np.errstate(over="ignore"):
            return "float32" if float(np.float32(value)) == value else "float64"  # NaN: float64
    if isinstance(value, complex):
        return "complex128"
    raise TypeError(f"not a Python scalar: {value!r}")


def weak_scalar_dtype(value: object, strong_dtype: str) -> str:
    """Dtype a Python scalar takes next to a typed tensor (NEP 50: the tensor's dtype wins).

    `fvector * 0.1` stays float32 and `ivector + 1` stays int32; a float scalar next to an int
    tensor gives floatX-independent float64 as in NumPy, and a value the dtype cannot hold
    widens it rather than overflowing silently.
    """
    kind = np.dtype(strong_dtype).kind
    if isinstance(value, bool):
        return strong_dtype
    if isinstance(value, int):
        if kind in "fc":
            return strong_dtype
        if kind == "b":
            return "int64"
        info = np.iinfo(strong_dtype)
        if info.min <= value <= info.max:
            return strong_dtype
        return upcast(strong_dtype, python_scalar_dtype(value))
    if isinstance(value, float):
        return strong_dtype if kind in "fc" else "float64"
    if isinstance(value, complex):
        return strong_dtype if kind == "c" else "complex128"
    raise TypeError(f"not a Python scalar: {value!r}")


def can_cast_safely(from_dtype: str, to_dtype: str) -> bool:
    """Whether every value of from_dtype is representable in to_dtype."""
    return bool(np.can_cast(from_dtype, to_dtype, casting="safe"))


def is_float(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES


def is_integer(dtype: str) -> bool:
    return dtype in DISCRETE_DTYPES
