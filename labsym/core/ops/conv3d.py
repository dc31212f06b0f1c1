"""Theano's nnet.conv3d, written as a sum of conv2d calls over the kernel's depth offsets.

Each depth offset of the kernel is one conv2d of the matching depth slices (folded into the
batch axis), so gradients, shapes and the 2-d kernels are conv2d's. May import core.ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core.graph import Variable
from labsym.core.ops import basic, conv, shape, subtensor
from labsym.core.variable import as_tensor_variable


def _triple(name: str, value: Any, minimum: int) -> tuple[int, int, int]:
    triple = (value,) * 3 if isinstance(value, (int, np.integer)) else tuple(value)
    if len(triple) != 3 or not all(isinstance(v, (int, np.integer)) for v in triple):
        raise ValueError(f"conv3d: {name} must be an int or three ints, got {value!r}")
    if min(triple) < minimum:
        raise ValueError(f"conv3d: {name} entries must be >= {minimum}, got {value!r}")
    return int(triple[0]), int(triple[1]), int(triple[2])


def _depth_padding(border_mode: Any, depth: int, dilation: int) -> tuple[int, Any]:
    """(zero-padding of the depth axis, the border_mode conv2d gets for rows and cols)."""
    dilated = (depth - 1) * dilation + 1
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(
                "conv3d: border_mode must be 'valid', 'full', 'half', an int or three ints, "
                f"got {border_mode!r}"
            )
        pad = {"valid": 0, "full": dilated - 1, "half": dilated // 2}[border_mode]
        return pad, border_mode
    pads = _triple("border_mode", border_mode, 0)
    return pads[0], pads[1:]


def _kernel_depth(filters: Variable, filter_shape: Sequence[Any] | None) -> int:
    depth = filters.type.shape[2]
    if filter_shape is not None and filter_shape[2] is not None:
        if depth is not None and depth != filter_shape[2]:
            raise ValueError(f"conv3d: filter_shape {filter_shape} disagrees with {filters.type}")
        depth = int(filter_shape[2])
    if depth is None:
        raise ValueError(
            "conv3d: the kernel depth must be known when the graph is built: give filter_shape "
            "or filters with a static shape"
        )
    return depth


def conv3d(
    input: Any,  # noqa: A002 - Theano's name
    filters: Any,
    input_shape: Sequence[Any] | None = None,
    filter_shape: Sequence[Any] | None = None,
    border_mode: Any = "valid",
    subsample: Any = (1, 1, 1),
    filter_flip: bool = True,
    filter_dilation: Any = (1, 1, 1),
    num_groups: int = 1,
) -> Variable:
    """3-d convolution of (batch, channels, depth, rows, cols) volumes (Theano's nnet.conv3d).

    filters: (out channels, in channels, depth, rows, cols); border_mode 'valid', 'full',
    'half', an int or three ints; filter_flip=False computes a cross-correlation. The kernel
    depth must be static (from `filter_shape` or the filters' type); num_groups must be 1.
    """
    if num_groups != 1:
        raise NotImplementedError("conv3d: grouped convolutions (num_groups > 1) are not supported")
    x, w = as_tensor_variable(input), as_tensor_variable(filters)
    if x.ndim != 5 or w.ndim != 5:
        raise TypeError(f"conv3d: input and filters must be 5-d, got {x.type} and {w.type}")
    for name, hint in (("input_shape", input_shape), ("filter_shape", filter_shape)):
        if hint is not None and len(hint) != 5:
            raise ValueError(f"conv3d: {name} must have 5 entries, got {hint!r}")
    if input_shape is not None:
        x = shape.specify_shape(x, tuple(input_shape))
    if filter_shape is not None:
        w = shape.specify_shape(w, tuple(filter_shape))
    stride = _triple("subsample", subsample, 1)
    dilation = _triple("filter_dilation", filter_dilation, 1)
    depth = _kernel_depth(w, filter_shape)
    pad, border_2d = _depth_padding(border_mode, depth, dilation[0])
    if pad:
        depth_padded = x.shape[2] + 2 * pad
        zeros = basic.zeros((x.shape[0], x.shape[1], depth_padded, x.shape[3], x.shape[4]), x.dtype)
        x = subtensor.set_subtensor(zeros[:, :, pad:-pad], x)
    batch, out_depth = (
        x.shape[0],
        conv.conv_output_length(x.shape[2], depth, 0, stride[0], dilation[0]),
    )
    total = None
    for k in range(depth):
        # kernel offset k meets the depth slices k*dilation, +stride, ... (one per output depth)
        start = k * dilation[0]
        frames = x[:, :, start : start + (out_depth - 1) * stride[0] + 1 : stride[0]]
        folded = frames.dimshuffle(0, 2, 1, 3, 4).reshape(
            (batch * out_depth, x.shape[1], x.shape[3], x.shape[4]), ndim=4
        )
        kernel = w[:, :, depth - 1 - k] if filter_flip else w[:, :, k]
        maps = conv.conv2d(
            folded,
            kernel,
            border_mode=border_2d,
            subsample=stride[1:],
            filter_flip=filter_flip,
            filter_dilation=dilation[1:],
        )
        total = maps if total is None else total + maps
    out = total.reshape((batch, out_depth, w.shape[0], total.shape[2], total.shape[3]), ndim=5)
    return out.dimshuffle(0, 2, 1, 3, 4)
