"""`theano.scalar`: types, dtype rules, and user scalar ops run through T.Elemwise as in Theano."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import labsym as theano
from labsym import tensor as T
from labsym.gradient import GradientError, verify_grad

scalar = theano.scalar


class ScalarSoftsign(scalar.UnaryScalarOp):
    """Theano's sandbox softsign, written as its users did: impl on numbers, grad on scalars."""

    @staticmethod
    def static_impl(x):
        return x / (1.0 + abs(x))

    def impl(self, x):
        return ScalarSoftsign.static_impl(x)

    def grad(self, inp, grads):
        (x,) = inp
        (gz,) = grads
        if x.type in scalar.float_types:
            d = 1.0 + abs(x)
            return [gz / (d * d)]
        return [None]


scalar_softsign = ScalarSoftsign(scalar.upgrade_to_float, name="scalar_softsign")
softsign = T.Elemwise(scalar_softsign)


class ScalarLogistic(scalar.UnaryScalarOp):
    """A piecewise impl (math module, branches) that only works on one number at a time."""

    def impl(self, x):
        if x < -30.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-x))

    def grad(self, inp, grads):
        (x,) = inp
        (gz,) = grads
        y = scalar_logistic(x)  # the scalar op applied inside its own gradient
        return [gz * y * (1.0 - y)]


scalar_logistic = ScalarLogistic(scalar.upgrade_to_float, name="scalar_logistic")
logistic = T.Elemwise(scalar_logistic)


class ScalarHypot(scalar.BinaryScalarOp):
    commutative = True

    def impl(self, x, y):
        return math.hypot(x, y)

    def grad(self, inputs, grads):
        x, y = inputs
        (gz,) = grads
        r = scalar_hypot(x, y)
        return [gz * x / r, gz * y / r]


scalar_hypot = ScalarHypot(scalar.upcast_out, name="scalar_hypot")
hypot = T.Elemwise(scalar_hypot)


def test_user_unary_scalar_op_values_and_gradient():
    x = T.dmatrix("x")
    y = softsign(x)
    assert y.type == T.dmatrix().type
    f = theano.function([x], [y, T.grad(y.sum(), x)])
    value = np.array([[1.0, -2.0], [0.5, 3.0]])
    out, g = f(value)
    np.testing.assert_allclose(out, value / (1 + np.abs(value)), rtol=1e-15)
    np.testing.assert_allclose(g, 1 / (1 + np.abs(value)) ** 2, rtol=1e-15)
    verify_grad(softsign, [value], rng=np.random.default_rng(0))


def test_piecewise_impl_runs_per_element_and_grad_reuses_the_op():
    x = T.dvector("x")
    value = np.array([-40.0, -1.0, 0.0, 2.0])
    f = theano.function([x], [logistic(x), T.grad(logistic(x).sum(), x)])
    out, g = f(value)
    expected = np.where(value < -30, 0.0, 1 / (1 + np.exp(-value)))
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(g, expected * (1 - expected), rtol=1e-15)
    assert out.dtype == np.float64


def test_output_types_preference_decides_the_dtype():
    assert softsign(T.ivector()).dtype == "float64"  # int32 -> float64, as Theano
    assert softsign(T.bvector()).dtype == "float32"  # int8 -> float32
    assert softsign(T.fvector()).dtype == "float32"
    i = T.ivector("i")
    got = theano.function([i], softsign(i))(np.array([1, -3], dtype="int32"))
    np.testing.assert_allclose(got, [0.5, -0.75])
    # no gradient for an integer input: grad returns None for it
    assert hypot(T.ivector(), T.ivector()).dtype == "int32"


def test_binary_user_op_broadcasts_values_and_gradients():
    x, r = T.dmatrix("x"), T.drow("r")
    out = hypot(x, r)
    x_v = np.array([[3.0, 5.0], [6.0, 0.0]])
    r_v = np.array([[4.0, 12.0]])
    gx, gr = T.grad(out.sum(), [x, r])
    got, got_gx, got_gr = theano.function([x, r], [out, gx, gr])(x_v, r_v)
    np.testing.assert_allclose(got, np.hypot(x_v, r_v))
    np.testing.assert_allclose(got_gx, x_v / np.hypot(x_v, r_v))
    np.testing.assert_allclose(got_gr, (r_v / np.hypot(x_v, r_v)).sum(axis=0, keepdims=True))
    assert got_gr.shape == (1, 2)


def test_user_op_survives_fusion_and_fast_compile():
    x = T.dvector("x")
    expr = T.exp(softsign(x) * 2.0) + logistic(x)
    value = np.array([-1.0, 0.5, 2.0])
    s = value / (1 + np.abs(value))
    expected = np.exp(s * 2.0) + 1 / (1 + np.exp(-value))
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        np.testing.assert_allclose(theano.function([x], expr, mode=mode)(value), expected)


def test_user_op_equality_str_and_pickle():
    assert ScalarSoftsign(scalar.upgrade_to_float) == ScalarSoftsign(scalar.upgrade_to_float)
    assert ScalarSoftsign(scalar.upgrade_to_float) != ScalarSoftsign(scalar.same_out)
    assert str(scalar_softsign) == "scalar_softsign"
    assert str(ScalarSoftsign(scalar.same_out)) == "ScalarSoftsign"
    assert softsign == T.Elemwise(scalar_softsign)
    assert isinstance(softsign(T.dvector()).owner.op.scalar_op, scalar.UnaryScalarOp)
    assert pickle.loads(pickle.dumps(scalar_softsign)) == scalar_softsign
    assert scalar_softsign.impl(-3.0) == -0.75  # the array-level impl takes numbers too


