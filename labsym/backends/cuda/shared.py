"""`shared(value, target='gpu')` and device=cuda: shared variables whose value is a GpuArray.

Registered by the composition root (compile._wire) as a shared() constructor. With
`target='gpu'` (or 'cuda', 'cudaN', 'gpuN') the value goes to the device; with device=cuda and
no target, floating-point arrays do (integer arrays, often indices, stay on the host), as
Theano's gpuarray backend placed shared variables. May import config, core, backends.cuda.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.devicecode import device_copy
from labsym.backends.cuda.gpuarray import GpuArray
from labsym.backends.cuda.runtime import get_runtime
from labsym.config import config
from labsym.core import dtypes
from labsym.core.gpu_type import GpuArrayType, GpuSharedVariable, is_device_array
from labsym.core.shared import SharedVariable


def _device_target(target: Any) -> str | None:
    """The device flag a target names, None for the default placement; TypeError for 'cpu'."""
    if target is None:
        return None
    text = str(target)
    if text == "cpu":
        raise TypeError("target='cpu': a host shared variable")
    if text.startswith(("gpu", "cuda")):
        return text if text[4 if text.startswith("cuda") else 3 :].isdigit() else "cuda"
    raise ValueError(f"shared(target={target!r}): expected 'cpu', 'gpu', 'cuda' or 'cudaN'")


def gpu_shared_constructor(
    value: Any,
    name: str | None = None,
    strict: bool = False,
    allow_downcast: bool | None = None,
    borrow: bool = False,
    target: Any = None,
    broadcastable: Sequence[bool] | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: Any = None,
) -> SharedVariable:
    """A GpuSharedVariable for device targets; TypeError (not mine) for host placement."""
    device = _device_target(target)
    if device is None:
        if config.device == "cpu":
            raise TypeError("device=cpu: a host shared variable")
        device = config.device
        host_value = not is_device_array(value)
        if host_value and (
            not isinstance(value, np.ndarray | np.generic) or value.dtype.kind != "f"
        ):
            raise TypeError("device=cuda keeps non-float values on the host")
    if is_device_array(value):
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise ValueError(f"shared(): a device array of {value.dtype} cannot become {dtype}")
        data = value if borrow else device_copy(value.runtime, value)
    else:
        host = np.asarray(value, dtype=None if dtype is None else dtypes.canonical_dtype(dtype))
        if host.dtype.name not in dtypes.ALL_DTYPES or host.dtype.kind in "cOUSV":
            raise TypeError(f"shared(target='gpu'): no device arrays of dtype {host.dtype}")
        data = GpuArray.from_host(get_runtime(device), host)
    if broadcastable is not None and shape is not None:
        raise TypeError("shared(): give broadcastable or shape, not both")
    if broadcastable is not None:
        static = tuple(1 if b else None for b in broadcastable)
    else:
        static = tuple(shape) if shape is not None else (None,) * len(data.shape)
    type_ = GpuArrayType(data.dtype.name, static)
    return GpuSharedVariable(
        type_, type_.filter(data), name=name, strict=strict, allow_downcast=allow_downcast
    )
