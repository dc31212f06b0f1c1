"""2-d convolution (Theano's AbstractConv2d family): Conv2d and its input and weight gradients.

Computed by im2col (strided windows) and one batched BLAS product. May import core and core.ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d", "conv2d_transpose"]

BorderMode = str | tuple[int, int]
_BORDER_NAMES = ("valid", "full", "half")


# ---------------------------------------------------------------------- parameters
def _pair(who: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """`value` (an int or a pair of ints) as a pair; a ValueError below `minimum`."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{who}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{who}: {name} entries must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def normalize_border_mode(border_mode: Any) -> BorderMode:
    """'valid', 'full', 'half', or an explicit (rows, cols) zero-padding."""
    if isinstance(border_mode, str):
        if border_mode not in _BORDER_NAMES:
            raise ValueError(
                f"conv2d: border_mode must be 'valid', 'full', 'half', an int or a pair of ints, "
                f"got {border_mode!r}"
            )
        return border_mode
    return _pair("conv2d", "border_mode", border_mode, 0)


def _padding(border_mode: BorderMode, kernel: Sequence[Any], dilation: Sequence[int]) -> tuple:
    """Zero-padding per side of the two image axes (ints or symbolic lengths)."""
    if not isinstance(border_mode, str):
        return border_mode
    dilated = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return tuple(k - 1 for k in dilated)
    return tuple(k // 2 for k in dilated)  # half


def conv_output_length(length: Any, kernel: Any, pad: Any, stride: int, dilation: int) -> Any:
    """(length + 2 pad - dilated kernel) // stride + 1; ints, or symbolic lengths."""
    return (length + 2 * pad - ((kernel - 1) * dilation + 1)) // stride + 1


def _static(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _length(x: Any, axis: int) -> Any:
    """An axis length of `x` as an int64 variable: a constant when static, else Shape_i."""
    static = x.type.shape[axis]
    return constant(static, dtype="int64") if static is not None else sh.shape_i(x, axis)


def _float4d(op: Any, x: Any, role: str) -> Any:
    x = as_tensor_variable(x)
    if x.ndim != 4:
        raise TypeError(f"{op}: {role} must be a 4-d tensor (NCHW layout), got {x.type}")
    if x.dtype not in dtypes.FLOAT_DTYPES:
        raise TypeError(f"{op}: {role} must be a float tensor, got dtype {x.dtype} ({x.type})")
    return x


def _scalar_length(op: Any, value: Any, role: str) -> Any:
    """An image or kernel length given as an int or an integer scalar variable."""
    if isinstance(value, (int, np.integer)):
        return constant(int(value), dtype="int64")
    value = as_tensor_variable(value)
    if value.ndim != 0 or not dtypes.is_integer(value.dtype):
        raise TypeError(f"{op}: {role} must be an integer scalar, got {value.type}")
    return value


def _check_channels(op: Any, first: Any, second: Any, axes: tuple[int, int], what: str) -> None:
    a, b = first.type.shape[axes[0]], second.type.shape[axes[1]]
    if a is not None and b is not None and a != b:
        raise ValueError(f"{op}: {what} disagree: {a} != {b} ({first.type}, {second.type})")


# ---------------------------------------------------------------------- NumPy kernels
def _windows(xp: np.ndarray, kernel: tuple, out: tuple, stride: tuple, dilation: tuple):
    """The view (N, C, kh, kw, oh, ow) of every kernel offset's strided sample of `xp`."""
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    shape = (n, c, kernel[0], kernel[1], out[0], out[1])
    strides = (s0, s1, s2 * dilation[0], s3 * dilation[1], s2 * stride[0], s3 * stride[1])
    return as_strided(xp, shape, strides, writeable=False)


def _pad(x: np.ndarray, pad: tuple) -> np.ndarray:
    if pad == (0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))


def _geometry(who: str, image: tuple, kernel: tuple, params: tuple) -> tuple[tuple, tuple]:
    """(padding, output lengths) of a convolution; a ValueError when the kernel does not fit."""
    border_mode, stride, dilation = params
    pad = _padding(border_mode, kernel, dilation)
    out = tuple(
        conv_output_length(image[i], kernel[i], pad[i], stride[i], dilation[i]) for i in (0, 1)
    )
    if min(out) < 1:
        raise ValueError(
            f"{who}: the (dilated) kernel {kernel} (dilation {dilation}) does not fit the padded "
            f"image {image} with border_mode {border_mode!r}: output length {out}"
        )
    return pad, out


def _correlate(x: np.ndarray, w: np.ndarray, params: tuple, dtype: np.dtype, who: str):
    """Cross-correlation of NCHW `x` with FCkhkw `w`: im2col, then a batched matrix product."""
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{who}: the input has {x.shape[1]} channels but the filters expect {w.shape[1]} "
            f"(input {x.shape}, filters {w.shape})"
        )
    pad, out = _geometry(who, x.shape[2:], w.shape[2:], params)
    cols = _windows(_pad(x.astype(dtype, copy=False), pad), w.shape[2:], out, *params[1:])
    cols = cols.reshape(x.shape[0], -1, out[0] * out[1])  # the im2col copy
    flat_w = w.astype(dtype, copy=False).reshape(w.shape[0], -1)
    return np.matmul(flat_w, cols).reshape(x.shape[0], w.shape[0], *out)


