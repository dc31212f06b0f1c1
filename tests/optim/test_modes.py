"""Modes: predefined names, the mode/optimizer flags, including/excluding, DebugMode, NanGuardMode.

DebugMode and NanGuardMode are shown to pass correct graphs with the same numbers and updates
as FAST_RUN, and to catch each kind of fault with a deliberately broken op or rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import labsym.tensor as T
from labsym.backends.python.vm import PythonLinker
from labsym.compile import Mode, function, get_mode
from labsym.compile.debugmode import (
    BadDestroyMap,
    BadOptimization,
    BadThunkOutput,
    BadViewMap,
    DebugMode,
    DebugModeError,
    InvalidValueError,
)
from labsym.compile.nanguardmode import NanGuardError, NanGuardMode
from labsym.config import config
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.shared import shared
from labsym.gof.opt import PatternSub
from labsym.optim.phases import FAST_COMPILE_RULES, PHASES
from labsym.optim.user import unregister_rule
from labsym.tensor.opt import register_specialize
from tests.optim.rewrite_helpers import graphs_equal, ops_in, optimized_output

RNG = np.random.default_rng(1)
HERE = Path(__file__).name


@pytest.fixture
def bad_rule():
    """A numerically wrong user rule, registered the Theano way: log(exp(x)) -> x + 1."""
    register_specialize(PatternSub((T.log, (T.exp, "x")), (T.add, "x", 1)), name="bad_log_exp")
    yield "bad_log_exp"
    unregister_rule("bad_log_exp")


class UnaryOp(Op):
    """A one-input op whose behaviour each test chooses (perform, numpy_callable, maps)."""

    __props__ = ("label",)

    def __init__(self, label, perform, fast=None, view_map=None, destroy_map=None):
        self.label, self._perform, self._fast = label, perform, fast
        self.view_map = view_map or {}
        self.destroy_map = destroy_map or {}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self._perform(inputs[0])

    def numpy_callable(self, node):
        return self._fast


class TwoOutputs(Op):
    """(2 * x, log(x)): a multi-output node for the modes' per-node statements."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2
        output_storage[1][0] = np.log(inputs[0])


def log1p_ops(f) -> bool:
    return any("log1p" in op for op in ops_in(f.maker.fgraph))


# ------------------------------------------------------------------------------ names and flags
def test_predefined_modes_by_name():
    assert get_mode("FAST_RUN").rewriter.phases == list(PHASES)
    fast_compile = get_mode("FAST_COMPILE")
    assert {r.name for r in fast_compile.rewriter.rules} == FAST_COMPILE_RULES
    assert isinstance(fast_compile.linker, PythonLinker)
    assert get_mode("None").rewriter is None and get_mode("o0").rewriter is None
    for name in ("DebugMode", "DEBUG_MODE"):
        mode = get_mode(name)
        assert (
            isinstance(mode, DebugMode)
            and mode.name == name
            and mode.rewriter.phases == list(PHASES)
        )
    assert isinstance(get_mode("NanGuardMode"), NanGuardMode)
    mode = Mode(linker="py", optimizer="fast_compile")
    assert get_mode(mode) is mode
    with pytest.raises(ValueError, match="unknown mode 'FAST'"):
        get_mode("FAST")


def test_mode_and_optimizer_flags_and_the_mode_argument():
    x = T.dvector("x")
    value = RNG.uniform(0, 1, 4)
    with config.change_flags(mode="FAST_COMPILE"):
        f = function([x], T.log(1 + x))
    assert f.maker.mode.name == "FAST_COMPILE" and not log1p_ops(f)
    g = function([x], T.log(1 + x))
    assert log1p_ops(g)
    np.testing.assert_allclose(f(value), g(value), rtol=1e-12)
    with config.change_flags(mode="DebugMode"):
        assert isinstance(function([x], x * 2).maker.mode, DebugMode)
    with config.change_flags(optimizer="fast_compile"):
        assert not log1p_ops(function([x], T.log(1 + x)))
    assert not log1p_ops(function([x], T.log(1 + x), mode="FAST_COMPILE"))
    assert log1p_ops(function([x], T.log(1 + x), mode=Mode(linker="py", optimizer="fast_run")))


