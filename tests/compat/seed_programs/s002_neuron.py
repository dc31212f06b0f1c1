import theano
import theano.tensor as T
import random
import numpy
random.seed(0)
x = T.vector()
w = T.vector()
b = T.scalar()
z = T.dot(w, x) + b
y = 1 / ( 1 + T.exp( -z ) )
neuron = theano.function(
    inputs=[x, w, b],
    outputs=[y]
)
w = [-1, 1]
b = 0
for i in range(3):
    x = [random.random(), random.random()]
    print(neuron(x, w, b))
x = T.vector()
w = theano.shared(numpy.array([-1., 1.]))
b = theano.shared(0.)
z = T.dot(w, x) + b
y = 1 / ( 1 + T.exp( -z ) )
neuron = theano.function(
    inputs=[x],
    outputs=y
)
y_hat = T.scalar()
cost = T.sum((y-y_hat)**2)
dw, db = T.grad(cost, [w, b])
gradient = theano.function(
    inputs=[x, y_hat],
    outputs=[dw, db]
)
x = [1, -1]
y_hat = 1
for i in range(3):
    dw, db = gradient(x, y_hat)
    w.set_value( w.get_value() - 0.1 * dw )
    b.set_value( b.get_value() - 0.1 * db )
print(w.get_value(), b.get_value())
def MyUpdate(parameters, gradients):
    mu = 0.1
    parameters_updates = \
    [ (p, p - mu * g) for p, g in zip(parameters, gradients) ]
    return parameters_updates
x = T.vector()
y_hat = T.scalar()
z = T.dot(w, x) + b
y = 1 / ( 1 + T.exp( -z ) )
cost = T.sum((y-y_hat)**2)
dw, db = T.grad(cost, [w, b])
gradient = theano.function(
    inputs=[x, y_hat],
    updates=MyUpdate([w, b], [dw, db])
)
for i in range(100):
    gradient([1, -1], 1)
print(w.get_value(), b.get_value())
