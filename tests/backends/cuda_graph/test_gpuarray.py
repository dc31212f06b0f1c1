"""GpuArray on the emulator: round trips, views (any sign of stride), copies, the memory pool;
cuBLAS-semantics products on strided operands (the emulator's gemm is column-major, as cuBLAS)."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.backends.cuda import devicecode
from labsym.backends.cuda.gpuarray import GpuArray, MemoryPool, pool_of

SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4), (1, 7)]
DTYPES = ["float32", "float64", "int32", "int64", "uint8", "bool"]


def _value(shape, dtype, seed=0):
    rng = np.random.RandomState(seed)
    return np.asarray(rng.randn(*shape) * 10).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip(emulated, shape, dtype):
    host = _value(shape, dtype)
    dev = GpuArray.from_host(emulated, host)
    assert (dev.shape, dev.dtype, dev.ndim, dev.size) == (
        host.shape,
        host.dtype,
        host.ndim,
        host.size,
    )
    back = dev.get()
    assert back.shape == host.shape and back.dtype == host.dtype
    np.testing.assert_array_equal(back, host)
    np.testing.assert_array_equal(np.asarray(dev), host)


@pytest.mark.parametrize(
    "index",
    [
        np.s_[::-1],
        np.s_[1:, ::2],
        np.s_[::-2, 1::3],
        np.s_[2],
        np.s_[:, 3],
        np.s_[-1, ::-1],
        np.s_[None, 1:3, None],
        np.s_[..., 1],
        np.s_[1:1],
    ],
)
def test_basic_indexing_views(emulated, index):
    host = _value((4, 6), "float32", 1)
    dev = GpuArray.from_host(emulated, host)
    view = dev[index]
    assert view.buffer is dev.buffer  # a view: no copy
    want = host[index]
    assert view.shape == want.shape
    np.testing.assert_array_equal(view.get(), want)
    np.testing.assert_array_equal(devicecode.contiguous(emulated, view).get(), want)


def test_transpose_dimshuffle_reshape(emulated):
    host = _value((2, 3, 4), "float64", 2)
    dev = GpuArray.from_host(emulated, host)
    np.testing.assert_array_equal(dev.T.get(), host.T)
    np.testing.assert_array_equal(dev.transpose(1, 0, 2).get(), host.transpose(1, 0, 2))
    np.testing.assert_array_equal(
        dev.dimshuffle((2, "x", 0, 1)).get(), host.transpose(2, 0, 1)[:, None]
    )
    np.testing.assert_array_equal(dev.reshape(6, -1).get(), host.reshape(6, 4))
    row = GpuArray.from_host(emulated, host[:1, :1])  # (1, 1, 4): drop both length-1 axes
    np.testing.assert_array_equal(row.dimshuffle((2,)).get(), host[0, 0])
    with pytest.raises(ValueError, match="cannot drop axis 0"):
        dev.dimshuffle((1, 2))
    with pytest.raises(ValueError, match="non-contiguous"):
        dev.T.reshape(24)
    with pytest.raises(ValueError, match="cannot reshape"):
        dev.reshape(5, 5)
    with pytest.raises(IndexError):
        dev[2]


def test_copies_are_new_memory(emulated):
    host = _value((3, 5), "float32", 3)
    dev = GpuArray.from_host(emulated, host)
    for source in (dev, dev[::-1, 1::2], dev.T):
        copy = devicecode.device_copy(emulated, source)
        assert copy.ptr != source.ptr and copy.is_c_contiguous
        np.testing.assert_array_equal(copy.get(), source.get())
    assert devicecode.contiguous(emulated, dev) is dev


def test_memory_pool_reuses_freed_blocks(emulated):
    pool = MemoryPool(emulated)
    ptr, size = pool.alloc(100)
    assert size == MemoryPool.GRANULE
    pool.release(ptr, size)
    assert pool.alloc(300) == (ptr, size)  # the same size class: the same block
    other, _ = pool.alloc(300)
    assert other != ptr
    pool.release(ptr, size)
    pool.release(other, size)
    pool.trim()
    assert pool.cached == {} and pool.cached_bytes == 0
    assert pool_of(emulated) is pool_of(emulated)


def _layouts(rows, cols, dtype, seed):
    """The same matrix as contiguous, transposed view, strided view and negative-stride view."""
    m = _value((rows, cols), dtype, seed)
    big = np.zeros((rows * 2, cols * 3), dtype)
    big[::2, ::3] = m
    yield m, lambda rt: GpuArray.from_host(rt, m)
    yield m, lambda rt: GpuArray.from_host(rt, np.ascontiguousarray(m.T)).T
    yield m, lambda rt: GpuArray.from_host(rt, big)[::2, ::3]
    yield m, lambda rt: GpuArray.from_host(rt, m[::-1])[::-1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, k, n", [(3, 4, 5), (1, 6, 2), (4, 1, 3), (2, 3, 1)])
def test_gemm_into_on_every_layout(emulated, dtype, m, k, n):
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for x, make_x in _layouts(m, k, dtype, 1):
        for y, make_y in _layouts(k, n, dtype, 2):
            z = _value((m, n), dtype, 3)
            out = GpuArray.from_host(emulated, z)
            devicecode.gemm_into(emulated, out, make_x(emulated), make_y(emulated), 0.5, -2.0)
            np.testing.assert_allclose(out.get(), 0.5 * x @ y - 2.0 * z, rtol=rtol, atol=rtol)


def test_dot_of_vectors_and_matrices(emulated):
    import labsym.tensor as T
    from labsym.core.ops.blas import Dot
    from labsym.core.ops.gpu import gpu_from_host, gpu_op_for

    rng = np.random.RandomState(4)
    cases = [((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 5)), ((3,), (3,))]
    for sa, sb in cases:
        a, b = rng.randn(*sa).astype("float32"), rng.randn(*sb).astype("float32")
        va, vb = (
            T.TensorType("float32", (None,) * len(sa))(),
            T.TensorType("float32", (None,) * len(sb))(),
        )
        node = gpu_op_for(Dot()).make_node(gpu_from_host(va), gpu_from_host(vb))
        run = devicecode.dot_thunk(emulated, node)
        got = run(GpuArray.from_host(emulated, a), GpuArray.from_host(emulated, b))
        assert got.shape == np.dot(a, b).shape
        np.testing.assert_allclose(got.get(), np.dot(a, b), rtol=1e-5)
    with pytest.raises(ValueError, match="not aligned"):
        run(
            GpuArray.from_host(emulated, np.ones(2, "float32")),
            GpuArray.from_host(emulated, np.ones(3, "float32")),
        )
