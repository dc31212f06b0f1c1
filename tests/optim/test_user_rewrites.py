"""Theano's user rewrite API: local_optimizer, PatternSub, OpSub, register_canonicalize & co.

Every rule is checked for the rewritten graph AND the numbers (check_rewrite), and for the
notebook behaviour: registering a name again replaces the rule.
"""

from __future__ import annotations

import numpy as np
import pytest

import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops.math import elemwise_op
from labsym.gof import opt as gof_opt
from labsym.gof.opt import FromFunctionLocalOptimizer, OpSub, PatternSub, local_optimizer
from labsym.optim import user_api
from labsym.optim.user import unregister_rule, user_rules
from labsym.tensor import opt as tensor_opt
from labsym.tensor.opt import register_canonicalize, register_specialize, register_stabilize
from tests.optim.rewrite_helpers import check_rewrite, ops_in

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _forget_user_rules():
    """Each test registers its own rules; none may leak into other tests."""
    before = {rule.name for rule in user_rules()}
    yield
    for rule in user_rules():
        if rule.name not in before:
            unregister_rule(rule.name)


def plain_mode(optimizer: str = "fast_run") -> Mode:
    """Rewrites without fusion and inplace, so graphs compare op by op."""
    return Mode(linker="py", optimizer=optimizer).excluding("fusion", "inplace")


def names(rule_name: str) -> list[str]:
    return [rule.name for rule in user_rules() if rule.name == rule_name]


def only_ops(*scalar_names: str):
    """A check_rewrite predicate: the rewritten graph applies exactly these elementwise ops."""
    wanted = sorted(f"Elemwise{{{name},no_inplace}}" for name in scalar_names)
    return lambda fgraph: sorted(ops_in(fgraph)) == wanted


def vec(n: int = 5, low: float = -3.0, high: float = 3.0) -> np.ndarray:
    return RNG.uniform(low, high, size=n)


class PyExp(Op):
    """exp through perform only: a stand-in for a user's own op."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.exp(inputs[0])


def test_pattern_sub_registered_with_register_canonicalize_fires():
    x = T.dvector("x")
    before = function([x], T.log(T.exp(x)), mode=plain_mode())
    assert "Elemwise{log,no_inplace}" in ops_in(before.maker.fgraph)  # no built-in rule does it
    rule = PatternSub((T.log, (T.exp, "x")), "x", name="tutorial_log_exp")
    assert register_canonicalize(rule) is rule
    for mode in ("FAST_RUN", plain_mode()):
        check_rewrite([x], T.log(T.exp(x)), x, [vec()], mode=mode)
    # as in Theano, FAST_COMPILE runs a registered rule only when it is tagged 'fast_compile'
    kept = function([x], T.log(T.exp(x)), mode="FAST_COMPILE")
    assert "Elemwise{log,no_inplace}" in ops_in(kept.maker.fgraph)
    register_canonicalize(rule, "fast_compile")
    check_rewrite([x], T.log(T.exp(x)), x, [vec()], mode="FAST_COMPILE")
    history = function(
        [x], T.log(T.exp(x)) * 3, mode=plain_mode().with_history()
    ).maker.fgraph.history
    assert history.by_rule()["tutorial_log_exp"] == 1
    assert [r.math for r in history if r.rule == "tutorial_log_exp"] == ["log(exp(x)) -> x"]


def test_registering_a_name_again_replaces_the_rule():
    x = T.dvector("x")
    register_canonicalize(PatternSub((T.log, (T.exp, "x")), "x"), name="cell_rule")
    check_rewrite([x], T.log(T.exp(x)), x, [vec()], mode=plain_mode())
    register_canonicalize(PatternSub((T.exp, (T.log, "x")), "x"), name="cell_rule")
    assert names("cell_rule") == ["cell_rule"]
    kept = function([x], T.log(T.exp(x)), mode=plain_mode())
    assert "Elemwise{exp,no_inplace}" in ops_in(kept.maker.fgraph)
    check_rewrite([x], T.exp(T.log(x)), x, [vec(low=0.1)], mode=plain_mode())


def test_decorator_form_with_theano_one_argument_signature():
    exp_op = elemwise_op("exp")

    def run_cell():
        @register_canonicalize
        @local_optimizer([T.log])
        def local_log_exp(node):
            """log(exp(x)) -> x"""
            (arg,) = node.inputs
            if arg.owner is not None and arg.owner.op == exp_op:
                return [arg.owner.inputs[0]]
            return False

        return local_log_exp

    first = run_cell()
    assert isinstance(first, FromFunctionLocalOptimizer) and first.math == "log(exp(x)) -> x"
    second = run_cell()  # re-running the notebook cell
    assert names("local_log_exp") == ["local_log_exp"]
    x = T.dvector("x")
    check_rewrite([x], T.log(T.exp(x)) * 2.0, x * 2.0, [vec()], mode=plain_mode())
    log_node = T.log(T.exp(x)).owner
    assert second(log_node) == [x]  # still callable as the user's function
    assert second(T.log(x).owner) is False


def test_decorator_with_tags_name_and_fgraph_node_signature():
    @register_specialize("fast_run", name="sqrt_of_sqr")
    @local_optimizer([T.sqrt])
    def local_sqrt_sqr(fgraph, node):
        (arg,) = node.inputs
        if arg.owner is not None and arg.owner.op == elemwise_op("sqr") and fgraph is not None:
            return [T.abs(arg.owner.inputs[0])]
        return None

    assert isinstance(local_sqrt_sqr, FromFunctionLocalOptimizer)
    (rule,) = [r for r in user_rules() if r.name == "sqrt_of_sqr"]
    assert rule.phases == ("specialize",) and rule.extra["tags"] == ("fast_run",)
    x = T.dvector("x")
    check_rewrite([x], T.sqrt(T.sqr(x)), T.abs(x), [vec()], mode=plain_mode())
    fast_compile = function([x], T.sqrt(T.sqr(x)), mode="FAST_COMPILE")  # no specialize phase
    assert "Elemwise{sqrt,no_inplace}" in ops_in(fast_compile.maker.fgraph)


def test_register_stabilize_runs_in_the_stabilize_phase_only():
    register_stabilize(
        PatternSub((T.log, (T.true_div, 1, "x")), (T.neg, (T.log, "x"))), name="log_inv"
    )
    x = T.dvector("x")
    check_rewrite([x], T.log(1.0 / x), -T.log(x), [vec(low=0.1)], mode=plain_mode())
    fast_compile = function([x], T.log(1.0 / x), mode="FAST_COMPILE")
    assert "Elemwise{true_div,no_inplace}" in ops_in(fast_compile.maker.fgraph)
    huge = np.array([1e-310, 1e300])  # 1/x overflows to inf; -log(x) stays finite
    np.testing.assert_allclose(function([x], T.log(1.0 / x))(huge), -np.log(huge))


def test_op_sub_replaces_every_application():
    rewrite = OpSub(PyExp(), T.exp)
    assert rewrite.name == "OpSub(PyExp(...) -> exp(...))"
    register_specialize(rewrite, name="pyexp_to_exp")
    x, y = T.dvectors("x", "y")
    out = PyExp()(x) + PyExp()(y)
    f = check_rewrite([x, y], out, T.exp(x) + T.exp(y), [vec(), vec()], mode=plain_mode())
    assert not any("PyExp" in op for op in ops_in(f.maker.fgraph))


@pytest.mark.parametrize("op1", [T.exp, elemwise_op("exp"), "exp"])
def test_op_sub_from_an_elementwise_op_to_an_op_instance(op1):
    register_canonicalize(OpSub(op1, PyExp()), name="exp_to_pyexp")
    x = T.dvector("x")
    check_rewrite([x], T.exp(x) * 2.0, PyExp()(x) * 2.0, [vec()], mode=plain_mode())


class SplitSign(Op):
    """(max(x, 0), min(x, 0)): a two-output node that patterns must leave alone."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.maximum(inputs[0], 0.0)
        output_storage[1][0] = np.minimum(inputs[0], 0.0)


