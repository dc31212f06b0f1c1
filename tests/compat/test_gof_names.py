"""The theano.gof and theano.compile names Theano programs import, each doing what Theano's did."""

from __future__ import annotations

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.core import graph as core_graph
from labsym.core.ops.elemwise import Elemwise
from labsym.core.shared import Container
from labsym.optim import user_api


def test_gof_is_imported_by_import_theano_with_its_submodules():
    gof = theano.gof
    assert gof.Op is theano.Op and gof.Apply is theano.Apply and gof.Variable is theano.Variable
    assert gof.Constant is theano.Constant and gof.Type is core_graph.Type
    assert gof.graph.Apply is gof.Apply and gof.graph.Variable is gof.Variable
    assert gof.graph.Constant is gof.Constant
    assert gof.link.WrapLinker is gof.WrapLinker and gof.link.PerformLinker is gof.PerformLinker
    assert gof.Container is Container and gof.link.Container is Container
    assert isinstance(theano.shared(np.zeros(2)).container, gof.Container)


def test_gof_local_optimizer_names_are_labsyms_rewrite_api():
    gof = theano.gof
    assert gof.local_optimizer is user_api.local_optimizer
    assert gof.LocalOptimizer is user_api.LocalOptimizer
    assert gof.OpSub is user_api.OpSub and gof.PatternSub is user_api.PatternSub
    assert gof.opt.PatternSub is gof.PatternSub
    log_exp = gof.PatternSub((T.log, (T.exp, "x")), "x")
    assert isinstance(log_exp, gof.LocalOptimizer)
    assert log_exp.math == "log(exp(x)) -> x"


def test_gof_graph_traversals_follow_theano():
    x, y = T.dscalars("x", "y")
    s = x + y
    z = s * x
    assert theano.gof.graph.inputs([z]) == [x, y]
    *variables, two = theano.gof.graph.inputs([z * 2])  # constants are inputs too, in DFS order
    assert variables == [x, y] and isinstance(two, theano.gof.Constant) and two.data == 2
    order = theano.gof.graph.io_toposort([x, y], [z])
    assert order == [s.owner, z.owner]  # each node after the nodes feeding it
    assert theano.gof.graph.io_toposort([s, x], [z]) == [z.owner]
    assert theano.gof.graph.ancestors([z]) == [z, s, x, y]


def test_missing_input_error_is_a_value_error_in_gof_and_compile():
    assert theano.gof.MissingInputError is theano.compile.MissingInputError
    assert theano.compile.function_module.MissingInputError is theano.gof.MissingInputError
    assert issubclass(theano.gof.MissingInputError, ValueError)
    x, y = T.dscalars("x", "y")
    with pytest.raises(theano.gof.MissingInputError, match="the graph needs y"):
        theano.function([x], x + y)


def test_unused_input_error_is_raised_for_an_input_no_output_uses():
    x, y = T.dscalars("x", "y")
    error = theano.compile.function_module.UnusedInputError
    assert error is theano.compile.UnusedInputError and issubclass(error, ValueError)
    with pytest.raises(error, match="input variable at index 1 is not part"):
        theano.function([x, y], x * 2)


def test_gof_utils_method_not_defined():
    error = theano.gof.utils.MethodNotDefined
    assert issubclass(error, Exception) and not issubclass(error, NotImplementedError)
    with pytest.raises(error, match="no C code"):
        raise error("no C code for float16")


def test_compile_names_map_to_labsym_code():
    compile_ = theano.compile
    assert compile_.Mode is compile_.mode.Mode and compile_.get_mode is compile_.mode.get_mode
    default = compile_.mode.get_default_mode()
    assert isinstance(default, compile_.Mode) and default.by_name == theano.config.mode
    assert compile_.get_default_mode is compile_.mode.get_default_mode
    assert compile_.DebugMode is compile_.debugmode.DebugMode
    assert compile_.SharedVariable is theano.SharedVariable and compile_.shared is theano.shared
    assert compile_.sharedvalue.shared is theano.shared
    assert compile_.In is compile_.io.In is theano.In and compile_.Out is compile_.io.Out
    assert compile_.OpFromGraph is compile_.builders.OpFromGraph is theano.OpFromGraph
    assert compile_.as_op is compile_.ops.as_op
    assert compile_.ProfileStats is compile_.profiling.ProfileStats
    x = T.dvector("x")
    f = theano.function([x], x + 1)
    assert isinstance(f, compile_.function_module.Function)
    assert isinstance(f.maker, compile_.function_module.FunctionMaker)


def test_as_op_from_theano_compile_ops_runs():
    @theano.compile.ops.as_op(itypes=[T.dvector], otypes=[T.dvector])
    def reverse(v):
        return v[::-1]

    x = T.dvector("x")
    assert theano.function([x], reverse(x))(np.array([1.0, 2.0, 3.0])).tolist() == [3, 2, 1]
    assert isinstance(reverse, theano.compile.ops.FromFunctionOp)
    assert str(reverse) == "FromFunctionOp{reverse}"


def test_theano_compile_ops_shape_ops():
    ops = theano.compile.ops
    x = T.dmatrix("x")
    shape = ops.shape(x)
    assert isinstance(shape.owner.op, ops.Shape)
    assert theano.function([x], shape)(np.zeros((2, 5))).tolist() == [2, 5]
    fixed = ops.specify_shape(x, (2, 5))
    assert isinstance(fixed.owner.op, ops.SpecifyShape)
    with pytest.raises(ValueError, match=r"expected shape \(2, 5\), got \(3, 5\)"):
        theano.function([x], fixed, mode="FAST_COMPILE")(np.zeros((3, 5)))
    assert issubclass(ops.Shape_i, theano.gof.Op)


