"""A deep belief network, as in the Deep Learning Tutorials' DBN.py, with MRG_RandomStreams.

Each RBM shares its weights with a sigmoid layer; its constructor uses the `if not W:` /
`if not hbias:` default idiom of course solutions. Greedy CD-1 pretraining (Gibbs step in
scan), then fine-tuning. Prints the reconstruction costs and the fine-tuning scores.
"""

from collections import OrderedDict

import numpy
import theano
import theano.tensor as T
from theano.sandbox.rng_mrg import MRG_RandomStreams


class HiddenLayer(object):
    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.nnet.sigmoid):
        if W is None:
            bound = 4 * numpy.sqrt(6.0 / (n_in + n_out))
            W = theano.shared(
                numpy.asarray(
                    rng.uniform(-bound, bound, size=(n_in, n_out)), dtype=theano.config.floatX
                ),
                name="W",
                borrow=True,
            )
        if b is None:
            b = theano.shared(
                numpy.zeros((n_out,), dtype=theano.config.floatX), name="b", borrow=True
            )
        self.W, self.b = W, b
        self.output = activation(T.dot(input, self.W) + self.b)
        self.params = [self.W, self.b]


class RBM(object):
    def __init__(
        self,
        input=None,
        n_visible=784,
        n_hidden=500,
        W=None,
        hbias=None,
        vbias=None,
        numpy_rng=None,
        theano_rng=None,
    ):
        if not numpy_rng:
            numpy_rng = numpy.random.RandomState(1234)
        if not theano_rng:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2**30))
        if not W:
            bound = 4 * numpy.sqrt(6.0 / (n_hidden + n_visible))
            W = theano.shared(
                numpy.asarray(
                    numpy_rng.uniform(-bound, bound, size=(n_visible, n_hidden)),
                    dtype=theano.config.floatX,
                ),
                name="W",
            )
        if not hbias:
            hbias = theano.shared(numpy.zeros(n_hidden, dtype=theano.config.floatX), name="hbias")
        if not vbias:
            vbias = theano.shared(numpy.zeros(n_visible, dtype=theano.config.floatX), name="vbias")
        self.input = input if input is not None else T.matrix("input")
        self.W, self.hbias, self.vbias = W, hbias, vbias
        self.theano_rng = theano_rng
        self.params = [self.W, self.hbias, self.vbias]

    def free_energy(self, v_sample):
        wx_b = T.dot(v_sample, self.W) + self.hbias
        return -T.sum(T.nnet.softplus(wx_b), axis=1) - T.dot(v_sample, self.vbias)

    def sample_h_given_v(self, v0_sample):
        pre = T.dot(v0_sample, self.W) + self.hbias
        h1_mean = T.nnet.sigmoid(pre)
        h1_sample = self.theano_rng.binomial(
            size=h1_mean.shape, n=1, p=h1_mean, dtype=theano.config.floatX
        )
        return [pre, h1_mean, h1_sample]

    def sample_v_given_h(self, h0_sample):
        pre = T.dot(h0_sample, self.W.T) + self.vbias
        v1_mean = T.nnet.sigmoid(pre)
        v1_sample = self.theano_rng.binomial(
            size=v1_mean.shape, n=1, p=v1_mean, dtype=theano.config.floatX
        )
        return [pre, v1_mean, v1_sample]

    def gibbs_hvh(self, h0_sample):
        pre_v1, v1_mean, v1_sample = self.sample_v_given_h(h0_sample)
        pre_h1, h1_mean, h1_sample = self.sample_h_given_v(v1_sample)
        return [pre_v1, v1_mean, v1_sample, pre_h1, h1_mean, h1_sample]

    def get_cost_updates(self, lr=0.1, k=1):
        pre_ph, ph_mean, ph_sample = self.sample_h_given_v(self.input)
        ([pre_nvs, nv_means, nv_samples, pre_nhs, nh_means, nh_samples], updates) = theano.scan(
            self.gibbs_hvh, outputs_info=[None, None, None, None, None, ph_sample], n_steps=k
        )
        chain_end = nv_samples[-1]
        cost = T.mean(self.free_energy(self.input)) - T.mean(self.free_energy(chain_end))
        gparams = T.grad(cost, self.params, consider_constant=[chain_end])
        updates = OrderedDict(updates)
        for gparam, param in zip(gparams, self.params):
            updates[param] = param - gparam * T.cast(lr, dtype=theano.config.floatX)
        z = T.nnet.sigmoid(pre_nvs[-1])
        monitoring_cost = T.mean(
            T.sum(self.input * T.log(z) + (1 - self.input) * T.log(1 - z), axis=1)
        )
        return monitoring_cost, updates


