"""function() inputs as Theano takes them: tuple shortcuts, f.value[x], f.container[x]."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.io import In
from labsym.core.shared import shared


def test_variable_default_tuple():
    x, y = C["dscalars"]("x", "y")
    f = function([x, (y, 2.0)], x * y)
    assert f(3.0) == 6.0
    assert f(3.0, 4.0) == 12.0
    assert f(x=1.0, y=5.0) == 5.0


def test_name_variable_default_tuple():
    x, y = C["dscalars"]("x", "y")
    f = function([x, ("scale", y, 2.0)], x * y)
    assert f(3.0) == 6.0
    assert f(3.0, scale=10.0) == 30.0
    g = function([("first", x), y], x - y)
    assert g(first=5.0, y=1.0) == 4.0


def test_variable_update_default_tuple_is_a_stateful_input():
    x = C["dscalar"]("x")
    s = C["dscalar"]("s")
    f = function([x, ((s, s + x), 0.0)], s)
    assert f(2.0) == 0.0
    assert f(3.0) == 2.0
    assert f[s] == 5.0
    g = function([x, ("total", (s, s + x), 10.0)], s * 1)
    g(1.0)
    assert g["total"] == 11.0


def test_in_with_a_value_tuple():
    x, y = C["dscalars"]("x", "y")
    f = function([x, (In(y), 4.0)], x + y)
    assert f(1.0) == 5.0


def test_bad_input_specifications():
    x, y = C["dscalars"]("x", "y")
    with pytest.raises(TypeError, match="invalid syntax for function input 1"):
        function([x, (y, 1.0, 2.0)], x + y)
    with pytest.raises(TypeError, match="the default value for y must be a value"):
        function([x, (y, x)], x + y)
    with pytest.raises(TypeError, match="function input 0 is 3, not a symbolic variable"):
        function([3], x)


def test_value_and_container_attributes():
    x, y = C["dscalars"]("x", "y")
    w = shared(np.array([1.0, 2.0]), name="w")
    f = function([x, In(y, value=3.0)], (w * x).sum() + y)
    assert f.value[y] == 3.0 and f.value["y"] == 3.0 and f[1] == 3.0
    f.value["y"] = 10.0
    assert f(1.0) == 13.0
    assert f.container[y].value == 10.0
    f.container[y].value = np.asarray(20.0)
    assert f(1.0) == 23.0
    assert f.value[x] is None  # a required input keeps no value
    np.testing.assert_array_equal(f.value[w], [1.0, 2.0])
    assert f.container[w] is w.container
    f.value["w"] = [2.0, 2.0]
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0])
    assert y in f and "w" in f and "z" not in f.value and "w" in f.container
    with pytest.raises(TypeError, match="Unknown input or state: z"):
        f.value["z"]
    with pytest.raises(TypeError, match="missing required input x"):
        f.value[x] = 1.0  # setting a required input does not make it optional
        f()


def test_duplicate_names_are_ambiguous():
    a = C["dscalar"]("v")
    b = C["dscalar"]("v")
    f = function([a, b], a - b)
    assert f(3.0, 1.0) == 2.0
    with pytest.raises(TypeError, match="Ambiguous name: v"):
        f.value["v"]


def test_none_input_says_it_is_missing():
    y = C["fscalar"]("y")
    f = function([y], y * 2, name="double")
    with pytest.raises(TypeError) as info:
        f(None)
    message = str(info.value)
    assert message.startswith(
        "Bad input argument y at index 0 (0-based) to function double: the input is missing "
        "(None was given), expected a value of type TensorType(float32, scalar)"
    )
    assert "would change" not in message


def test_theano_io_documentation_examples():
    # library/compile/io.txt: defaults, temporary overrides, updates and direct assignment
    u, x, s = C["dscalars"]("u", "x", "s")
    inc = function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc(5) == []
    assert inc[s] == 25.0
    inc(3, 4)
    assert inc[s] == 37.0 and inc[x] == 3.0  # the override of x was only for that call
    inc(3, 4, 7)  # s given: its kept value is ignored, then replaced by the update
    assert inc[s] == 19.0
    inc[s] = 10
    assert inc[s] == 10.0 and isinstance(inc[s], np.ndarray)

    a, b, c = C["dscalars"]("x", "y", "s")
    fn = function([a, b, ((c, c + a + b), 10.0)], [])
    assert fn["s"] is fn.value[c] and fn["s"] is fn.container[c].value
    assert fn["s"] == 10.0
    fn(1, 2)
    assert fn["s"] == 13.0
    fn["s"] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0
    fn.value[c] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0 == fn.value[c] == fn.container[c].value
