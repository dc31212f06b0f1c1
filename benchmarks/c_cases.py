"""Case builders for the C-backend benchmarks (issue 9's Targets): each returns a zero-argument
callable doing one call/step, or None when its library is missing.

labsym runs under an explicit linker: `labsym_mode('py')` is the NumPy engine, `'c|py'` the C
linker (every node with a C kernel native, the rest NumPy). The MLP, RNN and logistic builders
of benchmarks/optimizer.py, rnn.py and cases.py are reused with these modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Step = Callable[[], Any]


# ---------------------------------------------------------------- labsym modes
def labsym_mode(linker: str) -> Any:
    """labsym's FAST_RUN rewrites with `linker`; raises when the linker cannot run here."""
    from labsym.compile import Mode

    return Mode(linker=linker, optimizer="fast_run")


def c_unavailable_reason() -> str | None:
    """Why labsym's C linker cannot be used here (None when it can)."""
    try:
        labsym_mode("c|py")
    except Exception as err:  # unknown name, no compiler, linker not built yet: all reported
        return f"{type(err).__name__}: {err}"
    return None


def c_coverage(fn: Any) -> str:
    """'k/n nodes' of a compiled labsym function's graph that have a C kernel."""
    from labsym.backends.c.kernel import kernel_for

    nodes = fn.maker.fgraph.toposort()
    covered = []
    for node in nodes:
        try:
            covered.append(kernel_for(node) is not None)
        except Exception:  # a renderer that fails counts as no kernel
            covered.append(False)
    missing = sorted({type(n.op).__name__ for n, ok in zip(nodes, covered) if not ok})
    rest = f" (NumPy: {', '.join(missing)})" if missing else ""
    return f"{sum(covered)}/{len(nodes)} nodes with C kernels{rest}"


# ---------------------------------------------------------------- fused elementwise
def fused_numpy(x, y, z) -> np.ndarray:
    """exp(-x**2)*sin(y) + log1p(abs(z)) / (1 + x*x), written as NumPy expressions."""
    return np.exp(-(x**2)) * np.sin(y) + np.log1p(np.abs(z)) / (1 + x * x)


def _fused_graph(T, dtype: str):
    a, b, c = (T.vector(n, dtype=dtype) for n in "abc")
    return [a, b, c], T.exp(-(a**2)) * T.sin(b) + T.log1p(abs(c)) / (1 + a * a)


def fused_labsym(x, y, z, linker: str) -> tuple[Step, Any]:
    import labsym
    import labsym.tensor as T

    inputs, out = _fused_graph(T, x.dtype.name)
    f = labsym.function(inputs, out, mode=labsym_mode(linker))
    return (lambda: f(x, y, z)), f


def fused_pytensor(x, y, z) -> Step | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    inputs, out = _fused_graph(pt, x.dtype.name)
    f = pytensor.function(inputs, out, mode="CVM")
    return lambda: f(x, y, z)


def fused_jax(x, y, z) -> Step | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    f = jax.jit(lambda a, b, c: jnp.exp(-(a**2)) * jnp.sin(b) + jnp.log1p(jnp.abs(c)) / (1 + a * a))
    xj, yj, zj = (jax.device_put(v) for v in (x, y, z))
    return lambda: f(xj, yj, zj).block_until_ready()


# ---------------------------------------------------------------- logistic regression floor
def logistic_floor(X, y, w0) -> Step:
    """The step's two GEMVs alone (X @ w, X.T @ dp) with NumPy: the floor of the target."""
    dp = np.asarray(y) - 0.5

    def step():
        return X @ w0, X.T @ dp

    return step


# ---------------------------------------------------------------- hessian of a 100-vector function
HESS_N = 100


def hessian_data(n: int = HESS_N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)


def hessian_numpy(w, x) -> Step:
    """The Hessian of sum(tanh(w @ x)) by hand: w.T diag(-2 t (1 - t^2)) w, t = tanh(w @ x)."""

    def step():
        t = np.tanh(w @ x)
        return (w.T * (-2 * t * (1 - t * t))) @ w

    return step


def hessian_labsym(w, x, linker: str) -> tuple[Step, Any]:
    import labsym
    import labsym.tensor as T
    from labsym.gradient import hessian

    wv, xv = T.dmatrix("w"), T.dvector("x")
    f = labsym.function(
        [wv, xv], hessian(T.tanh(T.dot(wv, xv)).sum(), xv), mode=labsym_mode(linker)
    )
    return (lambda: f(w, x)), f


def hessian_pytensor(w, x) -> Step | None:
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.gradient import hessian
    except ImportError:
        return None
    wv, xv = pt.dmatrix("w"), pt.dvector("x")
    f = pytensor.function([wv, xv], hessian(pt.tanh(pt.dot(wv, xv)).sum(), xv), mode="CVM")
    return lambda: f(w, x)


