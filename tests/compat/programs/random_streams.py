"""Random streams, as in Theano's tutorial "Using Random Numbers" (doc/tutorial/examples.txt).

RandomStreams(seed=234) draws, `no_default_updates=True`, a variable drawn once per call, seeding
one stream through `rv_u.rng.get_value(borrow=True).seed(...)`, `srng.seed(...)`, restoring a
state with `get_state`/`set_state`, copying random state between graphs through `state_updates`,
and MRG_RandomStreams. Prints the numbers so they can be checked against NumPy's RandomState.
"""

import numpy
import theano
import theano.tensor as T
from theano import function
from theano.sandbox.rng_mrg import MRG_RandomStreams
from theano.tensor.shared_randomstreams import RandomStreams

srng = RandomStreams(seed=234)
rv_u = srng.uniform((2, 2))
rv_n = srng.normal((2, 2))
f = function([], rv_u)
g = function([], rv_n, no_default_updates=True)  # Not updating rv_n.rng
nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

f_val0 = f()
f_val1 = f()
print("f_val0", f_val0.ravel().tolist())
print("f_val1", f_val1.ravel().tolist())
g_val0 = g()
g_val1 = g()
print("g_val0", g_val0.ravel().tolist())
print("g same", numpy.array_equal(g_val0, g_val1))
print("nearly_zeros", numpy.abs(nearly_zeros()).max() < 1e-14)

rng_val = rv_u.rng.get_value(borrow=True)  # Get the rng for rv_u
rng_val.seed(89234)  # seeds the generator
rv_u.rng.set_value(rng_val, borrow=True)  # Assign back seeded rng
print("after rng_val.seed", f().ravel().tolist())

srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
print("after srng.seed", f().ravel().tolist(), g().ravel().tolist())

state_after_v0 = rv_u.rng.get_value().get_state()
nearly_zeros()  # this affects rv_u's generator
v1 = f()
rng = rv_u.rng.get_value(borrow=True)
rng.set_state(state_after_v0)
rv_u.rng.set_value(rng, borrow=True)
v2 = f()  # v2 != v1
v3 = f()  # v3 == v1
print("v2 != v1", not numpy.array_equal(v2, v1), "v3 == v1", numpy.array_equal(v3, v1))


class Graph:
    def __init__(self, seed=123):
        self.rng = RandomStreams(seed)
        self.y = self.rng.uniform(size=(1,))


g1 = Graph(seed=123)
f1 = theano.function([], g1.y)
g2 = Graph(seed=987)
f2 = theano.function([], g2.y)
print("f1", f1().tolist(), "f2", f2().tolist())


def copy_random_state(g1, g2):
    if isinstance(g1.rng, MRG_RandomStreams):
        g2.rng.rstate = g1.rng.rstate
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())


copy_random_state(g1, g2)
print("after copy", f1().tolist(), f2().tolist())

# the MRG generator: same seed, same numbers; draws in range; a different seed differs
mrg = MRG_RandomStreams(seed=1234)
u = mrg.uniform(size=(1000,))
draw = theano.function([], u)
a = draw()
mrg2 = MRG_RandomStreams(seed=1234)
b = theano.function([], mrg2.uniform(size=(1000,)))()
print("mrg reproducible", numpy.array_equal(a, b))
print("mrg range", bool(a.min() > 0 and a.max() < 1), "mean %.2f" % a.mean())
print("mrg advances", not numpy.array_equal(a, draw()))
n = theano.function([], MRG_RandomStreams(seed=99).normal(size=(4000,), avg=2.0, std=0.5))()
print("mrg normal mean %.1f std %.1f" % (n.mean(), n.std()))
mask = theano.function([], T.sum(MRG_RandomStreams(seed=5).binomial(size=(2000,), p=0.25)))()
print("mrg binomial fraction %.2f" % (mask / 2000.0))
