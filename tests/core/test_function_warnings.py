"""NumPy warnings inside a compiled call point at the user's line and name the Apply node."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.ops.math import log


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_runtime_warning_points_at_the_line_that_built_the_node(mode):
    x = C["dvector"]("x")
    line = sys._getframe().f_lineno + 1
    y = log(x) * 2
    f = function([x], y, mode=mode)
    with pytest.warns(RuntimeWarning, match=r"invalid value encountered in log \(in Apply node "):
        out = f(np.array([-1.0, 1.0]))
    assert np.isnan(out[0]) and out[1] == 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(np.array([-1.0]))
    assert len(caught) == 1
    shown = caught[0]
    assert shown.category is RuntimeWarning
    assert (shown.filename, shown.lineno) == (__file__, line)
    assert "log" in str(shown.message).split("(in Apply node ")[1]


def test_no_warning_for_valid_inputs_and_the_user_filters_still_apply():
    x = C["dvector"]("x")
    f = function([x], log(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(np.array([1.0, 2.0]))
        with np.errstate(invalid="ignore"):
            f(np.array([-1.0]))
    assert caught == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="invalid value encountered in log")
        f(np.array([-1.0]))
    assert caught == []


def test_warnings_as_errors_report_the_node():
    x = C["dvector"]("x")
    f = function([x], log(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning) as info:
            f(np.array([-1.0]))
    assert "invalid value encountered in log" in str(info.value)
    assert "Apply node that caused the error" in str(info.value)


def test_warning_inside_a_scan_step_points_at_the_step_function():
    import labsym

    x = C["dvector"]("x")
    line = sys._getframe().f_lineno + 1
    out, _ = labsym.scan(lambda xi: log(xi), sequences=x)
    f = function([x], out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f(np.array([1.0, -1.0]))
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]
    assert "invalid value encountered in log (in Apply node " in str(caught[0].message)
