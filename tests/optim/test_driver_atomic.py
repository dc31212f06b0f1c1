"""A rule's replacement is all or nothing: a refused later pair undoes the earlier ones."""

import numpy as np

import labsym
import labsym.tensor as T
from labsym.core import scalar
from labsym.core.fgraph import FunctionGraph, InconsistencyError
from labsym.core.ops import reduce as red
from labsym.core.ops.elemwise import Elemwise
from labsym.optim.driver import apply_to_fixed_point, replace_outputs
from labsym.optim.patterns import Rule

ADD_INPLACE = Elemwise(scalar.SCALAR_OPS["add"], {0: 0})


def _graph():
    x = T.dmatrix("x")
    pair = red.MaxAndArgmax((1,))(x)
    fgraph = FunctionGraph([x], [pair[0] * 2, pair[1] + 1], clone=False)
    fgraph.protected = {x}  # the caller's array (check_user_inplace sets this)
    return fgraph, x, pair[0].owner


def _split(fgraph, node):
    """Max (fine), then an Argmax of x overwritten in place (refused: x is protected)."""
    x = node.inputs[0]
    return [red.Max((1,))(x), red.Argmax((1,))(ADD_INPLACE(x, T.constant(1.0)))]


def _snapshot(fgraph):
    return sorted(str(n) for n in fgraph.apply_nodes), list(fgraph.outputs)


def test_second_pair_refused_leaves_the_first_unapplied():
    fgraph, x, node = _graph()
    before = _snapshot(fgraph)
    rule = Rule(
        "split_max_and_argmax", ("specialize",), node_rule=_split, tracks=(red.MaxAndArgmax,)
    )
    assert not replace_outputs(fgraph, node, _split(fgraph, node), rule, "specialize", None)
    assert _snapshot(fgraph) == before
    assert node in fgraph.apply_nodes
    assert [c for c, _ in fgraph.clients[node.outputs[0]]] == [fgraph.outputs[0].owner]
    assert not any(isinstance(n.op, red.Max) for n in fgraph.apply_nodes)
    # the driver then leaves the node as it is: same values as before
    assert apply_to_fixed_point(fgraph, [rule], "specialize") == 0
    assert _snapshot(fgraph) == before


def test_replace_all_undoes_earlier_pairs_and_reraises():
    fgraph, x, node = _graph()
    before = _snapshot(fgraph)
    new_max, new_arg = _split(fgraph, node)
    try:
        fgraph.replace_all([(node.outputs[0], new_max), (node.outputs[1], new_arg)], "test")
    except InconsistencyError as error:
        assert "overwrite" in str(error)
    else:
        raise AssertionError("the protected input was not defended")
    assert _snapshot(fgraph) == before
    rebuilt = FunctionGraph(fgraph.inputs, fgraph.outputs, clone=False)
    assert rebuilt.apply_nodes == fgraph.apply_nodes
    for v in rebuilt.variables:  # the clients as a fresh graph counts them
        assert sorted(map(str, fgraph.clients[v])) == sorted(map(str, rebuilt.clients[v]))
    # two accepted pairs apply together, and compute what the old node did
    fgraph.replace_all([(node.outputs[0], new_max), (node.outputs[1], red.Argmax((1,))(x))])
    assert node not in fgraph.apply_nodes
    value = np.random.default_rng(0).standard_normal((3, 4))
    f = labsym.function([x], fgraph.outputs)
    top, where = f(value)
    np.testing.assert_array_equal(top, value.max(axis=1) * 2)
    np.testing.assert_array_equal(where, value.argmax(axis=1) + 1)
