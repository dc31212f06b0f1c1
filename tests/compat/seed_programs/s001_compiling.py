import numpy as np
import theano
from theano import tensor as T
from theano import function
from theano import shared
x = T.scalar()
y = T.scalar()
f = function([x, y], x + y)
print(repr(f(1., 2.)))
x = shared(0.)
updates = [(x, x + 1)]
f = function([], updates=updates)
f()
print(x.get_value())
x.set_value(100.)
f()
print(x.get_value())
