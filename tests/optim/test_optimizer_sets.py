"""Optimizer sets and names: FAST_COMPILE runs Theano's fast_compile set only, Theano's optimizer
names in including/excluding select labsym's phases and rules, unknown names warn once.

Each rewrite test checks the graph's structure and that the numbers do not change.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import labsym.tensor as T
from labsym import gradient
from labsym.compile import Mode, function, get_mode
from labsym.compile.debugmode import DebugMode
from labsym.config import config
from labsym.core.ops.composite import Composite
from labsym.gof.opt import PatternSub
from labsym.optim import phases
from labsym.optim.phases import FAST_COMPILE_RULES, THEANO_NAMES, builtin_rules, rewriter_for
from labsym.optim.user import unregister_rule
from labsym.tensor.opt import register_canonicalize
from tests.optim.rewrite_helpers import ops_in

RNG = np.random.default_rng(3)


def op_names(f) -> list[str]:
    return [str(node.op) for node in f.maker.fgraph.toposort()]


# ------------------------------------------------------------------------------ FAST_COMPILE
def test_fast_compile_keeps_the_shape_mismatch_that_fast_run_removes():
    a, b = T.dvectors("a", "b")
    out = a + T.zeros_like(b)
    compiled = function([a, b], out, mode="FAST_COMPILE")
    assert op_names(compiled) == ["Elemwise{second,no_inplace}", "Elemwise{add,no_inplace}"]
    with pytest.raises(ValueError, match=r"Input dimension mis-match.*shape\[0\] = 1.*= 2"):
        compiled(np.ones(1), np.ones(2))
    fast = function([a, b], out, mode="FAST_RUN")
    # fill sinking and x + 0 -> x left only `a`, returned as a copy (DeepCopyOp), as in Theano
    assert op_names(fast) == ["DeepCopyOp"]
    np.testing.assert_array_equal(fast(np.ones(1), np.ones(2)), [1.0])
    np.testing.assert_array_equal(compiled(np.ones(2), np.full(2, 5.0)), [1.0, 1.0])


def test_fast_compile_runs_exactly_theanos_fast_compile_rules():
    rewriter = get_mode("FAST_COMPILE").rewriter
    assert {rule.name for rule in rewriter.rules} == FAST_COMPILE_RULES
    assert {rule.name for rule in builtin_rules()} >= FAST_COMPILE_RULES
    assert {"sink_fill", "add_zero", "canonical_add_chain"}.isdisjoint(FAST_COMPILE_RULES)
    assert rewriter_for("o1").rules == rewriter.rules  # Theano's o1 is fast_compile


def test_fast_compile_folds_constants_and_removes_views_but_keeps_arithmetic():
    x = T.dvector("x")
    out = gradient.zero_grad(x) * (T.constant(2.0) + T.constant(3.0)) + 0
    f = function([x], out, mode="FAST_COMPILE")
    names = op_names(f)
    assert names == ["Elemwise{mul,no_inplace}", "Elemwise{add,no_inplace}"]  # `+ 0` stays
    folded = f.maker.fgraph.toposort()[0].inputs[1]
    assert np.all(folded.data == 5.0)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [5.0, 10.0])
    fast = function([x], out)
    assert len(op_names(fast)) == 1
    np.testing.assert_allclose(fast(np.array([1.0, 2.0])), [5.0, 10.0])


def test_fast_compile_forms_log_softmax_as_theano_did():
    x = T.dmatrix("x")
    f = function([x], T.log(T.nnet.softmax(x)), mode="FAST_COMPILE")
    assert "LogSoftmax" in " ".join(op_names(f))
    value = RNG.normal(size=(2, 3))
    shifted = value - value.max(axis=1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(f(value), expected, rtol=1e-12)


def test_user_rule_joins_fast_compile_only_with_the_fast_compile_tag():
    x = T.dvector("x")
    rule = PatternSub((T.exp, (T.log, "x")), "x", name="sets_exp_log")
    try:
        register_canonicalize(rule)
        assert "Elemwise{exp,no_inplace}" in ops_in(
            function([x], T.exp(T.log(x)), mode="FAST_COMPILE").maker.fgraph
        )
        register_canonicalize(rule, "fast_compile")
        f = function([x], T.exp(T.log(x)), mode="FAST_COMPILE")
        assert op_names(f) == ["DeepCopyOp"]  # x itself, copied as Theano did
        np.testing.assert_allclose(f(np.array([2.0])), [2.0])
    finally:
        unregister_rule("sets_exp_log")


# ------------------------------------------------------------------------------ Theano names
def test_excluding_fusion_leaves_no_composite():
    x = T.dmatrix("x")
    out = T.exp(x) * 2 + 1
    fused = function([x], out)
    assert any(isinstance(n.op, Composite) for n in fused.maker.fgraph.toposort())
    value = RNG.normal(size=(2, 2))
    for name in ("fusion", "local_elemwise_fusion", "elemwise_fusion"):
        f = function([x], out, mode=Mode().excluding(name))
        assert not any(isinstance(n.op, Composite) for n in f.maker.fgraph.toposort())
        assert len(op_names(f)) == 3
        np.testing.assert_allclose(f(value), fused(value), rtol=1e-12)


def test_excluding_inplace_leaves_no_inplace_op():
    x = T.dmatrix("x")
    out = (x + 1) * 2
    normal = function([x], out, mode=Mode().excluding("fusion"))
    assert any(n.op.destroy_map for n in normal.maker.fgraph.toposort())
    value = RNG.normal(size=(2, 3))
    for name in ("inplace", "inplace_opt", "inplace_elemwise_optimizer"):
        f = function([x], out, mode=Mode().excluding("fusion", name))
        assert [n.op.destroy_map for n in f.maker.fgraph.toposort()] == [{}, {}]
        np.testing.assert_allclose(f(value), (value + 1) * 2)


def test_local_log1p_excluded_and_included_changes_graph_not_numbers():
    x = T.dvector("x")
    value = np.array([1e-3, 0.5, 2.0])
    with_log1p = function([x], T.log(1 + x))
    assert "Elemwise{log1p,no_inplace}" in op_names(with_log1p)
    without = function([x], T.log(1 + x), mode=Mode().excluding("local_log1p"))
    assert [type(n.op) for n in without.maker.fgraph.toposort()] == [Composite]
    assert "log1p" not in str(without.maker.fgraph)  # fused log(1 + i0)
    compiled = function([x], T.log(1 + x), mode=get_mode("FAST_COMPILE").including("local_log1p"))
    assert op_names(compiled) == ["Elemwise{log1p,no_inplace}"]
    for f in (without, compiled):
        np.testing.assert_allclose(f(value), with_log1p(value), rtol=1e-12)


def test_gemm_shape_opt_constant_folding_and_canonizers_by_theano_name():
    x, y, z = T.dmatrices("x", "y", "z")
    vals = [RNG.normal(size=(2, 2)) for _ in range(3)]
    gemm = function([x, y, z], z + T.dot(x, y))
    no_gemm = function([x, y, z], z + T.dot(x, y), mode=Mode().excluding("gemm"))
    assert "Gemm" in " ".join(op_names(gemm)) and "Gemm" not in " ".join(op_names(no_gemm))
    np.testing.assert_allclose(no_gemm(*vals), gemm(*vals), rtol=1e-12)
    assert "Elemwise{mul,no_inplace}" not in op_names(function([x], (x * 2).shape))
    kept = function([x], (x * 2).shape, mode=Mode().excluding("ShapeOpt"))
    assert op_names(kept) == ["Elemwise{mul,no_inplace}", "Shape"]
    np.testing.assert_array_equal(kept(vals[0]), [2, 2])
    c = T.constant(np.array([1.0, 2.0]))
    unfolded = function([], T.exp(c), mode=Mode().excluding("constant_folding"))
    assert op_names(unfolded) == ["Elemwise{exp,no_inplace}"]
    np.testing.assert_allclose(unfolded(), np.exp([1.0, 2.0]))
    a, b = T.dvectors("a", "b")
    mode = Mode().excluding("local_fill_sink", "local_add_canonizer")
    with pytest.raises(ValueError, match="Input dimension mis-match"):
        function([a, b], a + T.zeros_like(b), mode=mode)(np.ones(1), np.ones(2))


def test_every_theano_name_maps_to_existing_phases_or_rules():
    known = set(phases.PHASES) | {rule.name for rule in builtin_rules()}
    for name, targets in THEANO_NAMES.items():
        assert targets and set(targets) <= known, name


def test_theano_names_labsym_lacks_name_no_labsym_rule_or_tag():
    """A Theano name that became a labsym rule or tag (scan's rewrites) leaves THEANO_ABSENT:
    excluding it must remove that rule, not be ignored as absent."""
    assert not phases.THEANO_ABSENT & phases._selectable()
    assert not phases.THEANO_ABSENT & set(THEANO_NAMES)
    for theano_name, rule in [
        ("scanOp_pushout_output", "scan_pushout_accumulators"),
        ("scanOp_pushout_seqs_ops", "scan_pushout_seqs_ops"),
        ("scan", "scan_prune_outputs"),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            kept = [r.name for r in Mode().excluding(theano_name).rewriter.rules]
        assert rule in [r.name for r in Mode().rewriter.rules] and rule not in kept


def test_unknown_name_warns_once_with_close_matches():
    phases._WARNED.discard("fusoin")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mode = Mode().excluding("fusoin")
        Mode().excluding("fusoin")
    messages = [str(w.message) for w in caught]
    assert messages == [
        "unknown optimizer name 'fusoin' in including/excluding is ignored: it names no labsym "
        "phase, rule or Theano optimizer; close matches: 'fusion'"
    ]
    assert mode.rewriter.phases == list(phases.PHASES)


def test_theano_names_labsym_lacks_exclude_silently_and_warn_when_included():
    phases._WARNED.discard("local_ultra_fast_sigmoid")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Mode().excluding("gpu", "cxx_only", "local_softmax_with_bias", "gpuarray")
        assert not caught
        mode = Mode().including("local_ultra_fast_sigmoid")
    assert [str(w.message) for w in caught] == [
        "Theano's optimizer 'local_ultra_fast_sigmoid' has no labsym counterpart: "
        "including('local_ultra_fast_sigmoid') changes nothing"
    ]
    assert mode.rewriter.rules == Mode().rewriter.rules


def test_theano_optimizer_names_o1_to_o4_and_stabilize():
    x = T.dmatrix("x")
    out = T.log(1 + (x + 1) * 2)
    value = RNG.uniform(0, 1, size=(2, 2))
    expected = np.log(1 + (value + 1) * 2)
    kinds = {}
    for name in ("o1", "o2", "o3", "o4", "stabilize", "unsafe"):
        f = function([x], out, mode=Mode(linker="py", optimizer=name))
        np.testing.assert_allclose(f(value), expected, rtol=1e-12)
        nodes = f.maker.fgraph.toposort()
        kinds[name] = (
            any(isinstance(n.op, Composite) for n in nodes),
            any(n.op.destroy_map for n in nodes),
            "log1p" in str(f.maker.fgraph),
        )
    assert kinds["o1"] == (False, False, False)
    assert kinds["o2"][0] and not kinds["o2"][2]  # fast_compile + fusion
    assert kinds["o3"] == (True, False, True)  # fast_run without inplace
    assert kinds["stabilize"] == (False, False, True)
    assert rewriter_for("o4").rules == rewriter_for("fast_run").rules


def test_optimizer_flags_change_the_default_mode_only():
    x = T.dmatrix("x")
    with config.change_flags(optimizer_excluding="fusion:inplace"):
        default = function([x], T.exp(x) * 2 + 1)
        named = function([x], T.exp(x) * 2 + 1, mode="FAST_RUN")
    assert len(op_names(default)) == 3
    assert not any(n.op.destroy_map for n in default.maker.fgraph.toposort())
    assert len(op_names(named)) == 1
    with config.change_flags(mode="FAST_COMPILE", optimizer_including="local_log1p"):
        f = function([x], T.log(1 + x))
    assert op_names(f) == ["Elemwise{log1p,no_inplace}"]
    with config.change_flags(tensor__local_elemwise_fusion=False):
        unfused = function([x], T.exp(x) * 2 + 1, mode="FAST_RUN")
        fused_again = function([x], T.exp(x) * 2 + 1, mode=Mode().including("fusion"))
    assert len(op_names(unfused)) == 3 and len(op_names(fused_again)) == 1


def test_debugmode_keeps_its_class_through_theano_names():
    mode = DebugMode().excluding("local_log1p", "fusion")
    assert isinstance(mode, DebugMode)
    assert "log1p_from_log" not in {rule.name for rule in mode.rewriter.inner.rules}


def test_theano_register_useless_uncanonicalize_and_user_tags():
    from labsym.tensor.opt import register_uncanonicalize, register_useless

    x = T.dvector("x")
    value = np.array([0.5, 2.0])
    try:
        exp_log = PatternSub((T.exp, (T.log, "x")), "x", name="useless_exp_log")
        register_useless(exp_log, "fast_compile", "my_tag")
        register_uncanonicalize(PatternSub((T.sqrt, (T.sqr, "x")), (T.abs, "x")), name="sq")
        f = function([x], T.exp(T.log(x)), mode="FAST_COMPILE")
        assert op_names(f) == ["DeepCopyOp"]
        kept = function([x], T.exp(T.log(x)), mode=Mode().excluding("my_tag"))
        assert len(op_names(kept)) == 1  # exp(log(x)) fused into one Composite
        np.testing.assert_allclose(kept(value), value)
        g = function([x], T.sqrt(T.sqr(x)), mode=Mode().excluding("fusion"))
        assert op_names(g) == ["Elemwise{abs_,no_inplace}"]
        np.testing.assert_allclose(g(-value), value)
        h = function(
            [x], T.sqrt(T.sqr(x)), mode=Mode().excluding("fusion", "uncanonicalize", "inplace")
        )
        assert op_names(h) == ["Elemwise{sqr,no_inplace}", "Elemwise{sqrt,no_inplace}"]
    finally:
        unregister_rule("useless_exp_log")
        unregister_rule("sq")
