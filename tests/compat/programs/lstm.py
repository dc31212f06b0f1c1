"""An LSTM sequence classifier, as in the Deep Learning Tutorials' lstm.py (sentiment analysis).

Parameters in an OrderedDict of shared variables (`tparams`), the masked LSTM step in
`theano.scan` over a padded batch (`outputs_info` from `tensor.alloc`), mean pooling, dropout
through `tensor.switch(use_noise, ...)`, and the tutorial's two-function SGD (gradients into
shared variables, then the update). Synthetic sequences labelled by whether small tokens are the
majority. Prints the initial probabilities of a batch and the costs and errors of training.
"""

from collections import OrderedDict

import numpy
import theano
import theano.tensor as tensor
from theano import config
from theano.tensor.shared_randomstreams import RandomStreams

SEED = 123
numpy.random.seed(SEED)


def numpy_floatX(data):
    return numpy.asarray(data, dtype=config.floatX)


def _p(pp, name):
    return "%s_%s" % (pp, name)


def ortho_weight(ndim):
    W = numpy.random.randn(ndim, ndim)
    u, s, v = numpy.linalg.svd(W)
    return u.astype(config.floatX)


def init_params(options):
    params = OrderedDict()
    randn = numpy.random.rand(options["n_words"], options["dim_proj"])
    params["Wemb"] = (0.01 * randn).astype(config.floatX)
    params = param_init_lstm(options, params, prefix=options["encoder"])
    params["U"] = 0.01 * numpy.random.randn(options["dim_proj"], options["ydim"]).astype(
        config.floatX
    )
    params["b"] = numpy.zeros((options["ydim"],)).astype(config.floatX)
    return params


def init_tparams(params):
    tparams = OrderedDict()
    for kk, pp in params.items():
        tparams[kk] = theano.shared(params[kk], name=kk)
    return tparams


def param_init_lstm(options, params, prefix="lstm"):
    W = numpy.concatenate([ortho_weight(options["dim_proj"]) for _ in range(4)], axis=1)
    params[_p(prefix, "W")] = W
    U = numpy.concatenate([ortho_weight(options["dim_proj"]) for _ in range(4)], axis=1)
    params[_p(prefix, "U")] = U
    b = numpy.zeros((4 * options["dim_proj"],))
    params[_p(prefix, "b")] = b.astype(config.floatX)
    return params


def lstm_layer(tparams, state_below, options, prefix="lstm", mask=None):
    nsteps = state_below.shape[0]
    if state_below.ndim == 3:
        n_samples = state_below.shape[1]
    else:
        n_samples = 1

    assert mask is not None

    def _slice(_x, n, dim):
        if _x.ndim == 3:
            return _x[:, :, n * dim : (n + 1) * dim]
        return _x[:, n * dim : (n + 1) * dim]

    def _step(m_, x_, h_, c_):
        preact = tensor.dot(h_, tparams[_p(prefix, "U")])
        preact += x_

        i = tensor.nnet.sigmoid(_slice(preact, 0, options["dim_proj"]))
        f = tensor.nnet.sigmoid(_slice(preact, 1, options["dim_proj"]))
        o = tensor.nnet.sigmoid(_slice(preact, 2, options["dim_proj"]))
        c = tensor.tanh(_slice(preact, 3, options["dim_proj"]))

        c = f * c_ + i * c
        c = m_[:, None] * c + (1.0 - m_)[:, None] * c_

        h = o * tensor.tanh(c)
        h = m_[:, None] * h + (1.0 - m_)[:, None] * h_

        return h, c

    state_below = tensor.dot(state_below, tparams[_p(prefix, "W")]) + tparams[_p(prefix, "b")]

    dim_proj = options["dim_proj"]
    rval, updates = theano.scan(
        _step,
        sequences=[mask, state_below],
        outputs_info=[
            tensor.alloc(numpy_floatX(0.0), n_samples, dim_proj),
            tensor.alloc(numpy_floatX(0.0), n_samples, dim_proj),
        ],
        name=_p(prefix, "_layers"),
        n_steps=nsteps,
    )
    return rval[0]


def dropout_layer(state_before, use_noise, trng):
    proj = tensor.switch(
        use_noise,
        (state_before * trng.binomial(state_before.shape, p=0.5, n=1, dtype=state_before.dtype)),
        state_before * 0.5,
    )
    return proj


