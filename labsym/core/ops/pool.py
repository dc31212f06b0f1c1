"""2-d pooling over the last two axes (Theano's signal.pool): Pool and its gradient ops.

Each op loops over the window offsets only (ws rows x cols vectorized strided slices).
May import core and core.ops.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

__all__ = [
    "AveragePoolGrad",
    "DownsampleFactorMaxGradGrad",
    "MaxPoolGrad",
    "Pool",
    "max_pool_2d_same_size",
    "pool_2d",
]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


# ---------------------------------------------------------------------- geometry
def _pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"Pool: {name} must be a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"Pool: {name} entries must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def pool_output_length(length: Any, ws: int, stride: int, pad: int, ignore_border: bool) -> Any:
    """Theano's pooled length of one axis; `length` is an int or a symbolic length."""
    padded = length + 2 * pad
    if ignore_border:
        out = (padded - ws) // stride + 1
    elif stride >= ws:
        return (padded - 1) // stride + 1
    else:
        out = (padded - 1 - ws + stride) // stride
        return (max(out, 0) if isinstance(out, int) else m.maximum(out, 0)) + 1
    return max(out, 0) if isinstance(out, int) else m.maximum(out, 0)


def _counts(length: int, ws: int, stride: int, pad: int, out: int, include_pad: bool):
    """How many elements each window of one axis averages (clipped at the image's edge)."""
    starts = np.arange(out) * stride  # in padded coordinates
    ends = np.minimum(starts + ws, length + 2 * pad)
    if not include_pad:
        starts = np.maximum(starts, pad)
        ends = np.minimum(ends, length + pad)
    return ends - starts


class _Geometry:
    """The padded layout of one image size: every window lies inside `padded`."""

    def __init__(self, op: _PoolBase, image: tuple[int, int]) -> None:
        self.image = image
        self.pad, self.stride, self.ws = op.pad, op.stride, op.ws
        self.out = tuple(op._pooled_length(i, image[i]) for i in (0, 1))
        self.padded = tuple(
            max(image[i] + 2 * op.pad[i], (self.out[i] - 1) * op.stride[i] + op.ws[i])
            for i in (0, 1)
        )

    def pad_array(self, x: np.ndarray, fill: Any) -> np.ndarray:
        (p0, p1), (h, w) = self.pad, self.image
        if self.padded == self.image:
            return x
        out = np.full(x.shape[:-2] + self.padded, fill, dtype=x.dtype)
        out[..., p0 : p0 + h, p1 : p1 + w] = x
        return out

    def crop(self, padded: np.ndarray) -> np.ndarray:
        (p0, p1), (h, w) = self.pad, self.image
        return padded[..., p0 : p0 + h, p1 : p1 + w]

    def offsets(self):
        """The strided slice of every window offset: element [r, c] of window (r, c)."""
        (s0, s1), (o0, o1) = self.stride, self.out
        for i in range(self.ws[0]):
            for j in range(self.ws[1]):
                yield (
                    ...,
                    slice(i, i + (o0 - 1) * s0 + 1, s0),
                    slice(j, j + (o1 - 1) * s1 + 1, s1),
                )

    def window_sizes(self, include_pad: bool) -> np.ndarray:
        rows, cols = (
            _counts(
                self.image[i], self.ws[i], self.stride[i], self.pad[i], self.out[i], include_pad
            )
            for i in (0, 1)
        )
        return rows[:, None] * cols[None, :]


