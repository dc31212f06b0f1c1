"""Theano's `theano.tensor.nnet.abstract_conv`: the conv2d family and bilinear upsampling.

Theano's AbstractConv2d ops are labsym's Conv2d ops (same parameters, same perform/grad);
conv2d_grad_wrt_weights, get_conv_output_shape and bilinear_upsampling are composed here
from them, as Theano composed them. May import config and core.ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labsym.config import config
from labsym.core.ops import basic
from labsym.core.ops import math as m
from labsym.core.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from labsym.core.ops.conv import conv2d as _conv2d
from labsym.core.ops.conv3d import conv3d
from labsym.core.ops.nnet_helpers import conv2d_grad_wrt_inputs, no_groups, separable_conv2d
from labsym.core.variable import as_tensor_variable

AbstractConv2d = Conv2d  # Theano's class names for isinstance checks and graph inspection
AbstractConv2d_gradInputs = Conv2dGradInputs
AbstractConv2d_gradWeights = Conv2dGradWeights


def conv2d(
    input: Any,  # noqa: A002 - Theano's name
    filters: Any,
    input_shape: Sequence[int | None] | None = None,
    filter_shape: Sequence[int | None] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
    unshared: bool = False,
) -> Any:
    """Theano's abstract conv2d (the same op as `T.nnet.conv2d`), with its full signature."""
    no_groups("conv2d", num_groups, unshared)
    return _conv2d(
        input,
        filters,
        input_shape=input_shape,
        filter_shape=filter_shape,
        border_mode=border_mode,
        subsample=subsample,
        filter_flip=filter_flip,
        filter_dilation=filter_dilation,
    )


def conv2d_grad_wrt_weights(
    input: Any,  # noqa: A002 - Theano's name
    output_grad: Any,
    filter_shape: Sequence[Any],
    input_shape: Sequence[Any] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1),
    num_groups: int = 1,
    unshared: bool = False,
) -> Any:
    """The gradient of conv2d(input, filters) wrt filters of `filter_shape` (4 entries)."""
    no_groups("conv2d_grad_wrt_weights", num_groups, unshared)
    if len(filter_shape) != 4:
        raise ValueError(
            f"conv2d_grad_wrt_weights: filter_shape must have 4 entries, got {filter_shape!r}"
        )
    op = Conv2dGradWeights(border_mode, subsample, filter_flip, filter_dilation)
    return op(input, output_grad, filter_shape[2], filter_shape[3])


def get_conv_shape_1axis(
    image_shape: int | None,
    kernel_shape: int | None,
    border_mode: Any,
    subsample: int,
    dilation: int = 1,
) -> int | None:
    """Output length of a convolution along one axis; None when a length is unknown."""
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    dil_kernel = (kernel_shape - 1) * dilation + 1
    if border_mode == "half":
        pad = dil_kernel // 2
    elif border_mode == "full":
        pad = dil_kernel - 1
    elif border_mode == "valid":
        pad = 0
    else:
        pad = int(border_mode)
        if pad < 0:
            raise ValueError("border_mode must be >= 0")
    return (image_shape + 2 * pad - dil_kernel) // subsample + 1


def get_conv_output_shape(
    image_shape: Sequence[int | None],
    kernel_shape: Sequence[int | None],
    border_mode: Any,
    subsample: Sequence[int],
    filter_dilation: Sequence[int] | None = None,
) -> tuple:
    """(batch, output channels, *output lengths) of a convolution, None where unknown."""
    bsize, imshp = image_shape[0], image_shape[2:]
    nkern, kshp = kernel_shape[0], kernel_shape[2:]
    if filter_dilation is None:
        filter_dilation = (1,) * len(subsample)
    modes = border_mode if isinstance(border_mode, tuple) else (border_mode,) * len(subsample)
    out = tuple(
        get_conv_shape_1axis(imshp[i], kshp[i], modes[i], subsample[i], filter_dilation[i])
        for i in range(len(subsample))
    )
    return (bsize, nkern, *out)