def sgd(lr, tparams, grads, x, mask, y, cost):
    gshared = [theano.shared(p.get_value() * 0.0, name="%s_grad" % k) for k, p in tparams.items()]
    gsup = [(gs, g) for gs, g in zip(gshared, grads)]
    f_grad_shared = theano.function([x, mask, y], cost, updates=gsup, name="sgd_f_grad_shared")
    pup = [(p, p - lr * g) for p, g in zip(tparams.values(), gshared)]
    f_update = theano.function([lr], [], updates=pup, name="sgd_f_update")
    return f_grad_shared, f_update


def build_model(tparams, options):
    trng = RandomStreams(SEED)
    use_noise = theano.shared(numpy_floatX(0.0))

    x = tensor.matrix("x", dtype="int64")
    mask = tensor.matrix("mask", dtype=config.floatX)
    y = tensor.vector("y", dtype="int64")

    n_timesteps = x.shape[0]
    n_samples = x.shape[1]

    emb = tparams["Wemb"][x.flatten()].reshape([n_timesteps, n_samples, options["dim_proj"]])
    proj = lstm_layer(tparams, emb, options, prefix=options["encoder"], mask=mask)
    proj = (proj * mask[:, :, None]).sum(axis=0)
    proj = proj / mask.sum(axis=0)[:, None]
    if options["use_dropout"]:
        proj = dropout_layer(proj, use_noise, trng)

    pred = tensor.nnet.softmax(tensor.dot(proj, tparams["U"]) + tparams["b"])

    f_pred_prob = theano.function([x, mask], pred, name="f_pred_prob")
    f_pred = theano.function([x, mask], pred.argmax(axis=1), name="f_pred")

    off = 1e-8
    if pred.dtype == "float16":
        off = 1e-6
    cost = -tensor.log(pred[tensor.arange(n_samples), y] + off).mean()
    return use_noise, x, mask, y, f_pred_prob, f_pred, cost


def prepare_data(seqs, labels, maxlen=None):
    lengths = [len(s) for s in seqs]
    n_samples = len(seqs)
    maxlen = numpy.max(lengths)
    x = numpy.zeros((maxlen, n_samples)).astype("int64")
    x_mask = numpy.zeros((maxlen, n_samples)).astype(theano.config.floatX)
    for idx, s in enumerate(seqs):
        x[: lengths[idx], idx] = s
        x_mask[: lengths[idx], idx] = 1.0
    return x, x_mask, labels


def train_lstm(dim_proj=8, n_words=10, max_epochs=40, lrate=1.0, batch_size=8, use_dropout=True):
    model_options = locals().copy()
    model_options["encoder"] = "lstm"
    model_options["ydim"] = 2

    params = init_params(model_options)
    tparams = init_tparams(params)
    (use_noise, x, mask, y, f_pred_prob, f_pred, cost) = build_model(tparams, model_options)

    grads = tensor.grad(cost, wrt=list(tparams.values()))
    lr = tensor.scalar(name="lr")
    f_grad_shared, f_update = sgd(lr, tparams, grads, x, mask, y, cost)
    f_cost = theano.function([x, mask, y], cost, name="f_cost")

    rng = numpy.random.RandomState(1)
    seqs = [list(rng.randint(1, n_words, size=rng.randint(3, 9))) for _ in range(48)]
    labels = [int(numpy.mean(numpy.asarray(s) < 5) > 0.5) for s in seqs]
    batches = [
        prepare_data(seqs[i : i + batch_size], labels[i : i + batch_size])
        for i in range(0, len(seqs), batch_size)
    ]

    x0, mask0, y0 = batches[0]
    print("x0", x0.T.ravel().tolist())
    print("initial probabilities", f_pred_prob(x0, mask0).ravel().tolist())
    print("initial cost %f" % numpy.mean([f_cost(bx, bm, by) for bx, bm, by in batches]))
    for eidx in range(max_epochs):
        use_noise.set_value(1.0)
        for bx, bm, by in batches:
            f_grad_shared(bx, bm, by)
            f_update(lrate)
    use_noise.set_value(0.0)
    print("final cost %f" % numpy.mean([f_cost(bx, bm, by) for bx, bm, by in batches]))
    errors = [numpy.mean(f_pred(bx, bm) != numpy.asarray(by)) for bx, bm, by in batches]
    print("final error %f" % numpy.mean(errors))


if __name__ == "__main__":
    train_lstm()
