"""An Elman RNN slot filler, as in the Deep Learning Tutorials' rnnslu.py.

Word embeddings over a context window, the recurrence in `theano.scan` with
`outputs_info=[self.h0, None]` and `T.nnet.softmax` of a vector inside the step (a 1 x n row, so
the tutorial takes `s[:, 0, :]`), per-sentence SGD and embedding normalisation. Synthetic
"sentences" whose slot label is a function of the word and its left neighbour. Prints the first
sentence's initial probabilities and the accuracy before and after training.
"""

from collections import OrderedDict

import numpy
import theano
from theano import tensor as T


def contextwin(l, win):
    assert (win % 2) == 1
    assert win >= 1
    l = list(l)
    lpadded = win // 2 * [-1] + l + win // 2 * [-1]
    out = [lpadded[i : (i + win)] for i in range(len(l))]
    assert len(out) == len(l)
    return out


class RNNSLU(object):
    """elman neural net model"""

    def __init__(self, nh, nc, ne, de, cs):
        self.emb = theano.shared(
            name="embeddings",
            value=0.2 * numpy.random.uniform(-1.0, 1.0, (ne + 1, de)).astype(theano.config.floatX),
        )
        self.wx = theano.shared(
            name="wx",
            value=0.2 * numpy.random.uniform(-1.0, 1.0, (de * cs, nh)).astype(theano.config.floatX),
        )
        self.wh = theano.shared(
            name="wh",
            value=0.2 * numpy.random.uniform(-1.0, 1.0, (nh, nh)).astype(theano.config.floatX),
        )
        self.w = theano.shared(
            name="w",
            value=0.2 * numpy.random.uniform(-1.0, 1.0, (nh, nc)).astype(theano.config.floatX),
        )
        self.bh = theano.shared(name="bh", value=numpy.zeros(nh, dtype=theano.config.floatX))
        self.b = theano.shared(name="b", value=numpy.zeros(nc, dtype=theano.config.floatX))
        self.h0 = theano.shared(name="h0", value=numpy.zeros(nh, dtype=theano.config.floatX))

        self.params = [self.emb, self.wx, self.wh, self.w, self.bh, self.b, self.h0]

        idxs = T.imatrix()
        x = self.emb[idxs].reshape((idxs.shape[0], de * cs))
        y_sentence = T.ivector("y_sentence")

        def recurrence(x_t, h_tm1):
            h_t = T.nnet.sigmoid(T.dot(x_t, self.wx) + T.dot(h_tm1, self.wh) + self.bh)
            s_t = T.nnet.softmax(T.dot(h_t, self.w) + self.b)
            return [h_t, s_t]

        [h, s], _ = theano.scan(
            fn=recurrence, sequences=x, outputs_info=[self.h0, None], n_steps=x.shape[0]
        )

        p_y_given_x_sentence = s[:, 0, :]
        y_pred = T.argmax(p_y_given_x_sentence, axis=1)

        lr = T.scalar("lr")
        sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
        sentence_gradients = T.grad(sentence_nll, self.params)
        sentence_updates = OrderedDict(
            (p, p - lr * g) for p, g in zip(self.params, sentence_gradients)
        )

        self.probabilities = theano.function(inputs=[idxs], outputs=p_y_given_x_sentence)
        self.classify = theano.function(inputs=[idxs], outputs=y_pred)
        self.sentence_train = theano.function(
            inputs=[idxs, y_sentence, lr], outputs=sentence_nll, updates=sentence_updates
        )
        self.normalize = theano.function(
            inputs=[],
            updates={self.emb: self.emb / T.sqrt((self.emb**2).sum(axis=1)).dimshuffle(0, "x")},
        )

    def train(self, x, y, window_size, learning_rate):
        cwords = contextwin(x, window_size)
        words = list(map(lambda x: numpy.asarray(x).astype("int32"), cwords))
        labels = y
        nll = self.sentence_train(words, labels, learning_rate)
        self.normalize()
        return nll


def main(param=None):
    if not param:
        param = {
            "lr": 1.0,
            "win": 3,
            "nhidden": 12,
            "seed": 345,
            "emb_dimension": 6,
            "nepochs": 15,
            "vocsize": 10,
            "nclasses": 3,
        }
    numpy.random.seed(param["seed"])
    # the data: a word's slot is its group (0-3, 4-7, 8-9), bumped by one after a word 0
    sentences = [
        numpy.random.randint(0, param["vocsize"], size=numpy.random.randint(4, 9))
        for _ in range(30)
    ]
    labels = [
        ((s // 4 + (numpy.concatenate([[1], s[:-1]]) == 0)) % param["nclasses"]).astype("int32")
        for s in sentences
    ]

    rnn = RNNSLU(
        nh=param["nhidden"],
        nc=param["nclasses"],
        ne=param["vocsize"],
        de=param["emb_dimension"],
        cs=param["win"],
    )

    def accuracy():
        predictions = [
            rnn.classify(numpy.asarray(contextwin(x, param["win"])).astype("int32"))
            for x in sentences
        ]
        return numpy.mean(numpy.concatenate([p == y for p, y in zip(predictions, labels)]))

    print("sentence", sentences[0].tolist())
    first = numpy.asarray(contextwin(sentences[0], param["win"])).astype("int32")
    print("probabilities", rnn.probabilities(first).ravel().tolist())
    print("accuracy before %f" % accuracy())
    for e in range(param["nepochs"]):
        nlls = [rnn.train(x, y, param["win"], param["lr"]) for x, y in zip(sentences, labels)]
        print("epoch %d nll %f" % (e, numpy.mean(nlls)))
    print("accuracy after %f" % accuracy())
    norms = numpy.sqrt((rnn.emb.get_value() ** 2).sum(axis=1))
    print("embedding norms", norms.round(6).tolist())


if __name__ == "__main__":
    main()
