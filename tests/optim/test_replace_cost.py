"""Rewriting costs what a replacement touches: a protected-input graph (accept_inplace) is not
scanned whole per replace, nor is the new expression's whole ancestry walked for cycles."""

import numpy as np

import labsym
import labsym.tensor as T
from labsym.core import scalar
from labsym.core.fgraph import FunctionGraph, InconsistencyError
from labsym.core.ops.elemwise import Elemwise
from labsym.optim import driver

ADD_INPLACE = Elemwise(scalar.SCALAR_OPS["add"], {0: 0})


class CountingSet(set):
    """A set that counts how often it is iterated."""

    iterations = 0

    def __iter__(self):
        CountingSet.iterations += 1
        return super().__iter__()


def _chain(n):
    x = T.dvector("x")
    y = ADD_INPLACE(T.exp(x), 1.0)  # an inplace op on an intermediate: allowed
    for i in range(n):
        y = T.sin(y) * 1.0 if i % 2 else T.cos(y) - 0.0
    return x, y


def test_protected_replace_does_not_scan_the_graph():
    x, y = _chain(300)
    graph = FunctionGraph([x], [y])
    graph.protected = set(graph.inputs)
    graph.apply_nodes = CountingSet(graph.apply_nodes)
    CountingSet.iterations = 0
    nodes = list(graph.toposort())
    CountingSet.iterations = 0
    for node in nodes[2:]:
        out = node.outputs[0]
        graph.replace(out, node.op.make_node(*node.inputs).outputs[0])
    assert CountingSet.iterations == 0
    # the check still refuses an overwrite of the protected input
    exp = next(n for n in list(graph.apply_nodes) if n.inputs == graph.inputs).outputs[0]
    try:
        graph.replace(exp, ADD_INPLACE(graph.inputs[0], 2.0))
    except InconsistencyError as error:
        assert "overwrite" in str(error)
    else:
        raise AssertionError("the protected input was overwritten")


def test_rewriting_a_long_chain_walks_no_whole_ancestry(monkeypatch):
    walked = []
    original = driver.ancestors

    def counting(outputs, blockers=()):
        found = original(outputs, blockers)
        walked.append(len(found))
        return found

    monkeypatch.setattr(driver, "ancestors", counting)
    n = 1000
    x, y = _chain(n)
    f = labsym.function([x], y, accept_inplace=True, mode=labsym.Mode(linker="py"))
    assert sum(walked) < 10 * n, (len(walked), sum(walked))  # was about n * n / 2
    value = np.linspace(-1, 1, 5)
    expected = np.exp(value) + 1
    for i in range(n):
        expected = np.sin(expected) * 1.0 if i % 2 else np.cos(expected) - 0.0
    np.testing.assert_allclose(f(value), expected, rtol=1e-12)