def test_pattern_grammar_nary_commutative_constants_and_constraints():
    x, y = T.dvectors("x", "y")
    register_canonicalize(PatternSub((T.add, "x", "x", "x"), (T.mul, "x", 3)), name="triple")
    check_rewrite([x], x + x + x, only_ops("mul"), [vec()], mode=plain_mode())
    # the constant may sit on either side of a commutative op: 2 * exp(x) -> exp(x + log 2)
    twice = PatternSub((T.mul, 2, (T.exp, "x")), (T.exp, (T.add, "x", float(np.log(2.0)))))
    register_canonicalize(twice, name="twice")
    check_rewrite([x], T.exp(x) * 2, only_ops("add", "exp"), [vec()], mode=plain_mode())
    register_canonicalize(
        PatternSub((T.pow, "x", T.constant(3.0)), (T.mul, "x", (T.sqr, "x"))), name="cube"
    )
    register_canonicalize(
        PatternSub((T.pow, "x", np.float64(4.0)), (T.sqr, (T.sqr, "x"))), name="fourth"
    )
    check_rewrite(
        [x], x**3.0 + x**4.0, only_ops("add", "mul", "sqr", "sqr"), [vec()], mode=plain_mode()
    )
    only_float32 = {"pattern": "x", "constraint": lambda var: var.dtype == "float32"}
    register_canonicalize(PatternSub((T.sin, only_float32), (T.cos, "x")), name="float32_only")
    # a constraint on the whole match: tanh(x) -> 2 * sigmoid(2 * x) - 1, for scalars only
    scalar_tanh = {"pattern": (T.tanh, "x"), "constraint": lambda var: var.ndim == 0}
    out = (T.sub, (T.mul, 2, (T.sigmoid, (T.mul, 2, "x"))), 1)
    register_canonicalize(PatternSub(scalar_tanh, out), name="tanh_as_sigmoid")
    s = T.dscalar("s")
    check_rewrite([s], T.tanh(s), lambda fg: "tanh" not in str(fg), [0.7], mode=plain_mode())
    assert "tanh" in str(function([y], T.tanh(y), mode=plain_mode()).maker.fgraph)
    f = T.fvector("f")
    assert "Elemwise{cos,no_inplace}" in ops_in(
        function([f], T.sin(f), mode=plain_mode()).maker.fgraph
    )
    assert "Elemwise{sin,no_inplace}" in ops_in(
        function([y], T.sin(y), mode=plain_mode()).maker.fgraph
    )