@pytest.mark.parametrize("mode", ["o0", "None", Mode(linker="py", optimizer=None)])
def test_no_rewrites_keeps_the_graph_unchanged(mode):
    x = T.dvector("x")
    y = T.log(1 + x * 1) + 0
    f, out = optimized_output([x], y, mode)
    assert graphs_equal(out, y)
    np.testing.assert_allclose(f(np.array([0.5])), np.log(1.5))


def test_excluding_a_rule_or_phase_and_including_a_phase():
    x = T.dvector("x")
    assert not log1p_ops(
        function([x], T.log(1 + x), mode=Mode(linker="py").excluding("log1p_from_log"))
    )
    assert not log1p_ops(function([x], T.log(1 + x), mode=Mode(linker="py").excluding("stabilize")))
    mode = Mode(linker="py", optimizer="fast_compile").including("stabilize")
    assert "log1p_from_log" in {r.name for r in mode.rewriter.rules_of("stabilize")}
    f = function([x], T.log(1 + x), mode=mode)
    assert log1p_ops(f)
    np.testing.assert_allclose(f(np.array([1e-20])), [1e-20], rtol=1e-12)  # log(1 + 1e-20) is 0


# ------------------------------------------------------------------------------ DebugMode
def test_debugmode_agrees_with_fast_run_including_updates():
    xs, y = T.dmatrix("xs"), T.dvector("y")
    results = []
    for mode in ("FAST_RUN", "DebugMode"):
        w = shared(np.zeros(3), name="w")
        p = T.sigmoid(T.dot(xs, w))
        cost = -(y * T.log(p) + (1 - y) * T.log(1 - p)).mean() + 0.01 * (w**2).sum()
        train = function([xs, y], cost, updates=[(w, w - 0.5 * T.grad(cost, w))], mode=mode)
        data = np.random.default_rng(2).normal(size=(8, 3)), np.array([0, 1] * 4, dtype=float)
        costs = [train(*data) for _ in range(3)]
        results.append((costs, w.get_value()))
    assert isinstance(train.maker.mode, DebugMode)
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)
    assert results[1][0][2] < results[1][0][0]


def test_debugmode_accepts_rewrites_that_remove_overflow():
    x = T.dvector("x")
    f = function([x], T.log(1 + T.exp(x)), mode="DebugMode")  # naive form is inf at 800
    np.testing.assert_allclose(f(np.array([800.0, -800.0, 0.0])), [800.0, 0.0, np.log(2.0)])


def test_debugmode_checks_each_rewrite_on_the_graph_as_it_was():
    # neg_out_of_div_num fires first; one_minus_sigmoid later edits its result in place, and
    # 1 / (1 - sigmoid(30)) differs from 1 / sigmoid(-30) by 1e-3 relative: neither rule is wrong
    x, a = T.dvectors("x", "a")
    mode = DebugMode(record_history=True)
    f = function([x, a], -a / (1 - T.sigmoid(x)), mode=mode)
    assert {"neg_out_of_div_num", "one_minus_sigmoid"} <= set(f.maker.fgraph.history.by_rule())
    np.testing.assert_allclose(
        f(np.array([30.0]), np.array([1.0])), [-np.exp(30.0) - 1], rtol=1e-12
    )


