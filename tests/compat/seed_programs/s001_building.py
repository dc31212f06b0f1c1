import numpy as np
import theano
from theano import tensor as T
from theano import function
x = T.scalar()
y = T.scalar()
z = x+y
w = z*x
a = T.sqrt(w)
b = T.exp(a)
c = a ** b
d = T.log(c)
print(function([x, y], d)(1.0, 2.0))
x = T.vector()
y = T.vector()
a = x * y
b = T.dot(x, y)
c = a + b
print(function([x, y], c)([1.0, 2.0], [3.0, 4.0]))
x = T.matrix()
y = T.matrix()
a = T.vector()
b = T.dot(x, y)
c = T.dot(x, a)
print(function([x, y], b)(np.eye(2), [[1.0, 2.0], [3.0, 4.0]]))
print(function([x, a], c)(np.eye(2), [5.0, 6.0]))
tensor3 = T.TensorType(
broadcastable=(False, False, False),
dtype='float32')
x = tensor3()
total = x.sum()
marginals = x.sum(axis=(0, 2))
mx = x.max(axis=1)
val = np.arange(24, dtype='float32').reshape(2, 3, 4)
print(function([x], [total, marginals, mx])(val))
y = x.dimshuffle((2, 1, 0))
a = T.matrix()
b = a.T
c = a.dimshuffle((0, 1))
d = a.dimshuffle((0, 1, 'x'))
e = a + d
print(function([x], y)(val).shape)
print(function([a], [b, c, e])(np.arange(4.0).reshape(2, 2))[2].shape)
