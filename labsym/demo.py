"""The seeds' logistic-regression case study, run through `import labsym as theano`.

`python -m labsym.demo` trains on a random 400 x 784 data set and prints the training accuracy.
"""

from __future__ import annotations

import argparse
import time

import numpy


def main(steps: int = 10000, seed: int = 0) -> float:
    """Train the seed's model for `steps` steps and return the training accuracy."""
    import labsym as theano
    import labsym.tensor as T

    rng = numpy.random.default_rng(seed)
    N, feats = 400, 784
    D = (rng.standard_normal((N, feats)), rng.integers(size=N, low=0, high=2))
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(rng.standard_normal(feats), name="w")
    b = theano.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))  # probability that target = 1
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy loss
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
    )
    predict = theano.function(inputs=[x], outputs=prediction)
    start = time.perf_counter()
    for _ in range(steps):
        train(D[0], D[1])
    elapsed = time.perf_counter() - start
    accuracy = float(numpy.mean(predict(D[0]) == D[1]))
    print(f"labsym {theano.__version__}: logistic regression, N={N}, {feats} features")
    print(f"trained {steps} steps in {elapsed:.2f} s ({1e6 * elapsed / max(steps, 1):.0f} us/step)")
    print(f"training accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.seed)
