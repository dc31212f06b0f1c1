"""theano.compile.MonitorMode and the debug_faq recipes ("How do I Step through a Compiled
Function?", detect_nan), asserting what Theano's documentation prints."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.compile.monitormode import MonitorMode, detect_nan


def inspect_inputs(i, node, fn):
    print(i, node, "input(s) value(s):", [input[0] for input in fn.inputs], end="")


def inspect_outputs(i, node, fn):
    print(" output(s) value(s):", [output[0] for output in fn.outputs])


def test_step_through_recipe_prints_index_node_inputs_and_outputs(capsys):
    x = theano.tensor.dscalar("x")
    f = theano.function(
        [x],
        [5 * x],
        mode=theano.compile.MonitorMode(pre_func=inspect_inputs, post_func=inspect_outputs),
    )
    assert [float(v) for v in f(3)] == [15.0]
    printed = capsys.readouterr().out
    # Theano: 0 Elemwise{mul,no_inplace}(TensorConstant{5.0}, x) input(s) value(s):
    #         [array(5.0), array(3.0)] output(s) value(s): [array(15.0)]  (NumPy 1.13 repr)
    # the constant's dtype is the optimizer's business (Theano upcast it to 5.0): allow either
    found = re.fullmatch(
        r"0 (.+) input\(s\) value\(s\): \[array\(5(?:\.|, dtype=int8)\), array\(3\.\)\] "
        r"output\(s\) value\(s\): \[array\(15\.\)\]\n",
        printed,
    )
    assert found is not None, printed
    (node,) = f.maker.fgraph.toposort()
    assert found.group(1) == str(node)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_nan_recipe_finds_the_fused_node_of_log_x_times_x(capsys):
    x = theano.tensor.dscalar("x")
    f = theano.function(
        [x], [theano.tensor.log(x) * x], mode=theano.compile.MonitorMode(post_func=detect_nan)
    )
    (out,) = f(0)  # log(0) * 0 = -inf * 0 = NaN
    assert np.isnan(out)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "*** NaN detected ***"
    assert lines[-2:] == ["Inputs : [array(0.)]", "Outputs: [array(nan)]"]
    assert lines[-3].strip() == "|x [id B]"
    # Theano: Elemwise{Composite{(log(i0) * i0)}} [id A] ''   (one fused node)
    assert "log(i0)" in lines[1] and lines[1].rstrip().endswith("[id A] ''")
    assert len(f.maker.fgraph.toposort()) == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_nan_without_fusion_stops_at_the_multiplication(capsys):
    x = theano.tensor.dscalar("x")
    mode = MonitorMode(post_func=detect_nan).excluding("local_elemwise_fusion", "inplace")
    assert isinstance(mode, MonitorMode) and mode.post_func is detect_nan
    f = theano.function([x], [theano.tensor.log(x) * x], mode=mode)
    f(0)
    lines = capsys.readouterr().out.splitlines()
    # log(0) = -inf is not NaN; the product -inf * 0 is the first NaN
    assert lines.count("*** NaN detected ***") == 1
    assert lines[-2:] == ["Inputs : [array(-inf), array(0.)]", "Outputs: [array(nan)]"]
    assert "mul" in lines[1]


def test_no_output_when_nothing_is_nan(capsys):
    x = T.dvector("x")
    f = theano.function([x], T.exp(x).sum(), mode=MonitorMode(post_func=detect_nan))
    assert np.isclose(f(np.array([0.0, 1.0])), 1 + np.e)
    assert capsys.readouterr().out == ""


def test_pre_func_runs_before_and_post_func_after_each_node():
    events = []

    def pre(i, node, fn):
        events.append(("pre", i, fn.outputs[0][0] is None))

    def post(i, node, fn):
        events.append(("post", i, fn.outputs[0][0] is None))

    x = T.dvector("x")
    f = theano.function([x], (x * x).sum(), mode=MonitorMode(pre, post, optimizer=None))
    assert float(f(np.array([1.0, 2.0]))) == 5.0
    assert events == [("pre", 0, True), ("post", 0, False), ("pre", 1, True), ("post", 1, False)]


def test_monitor_mode_keeps_updates_and_shared_variables():
    seen = []
    acc = theano.shared(np.float64(0.0), name="acc")
    inc = T.dscalar("inc")
    f = theano.function(
        [inc],
        acc * 2,
        updates=[(acc, acc + inc)],
        mode=MonitorMode(post_func=lambda i, node, fn: seen.append(i), optimizer="fast_compile"),
    )
    assert [float(f(1.0)), float(f(2.0))] == [0.0, 2.0]
    assert float(acc.get_value()) == 3.0
    assert len(seen) == 2 * len(f.maker.fgraph.toposort())


def test_including_excluding_clone_and_pickle_keep_the_monitor_functions():
    mode = MonitorMode(pre_func=inspect_inputs, post_func=detect_nan, optimizer="fast_compile")
    for derived in (
        mode.including("fusion"),
        mode.excluding("inplace"),
        mode.clone(),
        mode.clone(optimizer="fast_run"),
        pickle.loads(pickle.dumps(mode)),
    ):
        assert type(derived) is MonitorMode
        assert derived.pre_func is inspect_inputs and derived.post_func is detect_nan
        assert derived.linker.mode is derived  # its own linker, calling its own eval
    assert mode.clone().optimizer == "fast_compile"
    assert mode.clone(optimizer="fast_run").optimizer == "fast_run"


def test_monitor_mode_refuses_a_linker_and_non_callable_functions():
    with pytest.raises(ValueError, match="MonitorMode can only use its own linker"):
        MonitorMode(linker="py")
    with pytest.raises(TypeError, match="post_func must be callable"):
        MonitorMode(post_func="print")


def test_monitor_mode_is_exported_where_theano_had_it():
    assert theano.compile.MonitorMode is MonitorMode
    assert theano.compile.monitormode.detect_nan is detect_nan
