"""Finding the first NaN, with the recipes of Theano's debugging FAQ (doc/tutorial/debug_faq.txt).

A `theano.gof.WrapLinkerMany([theano.gof.OpWiseCLinker()], [...])` mode whose wrappers run each
node (`fn()`) and inspect `fn.inputs` / `fn.outputs` storage cells, and
`theano.compile.MonitorMode(post_func=detect_nan)`. A small network's loss goes NaN through
log(0); the debuggers report the first node that produced it. Prints what they saw.
"""

import numpy
import theano
import theano.tensor as T

seen = []


def detect_nan_wrapper(i, node, fn):
    fn()
    for output in fn.outputs:
        if not isinstance(output[0], numpy.random.RandomState) and numpy.isnan(output[0]).any():
            seen.append((i, node))
            break


def count_nodes(i, node, fn):
    count_nodes.calls += 1


count_nodes.calls = 0

x = T.dmatrix("x")
w = theano.shared(numpy.array([[1.0], [-1.0]]), name="w")
p = T.nnet.sigmoid(T.dot(x, w)).flatten()
y = T.dvector("y")
# a hand-written crossentropy: log(0) * 0 -> nan once a prediction saturates
loss = -(y * T.log(p) + (1 - y) * T.log(1 - p)).mean()
mode = theano.compile.Mode(
    linker=theano.gof.WrapLinkerMany(
        [theano.gof.OpWiseCLinker()], [detect_nan_wrapper, count_nodes]
    ),
    optimizer=None,
)
f = theano.function([x, y], loss, mode=mode)

print("finite loss", f([[0.5, 0.25], [0.0, 1.0]], [1.0, 0.0]))
print("nodes run", count_nodes.calls)
print("nan seen", len(seen))
result = f([[800.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
print("loss", result)
first_i, first_node = seen[0]
print("first nan node", first_i, first_node.op)


def detect_nan(i, node, fn):
    for output in fn.outputs:
        if not isinstance(output[0], numpy.random.RandomState) and numpy.isnan(output[0]).any():
            print("*** NaN detected ***")
            theano.printing.debugprint(node)
            print("Inputs : %s" % [input[0] for input in fn.inputs])
            print("Outputs: %s" % [output[0] for output in fn.outputs])
            break


x = theano.tensor.dscalar("x")
f = theano.function(
    [x], [theano.tensor.log(x) * x], mode=theano.compile.MonitorMode(post_func=detect_nan)
)
f(0)  # log(0) * 0 = -inf * 0 = NaN
