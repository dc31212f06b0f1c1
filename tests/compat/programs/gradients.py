"""Derivatives as in Theano's tutorial "Derivatives in Theano" (doc/tutorial/gradients.txt).

T.grad of x**2 and of the logistic, the Jacobian and Hessian computed manually with `theano.scan`
over `T.arange(y.shape[0])` with `non_sequences=[y, x]` (the step calls `T.grad(y[i], x)` on the
caller's own variables), the same on a nonlinear layer, the built-in jacobian/hessian; then the
R-operator (`T.Rop(T.dot(x, W), W, V)` compiled with W among the inputs), the L-operator and the
two Hessian-times-vector recipes, on the tutorial's numbers and on a sigmoid layer.
"""

import numpy
import theano
import theano.tensor as T

x = T.dscalar("x")
y = x**2
gy = T.grad(y, x)
f = theano.function([x], gy)
print("f(4) =", f(4))
print(numpy.allclose(f(94.2), 188.4))

x = T.dmatrix("x")
s = T.sum(1 / (1 + T.exp(-x)))
gs = T.grad(s, x)
dlogistic = theano.function([x], gs)
print("dlogistic", dlogistic([[0, 1], [-1, -2]]).ravel().tolist())

# Jacobian by scan
x = T.dvector("x")
y = x**2
J, updates = theano.scan(
    lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x]
)
f = theano.function([x], J, updates=updates)
print("J", f([4, 4]).ravel().tolist())

# Hessian by scan
x = T.dvector("x")
y = x**2
cost = y.sum()
gy = T.grad(cost, x)
H, updates = theano.scan(
    lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]), non_sequences=[gy, x]
)
f = theano.function([x], H, updates=updates)
print("H", f([4, 4]).ravel().tolist())

# the same recipe on a layer: y = tanh(A x + b), cost = sum(y ** 3) / 3
A = theano.shared(numpy.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]]), name="A")
b = theano.shared(numpy.array([0.1, -0.2]), name="b")
x = T.dvector("x")
y = T.tanh(T.dot(A, x) + b)
J, _ = theano.scan(
    lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x]
)
cost = (y**3).sum() / 3
g = T.grad(cost, x)
H, _ = theano.scan(
    lambda i, g, x: T.grad(g[i], x), sequences=T.arange(g.shape[0]), non_sequences=[g, x]
)
jh = theano.function([x], [J, H])
J_val, H_val = jh([0.5, -0.25, 1.0])
print("layer J", J_val.ravel().tolist())
print("layer H", H_val.ravel().tolist())

# the built-in macros give the same matrices
J2 = theano.gradient.jacobian(y, x)
H2 = theano.gradient.hessian(cost, x)
jh2 = theano.function([x], [J2, H2])
J2_val, H2_val = jh2([0.5, -0.25, 1.0])
print("builtin agrees", numpy.allclose(J_val, J2_val), numpy.allclose(H_val, H2_val))

W = T.dmatrix("W")
V = T.dmatrix("V")
x = T.dvector("x")
y = T.dot(x, W)
JV = T.Rop(y, W, V)
f = theano.function([W, V, x], JV)
print("Rop", f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]).tolist())

W = T.dmatrix("W")
v = T.dvector("v")
x = T.dvector("x")
y = T.dot(x, W)
VJ = T.Lop(y, W, v)
f = theano.function([v, x], VJ)
print("Lop", f([2, 2], [0, 1]).ravel().tolist())

x = T.dvector("x")
v = T.dvector("v")
y = T.sum(x**2)
gy = T.grad(y, x)
vH = T.grad(T.sum(gy * v), x)
f = theano.function([x, v], vH)
print("vH", f([4, 4], [2, 2]).tolist())

x = T.dvector("x")
v = T.dvector("v")
y = T.sum(x**2)
gy = T.grad(y, x)
Hv = T.Rop(gy, x, v)
f = theano.function([x, v], Hv)
print("Hv", f([4, 4], [2, 2]).tolist())

# Gauss-Newton style products on a sigmoid layer: J V for a direction V in weight space
rng = numpy.random.RandomState(0)
W_val = rng.randn(3, 2)
V_val = rng.randn(3, 2)
x_val = rng.randn(4, 3)
W = T.dmatrix("W")
V = T.dmatrix("V")
X = T.dmatrix("X")
out = T.nnet.sigmoid(T.dot(X, W))
JV = T.Rop(out, W, V)
f = theano.function([W, V, X], JV)
print("layer Rop", f(W_val, V_val, x_val).ravel().tolist())