def _correlate_grad_inputs(w, gz, image: tuple, params: tuple, dtype: np.dtype, who: str):
    """The input gradient of _correlate: columns from one product, then col2im by offset."""
    pad, out = _geometry(who, image, w.shape[2:], params)
    _check_grad_shape(who, gz, out, (gz.shape[0], w.shape[0]))
    stride, dilation = params[1:]
    n, c, (kh, kw) = gz.shape[0], w.shape[1], w.shape[2:]
    flat_w = w.astype(dtype, copy=False).reshape(w.shape[0], -1)
    g = gz.astype(dtype, copy=False).reshape(n, w.shape[0], -1)
    cols = np.matmul(flat_w.T, g).reshape(n, c, kh, kw, *out)
    padded = np.zeros((n, c, image[0] + 2 * pad[0], image[1] + 2 * pad[1]), dtype=dtype)
    span = ((out[0] - 1) * stride[0] + 1, (out[1] - 1) * stride[1] + 1)
    for i in range(kh):  # one strided add per kernel offset: kh*kw vectorized adds
        r = i * dilation[0]
        for j in range(kw):
            q = j * dilation[1]
            padded[:, :, r : r + span[0] : stride[0], q : q + span[1] : stride[1]] += cols[
                :, :, i, j
            ]
    return padded[:, :, pad[0] : pad[0] + image[0], pad[1] : pad[1] + image[1]].copy()


def _correlate_grad_weights(x, gz, kernel: tuple, params: tuple, dtype: np.dtype, who: str):
    """The kernel gradient of _correlate: one product of gz with the image's columns."""
    pad, out = _geometry(who, x.shape[2:], kernel, params)
    _check_grad_shape(who, gz, out, (x.shape[0], None))
    cols = _windows(_pad(x.astype(dtype, copy=False), pad), kernel, out, *params[1:])
    cols = cols.reshape(x.shape[0], -1, out[0] * out[1])
    g = gz.astype(dtype, copy=False).reshape(gz.shape[0], gz.shape[1], -1)
    # one small product per image, summed: faster than one tall product over a transposed copy
    flat = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0)
    return flat.reshape(gz.shape[1], x.shape[1], *kernel)


def _check_grad_shape(who: str, gz: np.ndarray, out: tuple, lead: tuple) -> None:
    batch_and_channels = (
        e if e is not None else g for e, g in zip(lead, gz.shape[:2], strict=True)
    )
    expected = (*batch_and_channels, *out)
    if gz.shape != expected:
        raise ValueError(f"{who}: the output gradient has shape {gz.shape}, expected {expected}")


def _flip(w: np.ndarray, flip: bool) -> np.ndarray:
    return w[:, :, ::-1, ::-1] if flip else w


# ---------------------------------------------------------------------- ops
class _BaseConv(Op):
    """The parameters shared by the convolution ops; they compare equal when these match."""

    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation")

    def __init__(
        self,
        border_mode: Any = "valid",
        subsample: Any = (1, 1),
        filter_flip: bool = True,
        filter_dilation: Any = (1, 1),
    ) -> None:
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = _pair(type(self).__name__, "subsample", subsample, 1)
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(type(self).__name__, "filter_dilation", filter_dilation, 1)

    def _kernel_args(self, node: Apply) -> tuple:
        """(output dtype, geometry parameters, filter_flip, name) for the NumPy kernels."""
        params = (self.border_mode, self.subsample, self.filter_dilation)
        return np.dtype(node.outputs[0].dtype), params, self.filter_flip, str(self)

    def _out_lengths(self, image: Sequence[Any], kernel: Sequence[Any]) -> tuple:
        pad = _padding(self.border_mode, kernel, self.filter_dilation)
        return tuple(
            conv_output_length(
                image[i], kernel[i], pad[i], self.subsample[i], self.filter_dilation[i]
            )
            for i in (0, 1)
        )

    def _static_out(self, image: Sequence[Any], kernel: Sequence[Any]) -> tuple:
        if None in image or None in kernel:
            return (None, None)
        lengths = self._out_lengths(image, kernel)
        if min(lengths) < 1:
            raise ValueError(
                f"{self}: the kernel {tuple(kernel)} does not fit the image {tuple(image)} "
                f"(output lengths {lengths})"
            )
        return lengths

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(*inputs)


