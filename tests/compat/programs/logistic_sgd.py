"""Logistic regression trained by minibatch SGD, as in the Deep Learning Tutorials' logistic_sgd.py.

Synthetic data: 3 well-separated Gaussian blobs in 8 dimensions (train/valid split).
Prints the initial cost, the validation error before and after training, and the final W.
"""

import numpy
import theano
import theano.tensor as T


class LogisticRegression(object):
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(
            value=numpy.zeros((n_in, n_out), dtype=theano.config.floatX), name="W", borrow=True
        )
        self.b = theano.shared(
            value=numpy.zeros((n_out,), dtype=theano.config.floatX), name="b", borrow=True
        )
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError(
                "y should have the same shape as self.y_pred",
                ("y", y.type, "y_pred", self.y_pred.type),
            )
        if y.dtype.startswith("int"):
            return T.mean(T.neq(self.y_pred, y))
        else:
            raise NotImplementedError()


def shared_dataset(data_xy, borrow=True):
    data_x, data_y = data_xy
    shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
    shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, "int32")


def make_data(rng, n):
    centers = rng.randn(3, 8) * 3
    labels = rng.randint(0, 3, size=n)
    return centers[labels] + rng.randn(n, 8), labels


def sgd_optimization(learning_rate=0.13, n_epochs=20, batch_size=20):
    rng = numpy.random.RandomState(1234)
    data_x, data_y = make_data(rng, 300)
    train_set_x, train_set_y = shared_dataset((data_x[:200], data_y[:200]))
    valid_set_x, valid_set_y = shared_dataset((data_x[200:], data_y[200:]))

    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size

    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")

    classifier = LogisticRegression(input=x, n_in=8, n_out=3)
    cost = classifier.negative_log_likelihood(y)

    validate_model = theano.function(
        inputs=[index],
        outputs=classifier.errors(y),
        givens={
            x: valid_set_x[index * batch_size : (index + 1) * batch_size],
            y: valid_set_y[index * batch_size : (index + 1) * batch_size],
        },
    )

    g_W = T.grad(cost=cost, wrt=classifier.W)
    g_b = T.grad(cost=cost, wrt=classifier.b)
    updates = [
        (classifier.W, classifier.W - learning_rate * g_W),
        (classifier.b, classifier.b - learning_rate * g_b),
    ]
    train_model = theano.function(
        inputs=[index],
        outputs=cost,
        updates=updates,
        givens={
            x: train_set_x[index * batch_size : (index + 1) * batch_size],
            y: train_set_y[index * batch_size : (index + 1) * batch_size],
        },
    )

    validation_losses = [validate_model(i) for i in range(n_valid_batches)]
    print("initial validation error %f %%" % (numpy.mean(validation_losses) * 100.0))
    print("first minibatch cost %f" % train_model(0))
    for epoch in range(n_epochs):
        for minibatch_index in range(n_train_batches):
            train_model(minibatch_index)
    validation_losses = [validate_model(i) for i in range(n_valid_batches)]
    print("final validation error %f %%" % (numpy.mean(validation_losses) * 100.0))
    print("W", classifier.W.get_value().ravel().tolist())
    print("b", classifier.b.get_value().tolist())


if __name__ == "__main__":
    sgd_optimization()
