"""Real-program compatibility: Theano programs as others wrote them, run with `import theano`.

The programs in programs/ follow Theano 1.0's tutorial and library pages and the Deep Learning
Tutorials models (logistic_sgd, mlp, convolutional_mlp, dA, SdA, rbm, DBN, hmc, rnnslu, lstm), on
small synthetic data they make themselves. Each test runs one program once (outputs are cached)
and checks what it printed against a NumPy reimplementation, Theano's documented numbers, or
learning that actually happened.
"""

from __future__ import annotations

import contextlib
import functools
import io
import runpy
from pathlib import Path

import numpy as np
import pytest

from labsym.compat import install_theano_alias
from labsym.optim.user import unregister_rule, user_rules

PROGRAMS = Path(__file__).parent / "programs"


@functools.cache
def run_program(name: str) -> tuple[tuple[str, ...], BaseException | None]:
    """Run programs/<name>.py as __main__; return its printed lines and the error it raised."""
    install_theano_alias()
    rules_before = {rule.name for rule in user_rules()}
    numpy_state = np.random.get_state()  # lstm/rnnslu seed NumPy's global generator
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(PROGRAMS / f"{name}.py"), run_name="__main__")
    except Exception as exc:  # reported by the tests that need the program to finish
        error = exc
    finally:
        np.random.set_state(numpy_state)
        # rewrites a program registers are global, as in Theano: forget them afterwards
        for rule in user_rules():
            if rule.name not in rules_before:
                unregister_rule(rule.name)
    return tuple(out.getvalue().splitlines()), error


def output(name: str) -> list[str]:
    """The lines a program printed; fails with the program's own error if it stopped."""
    lines, error = run_program(name)
    if error is not None:
        raise error
    return list(lines)


def numbers(line: str) -> np.ndarray:
    """Every number on a printed line (after its label)."""
    cleaned = line
    for ch in "[](),:%=":
        cleaned = cleaned.replace(ch, " ")
    values = []
    for token in cleaned.split():
        try:
            values.append(float(token))
        except ValueError:
            continue
    return np.array(values)


def line_with(lines: list[str], prefix: str) -> str:
    (line,) = [line for line in lines if line.startswith(prefix)]
    return line


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def onehot(labels: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n)[labels]


