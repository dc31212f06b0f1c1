"""GpuArray: an n-d array in device memory (pointer, shape, dtype, byte strides, its Runtime).

The value of a GpuArrayType variable, as pygpu's GpuArray was Theano's. Views (basic indexing,
transpose, dimshuffle, reshape of contiguous arrays) share the allocation, which is freed when
the last array using it is gone. `get()` copies to a NumPy array. May import backends.cuda.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.indexing import basic_index
from labsym.backends.cuda.protocol import Runtime
from labsym.backends.cuda.runtime import get_runtime


class MemoryPool:
    """Freed device blocks kept by size for reuse, as every GPU array library does: a
    cuMemFree synchronizes the device and a cuMemAlloc costs microseconds, while a training
    step frees and allocates the same sizes on every call. Reuse is safe because every launch
    and copy is ordered on one stream."""

    GRANULE = 512
    LIMIT = 1 << 30  # bytes kept cached at most; beyond, blocks are freed at once

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.cached: dict[int, list[int]] = {}
        self.cached_bytes = 0

    def alloc(self, nbytes: int) -> tuple[int, int]:
        """A block of at least `nbytes`: (pointer, its size class)."""
        size = -(-max(int(nbytes), 1) // self.GRANULE) * self.GRANULE
        blocks = self.cached.get(size)
        if blocks:
            self.cached_bytes -= size
            return blocks.pop(), size
        try:
            return self.runtime.alloc(size), size
        except Exception:  # noqa: BLE001 - out of memory: give the cache back, then retry once
            self.trim()
            return self.runtime.alloc(size), size

    def release(self, ptr: int, size: int) -> None:
        if self.cached_bytes + size > self.LIMIT:
            self.runtime.free(ptr)
            return
        self.cached.setdefault(size, []).append(ptr)
        self.cached_bytes += size

    def trim(self) -> None:
        """Free every cached block."""
        for blocks in self.cached.values():
            for ptr in blocks:
                self.runtime.free(ptr)
        self.cached.clear()
        self.cached_bytes = 0


_POOLS: dict[int, MemoryPool] = {}  # id(runtime) -> its pool (the pool keeps the runtime alive)


def pool_of(runtime: Runtime) -> MemoryPool:
    """The memory pool of a runtime (created on first use)."""
    pool = _POOLS.get(id(runtime))
    if pool is None or pool.runtime is not runtime:
        pool = _POOLS[id(runtime)] = MemoryPool(runtime)
    return pool


class DeviceBuffer:
    """One device allocation from the runtime's pool; returned to it when no array uses it."""

    __slots__ = ("runtime", "ptr", "nbytes", "_pool", "_size")

    def __init__(self, runtime: Runtime, nbytes: int) -> None:
        self.runtime = runtime
        self.nbytes = int(nbytes)
        self._pool = pool_of(runtime)
        self.ptr, self._size = self._pool.alloc(self.nbytes)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit the context may be gone
            self._pool.release(self.ptr, self._size)


@functools.lru_cache(maxsize=64)
def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(dtype)


