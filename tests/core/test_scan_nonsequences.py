"""scan's non_sequences as Theano passes them: fn receives the caller's own variables (so a step
may differentiate through them), shared and constant non-sequences, and strict=True."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.compile import function
from labsym.core.autodiff import grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.exceptions import MissingInputError
from labsym.core.ops import math as m
from labsym.core.ops.basic import arange
from labsym.core.ops.blas import dot
from labsym.core.scan import scan
from labsym.core.shared import shared
from labsym.core.variable import constant


def test_tutorial_jacobian_by_scan():
    # doc/tutorial/gradients.txt, "Computing the Jacobian"
    x = C["dvector"]("x")
    y = x**2
    J, updates = scan(
        lambda i, y, x: grad(y[i], x), sequences=arange(y.shape[0]), non_sequences=[y, x]
    )
    f = function([x], J, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])
    np.testing.assert_array_equal(f([1, 2, 3]), np.diag([2.0, 4.0, 6.0]))


def test_tutorial_hessian_by_scan():
    # doc/tutorial/gradients.txt, "Computing the Hessian"
    x = C["dvector"]("x")
    cost = (x**2).sum()
    gy = grad(cost, x)
    H, updates = scan(
        lambda i, gy, x: grad(gy[i], x), sequences=arange(gy.shape[0]), non_sequences=[gy, x]
    )
    f = function([x], H, updates=updates)
    np.testing.assert_array_equal(f([4, 4]), [[2.0, 0.0], [0.0, 2.0]])


def test_jacobian_of_a_matrix_product_by_scan_matches_numpy():
    x, W = C["dvector"]("x"), C["dmatrix"]("W")
    y = m.tanh(dot(W, x))
    J, _ = scan(lambda i, y, x: grad(y[i], x), sequences=arange(y.shape[0]), non_sequences=[y, x])
    rng = np.random.default_rng(0)
    wv, xv = rng.normal(size=(3, 4)), rng.normal(size=4)
    expected = (1 - np.tanh(wv @ xv) ** 2)[:, None] * wv
    np.testing.assert_allclose(function([x, W], J)(xv, wv), expected, rtol=1e-12)


def test_states_and_sequences_still_get_placeholders_beside_outer_non_sequences():
    x, A = C["dvector"]("x"), C["dvector"]("A")

    def step(x_t, acc, A):
        return acc + x_t * A

    out, _ = scan(step, sequences=x, outputs_info=m.zeros_like(A), non_sequences=A)
    f = function([x, A], out)
    np.testing.assert_allclose(
        f([1.0, 2.0, 3.0], [1.0, 10.0]), [[1.0, 10.0], [3.0, 30.0], [6.0, 60.0]]
    )


def test_shared_and_constant_non_sequences():
    W = shared(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    x = C["dmatrix"]("x")
    out, updates = scan(
        lambda x_t, W, c: dot(x_t, W) * c, sequences=x, non_sequences=[W, constant(2.0)]
    )
    assert updates == {}
    f = function([x], out)
    xv = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(f(xv), [[2.0, 4.0], [6.0, 8.0]])
    W.set_value(np.eye(2))
    np.testing.assert_array_equal(f(xv), [[2.0, 0.0], [0.0, 2.0]])
    # the gradient through the loop reaches the shared non-sequence
    gW = function([x], grad(out.sum(), W))
    np.testing.assert_array_equal(gW(xv), [[2.0, 2.0], [2.0, 2.0]])


def test_a_shared_non_sequence_updated_by_the_step():
    count = shared(np.array(0.0), name="count")
    x = C["dvector"]("x")
    out, updates = scan(lambda x_t, c: (x_t + c, {c: c + 1}), sequences=x, non_sequences=[count])
    assert list(updates) == [count]
    f = function([x], out, updates=updates)
    np.testing.assert_array_equal(f([10.0, 20.0, 30.0]), [10.0, 21.0, 32.0])
    assert float(count.get_value()) == 3.0


def test_a_non_sequence_passed_twice():
    x, a = C["dvector"]("x"), C["dscalar"]("a")
    out, _ = scan(lambda x_t, p, q: x_t * p + q, sequences=x, non_sequences=[a, a])
    np.testing.assert_array_equal(function([x, a], out)([1.0, 2.0], 3.0), [6.0, 9.0])


def test_strict_rejects_an_undeclared_shared_variable_with_missing_input_error():
    W = shared(np.array([1.0, 2.0]), name="W")
    x = C["dmatrix"]("x")
    with pytest.raises(MissingInputError) as info:
        scan(lambda x_t: x_t * W, sequences=x, strict=True)
    assert str(info.value) == (
        "scan: strict=True, but fn uses the shared variable(s) W without receiving them; "
        "pass them in non_sequences (and as arguments of fn)"
    )
    assert isinstance(info.value, ValueError)
    out, _ = scan(lambda x_t, W: x_t * W, sequences=x, non_sequences=W, strict=True)
    np.testing.assert_array_equal(function([x], out)([[1.0, 1.0]]), [[1.0, 2.0]])
