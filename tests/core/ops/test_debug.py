"""The debugging ops Print and Assert: identities that print or check at run time."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.ops import debug
from labsym.core.ops import math as m
from labsym.core.variable import constant
from tests.core.ops.helpers import check_grad, check_infer_shape, tensor

RNG = np.random.default_rng(5)


def test_facades_reexport_the_debug_ops():
    import labsym.printing
    import labsym.tensor.extra_ops

    assert labsym.printing.Print is debug.Print
    assert labsym.tensor.extra_ops.Print is debug.Print
    assert labsym.tensor.extra_ops.Assert is debug.Assert
    assert labsym.tensor.extra_ops.assert_op is debug.assert_op


def test_print_prints_the_value_each_call_and_is_an_identity(capsys):
    x = tensor("float64", 1)
    f = function([x], debug.Print("x is")(x) * 2)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    f(np.array([3.0]))
    assert capsys.readouterr().out == "x is __str__ = [1. 2.]\nx is __str__ = [3.]\n"


def test_print_attrs_and_constants_print_at_run_time(capsys):
    p = debug.Print("c", attrs=("shape", "sum"))(constant(np.ones((2, 3))))
    f = function([], p)
    assert capsys.readouterr().out == ""  # not folded away at compile time
    f()
    assert capsys.readouterr().out == "c shape = (2, 3)\nc sum = 6.0\n"
    assert str(debug.Print("hi")) == "Print{hi}"
    assert debug.Print.view_map == {0: [0]}


def test_print_gradient_passes_through(capsys):
    x = tensor("float64", 1)
    g = grad((debug.Print("x")(x) ** 2).sum(), x)
    np.testing.assert_array_equal(function([x], g)(np.array([1.0, 3.0])), [2.0, 6.0])
    check_grad(lambda t: debug.Print("t", global_fn=lambda op, v: None)(t) * 3, RNG.normal(size=3))
    x = tensor("float64", 2)
    check_infer_shape([x], debug.Print("s")(x), [RNG.normal(size=(2, 3))])


def test_assert_raises_with_its_message_only_when_false():
    x = tensor("float64", 1)
    checked = debug.Assert("x must be positive")(x, m.gt(x, 0).all(), m.lt(x, 10))
    f = function([x], checked * 1)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [1.0, 2.0])
    with pytest.raises(AssertionError, match="x must be positive"):
        f(np.array([1.0, -2.0]))
    with pytest.raises(AssertionError, match="x must be positive"):
        f(np.array([11.0]))
    g = grad((checked**2).sum(), x)
    np.testing.assert_array_equal(function([x], g)(np.array([1.0, 3.0])), [2.0, 6.0])
    check_infer_shape([x], checked, [np.array([1.0, 2.0])])
    assert debug.assert_op == debug.Assert()
