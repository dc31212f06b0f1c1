"""A tanh RNN through scan (forward + gradient) and scan's per-step overhead: labsym vs NumPy.

`python -m benchmarks.rnn`; PyTensor (CVM and default mode) and JAX rows appear when installed.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable

import numpy as np

from benchmarks.timing import Timing, interleaved

STEPS, BATCH, INPUT, HIDDEN = 100, 32, 64, 128
TRIVIAL_STEPS = 1000


def make_data(seed: int = 0, steps: int = STEPS, batch: int = BATCH) -> list[np.ndarray]:
    """(x, w, u, b, h0) in float32, scaled so the hidden units stay off saturation."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(steps, batch, INPUT)).astype("float32")
    w = (rng.normal(size=(INPUT, HIDDEN)) / np.sqrt(INPUT)).astype("float32")
    u = (rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype("float32")
    b = np.zeros(HIDDEN, dtype="float32")
    h0 = np.zeros((batch, HIDDEN), dtype="float32")
    return [x, w, u, b, h0]


# ---------------------------------------------------------------- hand-written NumPy
def numpy_rnn(x, w, u, b, h0) -> list[np.ndarray]:
    """cost = mean(h ** 2) over all steps, and its gradients wrt w, u, b (forward + BPTT)."""
    steps, batch, _ = x.shape
    pre = (x.reshape(steps * batch, -1) @ w).reshape(steps, batch, -1) + b
    hs = np.empty_like(pre)
    h = h0
    for t in range(steps):
        h = np.tanh(pre[t] + h @ u)
        hs[t] = h
    cost = np.mean(hs**2)
    dhs = hs * np.float32(2.0 / hs.size)
    da = np.empty_like(hs)
    carry = np.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        da[t] = (dhs[t] + carry) * (1 - hs[t] ** 2)
        carry = da[t] @ u.T
    flat_da = da.reshape(steps * batch, -1)
    previous = np.concatenate([h0[None], hs[:-1]]).reshape(steps * batch, -1)
    gw = x.reshape(steps * batch, -1).T @ flat_da
    gu = previous.T @ flat_da
    return [np.asarray(cost, dtype="float32"), gw, gu, da.sum(axis=(0, 1))]


# ---------------------------------------------------------------- symbolic libraries
def _rnn_graph(T, scan, grad):
    x, h0 = T.tensor3("x", dtype="float32"), T.matrix("h0", dtype="float32")
    w, u = T.matrix("w", dtype="float32"), T.matrix("u", dtype="float32")
    b = T.vector("b", dtype="float32")

    def step(x_t, h, w_, u_, b_):
        return T.tanh(T.dot(x_t, w_) + T.dot(h, u_) + b_)

    hs = scan(step, sequences=x, outputs_info=h0, non_sequences=[w, u, b], return_updates=False)
    cost = (hs**2).mean()
    return [x, w, u, b, h0], [cost, *grad(cost, [w, u, b])]


def labsym_rnn(data: list, mode: str | None = None) -> Callable[[], list]:
    import labsym
    import labsym.tensor as T

    inputs, outputs = _rnn_graph(T, labsym.scan, labsym.grad)
    f = labsym.function(inputs, outputs, mode=mode)
    return lambda: f(*data)


def pytensor_rnn(data: list, mode: str) -> Callable[[], list] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    inputs, outputs = _rnn_graph(pt, pytensor.scan, pytensor.grad)
    f = pytensor.function(inputs, outputs, mode=mode)
    return lambda: f(*data)


def jax_rnn(data: list) -> Callable[[], list] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None

    def cost(w, u, b, x, h0):
        def step(h, x_t):
            h = jnp.tanh(x_t @ w + h @ u + b)
            return h, h

        return jnp.mean(jax.lax.scan(step, h0, x)[1] ** 2)

    f = jax.jit(jax.value_and_grad(cost, argnums=(0, 1, 2)))
    x, w, u, b, h0 = (jnp.asarray(a) for a in data)

    def run() -> list:
        value, grads = f(w, u, b, x, h0)
        jax.block_until_ready(grads)
        return [value, *grads]

    return run


# ---------------------------------------------------------------- per-step overhead
def _counter_graph(T, scan, steps: int):
    h0 = T.scalar("h0", dtype="float64")
    hs = scan(lambda h: h + 1, outputs_info=h0, n_steps=steps, return_updates=False)
    return [h0], hs[-1]


def labsym_counter(steps: int = TRIVIAL_STEPS) -> Callable[[], object]:
    import labsym
    import labsym.tensor as T

    inputs, output = _counter_graph(T, labsym.scan, steps)
    f = labsym.function(inputs, output)
    start = np.asarray(0.0)
    return lambda: f(start)


def pytensor_counter(mode: str, steps: int = TRIVIAL_STEPS) -> Callable[[], object] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    inputs, output = _counter_graph(pt, pytensor.scan, steps)
    f = pytensor.function(inputs, output, mode=mode)
    start = np.asarray(0.0)
    return lambda: f(start)


def jax_counter(steps: int = TRIVIAL_STEPS) -> Callable[[], object] | None:
    try:
        import jax
    except ImportError:
        return None
    f = jax.jit(lambda h0: jax.lax.fori_loop(0, steps, lambda i, h: h + 1, h0))
    return lambda: f(0.0).block_until_ready()


# ---------------------------------------------------------------- report
def max_relative_error(got: list, want: list) -> float:
    """Largest |got - want| / (|want| max) over the outputs: the cross-check of a candidate."""
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g, dtype="float64"), np.asarray(w, dtype="float64")
        worst = max(worst, float(np.max(np.abs(g - w)) / max(np.max(np.abs(w)), 1e-30)))
    return worst


def _print_rows(rows: list[Timing], per: int = 1, unit: str = "") -> None:
    baseline = rows[0]
    for timing in rows:
        extra = f"  ({timing.median / per * 1e6:7.2f} us {unit})" if per > 1 else ""
        print(timing.row(baseline) + extra)


def main(rounds: int = 3) -> None:
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    data = make_data()
    candidates = [
        ("numpy hand-written BPTT", lambda: numpy_rnn(*data)),
        ("labsym FAST_RUN", labsym_rnn(data)),
        ("pytensor CVM", pytensor_rnn(data, "CVM")),
        ("pytensor default", pytensor_rnn(data, "FAST_RUN")),
        ("jax jit (lax.scan)", jax_rnn(data)),
    ]
    candidates = [(label, fn) for label, fn in candidates if fn is not None]
    want = candidates[0][1]()
    print(
        f"\ntanh RNN via scan, forward + gradient (hidden {HIDDEN}, input {INPUT}, "
        f"{STEPS} steps, batch {BATCH}, float32); ratio = median / NumPy's median"
    )
    for label, fn in candidates[1:]:
        print(f"  cross-check {label}: max relative error {max_relative_error(fn(), want):.1e}")
    _print_rows(interleaved(candidates, rounds, min_time=0.3), STEPS, "per step")
    counters = [
        ("labsym scan", labsym_counter()),
        ("pytensor scan CVM", pytensor_counter("CVM")),
        ("pytensor scan default", pytensor_counter("FAST_RUN")),
        ("jax fori_loop (jit)", jax_counter()),
    ]
    counters = [(label, fn) for label, fn in counters if fn is not None]
    print(f"\nscan per-step overhead: h + 1 over {TRIVIAL_STEPS} steps; ratio = / labsym's")
    _print_rows(interleaved(counters, rounds, min_time=0.3), TRIVIAL_STEPS, "per step")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args().rounds)