def hessian_jax(w, x) -> Step | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    f = jax.jit(jax.hessian(lambda v, m: jnp.tanh(m @ v).sum()))
    wj, xj = jnp.asarray(w), jnp.asarray(x)
    return lambda: f(xj, wj).block_until_ready()


# ---------------------------------------------------------------- call overhead
def call_inputs() -> dict[str, tuple[Any, Any, str]]:
    """Input kind -> (a, b, labsym/pytensor type: 'scalar' or 'vector')."""
    return {
        "np.float64": (np.float64(1.5), np.float64(2.5), "scalar"),
        "0-d array": (np.asarray(1.5), np.asarray(2.5), "scalar"),
        "Python float": (1.5, 2.5, "scalar"),
        "vec10": (np.arange(10.0), np.ones(10), "vector"),
    }


def add_labsym(a, b, kind: str, linker: str, trust: bool = False) -> tuple[Step, Any]:
    import labsym
    import labsym.tensor as T

    make = T.dscalar if kind == "scalar" else T.dvector
    x, y = make("a"), make("b")
    f = labsym.function([x, y], x + y, mode=labsym_mode(linker))
    if trust:
        f.trust_input = True
        a, b = np.asarray(a), np.asarray(b)
    return (lambda: f(a, b)), f


def add_pytensor(a, b, kind: str, trust: bool = False) -> Step | None:
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    make = pt.dscalar if kind == "scalar" else pt.dvector
    x, y = make("a"), make("b")
    f = pytensor.function([x, y], x + y, mode="CVM")
    f.trust_input = trust
    if trust:
        a, b = np.asarray(a), np.asarray(b)
    return lambda: f(a, b)


def add_jax(a, b) -> Step | None:
    try:
        import jax
    except ImportError:
        return None
    f = jax.jit(lambda p, q: p + q)
    return lambda: f(a, b).block_until_ready()


# ---------------------------------------------------------------- view / indexing / join kernels
def shape_cases(rng: np.random.Generator, rows: int = 50_000) -> dict[str, tuple]:
    """The view, indexing and join cases: C kernels against the NumPy engine and NumPy."""
    w = rng.standard_normal((rows, 128)).astype("float32")
    g = rng.standard_normal((1000, 128)).astype("float32")
    idx = rng.integers(0, rows, 1000)
    x = rng.standard_normal((500, 100))
    labels = rng.integers(0, 100, 500).astype("int32")

    def scatter(a, b, i):
        out = a.copy()
        np.add.at(out, i, b)
        return out

    def set_row(a, i):
        out = a.copy()
        out[i] = 0.0
        return out

    # name -> (input types, the expression over labsym.tensor, inputs, hand-written NumPy)
    return {
        "embedding gather W[idx] (1000 of 50000 rows, f32)": (
            ("fmatrix", "lvector"),
            lambda T, W, i: W[i],
            (w, idx),
            lambda a, i: a[i],
        ),
        "embedding grad inc_subtensor(W[idx], G)": (
            ("fmatrix", "fmatrix", "lvector"),
            lambda T, W, G, i: T.inc_subtensor(W[i], G),
            (w, g, idx),
            scatter,
        ),
        "NLL pick x[arange(n), y] (500x100)": (
            ("dmatrix", "ivector"),
            lambda T, X, y: X[T.arange(X.shape[0]), y],
            (x, labels),
            lambda a, y: a[np.arange(a.shape[0]), y],
        ),
        "concatenate axis 1 (2 x 500x100)": (
            ("dmatrix",),
            lambda T, X: T.concatenate([X, X[::-1]], axis=1),
            (x,),
            lambda a: np.concatenate([a, a[::-1]], axis=1),
        ),
        "set_subtensor(x[i], 0) (500x100)": (
            ("dmatrix", "lscalar"),
            lambda T, X, i: T.set_subtensor(X[i], 0.0),
            (x, 7),
            set_row,
        ),
        "views x[1:, ::-1].T.reshape(-1)[::3]": (
            ("dmatrix",),
            lambda T, X: X[1:, ::-1].T.reshape((-1,))[::3],
            (x,),
            lambda a: a[1:, ::-1].T.reshape(-1)[::3],
        ),
    }


def shape_labsym(types, expression, inputs, linker: str) -> tuple[Step, Any]:
    """One call of labsym.function(variables of `types`, expression(T, *variables))."""
    import labsym
    import labsym.tensor as T

    variables = [getattr(T, t)() for t in types]
    f = labsym.function(variables, expression(T, *variables), mode=labsym_mode(linker))
    return (lambda: f(*inputs)), f
