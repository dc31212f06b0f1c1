import numpy
import theano
import theano.tensor as T
rng = numpy.random.RandomState(0)
x = T.matrix('input', dtype='float32')
y_hat = T.matrix('reference', dtype='float32')
def param(*shape):
    return theano.shared(rng.randn(*shape).astype('float32') * 0.5)
W1, W2, W3 = param(16, 2), param(16, 16), param(1, 16)
b1, b2, b3 = param(16), param(16), param(1)
parameters = [W1, W2, W3, b1, b2, b3]
z1 = T.dot(W1,x) + b1.dimshuffle(0,'x')
a1 = 1/(1+T.exp(-z1))
z2 = T.dot(W2,a1) + b2.dimshuffle(0,'x')
a2 = T.switch(z2 < 0, 0, z2)
a2b = T.maximum(z2, 0)
a2c = z2 * (z2 > 0)
z3 = T.dot(W3,a2) + b3.dimshuffle(0,'x')
y = 1/(1+T.exp(-z3))
batch_size = 32
cost = T.sum( (y - y_hat)**2 ) / batch_size
gradients = T.grad(cost, parameters)
def MyUpdate(parameters, gradients):
    return [(p, p - numpy.float32(0.5) * g) for p, g in zip(parameters, gradients)]
train = theano.function(
    inputs=[x, y_hat],
    updates=MyUpdate(parameters, gradients),
    outputs=cost
)
test = theano.function(inputs=[x], outputs=[y, a2, a2b, a2c])
X = rng.uniform(-1, 1, size=(2, batch_size)).astype('float32')
Y = (X[0:1] * X[1:2] > 0).astype('float32')
first = train(X, Y)
for t in range(300):
    last = train(X, Y)
print(last < first, last.dtype)
out = test(X)
print(out[0].dtype, numpy.allclose(out[1], out[2]), numpy.allclose(out[1], out[3]))