def test_profile_stats_from_theano_compile_profiling():
    x = T.dvector("x")
    stats = theano.compile.profiling.ProfileStats(name="mine")
    f = theano.function([x], T.exp(x).sum(), profile=stats)
    f(np.zeros(3))
    assert f.profile is stats and stats.call_count == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_mode_at_theano_compile_and_its_module():
    from labsym.compile.nanguardmode import NanGuardMode

    assert theano.compile.NanGuardMode is NanGuardMode
    assert theano.compile.nanguardmode.NanGuardMode is NanGuardMode
    x = T.dvector("x")
    f = theano.function([x], T.log(x), mode=theano.compile.NanGuardMode(True, True, True))
    assert np.allclose(f(np.array([1.0, np.e])), [0.0, 1.0])
    with pytest.raises(AssertionError, match="NanGuardMode: NaN in output 0"):
        f(np.array([-1.0]))


def _is(node, name):
    return isinstance(node.op, Elemwise) and node.op.scalar_op.name == name


class LocalSimplify(theano.gof.LocalOptimizer):
    """Theano's tutorial local optimizer, x*y / y -> x, written as Theano subclasses were."""

    def transform(self, node):
        if _is(node, "true_div"):
            x, y = node.inputs
            if x.owner and _is(x.owner, "mul"):
                a, b = x.owner.inputs
                if y == a:
                    return [b]
                elif y == b:
                    return [a]
        return False

    def tracks(self):
        return []


def _tutorial_graph():
    x, y, z = T.dscalars("x", "y", "z")
    a = z + ((y * x) / y) * (z / x)
    return (x, y, z), theano.gof.FunctionGraph([x, y, z], [a])


def test_topo_optimizer_applies_a_theano_style_local_optimizer_subclass():
    (x, y, z), fgraph = _tutorial_graph()
    simplify = theano.gof.TopoOptimizer(LocalSimplify())
    assert simplify.optimize(fgraph) == 1
    ops = sorted(node.op.scalar_op.name for node in fgraph.toposort())
    assert ops == ["add", "mul", "true_div"]  # z + x * (z / x): the y*x/y node is gone
    f = theano.function(fgraph.inputs, fgraph.outputs[0], on_unused_input="ignore")
    assert float(f(2.0, 3.0, 4.0)) == 4.0 + 2.0 * (4.0 / 2.0)


def test_merge_then_topo_optimizer_simplifies_repeated_subexpressions():
    x, y, z = T.dscalars("x", "y", "z")
    fgraph = theano.gof.FunctionGraph([x, y, z], [((y + z) * x) / (y + z)])
    # add(y, z) != add(y, z) until merged, so nothing happens at first (Theano's tutorial)
    assert theano.gof.TopoOptimizer(LocalSimplify()).optimize(fgraph) == 0
    assert theano.gof.MergeOptimizer().optimize(fgraph) == 1
    assert theano.gof.TopoOptimizer(LocalSimplify()).optimize(fgraph) == 1
    assert fgraph.outputs[0].name == "x" and not fgraph.apply_nodes


def test_equilibrium_optimizer_runs_local_optimizers_until_nothing_changes():
    @theano.gof.local_optimizer([T.log])
    def local_log_exp(node):
        (arg,) = node.inputs
        if arg.owner and _is(arg.owner, "exp"):
            return [arg.owner.inputs[0]]
        return False

    x, y = T.dvectors("x", "y")
    fgraph = theano.gof.FunctionGraph([x, y], [(T.log(T.exp(T.log(T.exp(x)))) * y) / y])
    rewrites = theano.gof.EquilibriumOptimizer([local_log_exp, LocalSimplify()]).optimize(fgraph)
    assert rewrites == 3  # log(exp(.)) twice, then (x * y) / y
    assert fgraph.outputs[0].name == "x" and not fgraph.apply_nodes
    with pytest.raises(TypeError, match="is not a local optimizer"):
        theano.gof.TopoOptimizer(42)
    assert theano.gof.opt.in2out(local_log_exp).order == "in_to_out"
    assert theano.gof.opt.out2in(local_log_exp).order == "out_to_in"


class Double(theano.gof.Op):
    """2 * x, as a custom op no built-in rewrite knows."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return theano.gof.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


class LocalDoubleToAdd(theano.gof.LocalOptimizer):
    """Double(x) -> x + x, written as Theano's subclasses were (no constructor arguments)."""

    def transform(self, node):
        if isinstance(node.op, Double):
            (x,) = node.inputs
            return [x + x]
        return False


def test_a_theano_style_local_optimizer_subclass_registers_in_a_phase():
    from labsym.optim.user import unregister_rule

    theano.tensor.opt.register_canonicalize(LocalDoubleToAdd(), name="double_to_add")
    try:
        x = T.dvector("x")
        f = theano.function([x], Double()(x))
        assert not any(isinstance(node.op, Double) for node in f.maker.fgraph.toposort())
        assert f(np.array([2.0, 3.5])).tolist() == [4.0, 7.0]
    finally:
        unregister_rule("double_to_add")
