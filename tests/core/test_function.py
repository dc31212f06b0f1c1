"""function(): outputs, In/Out, updates (all-or-nothing), givens, errors, copy, eval, profile."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.config import config
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.function import UnusedInputError
from labsym.core.io import In, Out
from labsym.core.shared import shared


def test_scalar_output_is_a_zero_d_array():
    x, y = C["dscalars"]("x", "y")
    f = function([x, y], x + y)
    out = f(1.5, 2.5)
    assert isinstance(out, np.ndarray) and out.shape == () and out == 4.0


def test_output_structures():
    x = C["dvector"]("x")
    assert isinstance(function([x], x * 2)(np.ones(2)), np.ndarray)
    both = function([x], [x * 2, x + 1])(np.ones(2))
    assert isinstance(both, list) and len(both) == 2
    np.testing.assert_array_equal(both[1], [2.0, 2.0])
    single_list = function([x], [x * 2])(np.ones(2))
    assert isinstance(single_list, list) and len(single_list) == 1
    counter = shared(0.0)
    assert function([], updates=[(counter, counter + 1)])() == []


def test_keyword_arguments_and_defaults():
    x, y = C["dscalars"]("x", "y")
    f = function([x, In(y, value=10.0)], x - y)
    assert f(1.0) == -9.0
    assert f(1.0, 2.0) == -1.0
    assert f(y=1.0, x=5.0) == 4.0
    with pytest.raises(TypeError, match="missing required input x"):
        f()
    with pytest.raises(TypeError, match="no input named 'z'"):
        f(1.0, z=2.0)
    with pytest.raises(TypeError, match="takes 2 inputs, got 3"):
        f(1.0, 2.0, 3.0)


def test_stateful_input_with_update():
    x = C["dscalar"]("acc")
    inc = C["dscalar"]("inc")
    f = function([In(x, value=0.0, update=x + inc), inc], x)
    assert f(inc=2.0) == 0.0
    assert f(inc=3.0) == 2.0
    assert f[x] == 5.0
    f["acc"] = 100.0
    assert f(inc=1.0) == 100.0


def test_outputs_never_alias_inputs_or_shared_values():
    x = C["dvector"]("x")
    value = np.arange(3.0)
    out = function([x], x)(value)
    assert out is not value and not np.shares_memory(out, value)
    w = shared(np.ones(3))
    got = function([], w)()
    got[0] = 99.0
    assert w.get_value()[0] == 1.0
    transposed = function([x], x.dimshuffle("x", 0))(value)
    assert not np.shares_memory(transposed, value)


def test_out_borrow_may_return_internal_view():
    w = shared(np.ones(3))
    got = function([], Out(w, borrow=True))()
    assert np.shares_memory(got, w.get_value(borrow=True))


def test_shared_counter_from_the_seeds():
    x = shared(0.0)
    f = function([], updates=[(x, x + 1)])
    f()
    assert x.get_value() == 1.0
    x.set_value(100.0)
    f()
    assert x.get_value() == 101.0


def test_updates_are_computed_before_any_is_committed():
    a = shared(np.float64(1.0), name="a")
    b = shared(np.float64(2.0), name="b")
    swap = function([], updates=[(a, b), (b, a)])
    swap()
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)


def test_a_failing_call_changes_no_shared_variable():
    v = C["dvector"]("v")
    a = shared(np.zeros(2), name="a")
    b = shared(np.zeros(2), name="b")
    f = function([v], updates=[(a, a + 1), (b, b + v)])
    with pytest.raises(ValueError, match="mis-match"):
        f(np.ones(3))
    np.testing.assert_array_equal(a.get_value(), [0.0, 0.0])
    np.testing.assert_array_equal(b.get_value(), [0.0, 0.0])
    f(np.ones(2))
    np.testing.assert_array_equal(a.get_value(), [1.0, 1.0])


def test_updates_as_mapping_and_unordered_set_refused():
    c = shared(0.0)
    f = function([], updates={c: c + 2})
    f()
    assert c.get_value() == 2.0
    with pytest.raises(TypeError, match="must be ordered"):
        function([], updates={(c, c + 1)})


def test_update_of_the_wrong_type_is_refused_with_the_fix():
    c = shared(np.zeros(3), name="c")
    with pytest.raises(TypeError, match=r"dtype float32 .*astype\('float64'\)"):
        function([], updates=[(c, c.astype("float32"))])
    with pytest.raises(TypeError, match="has 2 dims"):
        function([], updates=[(c, c.dimshuffle("x", 0))])
    x = C["dvector"]("x")
    with pytest.raises(TypeError, match="not a shared variable"):
        function([x], updates=[(x, x + 1)])


def test_unused_input_policy():
    x, y = C["dscalars"]("x", "y")
    with pytest.raises(UnusedInputError, match="index 1 .* y"):
        function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not part of the computational graph"):
        function([x, y], x * 2, on_unused_input="warn")
    assert function([x, y], x * 2, on_unused_input="ignore")(1.0, 5.0) == 2.0


def test_shared_variable_cannot_be_an_explicit_input():
    w = shared(1.0, name="w")
    with pytest.raises(TypeError, match="shared variable w as explicit input"):
        function([w], w * 2)


def test_input_dtype_and_ndim_checks():
    fx = C["fvector"]("fx")
    f = function([fx], fx * 2)
    with pytest.raises(TypeError, match=r"Bad input argument fx at index 0 .*loss of precision"):
        f(np.ones(2))
    np.testing.assert_array_equal(f([1.0, 2.0]), np.array([2.0, 4.0], dtype="float32"))
    with pytest.raises(TypeError, match="would change"):
        f([0.1])
    g = function([fx], fx * 2, allow_input_downcast=True)
    assert g(np.ones(2)).dtype == np.float32
    with pytest.raises(TypeError, match="wrong number of dimensions: expected 1"):
        f(np.ones((2, 2), dtype="float32"))
    fs = C["fscalar"]("fs")
    assert function([fs], fs)(0.1).dtype == np.float32


def test_intermediate_variables_can_be_inputs():
    x = C["dvector"]("x")
    hidden = x * 2
    out = hidden + 1
    f = function([hidden], out)
    np.testing.assert_array_equal(f(np.array([5.0])), [6.0])


def test_givens_substitute_variables():
    x = C["dscalar"]("x")
    data = shared(np.arange(10.0), name="data")
    i = C["lscalar"]("i")
    v = C["dvector"]("v")
    f = function([i], (v * x).sum(), givens=[(v, data[i : i + 3]), (x, 2.0)])
    assert f(2) == 2.0 * (2 + 3 + 4)


def test_default_updates_apply_unless_disabled():
    s = shared(0.0, name="s")
    s.default_update = s + 1
    f = function([], s)
    assert f() == 0.0 and f() == 1.0 and s.get_value() == 2.0
    g = function([], s, no_default_updates=True)
    g()
    assert s.get_value() == 2.0


def test_error_names_node_inputs_and_user_line():
    x = C["dvector"]()
    y = C["dvector"]()
    z = x + x
    z = z + y  # the failing node
    f = function([x, y], z, mode="FAST_COMPILE")
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    text = str(info.value)
    assert "Apply node that caused the error: Elemwise{add,no_inplace}" in text
    assert "Inputs shapes: [(2,), (3,)]" in text
    assert "Inputs strides: [(8,), (8,)]" in text
    assert "z = z + y  # the failing node" in text
    assert "exception_verbosity=high" in text


def test_fused_node_errors_still_point_at_the_users_line():
    x = C["dvector"]()
    y = C["dvector"]()
    z = (x + x) * y  # fused into one node by FAST_RUN
    f = function([x, y], z)
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    assert "z = (x + x) * y  # fused" in str(info.value)


def test_high_exception_verbosity_adds_footprint():
    x, y = C["dvectors"]("x", "y")
    f = function([x, y], x + y)
    with config.change_flags(exception_verbosity="high"), pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    assert "Storage map footprint" in str(info.value)
    assert "TotalSize: 24 Byte(s)" in str(info.value)


def test_copy_and_eval():
    x = C["dscalar"]("x")
    c = shared(1.0, name="c")
    f = function([x], x + c, updates=[(c, c * 2)])
    g = f.copy(delete_updates=True)
    assert g(1.0) == [2.0] and c.get_value() == 1.0  # a copy returns a list, as Theano's
    assert f(1.0) == 2.0 and c.get_value() == 2.0
    assert (x * 3).eval({x: 2.0}) == 6.0
    assert (c + 1).eval() == 3.0


def test_profile_counts_calls_and_nodes():
    x = C["dvector"]("x")
    f = function([x], (x * 2 + 1).sum(), profile=True, mode="FAST_COMPILE")
    for _ in range(3):
        f(np.ones(4))
    assert f.profile.call_count == 3
    assert all(calls == 3 for calls in f.profile.node_calls)
    report = f.profile.summary()
    assert "Function profiling" in report and "Elemwise{mul,no_inplace}" in report


def test_allow_gc_false_keeps_results_correct():
    x = C["dvector"]("x")
    with config.change_flags(allow_gc=False):
        f = function([x], (x * 2 + 1) * 3, mode="FAST_COMPILE")
    assert "del " not in f.source
    np.testing.assert_array_equal(f(np.ones(2)), [9.0, 9.0])
    g = function([x], (x * 2 + 1) * 3, mode="FAST_COMPILE")
    assert "del " in g.source


def test_trust_input_skips_checks_but_computes_the_same():
    x = C["dvector"]("x")
    f = function([x], x * 2)
    assert not f.trust_input
    f.trust_input = True
    assert f.trust_input and "_filter0" not in f.source
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    f.trust_input = False
    with pytest.raises(TypeError, match="wrong number of dimensions"):
        f(np.ones((2, 2)))


def test_functions_and_graphs_pickle():
    import pickle

    x = C["dvector"]("x")
    w = shared(np.array([1.0, 2.0]), name="w")
    f = function([x], (x * w).sum(), updates=[(w, w * 2)], name="f")
    g = pickle.loads(pickle.dumps(f))
    assert g(np.ones(2)) == 3.0 and f(np.ones(2)) == 3.0
    assert g(np.ones(2)) == 6.0  # the unpickled function updates its own copy of w
    expr = pickle.loads(pickle.dumps(m_tanh_of(x)))
    assert str(expr.owner.inputs[0].owner.op) == "Elemwise{tanh,no_inplace}"


def m_tanh_of(x):
    from labsym.core.ops import math

    return math.tanh(x) + 1


def test_raw_call_returns_uncopied_values_and_errors_still_map_to_nodes():
    x, y = C["dvectors"]("x", "y")
    f = function([x, y], [x + y, Out(x, borrow=True)])  # not borrowed, x gets a DeepCopyOp
    raw = f.raw_call()
    a = np.ones(2)
    total, same = raw(f, a, np.ones(2))
    np.testing.assert_array_equal(total, [2.0, 2.0])
    assert same is a  # raw: no defensive copy
    with pytest.raises(ValueError, match=r"Apply node that caused the error: Elemwise\{add"):
        f(np.ones(2), np.ones(3))  # the normal call still names its node
