import numpy as np
import theano
from theano import tensor as T
from theano.printing import debugprint
x = T.vector('x')
y = T.vector('y')
np.random.seed(42)
W_val = np.random.randn(4, 3)
b_val = np.ones(3)

W = theano.shared(W_val)
b = theano.shared(b_val)
W.name = 'W'
b.name = 'b'
dot = T.dot(x, W)
out = T.nnet.sigmoid(dot + b)
C = ((out - y) ** 2).sum()
C.name = 'C'
dC_dW = theano.grad(C, W)
dC_db = theano.grad(C, b)
dC_dW, dC_db = theano.grad(C, [W, b])
upd_W = W - 0.1 * dC_dW
upd_b = b - 0.1 * dC_db
predict = theano.function([x], out)
x_val = np.random.rand(4)
print(predict(x_val))
monitor = theano.function([x, y], [out, C])
y_val = np.random.uniform(size=3)
print(monitor(x_val, y_val))
error = theano.function([out, y], C)
print(error([0.942, 0.737, 0.676], y_val))
train = theano.function([x, y], C, updates=[(W, upd_W), (b, upd_b)])
print(train(x_val, y_val))
print(train(x_val, y_val))
debugprint(out)
debugprint(predict)
