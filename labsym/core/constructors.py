"""Theano's variable constructors: scalar/vector/matrix/..., prefixed (dmatrix) and plural forms.

dtype=None means config.floatX, resolved here when the variable is created (never in ops).
May import labsym.config, core.type, core.dtypes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labsym.config import config
from labsym.core import dtypes
from labsym.core.type import TensorType

_KIND_SHAPES: dict[str, tuple[int | None, ...]] = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None,) * 3,
    "tensor4": (None,) * 4,
    "tensor5": (None,) * 5,
    "tensor6": (None,) * 6,
    "tensor7": (None,) * 7,
}


def _resolve(dtype: Any) -> str:
    return config.floatX if dtype is None else dtypes.canonical_dtype(dtype)


def tensor(
    dtype: Any = None,
    shape: Sequence[int | None] | None = None,
    name: str | None = None,
    broadcastable: Sequence[bool] | None = None,
    ndim: int | None = None,
):
    """A symbolic tensor of any rank: `tensor('float32', shape=(None, 3))`.

    Theano's positional form `tensor(dtype, broadcastable)` is accepted too.
    """
    if (
        isinstance(dtype, str)
        and shape is None
        and broadcastable is None
        and ndim is None
        and dtype not in dtypes.ALL_DTYPES + ("floatX",)
    ):
        raise TypeError(f"tensor(): unknown dtype {dtype!r}")
    if shape is None and broadcastable is None:
        shape = (None,) * (ndim or 0)
    return TensorType(_resolve(dtype), shape, broadcastable=broadcastable)(name)


def _make_kind(kind: str, fixed_dtype: str | None):
    shape = _KIND_SHAPES[kind]
    if fixed_dtype is not None:
        # Theano's dmatrix, fvector, ... are types: dmatrix('x') makes a variable, and they can
        # be used as itypes/otypes of custom Ops
        return TensorType(fixed_dtype, shape)

    def make(
        name: str | None = None, dtype: Any = None, shape_: Sequence[int | None] | None = None
    ):
        return TensorType(_resolve(dtype), shape if shape_ is None else shape_)(name)

    make.__doc__ = f"A symbolic {kind} (dtype floatX unless given)."
    return make


def _make_plural(single):
    def make(*names: Any, dtype: Any = None):
        def one(name: str | None = None):
            return single(name) if dtype is None else single(name, dtype=dtype)

        # Theano's _multi: an int n gives n unnamed variables (always a list); one argument is
        # itself the sequence of names, so 'xyz' gives x, y, z; a single name gives a variable
        if names and isinstance(names[0], int):
            return [one() for _ in range(names[0])]
        if len(names) == 1:
            names = names[0]
        if len(names) == 1:
            return one(names[0])
        return [one(name) for name in names]

    make.__doc__ = (
        "Several variables at once: `x, y = dmatrices('x', 'y')`, or `a, b, c = scalars('abc')`."
    )
    return make


def build_constructors() -> dict[str, Any]:
    """Every constructor name (scalar, dvector, fmatrices, ...) mapped to its function."""
    out: dict[str, Any] = {}
    for kind in _KIND_SHAPES:
        plural = kind + ("es" if kind == "matrix" else "s") if kind != "matrix" else "matrices"
        base = _make_kind(kind, None)
        out[kind] = base
        out[plural] = _make_plural(base)
        for prefix, dtype in dtypes.PREFIX_DTYPES.items():
            typed = _make_kind(kind, dtype)
            out[prefix + kind] = typed
            out[prefix + plural] = _make_plural(typed)
    return out


CONSTRUCTORS = build_constructors()
