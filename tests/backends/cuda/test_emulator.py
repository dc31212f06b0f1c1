"""The CPU emulator itself: thread/block indices, __syncthreads semantics, argument kinds,
memory copies, GEMM (column-major, as cuBLAS) and its refusals."""

import numpy as np
import pytest

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.protocol import CudaKernel


def _kernel(name, params, signature, body):
    return common.kernel(name, params, signature, body)


def _upload(rt, array):
    ptr = rt.alloc(array.nbytes)
    rt.memcpy_htod(ptr, array)
    return ptr


def _download(rt, ptr, shape, dtype):
    out = np.empty(shape, dtype)
    rt.memcpy_dtoh(out, ptr)
    return out


def test_every_thread_of_a_3d_grid_runs_once_with_its_indices(runtime):
    k = _kernel(
        "ids",
        ("ptr",),
        "long long* out",
        "    long long bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);\n"
        "    long long tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);\n"
        "    long long nt = blockDim.x * blockDim.y * blockDim.z;\n"
        "    out[bx * nt + tx] += 1000 * bx + tx;\n",
    )
    grid, block = (3, 2, 2), (4, 2, 3)
    n = 12 * 24
    ptr = _upload(runtime, np.zeros(n, np.int64))
    runtime.launch(runtime.compile(k), grid, block, [("ptr", ptr)])
    got = _download(runtime, ptr, n, np.int64)
    expected = 1000 * (np.arange(n) // 24) + np.arange(n) % 24
    np.testing.assert_array_equal(got, expected)


def test_syncthreads_is_a_barrier(runtime):
    """Each thread writes shared memory, syncs, then reads a neighbour's value: correct only
    if every thread of the block reached the barrier before any passed it."""
    k = _kernel(
        "rotate",
        ("ptr", "i32"),
        "int* out, int rounds",
        "    __shared__ int buf[64];\n"
        "    int v = threadIdx.x + 100 * blockIdx.x;\n"
        "    for (int r = 0; r < rounds; r++) {\n"
        "        buf[threadIdx.x] = v;\n"
        "        __syncthreads();\n"
        "        v = buf[(threadIdx.x + 1) % blockDim.x];\n"
        "        __syncthreads();\n"
        "    }\n"
        "    out[blockIdx.x * blockDim.x + threadIdx.x] = v;\n",
    )
    ptr = _upload(runtime, np.zeros(3 * 64, np.int32))
    runtime.launch(runtime.compile(k), (3, 1, 1), (64, 1, 1), [("ptr", ptr), ("i32", 5)])
    got = _download(runtime, ptr, (3, 64), np.int32)
    t = np.arange(64)
    expected = (t + 5) % 64 + 100 * np.arange(3)[:, None]
    np.testing.assert_array_equal(got, expected)


def test_scalar_and_dims_arguments_arrive_by_value(runtime):
    k = _kernel(
        "args",
        ("ptr", "i64", "i32", "f64", "f32", "dims"),
        "double* out, long long a, int b, double c, float d, ls_dims e",
        "    out[0] = a; out[1] = b; out[2] = c; out[3] = d;\n"
        "    for (int i = 0; i < 8; i++) out[4 + i] = e.v[i];\n",
    )
    ptr = _upload(runtime, np.zeros(12))
    args = [("ptr", ptr), ("i64", 2**40 + 3), ("i32", -7), ("f64", 0.1), ("f32", 0.5)]
    runtime.launch(runtime.compile(k), (1, 1, 1), (1, 1, 1), [*args, ("dims", (1, -2, 3))])
    got = _download(runtime, ptr, 12, np.float64)
    np.testing.assert_array_equal(got, [2**40 + 3, -7, 0.1, 0.5, 1, -2, 3, 0, 0, 0, 0, 0])
    with pytest.raises(TypeError, match="do not match"):
        runtime.launch(runtime.compile(k), (1, 1, 1), (1, 1, 1), args)


def test_kernels_without_barriers_run_threads_as_plain_calls(runtime):
    """A kernel's coroutine mode comes from its source: only __syncthreads needs coroutines."""
    k = CudaKernel(
        "plain_copy", 'extern "C" __global__ void plain_copy(int* p) { p[0] = 1; }', ("ptr",)
    )
    handle = runtime.compile(k)
    assert handle.coroutines is False
    ptr = _upload(runtime, np.zeros(1, np.int32))
    runtime.launch(handle, (1, 1, 1), (1, 1, 1), [("ptr", ptr)])
    assert _download(runtime, ptr, 1, np.int32)[0] == 1


def test_build_errors_show_the_compiler_log(runtime):
    k = CudaKernel(
        "broken", 'extern "C" __global__ void broken(int* p) { p[0] = undefined_name; }', ("ptr",)
    )
    with pytest.raises(RuntimeError, match="undefined_name"):
        runtime.compile(k)


def test_memcpy_round_trips(runtime):
    a = np.arange(10, dtype=np.float32)
    src = _upload(runtime, a)
    dst = runtime.alloc(a.nbytes)
    runtime.memcpy_dtod(dst, src, a.nbytes)
    np.testing.assert_array_equal(_download(runtime, dst, 10, np.float32), a)
    runtime.free(src)
    runtime.free(dst)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_is_column_major_like_cublas(runtime, dtype, trans_a, trans_b):
    rng = np.random.default_rng(0)
    m, n, k = 3, 4, 5
    lda, ldb, ldc = (k if trans_a else m) + 2, (n if trans_b else k) + 1, m + 3
    a = rng.normal(size=(lda, m if trans_a else k)).astype(dtype)  # column-major storage
    b = rng.normal(size=(ldb, k if trans_b else n)).astype(dtype)
    c = rng.normal(size=(ldc, n)).astype(dtype)
    pa, pb, pc = (_upload(runtime, np.ascontiguousarray(x.T)) for x in (a, b, c))
    runtime.gemm(dtype, trans_a, trans_b, m, n, k, 2.0, pa, lda, pb, ldb, 0.5, pc, ldc)
    got = _download(runtime, pc, (n, ldc), dtype).T  # back to (ldc, n) column-major
    op_a = a[:k].T if trans_a else a[:m]
    op_b = b[:n].T if trans_b else b[:k]
    want = c.copy()
    want[:m] = 2.0 * op_a @ op_b + 0.5 * c[:m]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_emulator_cache_is_private_and_refuses_what_others_could_write(tmp_path, monkeypatch):
    from labsym.backends.c.cache import UnsafeCacheError
    from labsym.backends.cuda import emulator

    if emulator.compiler() is None:
        pytest.skip("the CUDA emulator needs g++")
    cache = tmp_path / "emu"
    monkeypatch.setenv("LABSYM_CUDA_EMU_CACHE", str(cache))
    assert emulator.cache_dir() == cache and (cache.stat().st_mode & 0o777) == 0o700
    rt = emulator.EmulatorRuntime()
    k = _kernel("one", ("ptr",), "int* out", "    out[0] = 7;\n")
    ptr = _upload(rt, np.zeros(1, np.int32))
    rt.launch(rt.compile(k), (1, 1, 1), (1, 1, 1), [("ptr", ptr)])
    assert _download(rt, ptr, (1,), np.int32)[0] == 7
    (lib,) = cache.glob("emu_*.so")
    assert lib.stat().st_mode & 0o022 == 0
    lib.chmod(0o666)  # as if another user could have replaced it: not loaded
    with pytest.raises(UnsafeCacheError, match="writable by other users"):
        emulator.EmulatorRuntime().compile(k)
    cache.chmod(0o777)
    with pytest.raises(UnsafeCacheError, match="writable by other users"):
        emulator.cache_dir()
