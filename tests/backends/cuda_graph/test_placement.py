"""optim.gpu's placement rewrite, given predicates as parameters (no backend involved)."""

from __future__ import annotations

import numpy as np

from labsym import tensor as T
from labsym.core.fgraph import FunctionGraph
from labsym.core.gpu_type import GpuArrayType, GpuSharedVariable
from labsym.core.graph import ancestors
from labsym.core.ops.elemwise import Elemwise
from labsym.core.ops.gpu import GpuElemwise, GpuFromHost, GpuOp, HostFromGpu, gpu_from_host
from labsym.core.ops.shape import Shape, Shape_i
from labsym.optim.gpu import place_on_gpu, transfers


def _elemwise_only(node):
    return isinstance(node.op, Elemwise) and node.outputs[0].dtype == "float32"


def _reads_inputs(node, fgraph):
    """Whether a transfer moves data computed from the graph's inputs (not a constant)."""
    return any(v in fgraph.inputs for v in ancestors(node.inputs))


def _ops(fgraph):
    return [type(n.op).__name__ for n in fgraph.toposort()]


def test_a_chain_crosses_once_each_way():
    x = T.fmatrix("x")
    y = T.exp(x) * 2 + 1
    z = T.sort(y, axis=0)  # unsupported by the predicate: stays on the host
    out = T.tanh(z)
    fg = FunctionGraph([x], [out], clone=True)
    moved = place_on_gpu(fg, _elemwise_only)
    assert moved == 4  # exp, mul, add, tanh (each Elemwise node, before fusion)
    per_call = [n for n in transfers(fg) if _reads_inputs(n, fg)]
    kinds = [type(n.op).__name__ for n in per_call]
    # x up, y down for the sort, the sort's result up, the result down for the output
    assert kinds == ["GpuFromHost", "HostFromGpu", "GpuFromHost", "HostFromGpu"]
    assert not isinstance(fg.outputs[0].type, GpuArrayType)
    for node in fg.toposort():
        if isinstance(node.op, GpuOp):
            assert all(isinstance(v.type, GpuArrayType) for v in node.inputs + node.outputs)


def test_device_inputs_and_outputs_stay_on_the_device():
    W = GpuSharedVariable(GpuArrayType("float32", (None, None)), None, name="W")
    x = T.fmatrix("x")
    update = W - 0.5 * x
    shape = W.shape[0]  # metadata: read from the device array, no transfer
    fg = FunctionGraph([x, W], [shape, update], clone=True)
    place_on_gpu(fg, _elemwise_only, device_outputs=[1])
    w_in = fg.inputs[1]
    for client, _ in fg.clients[w_in]:
        assert client != "output" and not isinstance(client.op, HostFromGpu)
    assert any(isinstance(c.op, (Shape, Shape_i)) for c, _ in fg.clients[w_in])
    assert isinstance(fg.outputs[1].type, GpuArrayType)
    assert isinstance(fg.outputs[1].owner.op, GpuElemwise)
    ups = [n for n in transfers(fg) if isinstance(n.op, GpuFromHost)]
    assert [n.inputs[0].name for n in ups if _reads_inputs(n, fg)] == ["x"]


def test_scalar_shape_arithmetic_stays_on_the_host():
    x = T.fmatrix("x")
    n = T.cast(x.shape[0], "float32")
    out = x / (n * 2)
    fg = FunctionGraph([x], [out], clone=True)
    place_on_gpu(fg, _elemwise_only)
    for node in fg.toposort():
        if node.outputs[0].ndim == 0 and not isinstance(node.op, GpuFromHost):
            assert not isinstance(node.op, GpuOp), node  # no upload per scalar op


def test_nothing_supported_changes_nothing():
    x = T.dvector("x")
    out = T.exp(x) + 1
    fg = FunctionGraph([x], [out], clone=True)
    before = _ops(fg)
    assert place_on_gpu(fg, lambda node: False) == 0
    assert _ops(fg) == before and transfers(fg) == []


def test_gpu_op_perform_is_the_host_reference(emulated):
    from labsym.backends.cuda.gpuarray import GpuArray

    x = T.fvector("x")
    node = GpuElemwise(T.exp(x).owner.op).make_node(gpu_from_host(x))
    storage = [[None]]
    value = np.array([0.0, 1.0, -2.0], "float32")
    node.op.perform(node, [GpuArray.from_host(emulated, value)], storage)
    assert isinstance(storage[0][0], GpuArray)
    np.testing.assert_allclose(storage[0][0].get(), np.exp(value), rtol=1e-6)
    assert str(node.op) == "GpuElemwise{exp,no_inplace}"


def test_scalar_fed_sources_go_where_their_clients_are():
    """ARange of a length goes to the device only when a device node reads it."""
    from labsym.core.ops.basic import ARange

    def arange_and_elemwise(node):
        return isinstance(node.op, ARange) or _elemwise_only(node)

    def bounds_on_host(node):
        return (0, 1, 2) if isinstance(node.op, ARange) else ()

    x = T.fvector("x")
    n = x.shape[0]
    host_use = T.sort(T.arange(n), axis=0)  # the sort stays on the host: so does the arange
    fg = FunctionGraph([x], [host_use], clone=True)
    place_on_gpu(fg, arange_and_elemwise, bounds_on_host)
    assert transfers(fg) == [] and not any(isinstance(nd.op, GpuOp) for nd in fg.toposort())
    device_use = x * T.cast(T.arange(n), "float32")  # read by a device node: made there
    fg = FunctionGraph([x], [device_use], clone=True)
    place_on_gpu(fg, arange_and_elemwise, bounds_on_host)
    names = [str(nd.op) for nd in fg.toposort()]
    assert any(name.startswith("GpuARange") for name in names), names
    ups = [nd for nd in transfers(fg) if isinstance(nd.op, GpuFromHost)]
    assert [nd.inputs[0].name for nd in ups if _reads_inputs(nd, fg)] == ["x"]  # lengths: host
