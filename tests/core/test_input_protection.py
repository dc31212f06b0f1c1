"""A user-built destructive op never overwrites the caller's array unless In(x, mutable=True)."""

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym import scalar
from labsym.gof import InconsistencyError

x = T.dvector("x")
add_inplace = T.Elemwise(scalar.add, inplace_pattern={0: 0})


def test_inplace_op_needs_accept_inplace_as_theano():
    with pytest.raises(TypeError, match="Graph must not contain inplace operations"):
        theano.function([x], add_inplace(x, x))


def test_protected_input_is_refused_at_compile_time():
    with pytest.raises(InconsistencyError, match="Trying to destroy a protected Variable"):
        theano.function([x], add_inplace(x, x), accept_inplace=True)
    # a view of the input is the input's memory too
    with pytest.raises(InconsistencyError, match="mutable=True"):
        theano.function([x], add_inplace(x[1:], x[1:]), accept_inplace=True)


def test_shared_variable_without_update_is_protected():
    s = theano.shared(np.array([1.0, 2.0]))
    with pytest.raises(InconsistencyError):
        theano.function([], add_inplace(s, s), accept_inplace=True)
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0])


def test_mutable_input_may_be_overwritten():
    f = theano.function([theano.In(x, mutable=True)], add_inplace(x, x), accept_inplace=True)
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(a), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(a, [2.0, 4.0, 6.0])  # the caller allowed it


def test_intermediate_may_be_destroyed_and_caller_array_kept():
    f = theano.function([x], add_inplace(x * 2.0, x), accept_inplace=True)
    a = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(a), [3.0, 6.0])
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_rewrites_never_turn_a_copy_into_the_callers_array():
    # x * 1 -> x would make the inplace add overwrite the input: the rewrite is refused
    f = theano.function([x], add_inplace(x * 1, x), accept_inplace=True)
    a = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(a), [2.0, 4.0])
    np.testing.assert_array_equal(a, [1.0, 2.0])
    np.testing.assert_array_equal(f(a), [2.0, 4.0])  # and again: nothing was overwritten


def test_constants_are_indestructible():
    c = T.constant(np.array([1.0, 2.0]))
    with pytest.raises(InconsistencyError, match="Attempting to destroy indestructible"):
        theano.function([x], add_inplace(c, x), accept_inplace=True)


def test_gemm_inplace_writes_into_a_mutable_input():
    from labsym.tensor.blas import gemm_inplace

    z, xm, ym = T.dmatrices("z", "xm", "ym")
    a, b = T.dscalars("a", "b")
    assert str(gemm_inplace) == "Gemm{inplace}" and gemm_inplace.destroy_map == {0: [0]}
    f = theano.function(
        [theano.In(z, mutable=True), a, xm, ym, b],
        gemm_inplace(z, a, xm, ym, b),
        accept_inplace=True,
    )
    zv = np.ones((2, 2))
    out = f(zv, 2.0, np.eye(2), np.full((2, 2), 3.0), 0.5)
    np.testing.assert_array_equal(out, np.full((2, 2), 6.5))
    np.testing.assert_array_equal(zv, np.full((2, 2), 6.5))
    with pytest.raises(InconsistencyError, match="protected"):
        theano.function([z, a, xm, ym, b], gemm_inplace(z, a, xm, ym, b), accept_inplace=True)