# ------------------------------------------------------------------ logistic_sgd.py
def test_logistic_sgd_matches_numpy_sgd():
    lines = output("logistic_sgd")
    rng = np.random.RandomState(1234)
    centers = rng.randn(3, 8) * 3
    labels = rng.randint(0, 3, size=300)
    data = centers[labels] + rng.randn(300, 8)
    W, b = np.zeros((8, 3)), np.zeros(3)
    valid_x, valid_y = data[200:], labels[200:]
    assert numbers(lines[0])[0] == pytest.approx(np.mean(valid_y != 0) * 100, abs=1e-6)
    assert numbers(lines[1])[0] == pytest.approx(np.log(3), abs=1e-6)
    for i in [0] + list(range(10)) * 20:  # the printed first minibatch cost was a step too
        bx, by = data[i * 20 : (i + 1) * 20], labels[i * 20 : (i + 1) * 20]
        d = (softmax(bx @ W + b) - onehot(by, 3)) / 20
        W, b = W - 0.13 * bx.T @ d, b - 0.13 * d.sum(axis=0)
    error = np.mean(np.argmax(valid_x @ W + b, axis=1) != valid_y) * 100
    assert numbers(lines[2])[0] == pytest.approx(error, abs=1e-6)
    np.testing.assert_allclose(numbers(lines[3]), W.ravel(), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(numbers(lines[4]), b, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------ mlp.py
def test_mlp_matches_numpy_backprop():
    lines = output("mlp")
    rng = np.random.RandomState(1234)
    X = rng.uniform(-1, 1, size=(200, 2))
    Y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    bound = np.sqrt(6.0 / 12)
    W1, b1 = rng.uniform(low=-bound, high=bound, size=(2, 10)), np.zeros(10)
    W2, b2 = np.zeros((10, 2)), np.zeros(2)
    l1, l2 = 0.0001, 0.001

    def forward(x, y):
        h = np.tanh(x @ W1 + b1)
        p = softmax(h @ W2 + b2)
        nll = -np.mean(np.log(p[np.arange(len(y)), y]))
        reg = l1 * (np.abs(W1).sum() + np.abs(W2).sum()) + l2 * ((W1**2).sum() + (W2**2).sum())
        return h, p, nll + reg

    assert numbers(lines[0])[0] == pytest.approx(forward(X, Y)[2], abs=1e-6)
    np.testing.assert_allclose(numbers(lines[1]), np.tanh(X[:1] @ W1 + b1)[0], rtol=1e-10)
    for _epoch in range(150):
        for i in range(4):
            x, y = X[i * 50 : (i + 1) * 50], Y[i * 50 : (i + 1) * 50]
            h, p, _ = forward(x, y)
            d = (p - onehot(y, 2)) / 50
            dh = d @ W2.T * (1 - h**2)
            gW2 = h.T @ d + l1 * np.sign(W2) + 2 * l2 * W2
            gW1 = x.T @ dh + l1 * np.sign(W1) + 2 * l2 * W1
            W1, b1 = W1 - 0.1 * gW1, b1 - 0.1 * dh.sum(axis=0)
            W2, b2 = W2 - 0.1 * gW2, b2 - 0.1 * d.sum(axis=0)
    _, p, cost = forward(X, Y)
    assert numbers(lines[2])[0] == pytest.approx(cost, abs=2e-6)
    assert numbers(lines[3])[0] == pytest.approx(np.mean(p.argmax(axis=1) != Y), abs=1e-6)
    assert cost < 0.5  # it learned XOR beyond the 0.69 of chance


# ------------------------------------------------------------------ lenet.py
def test_lenet_conv_pool_layer_matches_numpy_and_learns():
    lines = output("lenet")
    rng = np.random.RandomState(23455)
    images = rng.uniform(0, 0.2, size=(40, 1, 8, 8))
    labels = rng.randint(0, 2, size=40)
    for i in range(40):
        images[i, 0, rng.randint(0, 4) + 4 * labels[i], :] += 1.0
    bound = np.sqrt(6.0 / (9 + 9))
    W = rng.uniform(low=-bound, high=bound, size=(4, 1, 3, 3))
    np.testing.assert_allclose(numbers(lines[0]), W.ravel(), rtol=1e-12)
    # Theano's conv2d flips the filters (a true convolution), then 2x2 max pooling and tanh
    flipped = W[:, 0, ::-1, ::-1]
    conv = np.zeros((4, 6, 6))
    for a in range(3):
        for c in range(3):
            conv += flipped[:, a, c, None, None] * images[0, 0, a : a + 6, c : c + 6]
    pooled = conv.reshape(4, 3, 2, 3, 2).max(axis=(2, 4))
    np.testing.assert_allclose(numbers(lines[1]), np.tanh(pooled).ravel(), rtol=1e-10)
    assert numbers(lines[2])[0] == pytest.approx(np.log(2), abs=1e-6)
    assert numbers(lines[3])[0] < 0.1
    assert numbers(lines[4])[0] == 0.0


# ------------------------------------------------------------------ dA.py
def test_denoising_autoencoder_training_matches_numpy_with_theanos_streams():
    lines = output("dA")
    rng = np.random.RandomState(123)
    prototypes = rng.binomial(1, 0.5, size=(4, 20))
    data = prototypes[rng.randint(0, 4, size=100)]
    data = np.abs(data - rng.binomial(1, 0.05, size=data.shape))
    # RandomStreams(seed) as Theano: a seed generator gives each draw's stream its RandomState;
    # the clean cost's binomial was created first, the training corruption's second
    seedgen = np.random.RandomState(rng.randint(2**30))
    seedgen.randint(2**30)
    corruption = np.random.RandomState(seedgen.randint(2**30))
    bound = 4 * np.sqrt(6.0 / 28)
    W, b, b_prime = rng.uniform(low=-bound, high=bound, size=(20, 8)), np.zeros(8), np.zeros(20)

    def reconstruction(x, tilde):
        y = sigmoid(tilde @ W + b)
        z = sigmoid(y @ W.T + b_prime)
        return y, z, np.mean(-np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), axis=1))

    initial_clean = reconstruction(data, data)[2]
    assert numbers(lines[0])[0] == pytest.approx(initial_clean, abs=1e-6)
    for epoch in range(15):
        costs = []
        for i in range(10):
            x = data[i * 10 : (i + 1) * 10]
            tilde = corruption.binomial(1, 1 - 0.3, size=x.shape) * x
            y, z, cost = reconstruction(x, tilde)
            costs.append(cost)
            dz = (z - x) / 10
            dy = dz @ W * y * (1 - y)
            W = W - 0.1 * (tilde.T @ dy + dz.T @ y)
            b, b_prime = b - 0.1 * dy.sum(axis=0), b_prime - 0.1 * dz.sum(axis=0)
        assert lines[1 + epoch].startswith(f"Training epoch {epoch}, cost ")
        assert numbers(lines[1 + epoch])[-1] == pytest.approx(np.mean(costs), abs=2e-6)
    final_clean = reconstruction(data, data)[2]
    assert numbers(lines[16])[0] == pytest.approx(final_clean, abs=1e-6)
    assert final_clean < 0.5 * initial_clean


