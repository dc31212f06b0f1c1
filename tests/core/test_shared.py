"""Shared variables: value copies, set_value checks, broadcastable patterns."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.core.shared import shared


def test_get_value_copies_unless_borrowed():
    value = np.arange(3.0)
    w = shared(value)
    assert not np.shares_memory(w.get_value(), value)
    assert w.get_value(borrow=True) is w.get_value(borrow=True)
    b = shared(value, borrow=True)
    assert b.get_value(borrow=True) is value


def test_python_scalars_and_types():
    assert shared(0.0).type.dtype == "float64" and shared(0.0).ndim == 0
    assert shared(np.ones((2, 3), dtype="float32")).type.shape == (None, None)
    assert shared(np.ones((1, 3)), broadcastable=(True, False)).type.shape == (1, None)
    assert str(shared(np.ones(3), name="W")) == "W"


def test_set_value_checks_dtype_and_ndim():
    w = shared(np.zeros(3), name="w")
    w.set_value([1.0, 2.0])
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])
    with pytest.raises(
        TypeError,
        match=r"set_value on shared variable w \(TensorType\(float64, vector\)\): wrong number "
        "of dimensions: expected 1",
    ):
        w.set_value(np.zeros((2, 2)))
    f = shared(np.zeros(3, dtype="float32"), name="f")
    with pytest.raises(TypeError, match="loss of precision"):
        f.set_value(np.zeros(3))
    row = shared(np.ones((1, 3)), broadcastable=(True, False), name="row")
    with pytest.raises(TypeError, match="requires length 1"):
        row.set_value(np.ones((2, 3)))


def test_set_value_copies_unless_borrowed():
    w = shared(np.zeros(2))
    new = np.ones(2)
    w.set_value(new)
    new[0] = 5.0
    assert w.get_value()[0] == 1.0
    w.set_value(new, borrow=True)
    assert w.get_value(borrow=True) is new


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError, match="cannot hold a value of dtype"):
        shared(np.array(["a", "b"]))


def test_set_value_downcast_message_names_what_applies_to_set_value():
    w = shared(np.zeros(3, dtype="float32"), name="w")
    with pytest.raises(TypeError) as info:
        w.set_value(np.array([0.1, 0.2, 0.3]))
    assert str(info.value) == (
        "set_value on shared variable w (TensorType(float32, vector)): cannot store a value of "
        "dtype float64 in a float32 variable without risking loss of precision; cast the value "
        "first (`value.astype('float32')`), or create the shared variable with "
        "shared(..., allow_downcast=True) so that set_value casts it"
    )
    assert "function()" not in str(info.value)
    with pytest.raises(TypeError, match=r"\(`numpy.asarray\(value, dtype='float32'\)`\)"):
        w.set_value([0.5, 1e-50, 3.0])
    w.set_value(np.array([0.1, 0.2, 0.3]).astype("float32"))
    np.testing.assert_allclose(w.get_value(), [0.1, 0.2, 0.3], rtol=1e-6)


def test_shared_allow_downcast_lets_set_value_cast():
    # Theano's shared(..., allow_downcast=True): the container casts what set_value gets
    w = shared(np.zeros(2, dtype="float32"), name="w", allow_downcast=True)
    w.set_value(np.array([0.25, 1e-50]))
    assert w.get_value().dtype == np.float32
    np.testing.assert_array_equal(w.get_value(), np.array([0.25, 0.0], dtype="float32"))


def test_set_value_none_says_none():
    w = shared(np.zeros(2), name="w")
    with pytest.raises(TypeError) as info:
        w.set_value(None)
    assert str(info.value) == (
        "set_value on shared variable w (TensorType(float64, vector)): None is not a value; "
        "give an array of dtype float64"
    )
