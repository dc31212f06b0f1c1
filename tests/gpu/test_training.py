"""Training steps on a real GPU: logistic regression, MLP and a scan RNN against the CPU, and the
transfer count of a step (the same builders as the emulator tests in tests/backends/cuda_graph)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from labsym.backends.cuda.gpuarray import GpuArray
from labsym.config import config
from labsym.core.graph import Constant
from labsym.core.ops.gpu import GpuFromHost, HostFromGpu
from tests.backends.cuda_graph.test_training import _data, _logreg, _mlp, _rnn, _train


def _compare(build, steps, data, rtol=2e-5):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, got_params, f, params = _train(build, steps, data)
    with config.change_flags(device="cpu"):
        want, want_params, _, _ = _train(build, steps, data)
    for g, w in zip(got, want):
        for gv, wv in zip(
            np.atleast_1d(g) if not isinstance(g, list) else g,
            np.atleast_1d(w) if not isinstance(w, list) else w,
        ):
            np.testing.assert_allclose(gv, wv, rtol=rtol, atol=1e-6)
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=5e-5, atol=1e-6)
    return f, params


@pytest.mark.parametrize("batch", [128, 1024])
def test_logistic_regression_step(on_gpu, batch):
    f, params = _compare(lambda: _logreg(784, 10, 0), 4, _data(batch, 784, 10, 0))
    assert all(isinstance(p.get_value(return_internal_type=True), GpuArray) for p in params)


@pytest.mark.parametrize("batch", [128, 1024])
def test_mlp_step_and_its_transfers(on_gpu, batch):
    data = _data(batch, 784, 10, 1)
    f, params = _compare(lambda: _mlp((784, 500, 10), 1), 3, data)
    nodes = f.maker.fgraph.toposort()
    ups = [
        n for n in nodes if isinstance(n.op, GpuFromHost) and not isinstance(n.inputs[0], Constant)
    ]
    downs = [n for n in nodes if isinstance(n.op, HostFromGpu)]
    on_gpu.transfers.clear()
    f(*data)
    kinds = [k for k, _ in on_gpu.transfers]
    assert (kinds.count("htod"), kinds.count("dtoh")) == (len(ups), len(downs))
    moved = sum(n for _, n in on_gpu.transfers)
    inputs_and_outputs = data[0].nbytes + data[1].nbytes + 4 + batch * 8  # cost, argmax
    assert moved <= inputs_and_outputs + 64  # (+ a few scalars): the parameters stay put


def test_scan_rnn_step(on_gpu):
    X = np.random.RandomState(1).randn(6, 3, 4).astype("float32")
    _compare(lambda: _rnn(0), 3, (X,))