def bilinear_kernel_1D(ratio: int, normalize: bool = True) -> Any:  # noqa: N802 - Theano's
    """The 1-d kernel [1, 2, .., ratio, .., 2, 1] (/ ratio) that upsamples by `ratio`."""
    half_kern = basic.arange(1, ratio + 1, dtype=config.floatX)
    kern = basic.concatenate([half_kern, half_kern[-2::-1]])
    return kern / m.cast(ratio, config.floatX) if normalize else kern


def bilinear_kernel_2D(ratio: int, normalize: bool = True) -> Any:  # noqa: N802 - Theano's
    """The outer product of two bilinear_kernel_1D: the 2-d bilinear upsampling kernel."""
    ratio_h, ratio_v = ratio if isinstance(ratio, tuple) else (ratio, ratio)
    hkern = bilinear_kernel_1D(ratio_h, normalize).dimshuffle("x", 0)
    vkern = bilinear_kernel_1D(ratio_v, normalize).dimshuffle(0, "x")
    return hkern * vkern


def bilinear_upsampling(
    input: Any,  # noqa: A002 - Theano's name
    ratio: int | None = None,
    frac_ratio: Any = None,
    batch_size: int | None = None,
    num_input_channels: int | None = None,
    use_1D_kernel: bool = True,  # noqa: N803 - Theano's name
) -> Any:
    """Upsample the last two axes of a 4-d tensor by an integer `ratio`, bilinearly.

    As Theano: the border is replicated once, then a transposed convolution with the
    bilinear kernel (two 1-d passes, or one 2-d pass with use_1D_kernel=False).
    """
    if ratio and frac_ratio:
        raise ValueError("can't use ratio and frac_ratio together")
    if not (ratio or frac_ratio):
        raise ValueError("No ratio (or frac_ratio) provided")
    if frac_ratio:
        raise NotImplementedError("bilinear_upsampling: frac_ratio is not supported in labsym")
    x = as_tensor_variable(input)
    up_bs = (
        batch_size * num_input_channels if None not in (batch_size, num_input_channels) else None
    )
    row, col = x.shape[2], x.shape[3]
    up = x.reshape((-1, 1, row, col))
    up = basic.concatenate([up[:, :, :1, :], up, up[:, :, -1:, :]], axis=2)
    up = basic.concatenate([up[:, :, :, :1], up, up[:, :, :, -1:]], axis=3)
    pad = 2 * ratio - (ratio - 1) // 2 - 1
    final = (up_bs, 1, row * ratio, col * ratio)
    if use_1D_kernel:
        kern = bilinear_kernel_1D(ratio)
        rows = conv2d_grad_wrt_inputs(
            up,
            kern.dimshuffle("x", "x", 0, "x"),
            (up_bs, 1, row * ratio, col + 2),
            filter_shape=(1, 1, None, 1),
            border_mode=(pad, 0),
            subsample=(ratio, 1),
        )
        out = conv2d_grad_wrt_inputs(
            rows,
            kern.dimshuffle("x", "x", "x", 0),
            final,
            filter_shape=(1, 1, 1, None),
            border_mode=(0, pad),
            subsample=(1, ratio),
        )
    else:
        kern = bilinear_kernel_2D(ratio)
        out = conv2d_grad_wrt_inputs(
            up,
            kern.dimshuffle("x", "x", 0, 1),
            final,
            filter_shape=(1, 1, None, None),
            border_mode=(pad, pad),
            subsample=(ratio, ratio),
        )
    return out.reshape((x.shape[0], x.shape[1], row * ratio, col * ratio))


__all__ = [
    "AbstractConv2d",
    "AbstractConv2d_gradInputs",
    "AbstractConv2d_gradWeights",
    "bilinear_kernel_1D",
    "bilinear_kernel_2D",
    "bilinear_upsampling",
    "conv2d",
    "conv2d_grad_wrt_inputs",
    "conv2d_grad_wrt_weights",
    "conv3d",
    "get_conv_output_shape",
    "get_conv_shape_1axis",
    "separable_conv2d",
]