def c_strides(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    """NumPy's C-contiguous byte strides for `shape`."""
    strides, step = [], itemsize
    for d in reversed(shape):
        strides.append(step)
        step *= max(int(d), 1)
    return tuple(reversed(strides))


class GpuArray:
    """A device array: `ptr` is the address of element (0, ..., 0); strides are in bytes."""

    __labsym_device_array__ = True  # what core.gpu_type recognizes, without importing this
    __slots__ = ("buffer", "ptr", "shape", "dtype", "strides", "meta")

    def __init__(
        self,
        buffer: DeviceBuffer,
        ptr: int,
        shape: Sequence[int],
        dtype: Any,
        strides: Sequence[int] | None = None,
    ) -> None:
        self.buffer = buffer
        self.ptr = int(ptr)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = _dtype(dtype)
        self.strides = (
            c_strides(self.shape, self.dtype.itemsize) if strides is None else tuple(strides)
        )
        self.meta: Any = None  # the kernel-side layout, cached by the CUDA linker

    # ------------------------------------------------------------------ creation
    @classmethod
    def empty(cls, runtime: Runtime, shape: Sequence[int], dtype: Any) -> GpuArray:
        """An uninitialized C-contiguous device array."""
        shape = tuple(int(d) for d in shape)
        dtype = _dtype(dtype)
        buffer = DeviceBuffer(runtime, math.prod(shape) * dtype.itemsize)
        return cls(buffer, buffer.ptr, shape, dtype)

    @classmethod
    def from_host(cls, runtime: Runtime, array: Any) -> GpuArray:
        """A C-contiguous device copy of a host array (one host-to-device transfer)."""
        host = np.asarray(array)
        if not host.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
            host = host.copy(order="C")
        out = cls.empty(runtime, host.shape, host.dtype)
        if host.nbytes:
            runtime.memcpy_htod(out.ptr, host)
        return out

    # ------------------------------------------------------------------ properties
    @property
    def runtime(self) -> Runtime:
        return self.buffer.runtime

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def element_strides(self) -> tuple[int, ...]:
        """Strides in elements (what kernel plans take)."""
        return tuple(s // self.itemsize for s in self.strides)

    @property
    def is_c_contiguous(self) -> bool:
        if self.size <= 1:
            return True
        expected = c_strides(self.shape, self.itemsize)
        return all(d == 1 or s == e for d, s, e in zip(self.shape, self.strides, expected))

    def _span(self) -> tuple[int, int]:
        """Byte offsets (from ptr) of the lowest and one past the highest element."""
        low = sum(s * (d - 1) for s, d in zip(self.strides, self.shape) if s < 0)
        high = sum(s * (d - 1) for s, d in zip(self.strides, self.shape) if s > 0)
        return low, high + self.itemsize

    # ------------------------------------------------------------------ transfers
    def get(self) -> np.ndarray:
        """A C-contiguous NumPy copy (one device-to-host transfer of the bytes it spans)."""
        if self.size == 0:
            return np.empty(self.shape, self.dtype)
        if self.is_c_contiguous:
            out = np.empty(self.shape, self.dtype)
            self.runtime.memcpy_dtoh(out, self.ptr)
            return out
        low, high = self._span()
        raw = np.empty(high - low, np.uint8)
        self.runtime.memcpy_dtoh(raw, self.ptr + low)
        view = np.ndarray(self.shape, self.dtype, buffer=raw, offset=-low, strides=self.strides)
        return np.array(view, copy=True)

    def __reduce__(self) -> tuple:
        """Pickled as its host values; unpickled onto the device of the process that loads it."""
        return (_unpickle, (self.get(),))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        host = self.get()
        return host if dtype is None else host.astype(dtype)

    def copy(self) -> GpuArray:
        """A C-contiguous device copy of a contiguous array (device-to-device)."""
        if not self.is_c_contiguous:
            raise ValueError("GpuArray.copy of a non-contiguous view needs a copy kernel")
        out = GpuArray.empty(self.runtime, self.shape, self.dtype)
        if self.nbytes:
            self.runtime.memcpy_dtod(out.ptr, self.ptr, self.nbytes)
        return out

    # ------------------------------------------------------------------ views
    def _view(self, ptr: int, shape: Sequence[int], strides: Sequence[int]) -> GpuArray:
        return GpuArray(self.buffer, ptr, shape, self.dtype, strides)

    def __getitem__(self, key: Any) -> GpuArray:
        """Basic indexing (ints, slices, Ellipsis, None) as a view, as NumPy's."""
        if not isinstance(key, tuple):
            key = (key,)
        shape, strides, offset = basic_index(self.shape, self.strides, key)
        return self._view(self.ptr + offset, shape, strides)

    def transpose(self, *axes: int) -> GpuArray:
        order = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        order = tuple(order) or tuple(reversed(range(self.ndim)))
        return self._view(
            self.ptr, [self.shape[a] for a in order], [self.strides[a] for a in order]
        )

    @property
    def T(self) -> GpuArray:  # noqa: N802 - NumPy's name
        return self.transpose()

    def dimshuffle(self, pattern: Sequence[Any]) -> GpuArray:
        """Theano's DimShuffle as a view: 'x' inserts a length-1 axis; dropped axes are 1 long."""
        kept = [p for p in pattern if p != "x"]
        for axis in range(self.ndim):
            if axis not in kept and self.shape[axis] != 1:
                raise ValueError(f"cannot drop axis {axis} of length {self.shape[axis]}")
        shape = [1 if p == "x" else self.shape[p] for p in pattern]
        strides = [0 if p == "x" else self.strides[p] for p in pattern]
        return self._view(self.ptr, shape, strides)

    def reshape(self, *shape: Any) -> GpuArray:
        """A view with a new shape (C-contiguous arrays only; -1 infers one length)."""
        dims = list(shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)
        if -1 in dims:
            known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
            dims[dims.index(-1)] = self.size // known if known else 0
        if int(np.prod(dims, dtype=np.int64)) != self.size:
            raise ValueError(f"cannot reshape a GpuArray of shape {self.shape} into {tuple(dims)}")
        if not self.is_c_contiguous:
            raise ValueError("GpuArray.reshape of a non-contiguous view needs a copy first")
        return self._view(self.ptr, dims, c_strides(dims, self.itemsize))

    def __repr__(self) -> str:
        return f"GpuArray(shape={self.shape}, dtype={self.dtype}, runtime={self.runtime.name})"


def _unpickle(host: np.ndarray) -> GpuArray:
    return GpuArray.from_host(get_runtime(), host)
