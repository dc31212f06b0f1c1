import numpy
import theano
from theano import tensor
from theano import pp
x = tensor.dscalar()
y = tensor.dscalar()
z = x + y
f = theano.function([x,y], z)
print(f(1.5, 2.5))
x = tensor.dmatrix('x')
s = 1 / (1 + tensor.exp(-x))
logistic = theano.function([x], s)
print(logistic([[0, 1], [-1, -2]]))
x, y = tensor.dmatrices('x', 'y')
diff = x - y
abs_diff = abs(diff)
diff_squared = diff**2
f = theano.function([x, y], [diff, abs_diff, diff_squared])
result= f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
print(result[0])
print(result[1])
print(result[2])
x = tensor.dmatrix('x')
s = tensor.sum(1 / (1 + tensor.exp(-x)))
gs = tensor.grad(s, x)
dlogistic = theano.function([x], gs)
print(dlogistic([[0, 1], [-1, -2]]))
print(pp(s))
x = theano.tensor.fvector('x')
target = theano.tensor.fscalar('target')
W = theano.shared(numpy.asarray([0.2, 0.7]), 'W')
y = (x * W).sum()
cost = theano.tensor.sqr(target - y)
gradients = theano.tensor.grad(cost, [W])
W_updated = W - (0.1 * gradients[0])
updates = [(W, W_updated)]
f = theano.function([x, target], y, updates=updates)
for i in range(10):
    result = f([1.0, 1.0], 20.0)
    print(result)