def test_debugmode_names_a_bad_user_rule(bad_rule):
    x = T.dvector("x")
    y = -(T.log(T.exp(x)) - 3.0)  # neg_of_sub rewrites on top of what the bad rule replaces later
    mode = DebugMode(record_history=True)
    f = function([x], y, mode=mode)
    assert {"neg_of_sub", bad_rule} <= set(f.maker.fgraph.history.by_rule())
    with pytest.raises(
        BadOptimization, match=r"rewrite 'bad_log_exp' \(log\(exp\(x\)\) -> add\(x, 1\)\)"
    ) as info:
        f(np.array([0.5, 1.0]))
    message = str(info.value)
    assert "0.5 (before) vs 1.5 (after)" in message and "rewrite 'neg_of_sub'" not in message
    np.testing.assert_allclose(
        function([x], y, mode="FAST_RUN")(np.array([0.5])), [1.5]
    )  # silently wrong
    fixed = function([x], y, mode=mode.excluding(bad_rule))
    np.testing.assert_allclose(fixed(np.array([0.5])), [2.5])


def test_debugmode_catches_disagreeing_implementations():
    op = UnaryOp("twice", perform=lambda a: a * 2, fast=lambda a: a * 3)
    x = T.dvector("x")
    f = function([x], op(x) + 1, mode="DebugMode")
    with pytest.raises(
        BadThunkOutput,
        match=r"perform and numpy_callable of UnaryOp\{(label=')?twice'?\}\(x\) disagree",
    ):
        f(np.array([1.0, 2.0]))
    agreeing = UnaryOp("twice_ok", perform=lambda a: a * 2, fast=lambda a: a + a)
    np.testing.assert_allclose(
        function([x], agreeing(x), mode="DebugMode")(np.array([1.0, 2.0])), [2.0, 4.0]
    )


def _double_in_place(a):
    a *= 2
    return a


def test_debugmode_catches_an_undeclared_input_modification():
    x = T.dvector("x")
    sneaky = UnaryOp("sneaky", perform=lambda a: _double_in_place(a).copy())
    f = function([x], sneaky(x * 3.0), mode="DebugMode")
    with pytest.raises(
        BadDestroyMap, match=r"perform of UnaryOp\{(label=')?sneaky'?\}.* modified input 0"
    ):
        f(np.array([1.0, 2.0]))
    declared = UnaryOp("declared", perform=_double_in_place, destroy_map={0: [0]})
    f = function([x], declared(x * 3.0), mode="DebugMode", accept_inplace=True)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [6.0, 12.0])


def test_debugmode_catches_an_undeclared_view():
    x = T.dvector("x")
    f = function([x], UnaryOp("rev", perform=lambda a: a[::-1])(x), mode="DebugMode")
    with pytest.raises(BadViewMap, match=r"output 0 sharing memory with input 0 \(x\)"):
        f(np.array([1.0, 2.0]))
    viewing = UnaryOp("rev_view", perform=lambda a: a[::-1], view_map={0: [0]})
    np.testing.assert_allclose(
        function([x], viewing(x), mode="DebugMode")(np.array([1.0, 2.0])), [2.0, 1.0]
    )


def test_debugmode_catches_a_value_of_the_wrong_type():
    x = T.dvector("x")
    f = function([x], UnaryOp("f32", perform=lambda a: a.astype("float32"))(x), mode="DebugMode")
    with pytest.raises(
        InvalidValueError,
        match="expected an ndarray of dtype float64, got ndarray of dtype float32",
    ):
        f(np.array([1.0]))


def test_debugmode_errors_share_a_base_and_runtime_errors_keep_their_report():
    for error in (BadOptimization, BadThunkOutput, BadDestroyMap, BadViewMap, InvalidValueError):
        assert issubclass(error, DebugModeError)
    x, y = T.dvectors("x", "y")
    f = function([x, y], x * 2 + y, mode="DebugMode")
    with pytest.raises(ValueError, match="Apply node that caused the error"):
        f(np.ones(2), np.ones(3))
    assert isinstance(DebugMode().excluding("fusion"), DebugMode)