def test_op_without_grad_or_output_types_says_so():
    class NoGrad(scalar.UnaryScalarOp):
        def impl(self, x):
            return x

    x = T.dvector("x")
    op = T.Elemwise(NoGrad(scalar.same_out, name="no_grad"))
    with pytest.raises(GradientError, match=r"no_grad has no gradient \(its class defines no grad"):
        T.grad(op(x).sum(), x)
    with pytest.raises(NotImplementedError, match="Cannot calculate the output types for"):
        T.Elemwise(NoGrad())(x)
    with pytest.raises(TypeError, match="Expected a callable for the 'output_types_preference'"):
        NoGrad(3)


def test_identity_through_elemwise():
    x = T.dmatrix("x")
    ident = T.Elemwise(scalar.identity)
    f = theano.function([x], [ident(x), T.grad(ident(x).sum(), x)])
    value = np.arange(6.0).reshape(2, 3)
    out, g = f(value)
    np.testing.assert_array_equal(out, value)
    np.testing.assert_array_equal(g, np.ones((2, 3)))
    out[0, 0] = 99.0  # a new array, never the caller's input
    assert value[0, 0] == 0.0
    assert pickle.loads(pickle.dumps(scalar.identity)) is scalar.identity


def test_table_ops_are_callable_and_match_tensor_ops():
    x, y = T.dvectors("x", "y")
    assert scalar.exp(x).owner.op == T.exp
    assert scalar.add(x, y).owner.op == T.add
    np.testing.assert_allclose(
        theano.function([x, y], scalar.true_div(scalar.mul(x, y), y))([2.0, 3.0], [4.0, 5.0]),
        [2.0, 3.0],
    )
    assert isinstance(T.exp.scalar_op, scalar.ScalarOp)
    assert isinstance(T.nnet.sigmoid(x).owner.op.scalar_op, T.nnet.sigm.ScalarSigmoid)
    assert not isinstance(T.exp.scalar_op, T.nnet.sigm.ScalarSigmoid)
    assert isinstance(T.nnet.softplus.scalar_op, T.nnet.sigm.ScalarSoftplus)
    assert T.Elemwise(T.nnet.sigm.scalar_sigmoid) == T.nnet.sigmoid


def test_types_and_dtype_rules():
    assert scalar.upcast("int8", "float32") == "float32"
    assert scalar.upcast("int32", "float32") == "float64"
    assert scalar.upcast("uint8", "int8") == "int16"
    assert str(scalar.float64) == "float64" and scalar.float64 == T.dscalar().type
    assert scalar.Scalar("int32") == scalar.int32
    assert isinstance(T.iscalar().type, scalar.Scalar)
    assert not isinstance(T.ivector().type, scalar.Scalar)
    assert T.fscalar().type in scalar.float_types and scalar.int64 in scalar.discrete_types
    assert scalar.bool in scalar.discrete_types and scalar.complex64 in scalar.complex_types
    assert scalar.upgrade_to_float(scalar.int16) == (scalar.float32,)
    assert scalar.upgrade_to_float(scalar.int32, scalar.float32) == (scalar.float64,)
    assert scalar.same_out(scalar.int8) == (scalar.int8,)
    assert scalar.transfer_type(1, None, "int32")(scalar.int8, scalar.float32) == [
        scalar.float32,
        scalar.float32,
        scalar.int32,
    ]
    assert scalar.specific_out(scalar.float16)(scalar.int8) == (scalar.float16,)
    with pytest.raises(TypeError, match="complex argument not supported"):
        scalar.upgrade_to_float_no_complex(scalar.complex64)


def test_as_scalar_and_constant():
    c = scalar.as_scalar(2.5)
    assert c.ndim == 0 and theano.function([], c * 2)() == 5.0
    s = T.dscalar("s")
    assert scalar.as_scalar(s) is s
    assert scalar.as_scalar(s.owner or (s * 1).owner).ndim == 0
    with pytest.raises(TypeError, match=r"as_scalar: m has type .* not a scalar \(0-d\) type"):
        scalar.as_scalar(T.dmatrix("m"))
    assert scalar.constant(3, dtype="int8").dtype == "int8"
    with pytest.raises(TypeError, match="has 1 dimensions, expected 0"):
        scalar.constant([1, 2])


def test_scalar_variables_in_a_custom_op_make_node():
    # the "using params" tutorial: make_node turns its input into a scalar with as_scalar
    class MulOp(theano.Op):
        __props__ = ("mul",)

        def __init__(self, mul):
            self.mul = float(mul)

        def make_node(self, inp):
            inp = scalar.as_scalar(inp)
            return theano.Apply(self, [inp], [inp.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0] * self.mul

    x = T.dscalar("x")
    assert theano.function([x], MulOp(3)(x))(2.0) == 6.0


def test_scalar_graphs_as_in_the_optimization_tutorial():
    from labsym.scalar import add, float64, mul, true_div

    x, y, z = float64("x"), float64("y"), float64("z")
    a = add(z, mul(true_div(mul(y, x), y), true_div(z, x)))
    assert a.ndim == 0 and a.dtype == "float64" and x.type == scalar.float64
    assert theano.function([x, y, z], a)(2.0, 3.0, 5.0) == 10.0  # z + x * z / x


def test_casts_and_scalar_variable_classes():
    x = T.dscalar("x")
    assert scalar.cast(x, "int32").dtype == "int32" and scalar.cast(x, "float64") is x
    assert theano.function([x], scalar.convert_to_int8(x))(3.7) == 3
    assert scalar.convert_to_float32(x).owner.op == T.cast(x, "float32").owner.op
    assert isinstance(x, scalar.ScalarVariable) and not isinstance(
        T.dvector(), scalar.ScalarVariable
    )
    assert isinstance(T.constant(1.5), scalar.ScalarConstant)
    assert not isinstance(x, scalar.ScalarConstant)
