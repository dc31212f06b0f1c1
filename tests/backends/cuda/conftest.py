"""Shared fixtures: one EmulatorRuntime per test session (its g++ builds are cached on disk)."""

import numpy as np
import pytest

from labsym.backends.cuda import emulator, kernels, nvrtc


@pytest.fixture(scope="session")
def runtime():
    if emulator.compiler() is None:
        pytest.skip("the CUDA emulator needs g++")
    return emulator.EmulatorRuntime()


def requires_nvrtc():
    reason = nvrtc.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def ptx_entries(kernel_list, chunk=150):
    """Compile kernels to PTX in batched programs; return the set of entry names found."""
    unique = {k.name: k for k in kernel_list}
    found = set()
    names = sorted(unique)
    for start in range(0, len(names), chunk):
        batch = [unique[n] for n in names[start : start + chunk]]
        ptx = nvrtc.compile_ptx("\n".join(k.source for k in batch))
        found.update(n for n in (k.name for k in batch) if f".entry {n}(" in ptx)
    return found


def run(runtime, node, arrays, host_values=None):
    """Plan `node` for these arrays' layouts and run it on the emulator."""
    metas = [kernels.ArrayMeta.of(np.asarray(a)) for a in arrays]
    plan = kernels.plan(node, metas, host_values)
    return kernels.run_on(runtime, plan, arrays)


def run_all(runtime, cases):
    """Run many (node, arrays[, host_values]) cases, building all their kernels in ONE g++ run."""
    plans = []
    for node, arrays, *rest in cases:
        metas = [kernels.ArrayMeta.of(np.asarray(a)) for a in arrays]
        plans.append(kernels.plan(node, metas, rest[0] if rest else None))
    runtime.compile_many(k for p in plans for k in p.kernels)
    return [kernels.run_on(runtime, p, c[1]) for p, c in zip(plans, cases)]


def reference(node, arrays):
    """The node's outputs from its Python implementation (perform)."""
    storage = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        node.op.perform(node, [np.asarray(a) for a in arrays], storage)
    return [np.asarray(s[0], dtype=v.dtype) for s, v in zip(storage, node.outputs)]


def assert_matches(got, want, rtol=None, context=""):
    """Equal (NaN == NaN, signed zeros equal) within a dtype-based tolerance."""
    assert got.shape == want.shape, (context, got.shape, want.shape)
    assert got.dtype == want.dtype, (context, got.dtype, want.dtype)
    if got.dtype.kind == "f":
        rtol = rtol or (2e-5 if got.dtype == np.float32 else 1e-11)
        atol = 1e-6 if got.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=context)
    else:
        np.testing.assert_array_equal(got, want, err_msg=context)
