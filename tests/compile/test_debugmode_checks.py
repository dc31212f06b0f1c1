"""DebugMode runs the graph before rewriting, checks graphs that rewrites leave without a node,
and rewrites each graph several times to catch non-deterministic rewrites (StochasticOrder)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import labsym.tensor as T
from labsym.compile import function
from labsym.compile.debug_rewrites import OutputGuard
from labsym.compile.debugmode import (
    BadOptimization,
    DebugMode,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
)
from labsym.config import config
from labsym.core.shared import shared
from labsym.gof.opt import local_optimizer
from labsym.optim.user import unregister_rule
from labsym.tensor.opt import register_specialize


def test_error_that_rewrites_remove_is_still_reported():
    a, b = T.dvectors("a", "b")
    out = a + T.zeros_like(b)  # the line the error points at
    fast = function([a, b], out, mode="FAST_RUN")
    np.testing.assert_array_equal(fast(np.ones(1), np.ones(2)), [1.0])  # rewrites removed it
    f = function([a, b], out, mode="DebugMode")
    with pytest.raises(ValueError) as info:
        f(np.ones(1), np.ones(2))
    message = str(info.value)
    assert message.startswith("Input dimension mis-match in Elemwise{add,no_inplace}")
    assert "Apply node that caused the error: Elemwise{add,no_inplace}(a, " in message
    assert "Inputs shapes: [(1,), (2,)]" in message
    assert "out = a + T.zeros_like(b)  # the line the error points at" in message
    assert message.endswith(
        "DebugMode: this node is in the graph before rewriting; the rewrites removed it, so "
        "other modes do not run it and raise no error"
    )
    np.testing.assert_array_equal(f(np.ones(2), np.full(2, 7.0)), [1.0, 1.0])


def test_a_graph_rewrites_leave_without_a_node_is_still_checked():
    a, b = T.dvectors("a", "b")
    f = function([a, b], a * T.ones_like(b), mode="DebugMode")
    (node,) = f.maker.fgraph.toposort()
    assert isinstance(node.op, OutputGuard) and node.inputs[0] is f.maker.fgraph.inputs[0]
    with pytest.raises(ValueError, match="Input dimension mis-match"):
        f(np.ones(1), np.ones(3))
    x = T.dvector("x")
    identity = function([x], x, mode="DebugMode")
    value = np.array([1.0, 2.0])
    out = identity(value)
    np.testing.assert_array_equal(out, value)
    assert out is not value and not np.shares_memory(out, value)
    assert [type(n.op) for n in identity.maker.fgraph.toposort()] == [OutputGuard]


def test_updates_still_commit_after_the_check():
    counter = shared(np.array(0.0), name="counter")
    step = T.dscalar("step")
    f = function([step], [], updates=[(counter, counter + step * 1)], mode="DebugMode")
    f(2.0)
    f(3.0)
    assert counter.get_value() == 5.0


@pytest.fixture
def flaky_rule():
    """A rule that fires only the first time it is asked: rewriting twice gives two graphs."""
    calls = itertools.count()

    @local_optimizer([T.log])
    def flaky_log_exp(node):
        (arg,) = node.inputs
        if arg.owner is not None and "exp" in str(arg.owner.op) and next(calls) == 0:
            return [arg.owner.inputs[0]]
        return False

    register_specialize(flaky_log_exp, name="flaky_log_exp")
    yield "flaky_log_exp"
    unregister_rule("flaky_log_exp")


def test_stochastic_order_names_a_non_deterministic_rewrite(flaky_rule):
    x = T.dvector("x")
    with pytest.raises(StochasticOrder, match="on attempt 2") as info:
        function([x], T.log(T.exp(x)), mode=DebugMode(stability_patience=2))
    assert isinstance(info.value, DebugModeError)
    message = str(info.value)
    assert "FunctionGraph(OutputGuard(x))\nvs\nFunctionGraph(" in message  # rule fired, then not
    assert "log(exp(i0))" in message


def test_stability_patience_comes_from_the_flag_and_is_validated(flaky_rule):
    x = T.dvector("x")
    with config.change_flags(**{"DebugMode.patience": 1}):
        f = function([x], T.log(T.exp(x)), mode="DebugMode")
        assert f.maker.mode.stability_patience == 1
    np.testing.assert_allclose(f(np.array([0.5])), [0.5])
    assert DebugMode().stability_patience == 10  # Theano's default
    assert DebugMode(stability_patience=3).excluding("fusion").stability_patience == 3
    with pytest.raises(ValueError, match="stability_patience must be an int >= 1, got 0"):
        DebugMode(stability_patience=0)


def test_theano_names_of_the_debugmode_errors():
    from labsym.compile import debugmode

    for name in ("DebugModeError", "BadOptimization", "BadThunkOutput", "BadDestroyMap",
                 "BadViewMap", "InvalidValueError", "StochasticOrder"):  # fmt: skip
        assert issubclass(getattr(debugmode, name), DebugModeError), name
        assert name in debugmode.__all__
    assert issubclass(BadOptimization, Exception)


def test_non_finite_outputs_are_invalid_values_as_in_theano():
    x = T.dvector("x")
    y = T.log(x)
    f = function([x], y, mode="DebugMode")
    with np.errstate(invalid="ignore"), pytest.raises(InvalidValueError) as info:
        f(np.array([-1.0, 1.0]))
    message = str(info.value)
    assert message.startswith(
        "InvalidValueError: perform of Elemwise{log,no_inplace}(x) returned output 0 with "
        "non-finite elements (nan: 1, inf: 0); DebugMode(check_isfinite=False) or the flag "
        "DebugMode.check_finite=False allows them"
    )
    assert "y = T.log(x)" in message  # the runtime report names the user's line
    lenient = function([x], y, mode=DebugMode(check_isfinite=False))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = lenient(np.array([-1.0, 0.0, 1.0]))
        assert np.isnan(out[0]) and out[1] == -np.inf and out[2] == 0.0
        with config.change_flags(**{"DebugMode.check_finite": False}):
            assert np.isnan(function([x], y, mode="DebugMode")(np.array([-1.0]))[0])
    assert DebugMode(check_c_code=False).check_c_code is False
    with pytest.raises(ValueError, match="at least one of C and Python code"):
        DebugMode(check_c_code=False, check_py_code=False)
