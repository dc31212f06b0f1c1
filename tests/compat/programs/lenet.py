"""A small LeNet-style convnet, as in the Deep Learning Tutorials' convolutional_mlp.py.

LeNetConvPoolLayer (conv2d + pool_2d + tanh) feeding a logistic regression, on 8x8 synthetic
"images" whose class is which half holds a bright bar. Prints one layer output and the costs.
"""

import numpy
import theano
import theano.tensor as T
from theano.tensor.nnet import conv2d
from theano.tensor.signal import pool


class LeNetConvPoolLayer(object):
    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        self.input = input
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        W_bound = numpy.sqrt(6.0 / (fan_in + fan_out))
        self.W = theano.shared(
            numpy.asarray(
                rng.uniform(low=-W_bound, high=W_bound, size=filter_shape),
                dtype=theano.config.floatX,
            ),
            borrow=True,
        )
        b_values = numpy.zeros((filter_shape[0],), dtype=theano.config.floatX)
        self.b = theano.shared(value=b_values, borrow=True)

        conv_out = conv2d(
            input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape
        )
        pooled_out = pool.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle("x", 0, "x", "x"))
        self.params = [self.W, self.b]
        self.input = input


class LogisticRegression(object):
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(numpy.zeros((n_in, n_out), dtype=theano.config.floatX), borrow=True)
        self.b = theano.shared(numpy.zeros((n_out,), dtype=theano.config.floatX), borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        return T.mean(T.neq(self.y_pred, y))


def evaluate_lenet5(learning_rate=0.1, n_epochs=30, nkerns=4, batch_size=10):
    rng = numpy.random.RandomState(23455)
    n = 40
    images = rng.uniform(0, 0.2, size=(n, 1, 8, 8))
    labels = rng.randint(0, 2, size=n).astype("int32")
    for i in range(n):
        row = rng.randint(0, 4) + 4 * labels[i]
        images[i, 0, row, :] += 1.0
    train_set_x = theano.shared(numpy.asarray(images.reshape(n, 64), dtype=theano.config.floatX))
    train_set_y = theano.shared(labels)

    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")

    layer0_input = x.reshape((batch_size, 1, 8, 8))
    layer0 = LeNetConvPoolLayer(
        rng,
        input=layer0_input,
        image_shape=(batch_size, 1, 8, 8),
        filter_shape=(nkerns, 1, 3, 3),
        poolsize=(2, 2),
    )
    layer1_input = layer0.output.flatten(2)
    layer1 = LogisticRegression(input=layer1_input, n_in=nkerns * 3 * 3, n_out=2)
    cost = layer1.negative_log_likelihood(y)

    params = layer1.params + layer0.params
    grads = T.grad(cost, params)
    updates = [
        (param_i, param_i - learning_rate * grad_i) for param_i, grad_i in zip(params, grads)
    ]
    train_model = theano.function(
        [index],
        cost,
        updates=updates,
        givens={
            x: train_set_x[index * batch_size : (index + 1) * batch_size],
            y: train_set_y[index * batch_size : (index + 1) * batch_size],
        },
    )
    test_model = theano.function(
        [index],
        [cost, layer1.errors(y)],
        givens={
            x: train_set_x[index * batch_size : (index + 1) * batch_size],
            y: train_set_y[index * batch_size : (index + 1) * batch_size],
        },
    )
    layer0_out = theano.function([x], layer0.output)

    print("W0", layer0.W.get_value().ravel().tolist())
    print(
        "layer0 output", layer0_out(images[:batch_size].reshape(batch_size, 64))[0].ravel().tolist()
    )
    n_batches = n // batch_size
    print("initial cost %f" % numpy.mean([test_model(i)[0] for i in range(n_batches)]))
    for epoch in range(n_epochs):
        for minibatch_index in range(n_batches):
            train_model(minibatch_index)
    results = [test_model(i) for i in range(n_batches)]
    print("final cost %f" % numpy.mean([r[0] for r in results]))
    print("final error %f" % numpy.mean([r[1] for r in results]))


if __name__ == "__main__":
    evaluate_lenet5()