def _lowest(dtype: np.dtype) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ---------------------------------------------------------------------- ops
class _PoolBase(Op):
    """Window size, stride, padding, border rule and mode, shared by the pooling ops."""

    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(
        self,
        ws: Any,
        ignore_border: bool = True,
        stride: Any = None,
        pad: Any = (0, 0),
        mode: str = "max",
    ) -> None:
        mode = "max" if mode == "max_deterministic" else mode
        if mode not in MODES:
            raise ValueError(f"Pool: mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.ws = _pair("ws", ws, 1)
        self.stride = self.ws if stride is None else _pair("stride", stride, 1)
        self.pad = _pair("pad", pad, 0)
        self.ignore_border = bool(ignore_border)
        self.mode = mode
        if self.pad != (0, 0) and not self.ignore_border:
            raise ValueError("Pool: padding works only with ignore_border=True")
        if any(p >= w for p, w in zip(self.pad, self.ws, strict=True)):
            raise ValueError(f"Pool: pad {self.pad} must be smaller than ws {self.ws}")

    def _input(self, x: Any, role: str = "input") -> Any:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"{self}: {role} must have at least 2 dimensions, got {x.type}")
        if x.dtype in dtypes.COMPLEX_DTYPES or x.dtype == "bool":
            raise TypeError(f"{self}: {role} must be real numbers, got dtype {x.dtype}")
        return x

    def _inputs(self, x: Any, **others: Any) -> list:
        """`x` and the `others` (by role name) as checked inputs, all of one ndim."""
        variables = [self._input(x)] + [self._input(v, role) for role, v in others.items()]
        _same_ndim(self, *variables)
        return variables

    @property
    def _geometry_params(self) -> tuple:
        """(ws, ignore_border, stride, pad): what a gradient op shares with its forward op."""
        return (self.ws, self.ignore_border, self.stride, self.pad)

    def _pooled_length(self, i: int, length: Any) -> Any:
        """The pooled length of axis -2 + i (0: rows, 1: columns) of an int or symbolic length."""
        return pool_output_length(
            length, self.ws[i], self.stride[i], self.pad[i], self.ignore_border
        )

    def _out_shape(self, shape: Sequence[Any]) -> tuple:
        return (*shape[:-2], *(self._pooled_length(i, shape[-2 + i]) for i in (0, 1)))

    def _static_out(self, x: Any) -> tuple:
        *lead, rows, cols = x.type.shape
        pooled = [
            None if n is None else self._pooled_length(i, n) for i, n in enumerate((rows, cols))
        ]
        return (*lead, *pooled)

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)


