"""The layout of a basic index (ints, slices, None, Ellipsis) over (shape, strides), NumPy's rules.

GpuArray's views (strides in bytes) and the Subtensor kernels' ArrayMeta (strides in elements)
both index this way; the offset comes out in the strides' unit. Imports nothing from labsym.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any


def basic_index(
    shape_in: Sequence[int], strides_in: Sequence[int], key: Sequence[Any]
) -> tuple[list[int], list[int], int]:
    """(shape, strides, offset of element (0, ..., 0)) of a view [key]; IndexError as NumPy."""
    key = tuple(key)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > len(shape_in):
        raise IndexError(f"too many indices: {used} for an array of {len(shape_in)} dims")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape_in) - used) + key[at + 1 :]
    shape, strides, offset, axis = [], [], 0, 0
    for k in key:
        if k is None:
            shape.append(1)
            strides.append(0)
            continue
        length, stride = shape_in[axis], strides_in[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(length)
            shape.append(len(range(start, stop, step)))
            strides.append(stride * step)
            offset += start * stride if shape[-1] else 0
        else:
            i = operator.index(k)
            if not -length <= i < length:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {length}")
            offset += (i % length) * stride
        axis += 1
    shape += shape_in[axis:]
    strides += strides_in[axis:]
    return shape, strides, offset
