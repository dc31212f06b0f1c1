"""Every node of real optimized training graphs (logistic regression, a tanh MLP, a small
convnet with pooling, an embedding) that has a CUDA kernel runs on the emulator with the values
the graph computes, and matches the node's perform: the rewrites' fused Composites, inplace
Elemwise, CAReduce variants and fused softmax-crossentropy ops as they really occur."""

import numpy as np

import labsym
import labsym.tensor as T
from labsym.backends.cuda import kernels
from labsym.core.graph import Constant

from .conftest import assert_matches, run_all

F32 = np.float32


def _logistic(rng):
    x, y = T.fmatrix("x"), T.lvector("y")
    W = labsym.shared(rng.normal(size=(20, 10)).astype("float32"), name="W")
    b = labsym.shared(np.zeros(10, "float32"), name="b")
    p = T.nnet.softmax(T.dot(x, W) + b)
    cost = T.nnet.categorical_crossentropy(p, y).mean() + F32(1e-3) * (W**2).sum()
    gW, gb = T.grad(cost, [W, b])
    updates = [(W, W - F32(0.1) * gW), (b, b - F32(0.1) * gb)]
    f = labsym.function([x, y], [cost, p.argmax(axis=1)], updates=updates)
    return f, [rng.normal(size=(16, 20)).astype("float32"), rng.integers(0, 10, 16)]


def _mlp(rng):
    x, y = T.dmatrix("x"), T.lvector("y")
    W1 = labsym.shared(rng.normal(size=(12, 30)) * 0.3, name="W1")
    W2 = labsym.shared(rng.normal(size=(30, 5)) * 0.3, name="W2")
    h = T.tanh(T.dot(x, W1))
    out = T.nnet.log_softmax(T.dot(h, W2))
    cost = -out[T.arange(y.shape[0]), y].mean() + abs(W1).max() * 1e-3
    g1, g2 = T.grad(cost, [W1, W2])
    f = labsym.function([x, y], cost, updates=[(W1, W1 - 0.1 * g1), (W2, W2 - 0.1 * g2)])
    return f, [rng.normal(size=(9, 12)), rng.integers(0, 5, 9)]


def _convnet(rng):
    x = T.ftensor4("x")
    w = labsym.shared((rng.normal(size=(4, 2, 3, 3)) * 0.3).astype("float32"), name="w")
    conv = T.nnet.conv2d(x, w, border_mode="half")
    pooled = T.signal.pool.pool_2d(T.nnet.relu(conv), (2, 2), ignore_border=True)
    cost = (pooled**2).mean()
    (gw,) = T.grad(cost, [w])
    f = labsym.function([x], cost, updates=[(w, w - F32(0.1) * gw)])
    return f, [rng.normal(size=(3, 2, 6, 6)).astype("float32")]


def _embedding(rng):
    idx = T.lvector("idx")
    E = labsym.shared(rng.normal(size=(7, 4)), name="E")
    cost = (E[idx] ** 2).sum()
    (gE,) = T.grad(cost, [E])
    f = labsym.function([idx], cost, updates=[(E, E - 0.1 * gE)])
    return f, [np.array([1, 3, 1, 6, 0])]


def _node_cases(f, inputs):
    """(node, input values, host values, perform's outputs) for every node with a kernel."""
    fg = f.maker.fgraph
    values = {}
    for var, value in zip(fg.inputs, inputs + [None] * len(fg.inputs)):
        values[var] = value if value is not None else var.get_value()
    cases = []
    for node in fg.toposort():
        args = [v.data if isinstance(v, Constant) else values[v] for v in node.inputs]
        storage = [[None] for _ in node.outputs]
        node.op.perform(node, [np.array(a, copy=True) for a in args], storage)
        outs = [np.asarray(s[0], dtype=v.dtype) for s, v in zip(storage, node.outputs)]
        values.update(zip(node.outputs, outs))
        if kernels.supports(node):
            host = {k: args[k] for k in kernels.host_inputs(node)}
            cases.append((node, [np.asarray(a) for a in args], host, outs))
    return cases


def test_training_graph_nodes_match_perform(runtime):
    rng = np.random.default_rng(0)
    cases, op_types = [], set()
    for build in (_logistic, _mlp, _convnet, _embedding):
        cases += _node_cases(*build(rng))
    for node, *_ in cases:
        op_types.add(type(node.op).__name__)
    results = run_all(runtime, [(node, args, host) for node, args, host, _ in cases])
    for (node, *_, want), got in zip(cases, results):
        for g, w in zip(got, want):
            assert_matches(g, w, rtol=1e-4 if g.dtype == np.float32 else 1e-9, context=str(node.op))
    expected = {"Composite", "Elemwise", "Sum", "Softmax", "Argmax", "CrossentropySoftmax1Hot"}
    expected |= {"CrossentropySoftmax1HotDx", "Conv2d", "Pool", "MaxPoolGrad", "AdvancedSubtensor1"}
    expected |= {"AdvancedSubtensor", "AdvancedIncSubtensor", "AdvancedIncSubtensor1"}
    assert expected <= op_types, expected - op_types
