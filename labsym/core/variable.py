"""TensorVariable/TensorConstant with NumPy-style operators, and as_tensor_variable.

Python scalars become constants of the smallest dtype holding them, as Theano's autocast did
(`x + 1` reads an int8 1, padded by InplaceDimShuffle{x}) and takes part in the upcast.
May import labsym.config, core.graph, core.testvalue, core.type, core.dtypes and, inside
methods, the op modules of core.ops.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core.graph import Constant, Variable
from labsym.core.testvalue import get_test_value
from labsym.core.type import TensorType


class _TensorOperators:
    """Operators and methods shared by every tensor variable (Theano's `_tensor_py_operators`)."""

    type: TensorType

    # ------------------------------------------------------------------ type facts
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def shape(self):
        return _shape().shape(self)

    @property
    def size(self):
        return _reduce().prod(self.shape)

    @property
    def T(self):
        return _shape().transpose(self)

    def __len__(self) -> int:
        raise TypeError("len() of a symbolic tensor is unknown; use x.shape[0]")

    # Theano: every variable is truthy (so `if not W:` default idioms work) except the results
    # of < <= > >=, so that `a < b < c` (evaluated as `(a < b) and (b < c)`) fails loudly
    _is_nonzero = True

    def __bool__(self) -> bool:
        if self._is_nonzero:
            return True
        raise TypeError("Variables do not support boolean operations.")

    def __repr__(self) -> str:
        """str(var), plus its test value on a second line when config.print_test_value is on."""
        text = str(self)
        if config.print_test_value:
            with contextlib.suppress(AttributeError):  # no test value: the name alone, as Theano
                text += "\n" + repr(get_test_value(self))
        return text

    def __iter__(self):
        length = self.type.shape[0] if self.ndim else None
        if length is None:
            raise TypeError(
                f"cannot iterate over {self}: its first dimension is not known statically"
            )
        for i in range(length):
            yield self[i]

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _math().add(self, other)

    def __radd__(self, other):
        return _math().add(other, self)

    def __sub__(self, other):
        return _math().sub(self, other)

    def __rsub__(self, other):
        return _math().sub(other, self)

    def __mul__(self, other):
        return _math().mul(self, other)

    def __rmul__(self, other):
        return _math().mul(other, self)

    def __truediv__(self, other):
        return _math().true_div(self, other)

    def __rtruediv__(self, other):
        return _math().true_div(other, self)

    def __floordiv__(self, other):
        return _math().int_div(self, other)

    def __rfloordiv__(self, other):
        return _math().int_div(other, self)

    def __mod__(self, other):
        return _math().mod(self, other)

    def __rmod__(self, other):
        return _math().mod(other, self)

    def __pow__(self, other):
        return _math().pow(self, other)

    def __rpow__(self, other):
        return _math().pow(other, self)

    def __neg__(self):
        return _math().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _math().abs(self)

    def __matmul__(self, other):
        return _blas().matmul(self, other)

    def __rmatmul__(self, other):
        return _blas().matmul(other, self)

    # comparisons are elementwise; `==` stays identity so variables can live in dicts and sets
    def __lt__(self, other):
        return _comparison(_math().lt(self, other))

    def __le__(self, other):
        return _comparison(_math().le(self, other))

    def __gt__(self, other):
        return _comparison(_math().gt(self, other))

    def __ge__(self, other):
        return _comparison(_math().ge(self, other))

    __hash__ = object.__hash__

    def __and__(self, other):
        return _math().and_(self, other)

    def __rand__(self, other):
        return _math().and_(other, self)

    def __or__(self, other):
        return _math().or_(self, other)

    def __ror__(self, other):
        return _math().or_(other, self)

    def __xor__(self, other):
        return _math().xor(self, other)

    def __rxor__(self, other):
        return _math().xor(other, self)

    def __invert__(self):
        return _math().invert(self)

    # ------------------------------------------------------------------ indexing and shape
    def __getitem__(self, index):
        from labsym.core.ops import subtensor

        return subtensor.getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError(
            "symbolic tensors are immutable; use labsym.tensor.set_subtensor(x[idx], value) "
            "or inc_subtensor"
        )

    def dimshuffle(self, *pattern):
        from labsym.core.ops.elemwise import DimShuffle

        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return DimShuffle(self.ndim, pattern)(self)

    def reshape(self, *shape, ndim: int | None = None):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return _shape().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim: int = 1, outdim: int | None = None):
        return _shape().flatten(self, outdim if outdim is not None else ndim)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return _shape().transpose(self, axes or None)

    def astype(self, dtype):
        return _math().cast(self, dtype)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _reduce().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _reduce().prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _reduce().mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _reduce().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _reduce().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _reduce().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduce().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _reduce().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _reduce().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _reduce().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _reduce().any(self, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ misc methods
    def dot(self, other):
        return _blas().dot(self, other)

    def clip(self, a_min, a_max):
        return _math().clip(self, a_min, a_max)

    def round(self, mode: str = "half_to_even"):
        return _math().round(self, mode)

    def repeat(self, repeats, axis=None):
        from labsym.core.ops import basic

        return basic.repeat(self, repeats, axis)

    def zeros_like(self, dtype=None):
        return _math().zeros_like(self, dtype)

    def ones_like(self, dtype=None):
        return _math().ones_like(self, dtype)

    def copy(self, name: str | None = None):
        from labsym.core.ops import basic

        out = basic.tensor_copy(self)
        out.name = name
        return out

    def exp(self):
        return _math().exp(self)

    def log(self):
        return _math().log(self)

    def sqrt(self):
        return _math().sqrt(self)

    def nonzero_values(self):
        return self[_math().neq(self, 0)]


def _comparison(result):
    result._is_nonzero = False  # bool() of an operator comparison raises (see __bool__)
    return result


def _math():
    from labsym.core.ops import math

    return math


def _shape():
    from labsym.core.ops import shape

    return shape


def _reduce():
    from labsym.core.ops import reduce

    return reduce


def _blas():
    from labsym.core.ops import blas

    return blas


class TensorVariable(_TensorOperators, Variable):
    """A symbolic n-d array."""

    __module__ = "labsym.tensor.var"  # shown where Theano users look for it (theano.tensor.var)


class TensorConstant(_TensorOperators, Constant):
    """A constant n-d array; `weak` marks Python scalars (arange, stack, set_subtensor adapt)."""

    __module__ = "labsym.tensor.var"

    def __init__(self, type: TensorType, data: Any, name: str | None = None, weak: bool = False):
        super().__init__(type, data, name)
        self.weak = weak

    def clone(self) -> TensorConstant:
        cp = TensorConstant(self.type, self.data, self.name, self.weak)
        cp.tag.__dict__.update(self.tag.__dict__)
        cp.trace = self.trace
        return cp

    def __str__(self) -> str:
        """Theano's form, whatever the name: `TensorConstant{1}`, `{[1 2 3]}`, `{(2,) of 2}`."""
        data = self.data
        flat = data.ravel()
        if data.ndim > 0 and flat.size and bool((flat == flat[0]).all()):
            text = f"{data.shape} of {flat[0]}"
        else:
            text = str(data)
        if len(text) > 20:
            text = text[:10] + ".." + text[-10:]
        return f"TensorConstant{{{text}}}"

    def signature(self) -> tuple:
        return (self.type, self.weak, self.data.dtype.str, self.data.shape, self.data.tobytes())


def constant(value: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None):
    """A TensorConstant holding `value` (lists and arrays keep NumPy's dtype unless `dtype`)."""
    weak = (
        dtype is None
        and isinstance(value, (bool, int, float, complex))
        and not isinstance(value, np.generic)
    )
    if dtype is not None:
        data = np.asarray(value, dtype=dtypes.canonical_dtype(dtype))
    elif weak:
        data = np.asarray(value, dtype=dtypes.autocast_dtype(value))
    else:
        data = np.asarray(value)
        if data.dtype.kind in "OUS":
            raise TypeError(f"cannot make a tensor constant from {value!r} (dtype {data.dtype})")
        if data.dtype.name not in dtypes.ALL_DTYPES:
            data = data.astype(dtypes.canonical_dtype(data.dtype))
    if ndim is not None:
        if data.ndim > ndim:
            raise ValueError(f"constant {value!r} has {data.ndim} dims, more than ndim={ndim}")
        data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
    type_ = TensorType(data.dtype.name, data.shape)
    cacheable = name is None and data.size == 1 and data.dtype.kind in "iuf" and -10 <= data <= 10
    if not cacheable:
        return TensorConstant(type_, data, name=name, weak=weak)
    # Theano's constant cache: small numbers are one shared Constant, so `1 / (1 + e)` reads
    # the same TensorConstant{1} twice and merging has less to do
    key = (type_, weak, data.dtype.str, data.tobytes())
    cached = _CONSTANT_CACHE.get(key)
    if cached is None:
        cached = _CONSTANT_CACHE[key] = TensorConstant(type_, data, weak=weak)
    return cached


_CONSTANT_CACHE: dict[tuple, TensorConstant] = {}


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None):
    """Turn numbers, lists, arrays (and tensor variables) into a tensor Variable."""
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{x} has type {x.type}, not a tensor type")
        if ndim is not None and x.ndim != ndim:
            x = _adjust_ndim(x, ndim)
        if dtype is not None and x.dtype != dtypes.canonical_dtype(dtype):
            x = _math().cast(x, dtype)
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(item, Variable) for item in _flatten(x)):
        from labsym.core.ops import basic

        return basic.stack_nested(x)
    return constant(x, name=name, ndim=ndim, dtype=dtype)


