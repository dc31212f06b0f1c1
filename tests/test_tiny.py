"""The 5-second smoke test: the core promise end to end (types, grad, function, updates, print)."""

from __future__ import annotations

import numpy as np

import labsym as theano
import labsym.tensor as T


def test_smoke():
    x = T.dscalar("x")
    y = x**2
    assert theano.function([x], T.grad(y, x))(-2) == -4.0
    w = theano.shared(np.zeros(2), name="w")
    v = T.dvector("v")
    cost = ((T.dot(v, w) - 1.0) ** 2).sum()
    train = theano.function([v], cost, updates=[(w, w - 0.1 * T.grad(cost, w))])
    losses = [float(train(np.array([1.0, 2.0]))) for _ in range(20)]
    assert losses[-1] < losses[0] * 0.01
    assert "Elemwise{pow,no_inplace}" in theano.printing.debugprint(y, file="str")