class DBN(object):
    def __init__(
        self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=[500, 500], n_outs=10
    ):
        self.sigmoid_layers = []
        self.rbm_layers = []
        self.params = []
        self.n_layers = len(hidden_layers_sizes)
        if not theano_rng:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2**30))
        self.x = T.matrix("x")
        self.y = T.ivector("y")
        for i in range(self.n_layers):
            input_size = n_ins if i == 0 else hidden_layers_sizes[i - 1]
            layer_input = self.x if i == 0 else self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(
                rng=numpy_rng, input=layer_input, n_in=input_size, n_out=hidden_layers_sizes[i]
            )
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            rbm_layer = RBM(
                numpy_rng=numpy_rng,
                theano_rng=theano_rng,
                input=layer_input,
                n_visible=input_size,
                n_hidden=hidden_layers_sizes[i],
                W=sigmoid_layer.W,
                hbias=sigmoid_layer.b,
            )
            self.rbm_layers.append(rbm_layer)
        self.W_out = theano.shared(
            numpy.zeros((hidden_layers_sizes[-1], n_outs), dtype=theano.config.floatX), name="W_out"
        )
        self.b_out = theano.shared(numpy.zeros(n_outs, dtype=theano.config.floatX), name="b_out")
        p_y_given_x = T.nnet.softmax(T.dot(self.sigmoid_layers[-1].output, self.W_out) + self.b_out)
        self.params.extend([self.W_out, self.b_out])
        self.finetune_cost = -T.mean(T.log(p_y_given_x)[T.arange(self.y.shape[0]), self.y])
        self.errors = T.mean(T.neq(T.argmax(p_y_given_x, axis=1), self.y))


def test_DBN(
    pretrain_lr=0.1, pretraining_epochs=8, finetune_lr=0.2, training_epochs=40, batch_size=10
):
    numpy_rng = numpy.random.RandomState(123)
    prototypes = numpy_rng.binomial(1, 0.5, size=(3, 16))
    labels = numpy_rng.randint(0, 3, size=60).astype("int32")
    data = numpy.abs(prototypes[labels] - numpy_rng.binomial(1, 0.05, size=(60, 16)))
    train_set_x = theano.shared(numpy.asarray(data, dtype=theano.config.floatX), borrow=True)
    train_set_y = theano.shared(labels, borrow=True)
    n_train_batches = 60 // batch_size

    dbn = DBN(numpy_rng=numpy_rng, n_ins=16, hidden_layers_sizes=[10, 6], n_outs=3)
    print(
        "rbm params are the sigmoid layers'",
        all(r.W is s.W and r.hbias is s.b for r, s in zip(dbn.rbm_layers, dbn.sigmoid_layers)),
    )
    index = T.lscalar("index")
    for i, rbm in enumerate(dbn.rbm_layers):
        cost, updates = rbm.get_cost_updates(pretrain_lr, k=1)
        fn = theano.function(
            [index],
            cost,
            updates=updates,
            givens={dbn.x: train_set_x[index * batch_size : (index + 1) * batch_size]},
        )
        for epoch in range(pretraining_epochs):
            c = [fn(batch_index) for batch_index in range(n_train_batches)]
            print("Pre-training layer %i, epoch %d, cost %f" % (i, epoch, numpy.mean(c)))

    gparams = T.grad(dbn.finetune_cost, dbn.params)
    updates = [(p, p - finetune_lr * g) for p, g in zip(dbn.params, gparams)]
    train_fn = theano.function(
        [index],
        dbn.finetune_cost,
        updates=updates,
        givens={
            dbn.x: train_set_x[index * batch_size : (index + 1) * batch_size],
            dbn.y: train_set_y[index * batch_size : (index + 1) * batch_size],
        },
    )
    score = theano.function(
        [], [dbn.finetune_cost, dbn.errors], givens={dbn.x: train_set_x, dbn.y: train_set_y}
    )
    print("finetune before: cost %f error %f" % tuple(score()))
    for epoch in range(training_epochs):
        for minibatch_index in range(n_train_batches):
            train_fn(minibatch_index)
    print("finetune after: cost %f error %f" % tuple(score()))


if __name__ == "__main__":
    test_DBN()
