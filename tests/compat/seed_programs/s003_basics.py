import numpy
import theano
import theano.tensor as TT
x = TT.vector("input")
W = TT.shared(numpy.random.uniform(
    low=.01,
    high=.01,
    size=(500, 784)))
out = TT.tanh(TT.dot(W, x))
fn = theano.function(x, out)
x = TT.fvector("input")
W = TT.shared(numpy.random.uniform(
    low=.01,
    high=.01,
    size=(500,784)).astype('float32'))
out = TT.tanh(TT.dot(W, x))
fn = theano.function([x], out)
xv = numpy.random.uniform(size=(784,)).astype('float32')
print(fn(xv).shape, fn(xv).dtype)
gW = TT.grad(out.sum(), W)
print(theano.function([x], gW)(xv).shape)
h = TT.nnet.relu(theano.dot(W, x))
print(theano.function([x], h)(xv).shape)
fun = theano.function([x], out, mode='DebugMode')
fun = theano.function([x], out, profile=True)
fun(xv)
print("Function profiling" in fun.profile.summary())