# ------------------------------------------------------------------------------ NanGuardMode
def test_nanguard_names_the_node_that_makes_a_nan():
    x = T.dvector("x")
    y = T.log(x)  # the line the error points at
    f = function([x], y, mode="NanGuardMode")
    with np.errstate(invalid="ignore"), pytest.raises(NanGuardError) as info:
        f(np.array([-1.0, 2.0]))
    message = str(info.value)
    assert message.startswith("NanGuardMode: NaN in output 0 of Elemwise{log,no_inplace}(x)")
    assert "op: Elemwise{log,no_inplace}" in message
    assert HERE in message and "y = T.log(x)  # the line the error points at" in message
    assert (
        "0: x (TensorType(float64, vector)): float64 shape (2,), nan: 0, inf: 0, min: -1" in message
    )
    assert isinstance(info.value, AssertionError)  # Theano's NanGuardMode raised AssertionError


def test_nanguard_inf_and_huge_values_and_their_flags():
    x = T.dvector("x")
    with (
        np.errstate(divide="ignore"),
        pytest.raises(NanGuardError, match="Inf in output 0 of Elemwise{true_div"),
    ):
        function([x], 1.0 / x, mode="NanGuardMode")(np.array([0.0]))
    with pytest.raises(
        NanGuardError, match=r"a huge value \(\|x\| > 1e\+10\) in output 0 of Elemwise{exp"
    ):
        function([x], T.exp(x), mode=NanGuardMode())(np.array([30.0]))
    lenient = NanGuardMode(inf_is_error=False, big_is_error=False)
    with np.errstate(divide="ignore"):
        assert np.isinf(function([x], 1.0 / x, mode=lenient)(np.array([0.0]))).all()
    assert function([x], T.exp(x), mode=lenient)(np.array([30.0]))[0] == np.exp(30.0)
    derived = lenient.excluding("fusion")
    assert derived.flags == (True, False, False) and isinstance(derived.linker.base, PythonLinker)
    with pytest.raises(ValueError, match="at least one of nan_is_error"):
        NanGuardMode(False, False, False)


def test_nanguard_passes_healthy_graphs_and_integers():
    x, n = T.dvector("x"), T.lvector("n")
    f = function([x, n], [T.tanh(x) * 2 + 1, n * 10**11], mode="NanGuardMode")
    value = RNG.normal(size=5)
    out = f(value, np.arange(5))
    np.testing.assert_allclose(out[0], np.tanh(value) * 2 + 1)
    assert out[1][-1] == 4 * 10**11


def test_nanguard_failed_call_changes_no_shared_variable():
    x = T.dvector("x")
    total = shared(np.array(1.0), name="total")
    f = function([x], T.sqrt(x).sum(), updates=[(total, total + x.sum())], mode="NanGuardMode")
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(NanGuardError, match="NaN in output 0 of Elemwise{sqrt"),
    ):
        f(np.array([-4.0, 1.0]))
    assert total.get_value() == 1.0
    assert f(np.array([4.0, 1.0])) == 3.0 and total.get_value() == 6.0


def test_nanguard_summarizes_inputs_before_a_node_destroys_them():
    log_in_place = UnaryOp("log_in_place", perform=lambda a: np.log(a, out=a), destroy_map={0: [0]})
    x = T.dvector("x")
    f = function([x], log_in_place(x + 0.5), mode="NanGuardMode", accept_inplace=True)
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(NanGuardError, match="NaN in output 0 of UnaryOp") as info,
    ):
        f(np.array([-2.0, 1.0]))
    assert "nan: 0, inf: 0, min: -1.5, max: 1.5" in str(info.value)


@pytest.mark.parametrize("mode", ["DebugMode", "NanGuardMode"])
def test_multi_output_nodes_in_checking_modes(mode):
    x = T.dvector("x")
    doubled, logged = TwoOutputs()(x)
    f = function([x], [doubled + 1, logged], mode=mode)
    out = f(np.array([1.0, 4.0]))
    np.testing.assert_allclose(out[0], [3.0, 9.0])
    np.testing.assert_allclose(out[1], np.log([1.0, 4.0]))
    if mode == "NanGuardMode":
        with (
            np.errstate(invalid="ignore"),
            pytest.raises(NanGuardError, match="NaN in output 1 of"),
        ):
            f(np.array([-1.0]))
