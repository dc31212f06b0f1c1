"""Philox4x32-10: the NumPy reference against the Random123 known-answer vectors, and the
device kernels (run on the emulator) against the reference, bit for bit for uniforms."""

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.backends.cuda.kernels import random as philox

from .conftest import ptx_entries, requires_nvrtc

KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter,key,expected", KNOWN_ANSWERS)
def test_reference_matches_known_answers(counter, key, expected):
    got = philox.philox4x32(np.array([counter], np.uint32), key)
    assert tuple(int(v) for v in got[0]) == expected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n,offset,stream", [(1, 0, 0), (4099, 7, 3), (10, 2**33 + 5, 2**40 + 1)])
def test_uniform_kernel_equals_reference_bit_for_bit(runtime, dtype, n, offset, stream):
    key = (0x12345678, 0x9ABCDEF0)
    (got,) = kernels.run_on(runtime, philox.plan_uniform(n, key, dtype, offset, stream), [])
    want = philox.uniform_reference(n, key, dtype, offset, stream)
    assert got.dtype == want.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)
    assert got.min() >= 0.0 and got.max() < 1.0


def test_draws_depend_on_index_key_and_stream_only(runtime):
    key = (1, 2)
    whole = philox.uniform_reference(40, key)
    # a later call with the offset advanced by the blocks used continues the same sequence
    np.testing.assert_array_equal(philox.uniform_reference(20, key, offset=5), whole[20:])
    assert not np.array_equal(philox.uniform_reference(40, (1, 3)), whole)
    assert not np.array_equal(philox.uniform_reference(40, key, stream=1), whole)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_kernel_matches_reference_and_moments(runtime, dtype):
    n = 20001
    (got,) = kernels.run_on(runtime, philox.plan_normal(n, (5, 6), dtype), [])
    want = philox.normal_reference(n, (5, 6), dtype)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    assert abs(got.mean()) < 0.03 and abs(got.std() - 1.0) < 0.03


def test_uniform_moments():
    u = philox.uniform_reference(100000, (9, 9), "float64")
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert counts.min() > 9500 and counts.max() < 10500


def test_random_kernels_compile_to_ptx():
    requires_nvrtc()
    kernel_list = [
        k
        for dtype in ("float32", "float64")
        for plan in (philox.plan_uniform(8, (1, 2), dtype), philox.plan_normal(8, (1, 2), dtype))
        for k in plan.kernels
    ]
    assert ptx_entries(kernel_list) == {k.name for k in kernel_list}
