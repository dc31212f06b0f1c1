"""Training steps with device=cuda on the emulator: same numbers as the CPU, parameters resident.

The emulator is selected explicitly (conftest); these are CPU tests of the whole device path
(placement, transfers, kernel plans, cuBLAS-semantics GEMM, host fallbacks), not GPU runs.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import labsym
from labsym import tensor as T
from labsym.backends.cuda import linker as cuda_linker
from labsym.backends.cuda.gpuarray import GpuArray
from labsym.config import config
from labsym.core.gpu_type import GpuArrayType, GpuSharedVariable
from labsym.core.graph import Constant
from labsym.core.ops.gpu import GpuFromHost, GpuOp, HostFromGpu
from labsym.printing import debugprint


def _logreg(n_in: int, n_out: int, seed: int):
    rng = np.random.RandomState(seed)
    W = labsym.shared(rng.randn(n_in, n_out).astype("float32") * 0.1, "W")
    b = labsym.shared(np.zeros(n_out, "float32"), "b")
    x, y = T.fmatrix("x"), T.ivector("y")
    p = T.nnet.softmax(T.dot(x, W) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    gW, gb = T.grad(cost, [W, b])
    lr = np.float32(0.5)
    f = labsym.function([x, y], cost, updates=[(W, W - lr * gW), (b, b - lr * gb)])
    return f, (W, b)


def _mlp(sizes: tuple[int, int, int], seed: int):
    rng = np.random.RandomState(seed)
    n_in, n_hid, n_out = sizes
    W1 = labsym.shared(rng.uniform(-0.5, 0.5, (n_in, n_hid)).astype("float32"), "W1")
    b1 = labsym.shared(np.zeros(n_hid, "float32"), "b1")
    W2 = labsym.shared(rng.uniform(-0.5, 0.5, (n_hid, n_out)).astype("float32"), "W2")
    b2 = labsym.shared(np.zeros(n_out, "float32"), "b2")
    x, y = T.fmatrix("x"), T.ivector("y")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    cost = T.mean(T.nnet.categorical_crossentropy(p, y)) + 1e-3 * (W1**2).sum()
    params = [W1, b1, W2, b2]
    grads = T.grad(cost, params)
    f = labsym.function(
        [x, y], [cost, p.argmax(axis=1)], updates=[(q, q - 0.1 * g) for q, g in zip(params, grads)]
    )
    return f, params


def _data(batch: int, n_in: int, n_out: int, seed: int):
    rng = np.random.RandomState(seed + 100)
    return rng.randn(batch, n_in).astype("float32"), rng.randint(0, n_out, batch).astype("int32")


def _train(build, steps, data):
    f, params = build()
    outs = [f(*data) for _ in range(steps)]
    return outs, [p.get_value() for p in params], f, params


@pytest.mark.parametrize("batch, n_in, n_out", [(11, 7, 3), (4, 20, 5)])
def test_logistic_regression_step_matches_the_cpu(device, batch, n_in, n_out):
    data = _data(batch, n_in, n_out, seed=batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # host fallbacks, tested below
        got, got_params, f, params = _train(lambda: _logreg(n_in, n_out, 1), 4, data)
    assert all(isinstance(p, GpuSharedVariable) for p in params)
    assert all(isinstance(p.get_value(return_internal_type=True), GpuArray) for p in params)
    with config.change_flags(device="cpu"):
        want, want_params, f_cpu, cpu_params = _train(lambda: _logreg(n_in, n_out, 1), 4, data)
    assert not any(isinstance(p, GpuSharedVariable) for p in cpu_params)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=2e-5)
    assert want[-1] < want[0]  # it learns
    for g, w in zip(got_params, want_params):
        assert g.dtype == w.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


def test_mlp_step_matches_the_cpu(device):
    data = _data(16, 12, 4, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, got_params, _, _ = _train(lambda: _mlp((12, 9, 4), 2), 3, data)
    with config.change_flags(device="cpu"):
        want, want_params, _, _ = _train(lambda: _mlp((12, 9, 4), 2), 3, data)
    for (g_cost, g_pred), (w_cost, w_pred) in zip(got, want):
        np.testing.assert_allclose(g_cost, w_cost, rtol=2e-5)
        np.testing.assert_array_equal(g_pred, w_pred)
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=5e-5, atol=1e-6)


def _transfer_nodes(fgraph):
    """The per-call transfers of a graph (a constant is uploaded once, when linked)."""
    nodes = fgraph.toposort()
    ups = [
        n for n in nodes if isinstance(n.op, GpuFromHost) and not isinstance(n.inputs[0], Constant)
    ]
    downs = [n for n in nodes if isinstance(n.op, HostFromGpu)]
    return ups, downs


@pytest.mark.parametrize(
    "build, n_in, n_out",
    [(lambda: _logreg(7, 3, 4), 7, 3), (lambda: _mlp((13, 6, 3), 4), 13, 3)],
    ids=["logreg", "mlp"],
)
def test_parameters_never_leave_the_device_between_steps(device, build, n_in, n_out):
    data = _data(11, n_in, n_out, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, params = build()
    fg = f.maker.fgraph
    shared_inputs = [v for v in fg.inputs if isinstance(v.type, GpuArrayType)]
    assert len(shared_inputs) == len(params)
    for var in shared_inputs:  # read on the device only: by device ops or as metadata
        for client, _ in fg.clients[var]:
            assert client != "output" and not isinstance(client.op, HostFromGpu), client
    n_out_f = len(f.maker.outputs)
    for index in range(n_out_f, len(fg.outputs)):  # every update is computed on the device
        update = fg.outputs[index]
        assert isinstance(update.type, GpuArrayType)
        assert isinstance(update.owner.op, GpuOp), update.owner
    ups, downs = _transfer_nodes(fg)
    f(*data)  # the first call may upload constants once
    for step in range(3):
        device.transfers.clear()
        f(*data)
        n_htod = sum(1 for kind, _ in device.transfers if kind == "htod")
        n_dtoh = sum(1 for kind, _ in device.transfers if kind == "dtoh")
        # one copy per transfer node of the graph: nothing else crosses (no parameter)
        assert (n_htod, n_dtoh) == (len(ups), len(downs)), (step, device.transfers)
        assert all(n.inputs[0] not in shared_inputs for n in downs)
    assert ("htod", data[0].nbytes) in device.transfers  # the input x goes up each call


def test_debugprint_shows_where_transfers_are(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, (W, b) = _logreg(5, 3, 0)
    text = io.StringIO()
    debugprint(f.maker.fgraph, file=text)
    out = text.getvalue()
    assert "GpuFromHost<None>" in out and "HostFromGpu(gpuarray)" in out
    assert "GpuDot22" in out or "GpuGemm" in out
    assert str(W.type) == "GpuArrayType<None>(float32, matrix)"
    assert str(b.type) == "GpuArrayType<None>(float32, vector)"
    # the input x crosses once, however many device nodes read it
    x_uploads = [
        n
        for n in f.maker.fgraph.toposort()
        if isinstance(n.op, GpuFromHost) and n.inputs[0].name == "x"
    ]
    assert len(x_uploads) == 1


def test_fallback_warns_once_per_op_type(device):
    """Ops without a device implementation run on the host between explicit transfers."""
    x = T.fmatrix("x")
    W = labsym.shared(np.ones((3, 4), "float32"), "W")
    h = T.dot(x, W)
    out = T.sort(h, axis=1) + T.sort(h, axis=0)  # Sort has no CUDA implementation
    cuda_linker._WARNED.discard("SortOp")
    with pytest.warns(UserWarning) as record:
        f = labsym.function([x], out)
    sort_warnings = [w for w in record if "SortOp" in str(w.message)]
    assert len(sort_warnings) == 1, [str(w.message) for w in record]
    assert "runs on the host with explicit transfers" in str(sort_warnings[0].message)
    xv = np.random.RandomState(0).randn(2, 3).astype("float32")
    hv = xv @ np.ones((3, 4), "float32")
    np.testing.assert_allclose(f(xv), np.sort(hv, axis=1) + np.sort(hv, axis=0), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second function: no second warning for SortOp
        g = labsym.function([x], T.sort(T.dot(x, W), axis=1))
    np.testing.assert_allclose(g(xv), np.sort(hv, axis=1), rtol=1e-6)
    sorts = [n for n in f.maker.fgraph.toposort() if "Sort" in str(n.op)]
    for node in sorts:  # between explicit transfers
        assert isinstance(node.inputs[0].owner.op, HostFromGpu)


def test_shared_target_gpu_get_set_value(device):
    value = np.arange(6, dtype="float64").reshape(2, 3)
    with config.change_flags(device="cpu"):  # target= alone puts it on the device
        s = labsym.shared(value, name="s", target="gpu")
        host = labsym.shared(np.arange(3, dtype="float32"))
    assert isinstance(s, GpuSharedVariable) and not isinstance(host, GpuSharedVariable)
    assert str(s.type) == "GpuArrayType<None>(float64, matrix)"
    np.testing.assert_array_equal(s.get_value(), value)
    s.set_value(value[::-1, ::-2] * 2)  # a strided host value is uploaded
    np.testing.assert_array_equal(s.get_value(), value[::-1, ::-2] * 2)
    with pytest.raises(TypeError, match="set_value"):
        s.set_value(np.zeros((2, 2, 2)))
    ints = labsym.shared(np.arange(4, dtype="int32"))  # device=cuda keeps ints on the host
    assert not isinstance(ints, GpuSharedVariable)
    floats = labsym.shared(np.ones(4, "float32"))
    assert isinstance(floats, GpuSharedVariable)
    with pytest.raises(ValueError, match="target"):
        labsym.shared(value, target="tpu")


def test_function_of_device_shared_returns_host_values(device):
    W = labsym.shared(np.arange(6, dtype="float32").reshape(2, 3), "W")
    x = T.fvector("x")
    f = labsym.function([x], [T.dot(x, W), W * 2, W.T])
    xv = np.array([1.0, -2.0], "float32")
    a, b, c = f(xv)
    Wv = np.arange(6, dtype="float32").reshape(2, 3)
    for got, want in ((a, xv @ Wv), (b, Wv * 2), (c, Wv.T)):
        assert type(got) is np.ndarray
        np.testing.assert_allclose(got, want, rtol=1e-6)
    counter = labsym.shared(np.zeros((), "float32"), "counter")
    step = labsym.function([], counter, updates=[(counter, counter + 1)])
    assert [float(step()) for _ in range(3)] == [0.0, 1.0, 2.0]
    assert isinstance(counter.get_value(return_internal_type=True), GpuArray)
    same = labsym.function([], [], updates=[(W, W)])  # a device value kept as it is
    same()
    np.testing.assert_array_equal(W.get_value(), Wv)
    assert isinstance(W.get_value(return_internal_type=True), GpuArray)


def _rnn(seed: int):
    rng = np.random.RandomState(seed)
    W = labsym.shared(rng.randn(4, 5).astype("float32") * 0.3, "W")
    U = labsym.shared(rng.randn(5, 5).astype("float32") * 0.3, "U")
    X = T.ftensor3("X")  # time, batch, features
    h0 = T.zeros((X.shape[1], 5), dtype="float32")

    def step(x_t, h, W, U):
        return T.tanh(T.dot(x_t, W) + T.dot(h, U))

    hs, _ = labsym.scan(step, sequences=X, outputs_info=h0, non_sequences=[W, U])
    cost = (hs[-1] ** 2).sum()
    gW, gU = T.grad(cost, [W, U])
    lr = np.float32(0.1)
    f = labsym.function([X], cost, updates=[(W, W - lr * gW), (U, U - lr * gU)])
    return f, (W, U)


def test_scan_rnn_step_matches_the_cpu(device):
    """Scan runs on the host, its inner functions on the device, reading W and U there."""
    X = np.random.RandomState(1).randn(6, 3, 4).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, got_params, _, _ = _train(lambda: _rnn(0), 3, (X,))
    with config.change_flags(device="cpu"):
        want, want_params, _, _ = _train(lambda: _rnn(0), 3, (X,))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=2e-5)
    for g, w in zip(got_params, want_params):
        np.testing.assert_allclose(g, w, rtol=5e-5, atol=1e-6)


def test_gpu_shared_variables_under_device_cpu_are_linked_for_the_device(device):
    """shared(..., target='gpu') with device=cpu: functions touching it run on the device."""
    with config.change_flags(device="cpu"):
        W = labsym.shared(np.ones((3, 2), "float32"), "W", target="gpu")
        x = T.fvector("x")
        f = labsym.function([x], T.dot(x, W), updates=[(W, W * 2)])
        g = labsym.function([x], x + 1)  # no device value: the CPU linker as before
        xv = np.array([1, 2, 3], "float32")
        np.testing.assert_allclose(f(xv), [6.0, 6.0])
        np.testing.assert_allclose(f(xv), [12.0, 12.0])
    assert f.maker.mode.linker.name == "cuda" and g.maker.mode.linker.name != "cuda"
    assert isinstance(W.get_value(return_internal_type=True), GpuArray)
    np.testing.assert_array_equal(W.get_value(), np.full((3, 2), 4.0, "float32"))


def test_minibatch_givens_over_a_gpu_dataset_run_on_the_device(device):
    """Theano's minibatch idiom: the dataset is a GPU shared variable reached only through
    givens (`x` is replaced by a slice of it): the function is linked for the device."""
    data = np.arange(12, dtype="float32").reshape(6, 2)
    with config.change_flags(device="cpu"):
        dataset = labsym.shared(data, "dataset", target="gpu")
        x, i = T.fmatrix("x"), T.lscalar("i")
        f = labsym.function([i], x.sum(axis=0), givens={x: dataset[i * 2 : (i + 1) * 2]})
        g = labsym.function([i], x.sum(axis=0), givens=[(x, dataset[i * 2 : (i + 1) * 2])])
        np.testing.assert_allclose(f(1), data[2:4].sum(0))
        np.testing.assert_allclose(g(2), data[4:6].sum(0))
    assert f.maker.mode.linker.name == "cuda" and g.maker.mode.linker.name == "cuda"


def test_device_values_pickle_as_host_values(device):
    import pickle

    W = labsym.shared(np.arange(6, dtype="float32").reshape(2, 3), "W")
    x = T.fvector("x")
    f = labsym.function([x], T.dot(x, W))
    W2 = pickle.loads(pickle.dumps(W))
    assert isinstance(W2, GpuSharedVariable) and str(W2.type) == str(W.type)
    assert isinstance(W2.get_value(return_internal_type=True), GpuArray)
    np.testing.assert_array_equal(W2.get_value(), W.get_value())
    g = pickle.loads(pickle.dumps(f))  # recompiled, reading its own copy of W
    xv = np.array([1.0, 2.0], "float32")
    np.testing.assert_allclose(g(xv), f(xv))


def test_basic_indexing_is_a_device_view(device):
    value = np.arange(24, dtype="float32").reshape(4, 6)
    W = labsym.shared(value, "W")
    i = T.lscalar("i")
    outs = [W[1:, ::-2], W[i], W[-1, 2], W[None, :, 3], (W[::2] * 2).sum(axis=0)]
    f = labsym.function([i], outs)
    got = f(2)
    want = [value[1:, ::-2], value[2], value[-1, 2], value[None, :, 3], (value[::2] * 2).sum(0)]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(f(-1)[1], value[-1])
    for node in f.maker.fgraph.toposort():
        if "Subtensor" in str(node.op):
            assert "GpuSubtensor" in type(node.op).__name__  # no copy to the host first


def test_a_checking_mode_on_device_values_says_it_runs_on_the_device(device):
    W = labsym.shared(np.ones(3, "float32"), "W")
    with pytest.warns(UserWarning, match="runs on the CUDA linker, without this mode's"):
        f = labsym.function([], W * 2, mode="DebugMode")
    np.testing.assert_array_equal(f(), [2.0, 2.0, 2.0])
    assert f.maker.mode.linker.name == "cuda"
