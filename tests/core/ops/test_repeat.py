"""Repeat (NumPy's repeat) against NumPy: values, static shapes, errors and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.ops.repeat import repeat
from labsym.core.type import TensorType
from tests.core.ops.helpers import array_maker, check_grad, check_infer_shape, tensor

RNG = np.random.default_rng(11)
random_array = array_maker(RNG)


@pytest.mark.parametrize(
    ("dims", "repeats", "axis"),
    [
        ((4,), 2, None),
        ((2, 3), 3, None),
        ((2, 3), 2, 0),
        ((2, 3), 2, -1),
        ((3,), [1, 0, 2], 0),
        ((2, 3), [2, 1], 0),
        ((2, 3), [0, 1, 3], 1),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_repeat_matches_numpy(dims, repeats, axis, dtype):
    x = tensor(dtype, len(dims))
    value = random_array(dims, dtype)
    out = repeat(x, repeats, axis)
    result = function([x], out)(value)
    np.testing.assert_array_equal(result, np.repeat(value, repeats, axis))
    assert result.dtype == dtype
    np.testing.assert_array_equal(function([x], x.repeat(repeats, axis))(value), result)
    check_infer_shape([x], out, [value])


def test_repeat_symbolic_repeats_static_shapes_and_errors():
    x = TensorType("float64", (2, 3))("x")
    assert repeat(x, 2, axis=1).type.shape == (2, 6)
    assert repeat(x, [1, 2], axis=0).type.shape == (3, 3)
    v = tensor("float64", 1)
    r = tensor("int32", 1, "r")
    out = repeat(v, r, 0)
    f = function([v, r], out)
    np.testing.assert_array_equal(f(np.arange(3.0), [2, 0, 1]), [0.0, 0.0, 2.0])
    check_infer_shape([v, r], out, [np.arange(3.0), np.array([2, 0, 1], "int32")])
    with pytest.raises(ValueError, match="3 repeats for an axis of length 2"):
        repeat(x, [1, 2, 3], axis=0)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        repeat(x, 2, axis=2)
    with pytest.raises(TypeError, match="repeats must be an int or an int vector"):
        repeat(x, 1.5, axis=0)


@pytest.mark.parametrize(
    ("repeats", "axis"), [(2, 0), (3, 1), (2, None), ([2, 0], 0), ([1, 3, 2], 1)]
)
def test_repeat_grad(repeats, axis):
    check_grad(lambda x: repeat(x, repeats, axis), random_array((2, 3)))
