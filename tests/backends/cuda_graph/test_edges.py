"""Edge cases of the device path on the emulator: float64, strided and empty inputs, lazy
ifelse, and a kernel plan refusing a layout at run time (the op then runs on the host)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import labsym
from labsym import tensor as T
from labsym.backends.cuda import devicecode, kernels
from labsym.backends.cuda import linker as cuda_linker
from labsym.config import config
from labsym.ifelse import ifelse


def test_float64_step_uses_the_double_gemm(device):
    rng = np.random.RandomState(0)
    W0 = rng.randn(5, 4)
    with config.change_flags(floatX="float64"):  # (under float32, Python constants are float32)
        W = labsym.shared(W0, "W")  # float64 stays float64 on the device
        x = T.dmatrix("x")
        cost = T.sum(T.tanh(T.dot(x, W)) ** 2)
        f = labsym.function([x], cost, updates=[(W, W - 0.01 * T.grad(cost, W))])
    assert "GpuGemm" in str(f.maker.fgraph.outputs[1].owner.op)
    xv = rng.randn(3, 5)
    got = [f(xv) for _ in range(3)]
    Wn = W0.copy()
    want = []
    for _ in range(3):
        h = np.tanh(xv @ Wn)
        want.append(np.sum(h**2))
        Wn = Wn - 0.01 * xv.T @ (2 * h * (1 - h**2))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(W.get_value(), Wn, rtol=1e-12)


def test_strided_broadcast_and_empty_inputs(device):
    x, v = T.fmatrix("x"), T.fvector("v")
    f = labsym.function([x, v], [x * v + 1, (x * v).sum(axis=1), T.dot(x, v)])
    big = np.arange(60, dtype="float32").reshape(6, 10)
    for xv, vv in [
        (big[::-2, 1::2], np.arange(5, dtype="float32")[::-1]),
        (big[:0, :5], np.ones(5, "float32")),
        (big[:, :1].T, np.full(6, 2.0, "float32")),
    ]:
        got = f(xv, vv)
        want = [xv * vv + 1, (xv * vv).sum(axis=1), xv @ vv]
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-6)


def test_lazy_ifelse_between_device_values(device):
    W = labsym.shared(np.arange(4, dtype="float32"), "W")
    c = T.iscalar("c")
    f = labsym.function([c], ifelse(c, T.exp(W), W * 3))
    np.testing.assert_allclose(f(1), np.exp(np.arange(4)), rtol=1e-6)
    np.testing.assert_allclose(f(0), np.arange(4) * 3, rtol=1e-6)


def test_a_layout_refused_at_run_time_runs_on_the_host_with_one_warning(device, monkeypatch):
    real_plan = kernels.plan

    def refuse_sqrt(node, metas, host_values=None):
        if "sqrt" in str(node.op):
            raise kernels.Unsupported("test: this layout has no kernel")
        return real_plan(node, metas, host_values)

    monkeypatch.setattr(kernels, "plan", refuse_sqrt)
    monkeypatch.setattr(devicecode.kernels, "plan", refuse_sqrt)
    cuda_linker._WARNED.discard("Composite")
    x = T.fvector("x")
    xv = np.array([1.0, 4.0, 9.0], "float32")
    with pytest.warns(UserWarning, match="Composite has no CUDA implementation") as record:
        f = labsym.function([x], T.sqrt(x) + 1)  # fused into one Composite
        got = f(xv)
    assert len([w for w in record if "CUDA implementation" in str(w.message)]) == 1
    np.testing.assert_allclose(got, np.sqrt(xv) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(f(xv), np.sqrt(xv) + 1)  # warned once, still right
    with config.change_flags(device="cpu"):
        assert labsym.function([x], T.sqrt(x))(xv).tolist() == [1.0, 2.0, 3.0]


def test_specify_shape_checks_device_arrays_in_place(device):
    W = labsym.shared(np.ones((2, 3), "float32"), "W")
    n = T.lscalar("n")
    checked = T.specify_shape(W, (n, 3))
    f = labsym.function([n], checked * 2)
    np.testing.assert_array_equal(f(2), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="SpecifyShape: expected shape"):
        f(5)
    names = [type(node.op).__name__ for node in f.maker.fgraph.toposort()]
    assert "GpuSpecifyShape" in names and "SpecifyShape" not in names


def test_fused_elementwise_reductions_stay_on_the_device(device):
    """The opt-in fusion of a reduction with its elementwise input: two kernel plans."""
    value = np.arange(6, dtype="float32").reshape(2, 3) / 4
    W = labsym.shared(value, "W")
    mode = labsym.compile.get_mode("FAST_RUN").including("fuse_reduce_elemwise")
    f = labsym.function([], [(T.exp(W) * 2).sum(axis=1), (W**2).sum()], mode=mode)
    fused = [n for n in f.maker.fgraph.toposort() if "Composite" in str(n.op)]
    assert fused and all(str(n.op).startswith("GpuSum") for n in fused)
    device.transfers.clear()
    a, b = f()
    np.testing.assert_allclose(a, (np.exp(value) * 2).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(b, (value**2).sum(), rtol=1e-6)
    assert [kind for kind, _ in device.transfers] == ["dtoh", "dtoh"]  # only the two results


def test_shared_of_a_device_array(device):
    from labsym.backends.cuda.gpuarray import GpuArray

    host = np.arange(12, dtype="float32").reshape(3, 4)
    dev = GpuArray.from_host(device, host)
    copied = labsym.shared(dev[::-1, ::2], target="gpu")  # a strided view: copied on the device
    assert copied.get_value(return_internal_type=True).buffer is not dev.buffer
    np.testing.assert_array_equal(copied.get_value(), host[::-1, ::2])
    kept = labsym.shared(dev, borrow=True)
    assert kept.get_value(return_internal_type=True) is dev
    with pytest.raises(ValueError, match="cannot become float64"):
        labsym.shared(dev, dtype="float64")