def test_patterns_leave_multi_output_nodes_alone():
    register_canonicalize(PatternSub((SplitSign, "x"), "x"), name="not_for_two_outputs")
    x = T.dvector("x")
    pos, neg = SplitSign()(x)
    f = function([x], pos - neg, mode=plain_mode())
    assert "SplitSign" in ops_in(f.maker.fgraph)
    np.testing.assert_allclose(f(np.array([-2.0, 3.0])), [2.0, 3.0])


def test_shared_intermediates_block_a_pattern_unless_allowed():
    x = T.dvector("x")
    register_canonicalize(PatternSub((T.log, (T.exp, "x")), "x"), name="log_exp_single")
    both = T.log(T.exp(x)) + T.exp(x)
    kept = function([x], both, mode=plain_mode())
    assert "Elemwise{log,no_inplace}" in ops_in(kept.maker.fgraph)  # exp(x) has two clients
    register_canonicalize(
        PatternSub((T.log, (T.exp, "x")), "x", allow_multiple_clients=True), name="log_exp_single"
    )
    check_rewrite([x], both, x + T.exp(x), [vec()], mode=plain_mode())


def test_local_optimizer_may_track_every_op_and_return_a_dict():
    @register_canonicalize(name="sqr_to_mul")
    @local_optimizer(None)
    def sqr_to_mul(fgraph, node):
        if node.op == elemwise_op("sqr"):
            return {node.outputs[0]: node.inputs[0] * node.inputs[0]}
        return None

    x = T.dvector("x")
    check_rewrite([x], T.sqr(x) + 1.0, x * x + 1.0, [vec()], mode=plain_mode())


def test_a_plain_function_registers_for_every_op():
    def abs_of_abs(node):
        if node.op != elemwise_op("abs"):
            return None
        (inner,) = node.inputs
        if inner.owner is not None and inner.owner.op == elemwise_op("abs"):
            return [inner]
        return None

    assert register_canonicalize(abs_of_abs) is abs_of_abs
    x = T.dvector("x")
    check_rewrite([x], T.abs(T.abs(x)), T.abs(x), [vec()], mode=plain_mode())


def test_errors_name_the_problem():
    x = T.dvector("x")

    @register_canonicalize
    @local_optimizer([T.tanh])
    def returns_a_variable(node):
        return node.inputs[0]

    with pytest.raises(
        TypeError, match="returns_a_variable returned TensorVariable; return a list"
    ):
        function([x], T.tanh(x))
    with pytest.raises(ValueError, match=r"output pattern uses \['y'\]"):
        PatternSub((T.exp, "x"), (T.add, "x", "y"))
    with pytest.raises(TypeError, match="the input pattern must be a tuple"):
        PatternSub("x", "x")
    with pytest.raises(TypeError, match="cannot track or match"):
        PatternSub((T.dot, "x", "y"), "x")
    with pytest.raises(ValueError, match="'expp' is not a scalar operation"):
        OpSub("expp", T.exp)
    with pytest.raises(TypeError, match="is an Op class"):
        PatternSub((T.exp, "x"), (PyExp, "x"))
    with pytest.raises(TypeError, match="tracks must be a list"):
        local_optimizer(T.exp)
    with pytest.raises(TypeError, match="cannot register 42"):
        register_stabilize(42)


def test_theano_module_paths_reexport_the_api():
    assert gof_opt.local_optimizer is user_api.local_optimizer
    assert gof_opt.PatternSub is user_api.PatternSub and gof_opt.OpSub is user_api.OpSub
    assert tensor_opt.register_canonicalize is user_api.register_canonicalize
    assert tensor_opt.register_stabilize is user_api.register_stabilize
    assert tensor_opt.register_specialize is user_api.register_specialize


def test_excluding_a_tag_drops_the_user_rules_carrying_it():
    from labsym.compile import Mode
    from labsym.optim.user import unregister_rule

    x = T.dvector("x")

    @register_canonicalize("my_tag", name="tagged_exp_log")
    @local_optimizer([T.log])
    def tagged(node):
        inner = node.inputs[0].owner
        if inner is not None and inner.op == T.exp:
            return [inner.inputs[0]]
        return None

    try:
        assert "log" not in str(function([x], T.log(T.exp(x))).maker.fgraph)
        mode = Mode(optimizer="fast_run").excluding("my_tag")
        assert "log" in str(function([x], T.log(T.exp(x)), mode=mode).maker.fgraph)
    finally:
        unregister_rule("tagged_exp_log")
