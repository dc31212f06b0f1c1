"""The Fibby op and its optimization, as in Theano's doc/extending/fibby.txt.

A user Op with `perform` (and the tutorial's `c_code`), and a rewrite registered with
`theano.tensor.opt.register_specialize` + `theano.gof.local_optimizer([fibby])` that removes
`fibby(zeros)` using `get_scalar_constant_value`. Prints values and the compiled graphs' ops.
"""

import numpy
import theano
from theano import tensor


class Fibby(theano.Op):
    """
    An arbitrarily generalized Fibbonacci sequence
    """

    __props__ = ()

    def make_node(self, x):
        x_ = tensor.as_tensor_variable(x)
        assert x_.ndim == 1
        return theano.Apply(self, inputs=[x_], outputs=[x_.type()])
        # using x_.type() is dangerous, it copies x's broadcasting behaviour

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        y = output_storage[0][0] = x.copy()
        for i in range(2, len(x)):
            y[i] = y[i - 1] * y[i - 2] + x[i]

    def c_code(self, node, name, inames, onames, sub):
        (x,) = inames
        (y,) = onames
        fail = sub["fail"]
        return """
Py_XDECREF(%(y)s);
%(y)s = (PyArrayObject*)PyArray_FromArray(
            %(x)s, 0, NPY_ARRAY_ENSURECOPY);
if (!%(y)s)
  %(fail)s;
{//New scope needed to make compilation work
  dtype_%(y)s * y = (dtype_%(y)s*)PyArray_DATA(%(y)s);
  dtype_%(x)s * x = (dtype_%(x)s*)PyArray_DATA(%(x)s);
  for (int i = 2; i < PyArray_DIMS(%(x)s)[0]; ++i)
    y[i] = y[i-1]*y[i-2] + x[i];
}
        """ % locals()

    def c_code_cache_version(self):
        return (1,)


fibby = Fibby()

from theano.tensor.opt import NotScalarConstantError, get_scalar_constant_value


# Remove any fibby(zeros(...))
@theano.tensor.opt.register_specialize
@theano.gof.local_optimizer([fibby])
def fibby_of_zero(node):
    if node.op == fibby:
        x = node.inputs[0]
        try:
            if numpy.all(0 == get_scalar_constant_value(x)):
                return [x]
        except NotScalarConstantError:
            pass


import theano.tensor as T
from theano import function

# Test it does not apply when not needed
x = T.dvector()
f = function([x], fibby(x))

# We call the function to make sure it runs.
print("fibby", f(numpy.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist())
topo = f.maker.fgraph.toposort()
assert len(topo) == 1
assert isinstance(topo[0].op, Fibby)
print("ops", [type(node.op).__name__ for node in topo])

# Test that the optimization gets applied.
f_zero = function([], fibby(T.zeros([5])))
print("fibby of zeros", f_zero().tolist())
topo = f_zero.maker.fgraph.toposort()
assert len(topo) == 1
assert isinstance(topo[0].op, theano.compile.ops.DeepCopyOp)
print("ops", [type(node.op).__name__ for node in topo])