class Pool(_PoolBase):
    """Max, sum or average over windows of the last two axes, with stride and zero padding.

    'average_inc_pad' counts padding in the window size, 'average_exc_pad' does not; with
    ignore_border=False the partial windows at the bottom/right edge are kept.
    """

    def make_node(self, x: Any) -> Apply:
        x = self._input(x)
        return Apply(self, [x], [TensorType(x.dtype, self._static_out(x))()])

    def numpy_callable(self, node: Apply):
        dtype, mode = np.dtype(node.outputs[0].dtype), self.mode

        def pool(x):
            geo = _Geometry(self, x.shape[-2:])
            if 0 in geo.out:
                return np.zeros(x.shape[:-2] + geo.out, dtype=dtype)
            xp = geo.pad_array(x, _lowest(x.dtype) if mode == "max" else 0)
            # integer sums and averages accumulate in float64, then truncate to the dtype
            acc_dtype = np.float64 if dtype.kind != "f" and mode != "max" else dtype
            windows = geo.offsets()
            acc = xp[next(windows)].astype(acc_dtype)
            for window in windows:
                if mode == "max":
                    np.maximum(acc, xp[window], out=acc)
                else:
                    acc += xp[window]
            if mode.startswith("average"):
                acc /= geo.window_sizes(mode == "average_inc_pad").astype(acc_dtype)
            return np.asarray(acc, dtype=dtype)

        return pool

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._out_shape(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype not in dtypes.FLOAT_DTYPES:
            return [None]
        params = self._geometry_params
        if self.mode == "max":
            return [MaxPoolGrad(*params)(x, outputs[0], output_grads[0])]
        return [AveragePoolGrad(*params, mode=self.mode)(x, output_grads[0])]

    def R_op(self, inputs, eval_points):
        (x,), (v,) = inputs, eval_points
        if v is None or x.dtype not in dtypes.FLOAT_DTYPES:
            return [None]
        if self.mode == "max":
            # each window's maximum moves along v at its argmax (Theano's R_op)
            return [DownsampleFactorMaxGradGrad(*self._geometry_params)(x, self(x), v)]
        return [self(v)]  # sums and averages (zero padding) are linear


class MaxPoolGrad(_PoolBase):
    """The gradient of max pooling: gz goes to every element equal to its window's maximum.

    Inputs (x, maxout, gz); a tie gives the gradient to each tied element, as Theano does.
    """

    def __init__(
        self,
        ws: Any,
        ignore_border: bool = True,
        stride: Any = None,
        pad: Any = (0, 0),
        mode: str = "max",
    ):
        if mode != "max":
            raise ValueError(f"MaxPoolGrad: mode must be 'max', got {mode!r}")
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x: Any, maxout: Any, gz: Any) -> Apply:
        x, maxout, gz = self._inputs(x, maxout=maxout, gz=gz)
        return Apply(self, [x, maxout, gz], [TensorType(gz.dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)

        def max_pool_grad(x, maxout, gz):
            geo = _Geometry(self, x.shape[-2:])
            _check_pooled(self, gz, x.shape[:-2] + geo.out, "gz")
            xp = geo.pad_array(x, _lowest(x.dtype))
            gxp = np.zeros(xp.shape, dtype=dtype)
            if 0 not in geo.out:
                for window in geo.offsets():
                    gxp[window] += np.where(xp[window] == maxout, gz, 0)
            return np.ascontiguousarray(geo.crop(gxp))

        return max_pool_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def grad(self, inputs, output_grads):
        x, maxout, gz = inputs
        g_gz = DownsampleFactorMaxGradGrad(*self._geometry_params)(x, maxout, output_grads[0])
        return [m.zeros_like(x), m.zeros_like(maxout), g_gz]


class DownsampleFactorMaxGradGrad(MaxPoolGrad):
    """The gradient of MaxPoolGrad wrt gz: for each window, the sum of ggx at its maxima.

    Inputs (x, maxout, ggx); the transpose of MaxPoolGrad, so second derivatives work.
    """

    def make_node(self, x: Any, maxout: Any, ggx: Any) -> Apply:
        x, maxout, ggx = self._inputs(x, maxout=maxout, ggx=ggx)
        return Apply(self, [x, maxout, ggx], [TensorType(ggx.dtype, maxout.type.shape)()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)

        def max_pool_grad_grad(x, maxout, ggx):
            geo = _Geometry(self, x.shape[-2:])
            _check_pooled(self, maxout, x.shape[:-2] + geo.out, "maxout")
            xp, ggxp = geo.pad_array(x, _lowest(x.dtype)), geo.pad_array(ggx.astype(dtype), 0)
            out = np.zeros(maxout.shape, dtype=dtype)
            if 0 not in geo.out:
                for window in geo.offsets():
                    out += np.where(xp[window] == maxout, ggxp[window], 0)
            return out

        return max_pool_grad_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def grad(self, inputs, output_grads):
        x, maxout, ggx = inputs
        g_ggx = MaxPoolGrad(*self._geometry_params)(x, maxout, output_grads[0])
        return [m.zeros_like(x), m.zeros_like(maxout), g_ggx]


class AveragePoolGrad(_PoolBase):
    """The gradient of sum and average pooling: each window spreads gz (divided by its size).

    Inputs (x, gz); x only gives the image size.
    """

    def __init__(
        self,
        ws: Any,
        ignore_border: bool = True,
        stride: Any = None,
        pad: Any = (0, 0),
        mode: str = "average_inc_pad",
    ):
        if mode == "max":
            raise ValueError(
                "AveragePoolGrad: mode must be 'sum', 'average_inc_pad' or 'average_exc_pad'"
            )
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x: Any, gz: Any) -> Apply:
        x, gz = self._inputs(x, gz=gz)
        return Apply(self, [x, gz], [TensorType(gz.dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        dtype, mode = np.dtype(node.outputs[0].dtype), self.mode

        def average_pool_grad(x, gz):
            geo = _Geometry(self, x.shape[-2:])
            _check_pooled(self, gz, x.shape[:-2] + geo.out, "gz")
            if mode != "sum":
                gz = gz / geo.window_sizes(mode == "average_inc_pad").astype(dtype)
            gxp = np.zeros(x.shape[:-2] + geo.padded, dtype=dtype)
            if 0 not in geo.out:
                for window in geo.offsets():
                    gxp[window] += gz
            return np.ascontiguousarray(geo.crop(gxp))

        return average_pool_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def connection_pattern(self, node):
        return [[False], [True]]

    def grad(self, inputs, output_grads):
        x, gz = inputs
        pool = Pool(*self._geometry_params, self.mode)
        return [None, pool(output_grads[0])]


def _same_ndim(op: Any, *variables: Any) -> None:
    if len({v.ndim for v in variables}) != 1:
        raise TypeError(
            f"{op}: inputs must have the same ndim, got {[str(v.type) for v in variables]}"
        )


def _check_pooled(op: Any, value: np.ndarray, expected: tuple, role: str) -> None:
    if value.shape != expected:
        raise ValueError(f"{op}: {role} has shape {value.shape}, but pooling gives {expected}")


# ---------------------------------------------------------------------- user functions
def _legacy(new: Any, old: Any, new_name: str, old_name: str, default: Any = None) -> Any:
    """The value of a renamed argument, accepting its old name with a DeprecationWarning."""
    if old is None:
        return new
    if new != default:
        raise ValueError(f"pool_2d: give {new_name} or its old name {old_name}, not both")
    warnings.warn(
        f"pool_2d: {old_name} is deprecated, use {new_name}", DeprecationWarning, stacklevel=3
    )
    return old


def pool_2d(
    input: Any,  # noqa: A002 - Theano's name
    ws: Sequence[int] | None = None,
    ignore_border: bool = True,
    stride: Sequence[int] | None = None,
    pad: Sequence[int] = (0, 0),
    mode: str = "max",
    ds: Sequence[int] | None = None,
    st: Sequence[int] | None = None,
    padding: Sequence[int] | None = None,
) -> Any:
    """Pool windows of size `ws` over the last two axes of `input` (any ndim >= 2).

    `mode` is 'max', 'sum', 'average_inc_pad' or 'average_exc_pad'; `stride` defaults to ws;
    `pad` zero-pads both sides (with ignore_border=True only). `ds`, `st`, `padding` are the
    old names of ws, stride and pad.

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> labsym.function([x], pool_2d(x, ws=(2, 2)))(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    ws = _legacy(ws, ds, "ws", "ds")
    if ws is None:
        raise ValueError("pool_2d: give the window size ws, e.g. ws=(2, 2)")
    stride = _legacy(stride, st, "stride", "st")
    pad = _legacy(tuple(pad), padding, "pad", "padding", (0, 0))
    return Pool(ws, ignore_border, stride, pad, mode)(input)


def max_pool_2d_same_size(input: Any, patch_size: Sequence[int]) -> Any:  # noqa: A002
    """`input` where an element is the maximum of its (non-overlapping) patch, 0 elsewhere.

    Keeps the image size, e.g. to visualize which units a max pooling layer selects.

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> labsym.function([x], max_pool_2d_same_size(x, (2, 2)))([[1.0, 2.0], [4.0, 3.0]])
    array([[0., 0.],
           [4., 0.]])
    """
    pooled = Pool(patch_size, True)(input)
    return MaxPoolGrad(patch_size, True)(input, pooled, pooled)
