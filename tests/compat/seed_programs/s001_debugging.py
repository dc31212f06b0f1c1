import numpy as np
import theano
import theano.tensor as T
from theano import config
from theano.printing import debugprint, min_informative_str
x = T.scalar()
y = T.scalar()
z = x + y
z.name = 'z'
a = 2. * z
print(min_informative_str(a))
debugprint(a)
x = T.scalar('x')
y = 2. * x
g = T.grad(y, x)
print(min_informative_str(g).splitlines()[0])
f = theano.function([x], g)
print(f(3.0))
x = T.vector()
y = T.vector()
z = x + x
z = z + y
f = theano.function([x, y], z)
try:
    f(np.ones((2,)), np.ones((3,)))
except ValueError as e:
    print(next(line for line in str(e).splitlines() if line.startswith("Apply node")))
config.compute_test_value = 'raise'
try:
    x = T.vector()
    x.tag.test_value = np.ones((2,))
    y = T.vector()
    y.tag.test_value = np.ones((3,))
    x + y
except ValueError as e:
    print(type(e).__name__, "Input dimension mis-match" in str(e))
finally:
    config.compute_test_value = 'off'
x = T.scalar()
y = x / x
f = theano.function([x], y)
print(len(f.maker.fgraph.outputs))
