"""User rewrites, written as course exercises wrote them with Theano's optimizer API.

A `theano.gof.local_optimizer` function registered with `register_canonicalize` that rewrites
tanh(x) as 2 * sigmoid(2 * x) - 1, a `theano.gof.LocalOptimizer` subclass registered with
`register_specialize`, and a Mode excluding a rule by name. Prints values and compiled op names.
"""

import numpy
import theano
import theano.tensor as T
from theano.tensor.opt import register_canonicalize, register_specialize


@register_canonicalize
@theano.gof.local_optimizer([T.tanh])
def local_tanh_to_sigmoid(node):
    if node.op == T.tanh:
        (x,) = node.inputs
        return [2 * T.nnet.sigmoid(2 * x) - 1]
    return False


class LocalSqrOfSqrt(theano.gof.LocalOptimizer):
    """sqr(sqrt(x)) -> x, valid where x >= 0 (our inputs are variances)."""

    def tracks(self):
        return [T.sqr]

    def transform(self, node):
        if node.op == T.sqr:
            (inner,) = node.inputs
            if inner.owner and inner.owner.op == T.sqrt:
                return [inner.owner.inputs[0]]
        return False


register_specialize(LocalSqrOfSqrt(), name="local_sqr_of_sqrt")


def op_names(fn):
    return sorted(set(str(node.op) for node in fn.maker.fgraph.toposort()))


x = T.dvector("x")
f = theano.function([x], T.tanh(x))
values = numpy.array([-2.0, -0.5, 0.0, 0.5, 2.0])
print("tanh", f(values).tolist())
print("has tanh", any("tanh" in name for name in op_names(f)))
print("has sigmoid", any("sigmoid" in name for name in op_names(f)))

mode = theano.compile.mode.get_default_mode().excluding("local_tanh_to_sigmoid")
g = theano.function([x], T.tanh(x), mode=mode)
print("excluded: has tanh", any("tanh" in name for name in op_names(g)))
print("excluded tanh", g(values).tolist())

v = T.dvector("v")
h = theano.function([v], T.sqr(T.sqrt(v)) + 1)
print("sqr(sqrt(v)) + 1", h(numpy.array([0.0, 4.0, 9.0])).tolist())
print("has sqrt", any("sqrt" in name for name in op_names(h)))
