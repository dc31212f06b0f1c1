import theano
import theano.tensor as T
x = T.dvector('x')
for mode in ['FAST_RUN', 'FAST_COMPILE', 'DebugMode', 'NanGuardMode']:
    f = theano.function([x], T.exp(x).sum(), mode=mode)
    print(mode, f([0.0, 0.0]))
theano.config.floatX = 'float32'
print(T.scalar().dtype)
theano.config.floatX = 'float64'
