"""Theano's NumPy-style helpers written with existing ops: ptp, cov, isclose, tril, topk...

Each is a small graph of ops labsym already has (so gradients, shapes and rewrites come for
free). May import config, core.dtypes, core.graph, core.variable and sibling op modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core.graph import Constant, Variable
from labsym.core.ops import basic, blas, extra_ops, nlinalg, reduce, selection, shape, subtensor
from labsym.core.ops import math as m
from labsym.core.variable import as_tensor_variable


# ------------------------------------------------------------------------------ elementwise
def largest(*args: Any) -> Variable:
    """The elementwise largest of the arguments (Python's max over tensors)."""
    if len(args) == 2:
        a, b = (as_tensor_variable(x) for x in args)
        return m.switch(m.gt(a, b), a, b)
    return reduce.max(basic.stack(args), axis=0)


def smallest(*args: Any) -> Variable:
    """The elementwise smallest of the arguments (Python's min over tensors)."""
    if len(args) == 2:
        a, b = (as_tensor_variable(x) for x in args)
        return m.switch(m.lt(a, b), a, b)
    return reduce.min(basic.stack(args), axis=0)


def iround(a: Any, mode: str | None = None) -> Variable:
    """round(a, mode) as int64 (mode 'half_to_even' by default, as NumPy)."""
    return m.cast(m.round(a, mode or "half_to_even"), "int64")


def mod_check(x: Any, y: Any) -> Variable:
    """x % y, refusing complex inputs (NumPy deprecated mod on complex numbers)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.dtype in dtypes.COMPLEX_DTYPES or y.dtype in dtypes.COMPLEX_DTYPES:
        raise NotImplementedError(
            "Theano does not support the mod operator (%) on complex numbers, "
            "since numpy deprecated it."
        )
    return m.mod(x, y)


def divmod(x: Any, y: Any) -> tuple[Variable, Variable]:  # noqa: A001 - Theano's name
    """(x // y, x % y) elementwise, as Python's divmod."""
    return m.int_div(x, y), mod_check(x, y)


def ceil_intdiv(a: Any, b: Any) -> Variable:
    """ceil(a / b) computed in integers (exact for int64, unlike a float division)."""
    div = m.int_div(a, b)
    return m.cast(m.neq(m.mod(a, b), 0), div.dtype) + div


def isclose(
    a: Any, b: Any, rtol: float = 1.0e-5, atol: float = 1.0e-8, equal_nan: bool = False
) -> Variable:
    """NumPy's isclose: |a - b| <= atol + rtol * |b|, with infinities equal only to themselves.

    Examples
    --------
    >>> isclose(np.array([1e10, 1e-7]), np.array([1.00001e10, 1e-8])).eval()
    array([ True, False])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    close = m.le(m.abs(a - b), atol + rtol * m.abs(b))
    a_nan, b_nan = m.isnan(a), m.isnan(b)
    a_inf, b_inf = m.isinf(a), m.isinf(b)
    finite_close = m.and_(close, m.invert(m.or_(m.or_(a_nan, b_nan), m.or_(a_inf, b_inf))))
    same_inf = m.and_(m.and_(a_inf, b_inf), m.eq(a_inf * m.sgn(a), b_inf * m.sgn(b)))
    result = m.or_(finite_close, same_inf)
    if equal_nan:
        result = m.or_(result, m.and_(a_nan, b_nan))
    return result


def allclose(
    a: Any, b: Any, rtol: float = 1.0e-5, atol: float = 1.0e-8, equal_nan: bool = False
) -> Variable:
    """Whether every element of a is close to b (NumPy's allclose; not symmetric in a, b)."""
    return reduce.all(isclose(a, b, rtol, atol, equal_nan))


# ------------------------------------------------------------------------------ reductions
def ptp(a: Any, axis: Any = None) -> Variable:
    """Peak to peak: max - min along `axis` (all elements when None)."""
    a = as_tensor_variable(a)
    return reduce.max(a, axis) - reduce.min(a, axis)


def cov(
    m_: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
    fweights: Any = None,
    aweights: Any = None,
) -> Variable:
    """The covariance matrix of the rows of `m_` (columns with rowvar=False), as numpy.cov.

    Normalised by N - 1, or N with bias=True, or N - ddof; fweights/aweights are not supported.
    """
    if fweights is not None:
        raise NotImplementedError("fweights are not implemented")
    if aweights is not None:
        raise NotImplementedError("aweights are not implemented")
    x = as_tensor_variable(m_)
    if not rowvar:
        # Theano tested `m.shape[0] != 1`, a symbolic value that is always true
        x = x.T
    if y is not None:
        y = as_tensor_variable(y)
        x = basic.concatenate([x, y if rowvar else y.T], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    centred = x - x.mean(axis=1, keepdims=True)
    c = centred.dot(centred.T) * m.true_div(1, x.shape[1] - ddof)
    return extra_ops.squeeze(c)


# ------------------------------------------------------------------------------ shapes
def swapaxes(y: Any, axis1: int, axis2: int) -> Variable:
    """`y` with axes axis1 and axis2 exchanged (a DimShuffle view)."""
    y = as_tensor_variable(y)
    order = list(range(y.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return y.dimshuffle(order)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """numpy.diagonal: diagonal `offset` of the (axis1, axis2) planes (Theano's ExtractDiag)."""
    return nlinalg.extract_diag(a, offset, axis1, axis2)


def _two_dims(who: str, args: Sequence[Any]) -> list[Variable]:
    tensors = [as_tensor_variable(a) for a in args]
    if len(tensors) < 2:
        raise TypeError(f"{who}: needs at least two matrices, got {len(tensors)}")
    for t in tensors:
        if t.ndim != 2:
            raise TypeError(f"{who}: every argument must be a matrix, got {t} ({t.type})")
    return tensors


def horizontal_stack(*args: Any) -> Variable:
    """Matrices side by side (joined along axis 1); unlike numpy.hstack, matrices only."""
    return basic.concatenate(_two_dims("horizontal_stack", args), axis=1)


def vertical_stack(*args: Any) -> Variable:
    """Matrices one above the other (joined along axis 0); unlike numpy.vstack, matrices only."""
    return basic.concatenate(_two_dims("vertical_stack", args), axis=0)


def tri(N: Any, M: Any = None, k: Any = 0, dtype: Any = None) -> Variable:  # noqa: N803
    """An N x M matrix with ones at and below diagonal k, zeros above (numpy.tri; floatX)."""
    dtype = dtypes.canonical_dtype(dtype or config.floatX)
    if M is None:
        M = N  # noqa: N806
    rows = basic.arange(N).dimshuffle(0, "x")
    cols = basic.arange(M).dimshuffle("x", 0)
    # T[i, j] = 1 where j <= i + k
    return m.cast(m.le(cols, rows + k), dtype)


def tril(m_: Any, k: Any = 0) -> Variable:
    """A copy of the matrix with the elements above diagonal k set to zero (numpy.tril)."""
    x = as_tensor_variable(m_)
    return x * tri(x.shape[0], x.shape[1], k=k, dtype=x.dtype)


def triu(m_: Any, k: Any = 0) -> Variable:
    """A copy of the matrix with the elements below diagonal k set to zero (numpy.triu)."""
    x = as_tensor_variable(m_)
    return x * (1 - tri(x.shape[0], x.shape[1], k=k - 1, dtype=x.dtype))


def fill_diagonal_offset(a: Any, val: Any, offset: Any) -> Variable:
    """A copy of matrix `a` with diagonal `offset` (> 0 above the main one) set to `val`.

    Differentiable in a and val; offset must be an integer scalar.
    """
    a, val, offset = (as_tensor_variable(x) for x in (a, val, offset))
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal_offset: a must be a matrix, got {a} ({a.type})")
    if val.ndim != 0 or offset.ndim != 0:
        raise TypeError("fill_diagonal_offset: val and offset must be scalars")
    if not dtypes.is_integer(offset.dtype) or offset.dtype == "bool":
        raise TypeError(
            f"fill_diagonal_offset: offset must be an integer, got {offset} ({offset.type})"
        )
    if dtypes.upcast(a.dtype, val.dtype) != a.dtype and not getattr(val, "weak", False):
        raise TypeError(
            f"fill_diagonal_offset: val of dtype {val.dtype} does not fit a's dtype {a.dtype}"
        )
    rows = basic.arange(a.shape[0]).dimshuffle(0, "x")
    cols = basic.arange(a.shape[1]).dimshuffle("x", 0)
    on_diagonal = m.eq(cols - rows, offset)
    return m.switch(on_diagonal, m.cast(val, a.dtype), a)


# ------------------------------------------------------------------------------ top-k
def topk_and_argtopk(
    x: Any, kth: Any, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"
) -> tuple[Variable, Variable]:
    """The kth largest values of x along axis (kth < 0: the -kth smallest) and their indices.

    As in Theano 1.0, sorted=True is not implemented; with sorted=False the order of the
    k values is unspecified (here: ascending).
    """
    if sorted:
        raise NotImplementedError(
            "The sorted parameter is not yet implemented. Use sorted=False for now."
        )
    if idx_dtype not in dtypes.INT_DTYPES + dtypes.UINT_DTYPES:
        raise TypeError(f'"idx_dtype" parameter must be an integer dtype, got "{idx_dtype}"')
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = x.flatten(), 0
    if x.ndim == 0:
        raise ValueError("Cannot take scalar as input")
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
        raise IndexError(
            f'"axis" parameter out of range, expected integer within [{-x.ndim}, {x.ndim - 1}]'
        )
    axis %= x.ndim
    k = as_tensor_variable(kth)
    if k.ndim != 0 or not dtypes.is_integer(k.dtype):
        raise TypeError(f"topk: kth must be an integer scalar, got {k} ({k.type})")
    n = x.shape[axis]
    # kth > 0: the last kth of the ascending order; kth < 0: the first -kth
    start = m.switch(m.gt(k, 0), n - k, 0)
    stop = m.switch(m.gt(k, 0), n, -k)
    window = (slice(None),) * axis + (slice(start, stop),)
    values = extra_ops.sort(x, axis)[window]
    indices = m.cast(extra_ops.argsort(x, axis)[window], idx_dtype)
    return values, indices


def topk(
    x: Any, kth: Any, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"
) -> Variable:
    """The kth largest values of x along axis (kth < 0: the -kth smallest); see topk_and_argtopk."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[0]


def argtopk(
    x: Any, kth: Any, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"
) -> Variable:
    """The indices of topk(x, kth, axis) along axis, as idx_dtype."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[1]


# ------------------------------------------------------------------------------ shape helpers
def makeKeepDims(x: Any, y: Any, axis: Any) -> Variable:  # noqa: N802 - Theano's name
    """y, the reduction of x over `axis`, with the reduced axes put back as length-1 axes."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if axis is None:
        axes = list(range(x.ndim))
    elif isinstance(axis, (int, np.integer)):
        axes = [int(axis)]
    else:
        axes = [int(a) for a in axis]
    axes = [a + x.ndim if a < 0 else a for a in axes]
    order: list[int | str] = []
    kept = 0
    for j in range(x.ndim):
        if j in axes:
            order.append("x")
        else:
            order.append(kept)
            kept += 1
    return y.dimshuffle(order)


def get_vector_length(v: Any) -> int:
    """The length of the symbolic vector v when the graph fixes it; ValueError otherwise.

    Known from a static shape, a constant, a MakeVector or the Shape of a tensor.
    """
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"argument must be symbolic vector, got '{v}'")
    if v.type.shape[0] is not None:
        return int(v.type.shape[0])
    if isinstance(v, Constant):
        return len(v.data)
    if v.owner is not None and isinstance(v.owner.op, shape.MakeVector):
        return len(v.owner.inputs)
    if v.owner is not None and isinstance(v.owner.op, shape.Shape):
        return v.owner.inputs[0].ndim
    raise ValueError(f"length not known: {v}")


def batched_tensordot(x: Any, y: Any, axes: Any = 2) -> Variable:
    """tensordot of x[i] and y[i] for every i of the shared first (batch) axis.

    `axes` is a count (x's last axes with y's first axes after the batch axis) or a pair of
    axis lists, as in tensordot; computed as one batched_dot of reshaped operands.
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if isinstance(axes, (int, np.integer)):
        x_axes = list(range(x.ndim - int(axes), x.ndim))
        y_axes = list(range(1, int(axes) + 1))
    else:
        x_axes, y_axes = ([int(a) % t.ndim for a in ax] for t, ax in zip((x, y), axes))
    if len(x_axes) != len(y_axes) or 0 in x_axes or 0 in y_axes:
        raise ValueError(
            f"batched_tensordot: axes {axes!r} must pair equally many non-batch axes of x and y"
        )
    x_free = [a for a in range(1, x.ndim) if a not in x_axes]
    y_free = [a for a in range(1, y.ndim) if a not in y_axes]

    def size(t: Variable, dims: list[int]) -> Any:
        total: Any = 1
        for d in dims:
            total = total * t.shape[d]
        return total

    batch = x.shape[0]
    left = x.dimshuffle([0, *x_free, *x_axes]).reshape((batch, size(x, x_free), size(x, x_axes)))
    right = y.dimshuffle([0, *y_axes, *y_free]).reshape((batch, size(y, y_axes), size(y, y_free)))
    out = blas.batched_dot(left, right)
    out_shape = [batch] + [x.shape[a] for a in x_free] + [y.shape[a] for a in y_free]
    return out.reshape(out_shape, ndim=len(out_shape))


def compress(condition: Any, x: Any, axis: int | None = None) -> Variable:
    """The slices of x along axis (flattened x when None) where condition is non-zero."""
    return subtensor.take(x, selection.flatnonzero(condition), axis=axis)