class Conv2d(_BaseConv):
    """2-d convolution of NCHW images with (out channels, in channels, rows, cols) filters.

    Theano's AbstractConv2d: filter_flip=True is a true convolution (kernels flipped),
    False a cross-correlation; the gradients are Conv2dGradInputs and Conv2dGradWeights.
    """

    def make_node(self, input: Any, filters: Any) -> Apply:  # noqa: A002 - Theano's name
        x = _float4d(self, input, "input")
        w = _float4d(self, filters, "filters")
        _check_channels(self, x, w, (1, 1), "input channels and filter channels")
        out = self._static_out(x.type.shape[2:], w.type.shape[2:])
        shape = (x.type.shape[0], w.type.shape[0], *out)
        return Apply(self, [x, w], [TensorType(dtypes.upcast(x.dtype, w.dtype), shape)()])

    def numpy_callable(self, node: Apply):
        dtype, params, flip, who = self._kernel_args(node)
        return lambda x, w: _correlate(x, _flip(w, flip), params, dtype, who)

    def infer_shape(self, fgraph, node, input_shapes):
        x_shape, w_shape = input_shapes
        return [(x_shape[0], w_shape[0], *self._out_lengths(x_shape[2:], w_shape[2:]))]

    def grad(self, inputs, output_grads):
        x, w = inputs
        (gz,) = output_grads
        props = self._props()
        g_x = Conv2dGradInputs(*props)(w, gz, _length(x, 2), _length(x, 3))
        g_w = Conv2dGradWeights(*props)(x, gz, _length(w, 2), _length(w, 3))
        return [m.cast(g_x, x.dtype), m.cast(g_w, w.dtype)]

    def R_op(self, inputs, eval_points):
        # bilinear: d conv(x, w) = conv(dx, w) + conv(x, dw)
        x, w = inputs
        terms = []
        if eval_points[0] is not None:
            terms.append(self(eval_points[0], w))
        if eval_points[1] is not None:
            terms.append(self(x, eval_points[1]))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else m.add(*terms)]


class Conv2dGradInputs(_BaseConv):
    """The gradient of Conv2d wrt its input, from (filters, output gradient, image rows, cols).

    Also the transposed convolution (conv2d_transpose). The image size is an input because a
    strided convolution maps several image sizes to the same output size.
    """

    def make_node(self, filters: Any, output_grad: Any, rows: Any, cols: Any) -> Apply:
        w = _float4d(self, filters, "filters")
        gz = _float4d(self, output_grad, "output_grad")
        rows, cols = _scalar_length(self, rows, "rows"), _scalar_length(self, cols, "cols")
        _check_channels(self, w, gz, (0, 1), "filter count and output-gradient channels")
        image = (sh.static_int(rows), sh.static_int(cols))
        out = self._static_out(image, w.type.shape[2:])
        _check_static_grad(self, gz.type.shape[2:], out)
        shape = (gz.type.shape[0], w.type.shape[1], *image)
        out_type = TensorType(dtypes.upcast(w.dtype, gz.dtype), shape)
        return Apply(self, [w, gz, rows, cols], [out_type()])

    def numpy_callable(self, node: Apply):
        dtype, params, flip, who = self._kernel_args(node)

        def conv2d_grad_inputs(w, gz, rows, cols):
            image = (int(rows), int(cols))
            return _correlate_grad_inputs(_flip(w, flip), gz, image, params, dtype, who)

        return conv2d_grad_inputs

    def infer_shape(self, fgraph, node, input_shapes):
        w_shape, gz_shape = input_shapes[:2]
        return [(gz_shape[0], w_shape[1], node.inputs[2], node.inputs[3])]

    def connection_pattern(self, node):
        return [[True], [True], [False], [False]]

    def grad(self, inputs, output_grads):
        # <h, GI(w, g)> = <g, conv(h, w)>: bilinear in (w, g)
        w, gz = inputs[:2]
        (h,) = output_grads
        props = self._props()
        g_w = Conv2dGradWeights(*props)(h, gz, _length(w, 2), _length(w, 3))
        g_gz = Conv2d(*props)(h, w)
        return [m.cast(g_w, w.dtype), m.cast(g_gz, gz.dtype), None, None]


