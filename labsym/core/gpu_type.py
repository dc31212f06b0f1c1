"""GpuArrayType: the type of a tensor whose value lives in GPU memory, and GPU shared variables.

Same dtype and static-shape semantics as TensorType (it is one, so every op's `make_node`
accepts it while a graph is built); its values are device arrays (the CUDA backend's GpuArray,
recognized by duck typing: core never imports a backend). Prints as Theano's
`GpuArrayType<None>(float32, matrix)`. May import core.type, core.shared, core.graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core.shared import SharedVariable
from labsym.core.type import TensorType


def is_device_array(value: Any) -> bool:
    """Whether `value` is a device array (a backend's GpuArray)."""
    return bool(getattr(type(value), "__labsym_device_array__", False))


class GpuArrayType(TensorType):
    """A TensorType whose values are device arrays in the default context (`<None>`)."""

    context_name = None

    def clone(
        self, dtype: object = None, shape: Sequence[int | None] | None = None
    ) -> GpuArrayType:
        return GpuArrayType(dtype or self.dtype, self.shape if shape is None else shape)

    def __hash__(self) -> int:
        return hash((GpuArrayType, self.dtype, self.shape))

    def __str__(self) -> str:
        if self.name:
            return self.name
        return f"GpuArrayType<{self.context_name}>({self.dtype}, {self.kind_name()})"

    __repr__ = __str__

    def is_super(self, other: Any) -> bool:
        """Every value of `other` is one of this type: device types only (host values transfer)."""
        return isinstance(other, GpuArrayType) and TensorType.is_super(self, other)

    def host_type(self) -> TensorType:
        """The TensorType of the same dtype and shape (what HostFromGpu returns)."""
        return TensorType(self.dtype, self.shape)

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Accept a device array of this dtype, rank and static shape; refuse host values."""
        if not is_device_array(value):
            raise TypeError(
                f"{self} holds device arrays, got {type(value).__name__}; host values reach the "
                "device through gpu_from_host (inserted by device=cuda) or shared(..., "
                "target='gpu')"
            )
        if value.dtype != self.numpy_dtype:
            raise TypeError(f"{self} needs dtype {self.dtype}, got a device array of {value.dtype}")
        if len(value.shape) != self.ndim:
            raise TypeError(f"{self} needs {self.ndim} dimensions, got shape {value.shape}")
        for axis, (want, got) in enumerate(zip(self.shape, value.shape)):
            if want is not None and want != got:
                raise TypeError(f"{self} needs length {want} on axis {axis}, got {value.shape}")
        return value

    def values_eq(self, a: Any, b: Any) -> bool:
        return TensorType.values_eq(self, np.asarray(a), np.asarray(b))

    def values_eq_approx(self, a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return TensorType.values_eq_approx(self, np.asarray(a), np.asarray(b), rtol, atol)

    def make_constant(self, value: Any, name: str | None = None) -> Any:
        raise TypeError(f"{self} has no constants: use gpu_from_host of a host constant")


class GpuSharedVariable(SharedVariable):
    """A shared variable whose value stays on the device (Theano's GpuArraySharedVariable).

    `get_value()` copies to a NumPy array (`return_internal_type=True` gives the device array);
    `set_value` uploads host values through the runtime of the current device value.
    """

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        value = self.container.value
        if return_internal_type:
            return value
        return value.get()

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Replace the device value (a device array as is; a host value is checked, uploaded)."""
        if is_device_array(new_value):
            self.container.value = self.type.filter(new_value)
            return
        where = f"set_value on shared variable {self.name or self} ({self.type})"
        try:
            host = self.type.host_type().filter(
                new_value, strict=self.strict, allow_downcast=self.allow_downcast
            )
        except TypeError as exc:
            raise TypeError(f"{where}: {exc}") from None
        current = self.container.value
        self.container.value = type(current).from_host(current.runtime, host)

    def zero(self, borrow: bool = False) -> None:
        """Set the value to zeros of the current shape, on the device."""
        self.set_value(np.zeros(self.container.value.shape, self.dtype))