def _adjust_ndim(x, ndim: int):
    extra = x.ndim - ndim
    if extra > 0 and all(d == 1 for d in x.type.shape[:extra]):
        return x.dimshuffle(list(range(extra, x.ndim)))
    if extra < 0:
        return x.dimshuffle(["x"] * (-extra) + list(range(x.ndim)))
    raise ValueError(f"{x} has {x.ndim} dims ({x.type}); cannot view it with ndim={ndim}")


def _flatten(items: Sequence) -> list:
    out: list = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def align_elemwise_inputs(op_name: str, inputs: Sequence[Any], spec: Any) -> list:
    """Convert elementwise inputs and pad their ndims; Python scalars keep Theano's autocast dtype.

    Theano's cast_policy='custom': a Python scalar is a constant of the smallest dtype that holds it
    (floatX for floats when floatX is float32), and takes part in the upcast like any tensor, so
    `ivector + 1` stays int32, `bvector + 1000` is int16 and, with floatX=float64, `fvector * 0.1`
    is float64 (Theano's well-known float64 leak; `fvector * 0.5` stays float32).
    """
    variables = [as_tensor_variable(x) for x in inputs]
    ndim = max(v.ndim for v in variables)
    return [v if v.ndim == ndim else _pad_left(v, ndim) for v in variables]


def _pad_left(var, ndim: int):
    """`var` with broadcastable axes added on the left (Theano's InplaceDimShuffle{x,...})."""
    return var.dimshuffle(["x"] * (ndim - var.ndim) + list(range(var.ndim)))
