"""Scan's generated step loop: ring storage of final-only states, stacked outputs, early stop,
shape errors, and one cached loop per layout."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops import math as m
from labsym.core.scan import reduce, scan, until
from labsym.core.scan.op import step_loop


def _fib_tail(seq: np.ndarray, start: np.ndarray) -> float:
    a, b = start
    for s in seq:
        a, b = b, a + b + s
    return b


@pytest.mark.parametrize("steps", [0, 1, 2, 7])
def test_final_only_state_with_two_taps_keeps_a_ring_of_its_last_rows(steps):
    s, x0 = C["dvector"]("s"), C["dvector"]("x0")
    last, _ = reduce(
        lambda s_t, a, b: a + b + s_t, sequences=s, outputs_info=dict(initial=x0, taps=[-2, -1])
    )
    assert last.owner.op.info.final_only == (True,)
    seq, start = np.arange(steps, dtype="float64") * 0.5, np.array([0.25, 1.0])
    got = function([s, x0], last)(seq, start)
    assert got.shape == ()
    np.testing.assert_allclose(got, _fib_tail(seq, start))


def test_stacked_outputs_states_and_until_stop_together():
    x, h0 = C["dvector"]("x"), C["dscalar"]("h0")

    def step(x_t, h):
        new = h + x_t
        return [new, new * 2], until(m.gt(new, 3.5))

    (hs, doubled), _ = scan(step, sequences=x, outputs_info=[h0, None])
    f = function([x, h0], [hs, doubled])
    got_h, got_d = f(np.ones(10), 0.0)
    np.testing.assert_allclose(got_h, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(got_d, [2.0, 4.0, 6.0, 8.0])


def test_a_stacked_output_that_changes_shape_is_reported():
    x = C["dmatrix"]("x")
    out, _ = scan(lambda x_t: x_t[: m.cast(x_t[0], "int64")], sequences=x)
    with pytest.raises(ValueError, match=r"has shape \(1,\) at step 1 but \(2,\) at step 0"):
        function([x], out)(np.array([[2.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))


def test_the_loop_is_generated_once_per_layout():
    x = C["dvector"]("x")
    first, _ = scan(lambda x_t: x_t * 2, sequences=x)
    second, _ = scan(lambda x_t: x_t + 1, sequences=x)
    a, b = first.owner.op.info, second.owner.op.info
    assert a == b and step_loop(a) is step_loop(b)
    function([x], [first, second])(np.arange(3.0))
    assert step_loop.cache_info().hits >= 1


@pytest.mark.parametrize("linker", ["py", "c|py"])
def test_functions_holding_a_scan_pickle_and_run_after_unpickling(linker):
    import pickle

    from labsym.compile import Mode

    x, h0 = C["dvector"]("x"), C["dscalar"]("h0")
    hs, _ = scan(lambda x_t, h: x_t * 2 + h, sequences=[x], outputs_info=[h0])
    f = function([x, h0], hs, mode=Mode(linker=linker, optimizer="fast_run"))
    want = f(np.arange(3.0), 1.0)
    g = pickle.loads(pickle.dumps(f))  # compiled step functions are rebuilt, not pickled
    np.testing.assert_array_equal(g(np.arange(3.0), 1.0), want)
    np.testing.assert_array_equal(want, [1.0, 3.0, 7.0])
