"""One LeNet training step (batch 32, float32, 28x28): labsym vs hand-written NumPy (vs PyTensor).

`python -m benchmarks.lenet`; the PyTensor row appears when it is installed.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from benchmarks.timing import interleaved

BATCH, SIDE, KERNEL, CLASSES, LEARNING_RATE = 32, 28, 5, 10, 0.01


@dataclass(frozen=True)
class Net:
    """conv(1->c1) relu pool2, conv(c1->c2) relu pool2, dense(->hidden) relu, dense(->10)."""

    name: str
    c1: int
    c2: int
    hidden: int

    @property
    def flat(self) -> int:
        side = ((SIDE - KERNEL + 1) // 2 - KERNEL + 1) // 2
        return self.c2 * side * side


NETS = [
    Net("small LeNet (4, 8 maps, hidden 32)", 4, 8, 32),
    Net("tutorial LeNet (20, 50, 500)", 20, 50, 500),
]


def make_data(net: Net, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(BATCH, 1, SIDE, SIDE)).astype("float32")
    labels = rng.integers(0, CLASSES, size=BATCH).astype("int32")
    shapes = [(net.c1, 1, KERNEL, KERNEL), (net.c2, net.c1, KERNEL, KERNEL), (net.flat, net.hidden)]
    shapes += [(net.hidden,), (net.hidden, CLASSES), (CLASSES,)]
    # He scales for the relu layers, a small output layer, zero biases
    scales = [np.sqrt(2.0 / KERNEL**2), np.sqrt(2.0 / (net.c1 * KERNEL**2))]
    scales += [np.sqrt(2.0 / net.flat), 0.0, 0.1 / np.sqrt(net.hidden), 0.0]
    params = [
        (rng.normal(size=s) * scale).astype("float32")
        for s, scale in zip(shapes, scales, strict=True)
    ]
    return images, labels, params


# ---------------------------------------------------------------- hand-written NumPy
def _columns(x: np.ndarray) -> np.ndarray:
    """im2col of a valid KERNEL x KERNEL convolution: (N, C*k*k, oh*ow)."""
    n, c, h, w = x.shape
    oh, ow = h - KERNEL + 1, w - KERNEL + 1
    s0, s1, s2, s3 = x.strides
    view = as_strided(x, (n, c, KERNEL, KERNEL, oh, ow), (s0, s1, s2, s3, s2, s3), writeable=False)
    return view.reshape(n, c * KERNEL * KERNEL, oh * ow)


def _col2im(cols: np.ndarray, shape: tuple) -> np.ndarray:
    n, c, h, w = shape
    oh, ow = h - KERNEL + 1, w - KERNEL + 1
    cols = cols.reshape(n, c, KERNEL, KERNEL, oh, ow)
    out = np.zeros(shape, dtype=cols.dtype)
    for i in range(KERNEL):
        for j in range(KERNEL):
            out[:, :, i : i + oh, j : j + ow] += cols[:, :, i, j]
    return out


_QUADRANTS = [
    (slice(None), slice(None), slice(i, None, 2), slice(j, None, 2)) for i in (0, 1) for j in (0, 1)
]


def _conv_layer(x: np.ndarray, w: np.ndarray):
    """relu(conv(x, w)) then 2x2 max pooling; returns the output and what backprop needs."""
    cols = _columns(x)
    flipped = w[:, :, ::-1, ::-1].reshape(w.shape[0], -1)  # conv2d flips its kernels
    side = x.shape[2] - KERNEL + 1
    act = np.maximum(np.matmul(flipped, cols).reshape(x.shape[0], w.shape[0], side, side), 0)
    pooled = act[_QUADRANTS[0]].copy()
    for quadrant in _QUADRANTS[1:]:  # strided maxima beat a reduce over reshaped axes
        np.maximum(pooled, act[quadrant], out=pooled)
    return pooled, (x.shape, cols, flipped, act, pooled)


def _conv_layer_grad(g_pooled: np.ndarray, saved, need_input: bool):
    shape, cols, flipped, act, pooled = saved
    g_act = np.zeros_like(act)
    for quadrant in _QUADRANTS:
        g_act[quadrant] = np.where(act[quadrant] == pooled, g_pooled, 0)
    g_act *= act > 0
    g_flat = g_act.reshape(g_act.shape[0], g_act.shape[1], -1)
    g_w = np.matmul(g_flat, cols.transpose(0, 2, 1)).sum(axis=0)
    g_w = g_w.reshape(flipped.shape[0], shape[1], KERNEL, KERNEL)[:, :, ::-1, ::-1]
    g_x = _col2im(np.matmul(flipped.T, g_flat), shape) if need_input else None
    return g_w, g_x


def numpy_step(images: np.ndarray, labels: np.ndarray, params: list) -> Callable[[], float]:
    """A hand-written forward, backward and SGD update, the best NumPy we can write."""
    state = [p.copy() for p in params]
    rows = np.arange(BATCH)

    def step() -> float:
        w1, w2, w3, b3, w4, b4 = state
        p1, saved1 = _conv_layer(images, w1)
        p2, saved2 = _conv_layer(p1, w2)
        flat = p2.reshape(BATCH, -1)
        hidden = np.maximum(flat @ w3 + b3, 0)
        logits = hidden @ w4 + b4
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_sm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_sm[rows, labels].mean()
        g_logits = np.exp(log_sm)
        g_logits[rows, labels] -= 1
        g_logits /= BATCH
        g_hidden = (g_logits @ w4.T) * (hidden > 0)
        g_flat = g_hidden @ w3.T
        g_w2, g_p1 = _conv_layer_grad(g_flat.reshape(p2.shape), saved2, need_input=True)
        g_w1, _ = _conv_layer_grad(g_p1, saved1, need_input=False)
        grads = [
            g_w1,
            g_w2,
            flat.T @ g_hidden,
            g_hidden.sum(0),
            hidden.T @ g_logits,
            g_logits.sum(0),
        ]
        for p, g in zip(state, grads, strict=True):
            p -= LEARNING_RATE * g
        return float(loss)

    return step


# ---------------------------------------------------------------- symbolic libraries
def _build_graph(T, conv2d, pool, shared, grad, net: Net, params: list):
    x = T.tensor4("x", dtype="float32")
    y = T.ivector("y")
    w1, w2, w3, b3, w4, b4 = (shared(p.copy()) for p in params)
    shape_x = (BATCH, 1, SIDE, SIDE)
    h1 = pool(T.maximum(conv2d(x, w1, input_shape=shape_x, filter_shape=params[0].shape), 0))
    h2 = pool(T.maximum(conv2d(h1, w2, filter_shape=params[1].shape), 0))
    hidden = T.maximum(T.dot(h2.reshape((BATCH, net.flat)), w3) + b3, 0)
    logits = T.dot(hidden, w4) + b4
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sm = shifted - T.log(T.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_sm[T.arange(BATCH), y].mean()
    weights = [w1, w2, w3, b3, w4, b4]
    rate = np.float32(LEARNING_RATE)
    updates = [(p, p - rate * g) for p, g in zip(weights, grad(loss, weights), strict=True)]
    return [x, y], loss, updates


def labsym_step(images, labels, params, net: Net) -> Callable[[], float]:
    import labsym
    import labsym.tensor as T
    from labsym.core.ops.conv import conv2d
    from labsym.core.ops.pool import pool_2d

    def pool(h):
        return pool_2d(h, (2, 2))

    graph = _build_graph(T, conv2d, pool, labsym.shared, labsym.grad, net, params)
    train = labsym.function(graph[0], graph[1], updates=graph[2])
    return lambda: float(train(images, labels))


def pytensor_step(images, labels, params, net: Net) -> Callable[[], float] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.tensor.conv import conv2d
    except ImportError:
        return None
    try:
        from pytensor.tensor.signal.pool import pool_2d

        def pool(h):
            return pool_2d(h, (2, 2), ignore_border=True)
    except ImportError:  # newer PyTensor dropped signal.pool

        def pool(h):
            maps, side = h.type.shape[1], h.type.shape[-1]
            return h.reshape((BATCH, maps, side // 2, 2, side // 2, 2)).max(axis=(3, 5))

    graph = _build_graph(pt, conv2d, pool, pytensor.shared, pytensor.grad, net, params)
    train = pytensor.function(graph[0], graph[1], updates=graph[2])
    return lambda: float(train(images, labels))


def main(rounds: int = 3) -> None:
    """Time one training step of each net; checks the libraries agree on the losses first."""
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("one SGD step (forward, backward, update) per call; ratio = median / NumPy's median")
    for net in NETS:
        images, labels, params = make_data(net)
        steps = [
            ("numpy hand-written step", numpy_step(images, labels, params)),
            ("labsym FAST_RUN", labsym_step(images, labels, params, net)),
            ("pytensor default", pytensor_step(images, labels, params, net)),
        ]
        steps = [(label, fn) for label, fn in steps if fn is not None]
        # the same data and start: the same losses over two steps (so the same gradients)
        losses = np.array([[fn(), fn()] for _, fn in steps])
        if not np.allclose(losses, losses[0], rtol=1e-3):
            raise AssertionError(f"{net.name}: the libraries' losses disagree: {losses}")
        print(
            f"\n{net.name}: batch {BATCH}, float32, losses {losses[0, 0]:.4f}, {losses[0, 1]:.4f}"
        )
        rows = interleaved(steps, rounds, min_time=0.3)
        for timing in rows:
            print(timing.row(rows[0]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the best is kept"
    )
    main(parser.parse_args().rounds)
