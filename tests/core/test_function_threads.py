"""Calls from several threads: a call's read-compute-commit of shared updates is atomic."""

from __future__ import annotations

import pickle
import sys
import threading

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.io import In
from labsym.core.shared import shared


@pytest.fixture
def frequent_thread_switches():
    # switch threads every microsecond: without the locks, updates are lost in almost every run
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _run_in_threads(functions: list, calls: int) -> None:
    barrier = threading.Barrier(len(functions))

    def work(fn) -> None:
        barrier.wait()
        for _ in range(calls):
            fn()

    threads = [threading.Thread(target=work, args=(fn,)) for fn in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_one_function_from_four_threads(frequent_thread_switches):
    c = shared(0, name="c")
    inc = function([], [], updates=[(c, c + 1)])
    _run_in_threads([inc] * 4, 500)
    assert c.get_value() == 2000


def test_two_functions_updating_the_same_shared_variable(frequent_thread_switches):
    c = shared(0, name="c")
    step = shared(np.zeros(3), name="step")
    inc = function([], c, updates=[(c, c + 1)])
    inc_both = function([], [], updates=[(step, step + 1), (c, c + 1)])
    add_two = function([], [], updates=[(c, c + 2), (step, step + 2)])  # the other lock order
    _run_in_threads([inc, inc_both, add_two, inc_both], 500)
    assert c.get_value() == 500 + 500 + 1000 + 500
    np.testing.assert_array_equal(step.get_value(), [2000.0] * 3)


def test_stateful_inputs_and_copies_from_threads(frequent_thread_switches):
    total = C["lscalar"]("total")
    f = function([((total, total + 1), 0)], total)
    c = shared(0, name="c")
    g = function([], [], updates=[(c, c + 1)])
    g_copy = g.copy()
    _run_in_threads([f, f, g, g_copy], 500)
    assert f[total] == 1000
    assert c.get_value() == 1000


def test_a_call_that_fails_releases_its_locks():
    c = shared(np.zeros(2), name="c")
    x = C["dvector"]("x")
    f = function([x], [], updates=[(c, c + x)])
    with pytest.raises(ValueError):
        f(np.ones(3))
    done = []
    thread = threading.Thread(target=lambda: done.append(f(np.ones(2))))
    thread.start()
    thread.join(timeout=10)
    assert done == [[]] and c.get_value().tolist() == [1.0, 1.0]


def test_functions_without_updates_take_no_lock():
    x = C["dscalar"]("x")
    assert "_acquire" not in function([x], x + 1).source
    c = shared(0.0)
    f = function([In(x, value=1.0)], [], updates=[(c, c + x)])
    assert "_acquire0()" in f.source
    f.trust_input = True  # Theano's fast path keeps the lock
    assert "_acquire0()" in f.source and "_release0()" in f.source
    f(np.asarray(2.0))
    assert c.get_value() == 2.0


def test_shared_variables_with_locks_still_pickle():
    w = shared(np.arange(3.0), name="w")
    clone = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(clone.get_value(), [0.0, 1.0, 2.0])
    f = function([], [], updates=[(clone, clone * 2)])
    f()
    np.testing.assert_array_equal(clone.get_value(), [0.0, 2.0, 4.0])
