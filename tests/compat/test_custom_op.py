"""A custom Op written exactly as in Theano's tutorials works unchanged, including verify_grad."""

from __future__ import annotations

import numpy as np
import pytest

import labsym as theano
from labsym import tensor as T
from labsym.compile.ops import as_op
from labsym.gradient import verify_grad


class DoubleOp(theano.Op):
    __props__ = ()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        # Note: using x_.type() is dangerous, as it copies x's broadcasting behaviour
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        # R_op can receive None as eval_points: the input isn't diferentiable
        if eval_points[0] is None:
            return eval_points
        return self.grad(inputs, eval_points)

    def c_code(self, node, name, inputs, outputs, sub):
        # run by C linkers (FAST_RUN's from its second call): x * 2 through NumPy's C API
        (x,), (z,) = inputs, outputs
        fail = sub["fail"]
        return f"""
        Py_XDECREF({z});
        PyObject* two = PyLong_FromLong(2);
        if (!two) {fail}
        {z} = (PyArrayObject*)PyNumber_Multiply((PyObject*){x}, two);
        Py_DECREF(two);
        if (!{z}) {fail}
        """


class ScaleOp(theano.Op):
    """An op with props and itypes/otypes instead of make_node."""

    __props__ = ("factor",)
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def __init__(self, factor):
        self.factor = factor

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.factor


@pytest.mark.parametrize("linker", ["py", "c|py"])
def test_tutorial_double_op_values_and_printing(linker):
    x = T.matrix()
    f = theano.function([x], DoubleOp()(x), mode=theano.Mode(linker=linker))
    inp = np.random.rand(5, 4)
    np.testing.assert_array_equal(f(inp), inp * 2)
    np.testing.assert_array_equal(f(inp[:, ::-2]), inp[:, ::-2] * 2)
    assert str(DoubleOp()) == "DoubleOp"
    assert DoubleOp() == DoubleOp() and hash(DoubleOp()) == hash(DoubleOp())


def test_tutorial_double_op_gradient_rop_and_infer_shape():
    rng = np.random.RandomState(42)
    verify_grad(DoubleOp(), [rng.rand(5, 7)], rng=np.random.default_rng(1))
    x, v = T.dvectors("x", "v")
    jv = theano.Rop(DoubleOp()(x), x, v)
    f = theano.function([x, v], jv, on_unused_input="ignore")  # the R_op does not read x
    np.testing.assert_array_equal(f(np.ones(3), np.arange(3.0)), [0.0, 2.0, 4.0])
    y = DoubleOp()(x)
    node = y.owner
    from labsym.core.op import call_infer_shape

    assert call_infer_shape(node.op, None, node, [("n",)]) == [("n",)]


def test_props_and_itypes_otypes():
    x = T.dmatrix("x")
    assert ScaleOp(3.0) == ScaleOp(3.0) and ScaleOp(3.0) != ScaleOp(2.0)
    assert str(ScaleOp(3.0)) == "ScaleOp{factor=3.0}"  # Theano: Name{prop=repr}
    np.testing.assert_array_equal(
        theano.function([x], ScaleOp(3.0)(x))(np.ones((2, 2))), np.full((2, 2), 3.0)
    )
    with pytest.raises(
        TypeError, match=r"ScaleOp\{factor=3.0\}: input 0 has type TensorType\(float64, vector\)"
    ):
        ScaleOp(3.0)(T.dvector())


def test_as_op_decorator():
    @as_op(itypes=[T.dmatrix, T.dvector], otypes=[T.dmatrix])
    def add_row(m, v):
        return m + v

    m, v = T.dmatrix("m"), T.dvector("v")
    f = theano.function([m, v], add_row(m, v))
    np.testing.assert_array_equal(
        f(np.zeros((2, 3)), np.arange(3.0)), np.tile(np.arange(3.0), (2, 1))
    )
    with pytest.raises(Exception, match="has no gradient"):
        theano.grad(add_row(m, v).sum(), m)


def test_theano_alias_makes_import_theano_work():
    import importlib
    import sys

    from labsym.compat import install_theano_alias

    install_theano_alias()
    theano_mod = importlib.import_module("theano")
    tensor_mod = importlib.import_module("theano.tensor")
    assert theano_mod is theano and tensor_mod is T
    assert sys.modules["theano.tensor.nnet"].softmax is T.nnet.softmax
    from theano.printing import debugprint  # noqa: F401 - resolves through the alias
