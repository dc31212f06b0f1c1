"""The benchmark cases of the foundation issue, built for each library that is installed.

Each builder returns a zero-argument callable doing one call/step, or None when the library
is missing. Hand-written NumPy is the baseline.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

N, FEATS = 400, 784


def logistic_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((N, FEATS)),
        rng.integers(0, 2, size=N).astype("float64"),
        rng.standard_normal(FEATS),
    )


# ---------------------------------------------------------------- call overhead
def add_numpy(a, b) -> Callable[[], object]:
    return lambda: a + b


def add_labsym(a, b) -> Callable[[], object]:
    import labsym
    import labsym.tensor as T

    x = T.tensor("float64", shape=(None,) * a.ndim)
    y = T.tensor("float64", shape=(None,) * a.ndim)
    f = labsym.function([x, y], x + y)
    return lambda: f(a, b)


def add_pytensor(a, b, mode: str) -> Callable[[], object] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    x = pt.tensor("x", dtype="float64", shape=(None,) * a.ndim)
    y = pt.tensor("y", dtype="float64", shape=(None,) * a.ndim)
    f = pytensor.function([x, y], x + y, mode=mode)
    f.trust_input = False
    return lambda: f(a, b)


def add_jax(a, b) -> Callable[[], object] | None:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda x, y: x + y)
    return lambda: f(a, b).block_until_ready()


# ---------------------------------------------------------------- logistic regression step
def logistic_numpy(X, y, w0) -> Callable[[], object]:
    state = {"w": w0.copy(), "b": 0.0}

    def step():
        w, b = state["w"], state["b"]
        p = 1.0 / (1.0 + np.exp(-(X @ w) - b))
        prediction = p > 0.5
        xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        dp = (p - y) / len(y)  # d mean(xent) / d logit
        gw = X.T @ dp + 0.02 * w
        gb = dp.sum()
        state["w"] = w - 0.1 * gw
        state["b"] = b - 0.1 * gb
        return prediction, xent

    return step


def _logistic_graph(T, shared, grad, X, y, w0):
    x = T.dmatrix("x")
    yv = T.dvector("y")
    w = shared(w0.copy(), name="w")
    b = shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -yv * T.log(p_1) - (1 - yv) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = grad(cost, [w, b])
    return [x, yv], [prediction, xent], [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]


def logistic_labsym(X, y, w0, mode=None) -> Callable[[], object]:
    import labsym
    import labsym.tensor as T

    inputs, outputs, updates = _logistic_graph(T, labsym.shared, labsym.grad, X, y, w0)
    train = labsym.function(inputs, outputs, updates=updates, mode=mode)
    return lambda: train(X, y)


def logistic_pytensor(X, y, w0, mode: str) -> Callable[[], object] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    inputs, outputs, updates = _logistic_graph(pt, pytensor.shared, pytensor.grad, X, y, w0)
    train = pytensor.function(inputs, outputs, updates=updates, mode=mode)
    return lambda: train(X, y)


def logistic_jax(X, y, w0) -> Callable[[], object] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def cost(params, X, y):
        w, b = params
        p = 1 / (1 + jnp.exp(-X @ w - b))
        xent = -y * jnp.log(p) - (1 - y) * jnp.log(1 - p)
        return xent.mean() + 0.01 * (w**2).sum(), (p > 0.5, xent)

    @jax.jit
    def step(params, X, y):
        (_, aux), grads = jax.value_and_grad(cost, has_aux=True)(params, X, y)
        new = tuple(p - 0.1 * g for p, g in zip(params, grads))
        return new, aux

    state = {"params": (jnp.asarray(w0), jnp.asarray(0.0))}
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def run():
        state["params"], aux = step(state["params"], Xj, yj)
        aux[1].block_until_ready()

    return run