class Conv2dGradWeights(_BaseConv):
    """The gradient of Conv2d wrt its filters, from (input, output gradient, kernel rows, cols).

    The kernel size is an input because it cannot be recovered from a strided output size.
    """

    def make_node(self, input: Any, output_grad: Any, rows: Any, cols: Any) -> Apply:  # noqa: A002
        x = _float4d(self, input, "input")
        gz = _float4d(self, output_grad, "output_grad")
        rows, cols = _scalar_length(self, rows, "rows"), _scalar_length(self, cols, "cols")
        _check_channels(self, x, gz, (0, 0), "batch sizes of the input and the output gradient")
        kernel = (sh.static_int(rows), sh.static_int(cols))
        out = self._static_out(x.type.shape[2:], kernel)
        _check_static_grad(self, gz.type.shape[2:], out)
        shape = (gz.type.shape[1], x.type.shape[1], *kernel)
        out_type = TensorType(dtypes.upcast(x.dtype, gz.dtype), shape)
        return Apply(self, [x, gz, rows, cols], [out_type()])

    def numpy_callable(self, node: Apply):
        dtype, params, flip, who = self._kernel_args(node)

        def conv2d_grad_weights(x, gz, rows, cols):
            kernel = (int(rows), int(cols))
            flat = _correlate_grad_weights(x, gz, kernel, params, dtype, who)
            return np.ascontiguousarray(_flip(flat, flip))

        return conv2d_grad_weights

    def infer_shape(self, fgraph, node, input_shapes):
        x_shape, gz_shape = input_shapes[:2]
        return [(gz_shape[1], x_shape[1], node.inputs[2], node.inputs[3])]

    def connection_pattern(self, node):
        return [[True], [True], [False], [False]]

    def grad(self, inputs, output_grads):
        # <h, GW(x, g)> = <g, conv(x, h)>: bilinear in (x, g)
        x, gz = inputs[:2]
        (h,) = output_grads
        props = self._props()
        g_x = Conv2dGradInputs(*props)(h, gz, _length(x, 2), _length(x, 3))
        g_gz = Conv2d(*props)(x, h)
        return [m.cast(g_x, x.dtype), m.cast(g_gz, gz.dtype), None, None]


def _check_static_grad(
    op: Any, given: Sequence[int | None], expected: Sequence[int | None]
) -> None:
    for g, e in zip(given, expected, strict=True):
        if g is not None and e is not None and g != e:
            raise ValueError(
                f"{op}: the output gradient has spatial shape {tuple(given)}, but the "
                f"convolution produces {tuple(expected)}"
            )


# ---------------------------------------------------------------------- user functions
def _hinted(x: Any, hint: Any, who: str) -> Any:
    """`x` with the static shape `hint` (None entries allowed), checked at run time."""
    if hint is None:
        return x
    hint = tuple(hint)
    if len(hint) != 4:
        raise ValueError(f"conv2d: {who} must have 4 entries (NCHW), got {hint!r}")
    return sh.specify_shape(x, hint)


def conv2d(
    input: Any,  # noqa: A002 - Theano's name
    filters: Any,
    input_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    image_shape: Sequence[int | None] | None = None,
    filter_dilation: Any = (1, 1),
) -> Any:
    """2-d convolution of a batch of NCHW images with a bank of filters (Theano's nnet.conv2d).

    `border_mode` is 'valid' (no padding), 'full' (kernel - 1), 'half' (kernel // 2), an int
    or an (rows, cols) pair of zero-padding; `subsample` is the stride; `filter_flip=False`
    computes a cross-correlation. `input_shape`/`filter_shape` (alias `image_shape`) give static
    lengths, checked at run time.

    Examples
    --------
    >>> x, w = labsym.tensor.tensor4('x'), labsym.tensor.tensor4('w')
    >>> f = labsym.function([x, w], conv2d(x, w, border_mode='half'))
    >>> f(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)))[0, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: give input_shape or its old name image_shape, not both")
        input_shape = image_shape
    x = _hinted(as_tensor_variable(input), input_shape, "input_shape")
    w = _hinted(as_tensor_variable(filters), filter_shape, "filter_shape")
    return Conv2d(border_mode, subsample, filter_flip, filter_dilation)(x, w)


def conv2d_transpose(
    input: Any,  # noqa: A002 - Theano's name
    filters: Any,
    output_shape: Sequence[Any],
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    input_dilation: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
) -> Any:
    """The transpose of conv2d (its gradient wrt the input), e.g. for upsampling decoders.

    `output_shape` is the (N, C, rows, cols) of the result (only rows and cols are read);
    `input_dilation` is the stride of the convolution being transposed.

    Examples
    --------
    >>> x, w = labsym.tensor.tensor4('x'), labsym.tensor.tensor4('w')
    >>> f = labsym.function([x, w], conv2d_transpose(x, w, (1, 1, 4, 4), input_dilation=2))
    >>> f(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))).shape
    (1, 1, 4, 4)
    """
    if len(output_shape) != 4:
        raise ValueError(
            f"conv2d_transpose: output_shape must have 4 entries, got {output_shape!r}"
        )
    w = _hinted(as_tensor_variable(filters), filter_shape, "filter_shape")
    op = Conv2dGradInputs(border_mode, input_dilation, filter_flip, filter_dilation)
    return op(w, input, output_shape[2], output_shape[3])