# ------------------------------------------------------------------ rbm.py
def test_rbm_cd1_matches_numpy_with_theanos_streams_and_samples_near_the_data():
    lines = output("rbm")
    rng = np.random.RandomState(123)
    prototypes = rng.binomial(1, 0.5, size=(3, 16))
    data = prototypes[rng.randint(0, 3, size=60)]
    data = np.abs(data - rng.binomial(1, 0.05, size=data.shape))
    seedgen = np.random.RandomState(rng.randint(2**30))
    bound = 4 * np.sqrt(6.0 / 22)
    W, hbias, vbias = rng.uniform(low=-bound, high=bound, size=(16, 6)), np.zeros(6), np.zeros(16)
    free_energy = -np.log1p(np.exp(data[:3] @ W)).sum(axis=1)
    np.testing.assert_allclose(numbers(lines[0]), free_energy, rtol=1e-10)
    # CD-1: h0 ~ p(h|x) outside scan, then v1 and h1 drawn in the scan step: three streams
    draw_h0, draw_v1, draw_h1 = (np.random.RandomState(seedgen.randint(2**30)) for _ in range(3))
    for epoch in range(10):
        costs = []
        for i in range(6):
            x = data[i * 10 : (i + 1) * 10]
            ph0 = sigmoid(x @ W + hbias)
            h0 = draw_h0.binomial(1, ph0, size=ph0.shape)
            pre_v1 = h0 @ W.T + vbias
            v1 = draw_v1.binomial(1, sigmoid(pre_v1), size=pre_v1.shape)
            ph1 = sigmoid(v1 @ W + hbias)
            draw_h1.binomial(1, ph1, size=ph1.shape)
            z = sigmoid(pre_v1)
            costs.append(np.mean(np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), axis=1)))
            # d(mean F(x) - mean F(v1))/dparams with v1 held constant (consider_constant)
            W = W - 0.1 * (v1.T @ ph1 - x.T @ ph0) / 10
            hbias = hbias - 0.1 * (ph1 - ph0).mean(axis=0)
            vbias = vbias - 0.1 * (v1 - x).mean(axis=0)
        assert lines[1 + epoch].startswith(f"CD epoch {epoch}, cost is ")
        assert numbers(lines[1 + epoch])[-1] == pytest.approx(np.mean(costs), abs=2e-6)
    assert len([line for line in lines if line.startswith("PCD epoch")]) == 3
    after = numbers(line_with(lines, "free energy after"))
    assert (after < free_energy - 1).all()  # the training data became more probable
    samples = [numbers(line)[1:].reshape(-1, 16) for line in lines if line.startswith("sample")]
    assert len(samples) == 2 and all(set(np.unique(s)) <= {0.0, 1.0} for s in samples)
    distances = [np.abs(prototypes - row).sum(axis=1).min() for s in samples for row in s]
    assert np.mean(distances) < 4  # Gibbs samples lie near the prototypes (chance: about 8)


# ------------------------------------------------------------------ SdA.py / DBN.py
def _layer_costs(lines: list[str], layer: int) -> list[float]:
    prefix = f"Pre-training layer {layer},"
    return [numbers(line)[-1] for line in lines if line.startswith(prefix)]


