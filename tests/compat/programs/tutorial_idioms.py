"""Idioms of Theano 1.0's basic tutorial pages and of the scripts written with them.

`theano.config.warn.*` assignments that old scripts carry, `T.scalars('xyz')`, `pprint`,
default arguments through `In` and the `(var, default)` shortcut, the accumulator and its
`copy(swap=...)` / `copy(delete_updates=True)` (doc/tutorial/examples.txt), givens replacing a
shared variable, `theano.compile.function_module.Function`, updates given as a tuple of pairs,
and FAST_COMPILE reporting a shape mismatch as Theano does.
"""

import numpy
import theano
import theano.tensor as T
from theano import In, function, shared
from theano.compile import function_module

# scripts written for older Theano versions silence these warnings at the top
theano.config.warn.subtensor_merge_bug = False
theano.config.warn.sum_div_dimshuffle_bug = False
theano.config.warn.gpusum_01_011_0111_bug = False

x, y, z = T.scalars("xyz")
print("names", [v.name for v in (x, y, z)])
e = x + y * z
print("pprint", theano.printing.pprint(e))
f = function([x, In(y, value=1), In(z, value=2, name="z_by_name")], e)
print("defaults", f(3), f(3, 4), f(3, 4, 5), f(3, z_by_name=10))
print("is a Function", isinstance(f, function_module.Function))
h = function([x, (y, 10.0)], x * y)
print("tuple default", h(2), h(2, 3))

state = shared(0)
inc = T.iscalar("inc")
accumulator = function([inc], state, updates=[(state, state + inc)])
print("accumulator", accumulator(10), state.get_value())
new_state = shared(0)
new_accumulator = accumulator.copy(swap={state: new_state})
new_accumulator(100)
print("after copy", "new_state", new_state.get_value(), "state", state.get_value())
null_accumulator = accumulator.copy(delete_updates=True)
print("null", null_accumulator(9000), state.get_value())

fn_of_state = state * 2 + inc
foo = T.scalar(dtype=state.dtype)
skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
print("givens", skip_shared(1, 3), state.get_value())

rng = numpy.random
N, feats = 40, 5
D = (rng.RandomState(0).randn(N, feats), rng.RandomState(1).randint(size=N, low=0, high=2))
xm = T.dmatrix("x")
ym = T.dvector("y")
w = theano.shared(numpy.zeros(feats), name="w")
b = theano.shared(0.0, name="b")
p_1 = 1 / (1 + T.exp(-T.dot(xm, w) - b))
xent = -ym * T.log(p_1) - (1 - ym) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w**2).sum()
gw, gb = T.grad(cost, [w, b])
train = theano.function(
    inputs=[xm, ym], outputs=[p_1 > 0.5, xent], updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb))
)
for i in range(5):
    pred, err = train(D[0], D[1])
print("logistic w", w.get_value().tolist(), "b", float(b.get_value()))

a = T.dvector("a")
c = T.dvector("c")
g = function([a, c], a + T.zeros_like(c), mode="FAST_COMPILE")
try:
    g(numpy.ones(1), numpy.ones(2))
    print("FAST_COMPILE: no error")
except ValueError:
    print("FAST_COMPILE: dimension mismatch raised")
