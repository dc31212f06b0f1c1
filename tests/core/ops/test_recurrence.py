"""LinearRecurrence (the division-free derivatives of cumprod) against a Python loop."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.ops.recurrence import LinearRecurrence, shift
from labsym.core.type import TensorType
from tests.core.ops.helpers import check_grad, check_infer_shape, tensor

RNG = np.random.default_rng(11)


def loop(a, b, axis, reverse):
    a, y = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0).astype("float64")
    order = range(len(y) - 2, -1, -1) if reverse else range(1, len(y))
    for i in order:
        y[i] = y[i] + a[i] * y[i + 1 if reverse else i - 1]
    return np.moveaxis(y, 0, axis)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(("shape", "axis"), [((5,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 2)])
def test_recurrence_matches_a_loop_and_differentiates(shape, axis, reverse):
    a, b = RNG.normal(size=shape), RNG.normal(size=shape)
    av, bv = tensor("float64", len(shape), "a"), tensor("float64", len(shape), "b")
    op = LinearRecurrence(axis, reverse)
    np.testing.assert_allclose(function([av, bv], op(av, bv))(a, b), loop(a, b, axis, reverse))
    check_grad(op, a, b)
    check_infer_shape([av, bv], op(av, bv), [a, b])


def test_recurrence_exact_values_and_float32():
    a, b = tensor("float32", 1, "a"), tensor("float32", 1, "b")
    y = LinearRecurrence(0)(a, b)
    assert y.dtype == "float32"
    got = function([a, b], y)(np.float32([9.0, 2.0, 0.0, 3.0]), np.float32([1.0, 1.0, 5.0, 1.0]))
    np.testing.assert_array_equal(got, [1.0, 3.0, 5.0, 16.0])


def test_shift_moves_one_place_and_fills():
    x = tensor("float64", 2)
    value = np.arange(6.0).reshape(2, 3)
    f = function([x], [shift(x, 1, 1, 7), shift(x, 0, -1, 0)])
    later, earlier = f(value)
    np.testing.assert_array_equal(later, [[7.0, 0.0, 1.0], [7.0, 3.0, 4.0]])
    np.testing.assert_array_equal(earlier, [[3.0, 4.0, 5.0], [0.0, 0.0, 0.0]])


def test_recurrence_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="must have the same number of dimensions"):
        LinearRecurrence(0)(tensor("float64", 1), tensor("float64", 2))
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        LinearRecurrence(1)(tensor("float64", 1), tensor("float64", 1))
    row = TensorType("float64", (1, None))("row")
    with pytest.raises(ValueError, match="broadcast pattern"):
        LinearRecurrence(0)(row, tensor("float64", 2))


@pytest.mark.parametrize("reverse", [False, True])
def test_recurrence_rop_matches_central_differences(reverse):
    from labsym.core.autodiff import Rop

    a, b, va, vb = (tensor("float64", 2, name) for name in ("a", "b", "va", "vb"))
    op = LinearRecurrence(1, reverse)
    values = [RNG.normal(size=(2, 5)) for _ in range(4)]
    jvp = function([a, b, va, vb], Rop(op(a, b), [a, b], [va, vb]))(*values)
    f = function([a, b], op(a, b))
    eps = 1e-6
    (x, y, dx, dy) = values
    numeric = (f(x + eps * dx, y + eps * dy) - f(x - eps * dx, y - eps * dy)) / (2 * eps)
    np.testing.assert_allclose(jvp, numeric, rtol=1e-6, atol=1e-8)
    only_a = function([a, b, va], Rop(op(a, b), a, va))(x, y, dx)
    numeric_a = (f(x + eps * dx, y) - f(x - eps * dx, y)) / (2 * eps)
    np.testing.assert_allclose(only_a, numeric_a, rtol=1e-6, atol=1e-8)