def test_stacked_denoising_autoencoder_matches_numpy_through_its_shared_weights():
    lines = output("SdA")
    assert lines[0] == "shared weights [True, True]"
    rng = np.random.RandomState(89677)
    prototypes = rng.binomial(1, 0.5, size=(4, 20))
    labels = rng.randint(0, 4, size=80)
    data = np.abs(prototypes[labels] - rng.binomial(1, 0.1, size=(80, 20)))
    seedgen = np.random.RandomState(rng.randint(2**30))
    Ws, bs = [], []
    for n_in, n_out in ((20, 12), (12, 8)):
        bound = np.sqrt(6.0 / (n_in + n_out))
        Ws.append(4 * rng.uniform(low=-bound, high=bound, size=(n_in, n_out)))
        bs.append(np.zeros(n_out))
    # pretraining: each dA updates the W and b its sigmoid layer shares (`if not W:` kept them)
    for layer, level in ((0, 0.1), (1, 0.2)):
        corruption = np.random.RandomState(seedgen.randint(2**30))
        b_prime = np.zeros(Ws[layer].shape[0])
        costs = _layer_costs(lines, layer)
        assert len(costs) == 5
        for epoch in range(5):
            epoch_costs = []
            for i in range(8):
                x = data[i * 10 : (i + 1) * 10]
                for below in range(layer):
                    x = sigmoid(x @ Ws[below] + bs[below])
                W, b = Ws[layer], bs[layer]
                tilde = corruption.binomial(1, 1 - level, size=x.shape) * x
                y = sigmoid(tilde @ W + b)
                z = sigmoid(y @ W.T + b_prime)
                epoch_costs.append(np.mean(-np.sum(x * np.log(z) + (1 - x) * np.log(1 - z), 1)))
                dz = (z - x) / 10
                dy = dz @ W * y * (1 - y)
                Ws[layer], bs[layer] = W - 0.1 * (tilde.T @ dy + dz.T @ y), b - 0.1 * dy.sum(0)
                b_prime = b_prime - 0.1 * dz.sum(axis=0)
            assert costs[epoch] == pytest.approx(np.mean(epoch_costs), abs=2e-6)
    before = numbers(line_with(lines, "finetune before"))
    np.testing.assert_allclose(before, [np.log(4), np.mean(labels != 0)], atol=1e-6)
    W_out, b_out = np.zeros((8, 4)), np.zeros(4)

    def forward(x):
        h1 = sigmoid(x @ Ws[0] + bs[0])
        h2 = sigmoid(h1 @ Ws[1] + bs[1])
        return h1, h2, softmax(h2 @ W_out + b_out)

    for step in range(30 * 8):  # 30 epochs of 8 minibatches
        i = step % 8
        x, y = data[i * 10 : (i + 1) * 10], labels[i * 10 : (i + 1) * 10]
        h1, h2, p = forward(x)
        d = (p - onehot(y, 4)) / 10
        dh2 = d @ W_out.T * h2 * (1 - h2)
        dh1 = dh2 @ Ws[1].T * h1 * (1 - h1)
        W_out, b_out = W_out - 0.1 * h2.T @ d, b_out - 0.1 * d.sum(axis=0)
        Ws[1], bs[1] = Ws[1] - 0.1 * h1.T @ dh2, bs[1] - 0.1 * dh2.sum(axis=0)
        Ws[0], bs[0] = Ws[0] - 0.1 * x.T @ dh1, bs[0] - 0.1 * dh1.sum(axis=0)
    p = forward(data)[2]
    cost = -np.mean(np.log(p[np.arange(80), labels]))
    error = np.mean(p.argmax(axis=1) != labels)
    np.testing.assert_allclose(
        numbers(line_with(lines, "finetune after")), [cost, error], atol=2e-6
    )
    assert cost < 0.6 and error < 0.15


def test_deep_belief_network_shares_weights_and_learns():
    lines = output("DBN")
    assert lines[0] == "rbm params are the sigmoid layers' True"
    for layer in (0, 1):
        costs = _layer_costs(lines, layer)
        assert len(costs) == 8 and costs[-1] > costs[0] + 2
    rng = np.random.RandomState(123)
    rng.binomial(1, 0.5, size=(3, 16))
    labels = rng.randint(0, 3, size=60)
    before = numbers(line_with(lines, "finetune before"))
    np.testing.assert_allclose(before, [np.log(3), np.mean(labels != 0)], atol=1e-6)
    cost, error = numbers(line_with(lines, "finetune after"))
    assert cost < 0.3 and error < 0.05


