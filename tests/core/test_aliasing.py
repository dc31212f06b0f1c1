"""core.aliasing: the one place view_map/destroy_map are followed (fgraph, deep copies, the
destroy analysis and the NumPy engine's output copies all use it)."""

import labsym.tensor as T
from labsym.backends.python import callgen
from labsym.core import aliasing, fgraph, scalar
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import deepcopy
from labsym.core.ops.elemwise import Elemwise
from labsym.optim import destroy

ADD_INPLACE = Elemwise(scalar.SCALAR_OPS["add"], {0: 0})


class EitherView(Op):
    """An output that may be a view of either input (an op may declare several)."""

    __props__ = ()
    view_map = {0: [0, 1]}

    def make_node(self, a, b):
        return Apply(self, [a, b], [a.type()])


def _graph():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    t = x.T  # a view of x
    d = ADD_INPLACE(t, y)  # written into t's memory: x's
    row = d[0]  # a view of d
    fresh = T.exp(row)  # new memory
    return x, y, t, d, row, fresh


def test_every_module_follows_aliases_with_core_aliasing():
    assert destroy.alias_map is aliasing.alias_map
    assert destroy.aliased_inputs is aliasing.aliased_inputs
    assert callgen.alias_roots is aliasing.alias_roots
    for module in (fgraph, deepcopy):
        assert not hasattr(module, "_alias_root") and not hasattr(module, "_views_of")


def test_roots_and_views_through_view_and_destroy_maps():
    x, y, t, d, row, fresh = _graph()
    assert aliasing.alias_map(d.owner) == {0: [0]}
    assert aliasing.aliased_inputs(row) == [d]
    assert aliasing.aliased_inputs(fresh) == []
    for var in (t, d, row):
        assert aliasing.alias_root(var) is x
    assert aliasing.alias_root(fresh) is fresh
    assert aliasing.alias_roots(row, {x, y}) == {x}
    assert aliasing.alias_roots(fresh, {x, y}) == set()
    graph = FunctionGraph([x, y], [row, fresh], clone=False)
    assert aliasing.views_of(x, graph.clients) == {x, t, d, row}
    assert aliasing.views_of(y, graph.clients) == {y}


def test_every_alias_path_is_followed_for_roots():
    x, y = T.dvector("x"), T.dvector("y")
    out = EitherView()(x, T.exp(y).T.T)
    assert aliasing.alias_map(out.owner) == {0: [0, 1]}
    assert aliasing.alias_roots(out, {x, y}) == {x}  # exp(y) is new memory
    both = EitherView()(x.T.T, y)
    assert aliasing.alias_roots(both, {x, y}) == {x, y}
    assert aliasing.alias_root(both) is x  # the first declared path
    graph = FunctionGraph([x, y], [both], clone=False)
    assert both in aliasing.views_of(y, graph.clients)


def test_memory_roots_follow_every_path_to_unaliased_variables():
    from labsym.backends.c import fusion

    assert fusion.memory_roots is aliasing.memory_roots
    x, y, t, d, row, fresh = _graph()
    assert aliasing.memory_roots(row) == {x}  # row -> d -> t -> x (d written into t)
    assert aliasing.memory_roots(fresh) == {fresh}
    both = EitherView()(row, y)
    assert aliasing.memory_roots(both) == {x, y}
