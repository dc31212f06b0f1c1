"""Function.copy as Theano's: swap reads and updates the new shared variable; delete_updates."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.io import In
from labsym.core.shared import shared


def _accumulator():
    state = shared(0)
    inc = C["iscalar"]("inc")
    return state, inc, function([inc], state, updates=[(state, state + inc)])


def test_swap_reads_and_updates_the_new_shared_variable():
    # the Theano tutorial's "Copying functions" example
    state, _, accumulator = _accumulator()
    assert accumulator(10) == 0
    assert state.get_value() == 10
    new_state = shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    out = new_accumulator(100)
    assert isinstance(out, list) and len(out) == 1 and out[0] == 0  # Theano's [array(0)]
    assert new_state.get_value() == 100
    assert state.get_value() == 10
    assert new_accumulator(1)[0] == 100 and new_state.get_value() == 101
    assert accumulator(5) == 10 and state.get_value() == 15 and new_state.get_value() == 101


def test_delete_updates_leaves_the_state_alone():
    state, _, accumulator = _accumulator()
    accumulator(10)
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000)[0] == 10
    assert state.get_value() == 10


def test_delete_updates_with_an_input_only_the_updates_used():
    w = shared(np.zeros(2), name="w")
    lr = C["dscalar"]("lr")
    x = C["dvector"]("x")
    train = function([x, lr], (w * x).sum(), updates=[(w, w + lr * x)])
    train(np.ones(2), 0.5)
    np.testing.assert_array_equal(w.get_value(), [0.5, 0.5])
    score = train.copy(delete_updates=True)  # lr is now unused: Theano ignores that
    assert score(np.array([2.0, 4.0]), 0.5)[0] == 3.0
    np.testing.assert_array_equal(w.get_value(), [0.5, 0.5])


def test_swap_also_moves_default_updates():
    counter = shared(0.0, name="counter")
    counter.default_update = counter + 1
    f = function([], counter)
    other = shared(10.0, name="other")
    g = f.copy(swap={counter: other})
    assert g()[0] == 10.0 and other.get_value() == 11.0
    assert counter.get_value() == 0.0
    assert f() == 0.0 and counter.get_value() == 1.0 and other.get_value() == 11.0


def test_unswapped_shared_variables_stay_shared():
    state, inc, accumulator = _accumulator()
    scale = shared(2, name="scale")
    f = function([inc], state * scale, updates=[(state, state + inc)])
    new_state = shared(5)
    g = f.copy(swap={state: new_state})
    scale.set_value(3)
    assert g(1)[0] == 15  # reads the new state and the original `scale`
    assert new_state.get_value() == 6 and state.get_value() == 0


def test_copy_name_profile_and_defaults():
    x = C["dscalar"]("x")
    y = C["dscalar"]("y")
    f = function([x, In(y, value=1.0)], x + y, name="adder")
    assert f.copy().name == "adder copy"
    assert f.copy(name="other").name == "other"
    assert function([x], x * 2).copy().name is None
    f["y"] = 5.0
    g = f.copy(share_memory=True)
    assert g(1.0)[0] == 6.0  # an input default starts at the original's current value
    g["y"] = 7.0
    assert f(1.0) == 6.0 and g(1.0)[0] == 8.0  # but the two keep separate containers
    assert copy.copy(f)(2.0)[0] == 7.0
    h = f.copy(profile=True)
    h(1.0)
    assert h.profile is not None and h.profile.call_count == 1 and f.profile is None


def test_stateful_input_restarts_from_its_initial_value():
    acc = C["dscalar"]("acc")
    inc = C["dscalar"]("inc")
    f = function([In(acc, value=0.0, update=acc + inc), inc], acc)
    f(inc=2.0)
    f(inc=3.0)
    g = f.copy()
    assert g(inc=1.0)[0] == 0.0 and g(inc=1.0)[0] == 1.0
    assert f[acc] == 5.0


def test_bad_swaps_are_clear_errors():
    state, _, accumulator = _accumulator()
    with pytest.raises(ValueError, match="SharedVariable: unused not found"):
        accumulator.copy(swap={shared(0, name="unused"): shared(0)})
    with pytest.raises(TypeError, match="has type TensorType\\(float64, scalar\\)"):
        accumulator.copy(swap={state: shared(0.0)})
    with pytest.raises(TypeError, match="maps shared variables to shared variables"):
        accumulator.copy(swap={state: 3})


def test_delete_updates_also_drops_stateful_input_updates():
    acc = C["dscalar"]("acc")
    inc = C["dscalar"]("inc")
    f = function([In(acc, value=1.0, update=acc + inc), inc], acc * 10)
    g = f.copy(delete_updates=True)
    assert g(inc=2.0)[0] == 10.0 and g(inc=2.0)[0] == 10.0 and g[acc] == 1.0
    assert f(inc=2.0) == 10.0 and f[acc] == 3.0