# ------------------------------------------------------------------ hmc.py
def test_hmc_matches_numpy_leapfrog_and_samples_the_gaussian():
    lines = output("hmc")
    rng = np.random.RandomState(123)
    mu = rng.rand(2) * 10
    cov = rng.rand(2, 2)
    cov = (cov + cov.T) / 2.0
    cov[np.arange(2), np.arange(2)] = 1.0
    cov_inv = np.linalg.inv(cov)
    position = rng.randn(3, 2)
    np.testing.assert_allclose(numbers(lines[0]), mu, rtol=1e-12)
    np.testing.assert_allclose(numbers(lines[1]), cov.ravel(), rtol=1e-12)

    def energy(x):
        return 0.5 * (((x - mu) @ cov_inv) * (x - mu)).sum(axis=1)

    def denergy(x):  # what T.grad gives for energy(x).sum()
        return 0.5 * ((x - mu) @ cov_inv + (x - mu) @ cov_inv.T)

    seedgen = np.random.RandomState(12345)  # RandomStreams(12345): velocity stream, then MH's
    draw_velocity = np.random.RandomState(seedgen.randint(2**30))
    draw_uniform = np.random.RandomState(seedgen.randint(2**30))
    stepsize, acceptance, samples = 1e-3, 0.9, []
    for draw in range(600):
        velocity = draw_velocity.normal(0, 1, size=position.shape)
        vel = velocity - 0.5 * stepsize * denergy(position)
        pos = position + stepsize * vel
        for _leapfrog in range(19):
            vel = vel - stepsize * denergy(pos)
            pos = pos + stepsize * vel
        vel = vel - 0.5 * stepsize * denergy(pos)
        ediff = (energy(position) + 0.5 * (velocity**2).sum(axis=1)) - (
            energy(pos) + 0.5 * (vel**2).sum(axis=1)
        )
        accept = np.exp(ediff) - draw_uniform.uniform(0, 1, size=3) >= 0
        position = np.where(accept[:, None], pos, position)
        new_stepsize = np.clip(stepsize * (1.02 if acceptance > 0.9 else 0.98), 0.001, 0.5)
        acceptance = 0.9 * acceptance + 0.1 * accept.mean()
        stepsize = new_stepsize
        if draw >= 200:
            samples.append(position)
    samples = np.asarray(samples).T.reshape(2, -1).T
    np.testing.assert_allclose(numbers(lines[2]), samples.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(numbers(lines[3]), np.cov(samples.T).ravel(), rtol=1e-9)
    assert numbers(line_with(lines, "final stepsize"))[0] == pytest.approx(stepsize, rel=1e-12)
    assert numbers(line_with(lines, "final acceptance_rate"))[0] == pytest.approx(acceptance)
    np.testing.assert_allclose(samples.mean(axis=0), mu, atol=0.25)  # it samples the target
    np.testing.assert_allclose(np.cov(samples.T), cov, atol=0.3)


# ------------------------------------------------------------------ rnnslu.py
def _context_windows(sentence: np.ndarray) -> np.ndarray:
    padded = [-1, *sentence.tolist(), -1]  # index -1: the extra (last) embedding row
    return np.array([padded[t : t + 3] for t in range(len(sentence))])


def test_elman_slot_filler_matches_numpy_bptt_and_learns():
    lines = output("rnnslu")
    np.random.seed(345)
    sentences = [np.random.randint(0, 10, size=np.random.randint(4, 9)) for _ in range(30)]
    labels = [(s // 4 + (np.concatenate([[1], s[:-1]]) == 0)) % 3 for s in sentences]
    params = {
        "emb": 0.2 * np.random.uniform(-1.0, 1.0, (11, 6)),
        "wx": 0.2 * np.random.uniform(-1.0, 1.0, (18, 12)),
        "wh": 0.2 * np.random.uniform(-1.0, 1.0, (12, 12)),
        "w": 0.2 * np.random.uniform(-1.0, 1.0, (12, 3)),
        "bh": np.zeros(12),
        "b": np.zeros(3),
        "h0": np.zeros(12),
    }

    def forward(idx):
        hs, probabilities, h = [], [], params["h0"]
        for t in range(len(idx)):
            x_t = params["emb"][idx[t]].ravel()
            h = sigmoid(x_t @ params["wx"] + h @ params["wh"] + params["bh"])
            hs.append(h)
            probabilities.append(softmax(h @ params["w"] + params["b"]))
        return np.array(hs), np.array(probabilities)

    assert numbers(lines[0]).tolist() == sentences[0].tolist()
    first = forward(_context_windows(sentences[0]))[1]
    np.testing.assert_allclose(numbers(lines[1]), first.ravel(), rtol=1e-10)
    for epoch in range(15):
        nlls = []
        for sentence, y in zip(sentences, labels):
            idx, steps = _context_windows(sentence), len(sentence)
            hs, probabilities = forward(idx)
            nlls.append(-np.mean(np.log(probabilities[np.arange(steps), y])))
            grads = {name: np.zeros_like(value) for name, value in params.items()}
            dlogits = (probabilities - onehot(y, 3)) / steps
            grads["w"], grads["b"] = hs.T @ dlogits, dlogits.sum(axis=0)
            dh_next = np.zeros(12)
            for t in reversed(range(steps)):  # back-propagation through time
                dpre = (dlogits[t] @ params["w"].T + dh_next) * hs[t] * (1 - hs[t])
                h_prev = hs[t - 1] if t > 0 else params["h0"]
                grads["wx"] += np.outer(params["emb"][idx[t]].ravel(), dpre)
                grads["wh"] += np.outer(h_prev, dpre)
                grads["bh"] += dpre
                np.add.at(grads["emb"], idx[t], (dpre @ params["wx"].T).reshape(3, 6))
                dh_next = dpre @ params["wh"].T
            grads["h0"] = dh_next
            params = {name: value - 1.0 * grads[name] for name, value in params.items()}
            norms = np.sqrt((params["emb"] ** 2).sum(axis=1))
            params["emb"] = params["emb"] / norms[:, None]  # rnn.normalize()
        assert numbers(line_with(lines, f"epoch {epoch} "))[-1] == pytest.approx(
            np.mean(nlls), abs=2e-6
        )
    correct = [
        forward(_context_windows(s))[1].argmax(axis=1) == y for s, y in zip(sentences, labels)
    ]
    accuracy = np.mean(np.concatenate(correct))
    assert numbers(line_with(lines, "accuracy after"))[0] == pytest.approx(accuracy, abs=1e-6)
    assert accuracy > 0.9
    np.testing.assert_allclose(numbers(line_with(lines, "embedding norms")), np.ones(11))


# ------------------------------------------------------------------ lstm.py
class NumpyLSTM:
    """The program's model in NumPy: masked LSTM, mean pooling, dropout, softmax, and its BPTT."""

    dim = 8

    def __init__(self) -> None:
        np.random.seed(123)  # the program seeds NumPy at import, then draws in this order
        self.params = {"Wemb": 0.01 * np.random.rand(10, self.dim)}
        for name in ("W", "U"):
            orthos = [np.linalg.svd(np.random.randn(self.dim, self.dim))[0] for _ in range(4)]
            self.params[name] = np.concatenate(orthos, axis=1)
        self.params["b"] = np.zeros(4 * self.dim)
        self.params["U_out"] = 0.01 * np.random.randn(self.dim, 2)
        self.params["b_out"] = np.zeros(2)
        # RandomStreams(SEED): the dropout binomial's stream, drawn by every call of a function
        # that contains it (tensor.switch computes both branches)
        self.dropout = np.random.RandomState(np.random.RandomState(123).randint(2**30))

    def run(self, x, mask, y, noise: bool, backward: bool = False):
        P, dim = self.params, self.dim
        drop = self.dropout.binomial(1, 0.5, size=(x.shape[1], dim))
        h = c = np.zeros((x.shape[1], dim))
        pooled, steps = np.zeros_like(h), []
        for t in range(x.shape[0]):
            pre = P["Wemb"][x[t]] @ P["W"] + P["b"] + h @ P["U"]
            i, f, o = (sigmoid(pre[:, k * dim : (k + 1) * dim]) for k in range(3))
            g, m = np.tanh(pre[:, 3 * dim :]), mask[t][:, None]
            c_new = m * (f * c + i * g) + (1 - m) * c
            steps.append((h, c, i, f, o, g, c_new, m))
            h, c = m * (o * np.tanh(c_new)) + (1 - m) * h, c_new
            pooled += h * m
        count = mask.sum(axis=0)[:, None]
        keep = drop if noise else 0.5
        proj = pooled / count * keep
        p = softmax(proj @ P["U_out"] + P["b_out"])
        n = len(y)
        cost = -np.mean(np.log(p[np.arange(n), y] + 1e-8))
        if not backward:
            return p, cost
        grads = {name: np.zeros_like(value) for name, value in P.items()}
        p_y = p[np.arange(n), y][:, None]
        dz = -(p_y / (p_y + 1e-8)) * (onehot(y, 2) - p) / n
        grads["U_out"], grads["b_out"] = proj.T @ dz, dz.sum(axis=0)
        dpooled = (dz @ P["U_out"].T) * keep / count
        dh_next = dc_next = np.zeros((n, dim))
        for t in reversed(range(x.shape[0])):
            h_prev, c_prev, i, f, o, g, c_t, m = steps[t]
            dh = m * (dpooled * m + dh_next)
            do = dh * np.tanh(c_t)
            dc = dc_next + dh * o * (1 - np.tanh(c_t) ** 2)
            dc_new = m * dc
            dgates = [dc_new * g * i * (1 - i), dc_new * c_prev * f * (1 - f), do * o * (1 - o)]
            dpre = np.concatenate([*dgates, dc_new * i * (1 - g**2)], axis=1)
            grads["U"] += h_prev.T @ dpre
            grads["W"] += P["Wemb"][x[t]].T @ dpre
            grads["b"] += dpre.sum(axis=0)
            np.add.at(grads["Wemb"], x[t], dpre @ P["W"].T)
            dh_next = (1 - m) * (dpooled * m + dh_next) + dpre @ P["U"].T
            dc_next = (1 - m) * dc + dc_new * f
        return grads


def test_lstm_training_matches_numpy_bptt_with_dropout_draws():
    lines = output("lstm")
    model = NumpyLSTM()
    rng = np.random.RandomState(1)
    seqs = [rng.randint(1, 10, size=rng.randint(3, 9)) for _ in range(48)]
    labels = np.array([int(np.mean(s < 5) > 0.5) for s in seqs])
    batches = []
    for start in range(0, 48, 8):
        x = np.zeros((max(len(s) for s in seqs[start : start + 8]), 8), dtype=int)
        for j, s in enumerate(seqs[start : start + 8]):
            x[: len(s), j] = s
        batches.append((x, (x != 0).astype(float), labels[start : start + 8]))
    assert numbers(lines[0]).tolist() == batches[0][0].T.ravel().tolist()
    p0, _ = model.run(*batches[0], noise=False)
    np.testing.assert_allclose(numbers(lines[1]), p0.ravel(), rtol=1e-10)
    initial = np.mean([model.run(*batch, noise=False)[1] for batch in batches])
    assert numbers(lines[2])[0] == pytest.approx(initial, abs=2e-6)
    for _epoch in range(40):
        for batch in batches:  # f_grad_shared with use_noise=1, then f_update(1.0)
            grads = model.run(*batch, noise=True, backward=True)
            model.params = {k: v - 1.0 * grads[k] for k, v in model.params.items()}
    final = np.mean([model.run(*batch, noise=False)[1] for batch in batches])
    assert numbers(lines[3])[0] == pytest.approx(final, abs=2e-6)
    errors = [np.mean(model.run(*b, noise=False)[0].argmax(axis=1) != b[2]) for b in batches]
    assert numbers(lines[4])[0] == pytest.approx(np.mean(errors), abs=1e-6)
    assert final < initial - 0.15 and np.mean(errors) < 0.3


# ------------------------------------------------------------------ gradients.py
def test_gradients_tutorial_jacobian_and_hessian_by_scan():
    lines, _ = run_program("gradients")
    assert lines[:2] == ("f(4) = 8.0", "True")
    xs = np.array([[0, 1], [-1, -2]])
    np.testing.assert_allclose(numbers(lines[2]), (sigmoid(xs) * (1 - sigmoid(xs))).ravel())
    assert numbers(lines[3]).tolist() == [8.0, 0.0, 0.0, 8.0]
    assert numbers(lines[4]).tolist() == [2.0, 0.0, 0.0, 2.0]
    A = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    y = np.tanh(A @ np.array([0.5, -0.25, 1.0]) + np.array([0.1, -0.2]))
    np.testing.assert_allclose(numbers(lines[5]), ((1 - y**2)[:, None] * A).ravel(), rtol=1e-12)
    # cost = sum(y^3)/3: H = A^T diag((2y - 4y^3)(1 - y^2)) A
    H = A.T @ np.diag((2 * y - 4 * y**3) * (1 - y**2)) @ A
    np.testing.assert_allclose(numbers(lines[6]), H.ravel(), rtol=1e-12)
    assert lines[7] == "builtin agrees True True"


def test_gradients_tutorial_rop_lop_and_hessian_vector():
    lines = output("gradients")
    assert numbers(line_with(lines, "Rop")).tolist() == [2.0, 2.0]
    assert numbers(line_with(lines, "Lop")).tolist() == [0.0, 0.0, 2.0, 2.0]
    assert numbers(line_with(lines, "vH")).tolist() == [4.0, 4.0]
    assert numbers(line_with(lines, "Hv")).tolist() == [4.0, 4.0]
    rng = np.random.RandomState(0)
    W, V, X = rng.randn(3, 2), rng.randn(3, 2), rng.randn(4, 3)
    s = sigmoid(X @ W)
    np.testing.assert_allclose(
        numbers(line_with(lines, "layer Rop")), (s * (1 - s) * (X @ V)).ravel(), rtol=1e-12
    )


# ------------------------------------------------------------------ fibby.py
def test_fibby_op_and_its_optimization():
    lines = output("fibby")
    assert lines == [
        "fibby [1.0, 2.0, 5.0, 14.0, 75.0]",
        "ops ['Fibby']",
        "fibby of zeros [0.0, 0.0, 0.0, 0.0, 0.0]",
        "ops ['DeepCopyOp']",
    ]


# ------------------------------------------------------------------ custom_optimizer.py
def test_custom_local_optimizers_rewrite_and_can_be_excluded():
    lines = output("custom_optimizer")
    values = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(numbers(lines[0]), np.tanh(values), rtol=1e-12, atol=1e-15)
    assert lines[1:4] == ["has tanh False", "has sigmoid True", "excluded: has tanh True"]
    np.testing.assert_allclose(numbers(lines[4]), np.tanh(values), rtol=1e-12, atol=1e-15)
    assert lines[5:] == ["sqr(sqrt(v)) + 1 [1.0, 5.0, 10.0]", "has sqrt False"]


# ------------------------------------------------------------------ nan_debugger.py
def test_wraplinkermany_debugger_finds_the_first_nan():
    lines, _ = run_program("nan_debugger")
    X, Y, w = np.array([[0.5, 0.25], [0.0, 1.0]]), np.array([1.0, 0.0]), np.array([1.0, -1.0])
    p = sigmoid(X @ w)
    loss = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    assert numbers(lines[0])[0] == pytest.approx(loss, rel=1e-12)
    assert numbers(lines[1])[0] >= 10  # every node of the unoptimized graph went through
    assert lines[2:4] == ("nan seen 0", "loss nan")
    # 1 * log(sigmoid(800) = 1) is 0; (1 - 1) * log(1 - 1) = 0 * -inf is the first nan
    assert lines[4].startswith("first nan node ") and lines[4].endswith(" Elemwise{mul,no_inplace}")


def test_monitormode_detect_nan_prints_inputs_and_outputs():
    lines = output("nan_debugger")
    assert lines[5] == "*** NaN detected ***"
    assert lines[-2:] == [
        f"Inputs : [{np.array(0.0)!r}]",
        f"Outputs: [{np.array(np.nan)!r}]",
    ]


def test_monitormode_detect_nan_debugprint_as_in_the_faq():
    lines = output("nan_debugger")  # Theano's line ends with three spaces (no toposort index)
    assert lines[6:8] == ["Elemwise{Composite{(log(i0) * i0)}} [id A] ''   ", " |x [id B]"]


# ------------------------------------------------------------------ random_streams.py
def test_random_streams_draw_seed_and_copy_state_as_theano():
    lines = output("random_streams")
    seedgen = np.random.RandomState(234)
    rng_u = np.random.RandomState(seedgen.randint(2**30))
    rng_n = np.random.RandomState(seedgen.randint(2**30))
    np.testing.assert_allclose(numbers(lines[0]), rng_u.uniform(0, 1, (2, 2)).ravel())
    np.testing.assert_allclose(numbers(lines[1]), rng_u.uniform(0, 1, (2, 2)).ravel())
    np.testing.assert_allclose(numbers(lines[2]), rng_n.normal(0, 1, (2, 2)).ravel())
    assert lines[3:5] == ["g same True", "nearly_zeros True"]
    reseeded = np.random.RandomState(89234).uniform(0, 1, (2, 2))
    np.testing.assert_allclose(numbers(lines[5]), reseeded.ravel())
    seedgen = np.random.RandomState(902340)
    u = np.random.RandomState(seedgen.randint(2**30)).uniform(0, 1, (2, 2))
    n = np.random.RandomState(seedgen.randint(2**30)).normal(0, 1, (2, 2))
    np.testing.assert_allclose(numbers(lines[6]), np.concatenate([u.ravel(), n.ravel()]))
    assert lines[7] == "v2 != v1 True v3 == v1 True"
    # the numbers printed in Theano's tutorial
    np.testing.assert_allclose(numbers(lines[8]), [0.72803009, 0.55056769], atol=1e-8)
    np.testing.assert_allclose(numbers(lines[9]), [0.59044123, 0.59044123], atol=1e-8)
    assert lines[10:13] == [
        "mrg reproducible True",
        "mrg range True mean 0.49",
        "mrg advances True",
    ]
    assert lines[13] == "mrg normal mean 2.0 std 0.5"
    assert abs(numbers(lines[14])[0] - 0.25) < 0.03


# ------------------------------------------------------------------ tutorial_idioms.py
def test_tutorial_idioms():
    lines = output("tutorial_idioms")
    assert lines[:5] == [
        "names ['x', 'y', 'z']",
        "pprint (x + (y * z))",
        "defaults 5.0 11.0 23.0 13.0",
        "is a Function True",
        "tuple default 20.0 6.0",
    ]
    assert lines[5:9] == [
        "accumulator 0 10",
        "after copy new_state 100 state 10",
        "null [array(10)] 10",
        "givens 7 10",
    ]
    rng_x, rng_y = np.random.RandomState(0), np.random.RandomState(1)
    X, Y = rng_x.randn(40, 5), rng_y.randint(size=40, low=0, high=2)
    w, b = np.zeros(5), 0.0
    for _ in range(5):
        d = (sigmoid(X @ w + b) - Y) / 40
        w, b = w - 0.1 * (X.T @ d + 0.02 * w), b - 0.1 * d.sum()
    np.testing.assert_allclose(numbers(lines[9]), [*w, b], rtol=1e-10)
    assert lines[10] == "FAST_COMPILE: dimension mismatch raised"
