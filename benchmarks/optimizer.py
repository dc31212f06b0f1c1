"""Optimizer time on training graphs and the MLP training step, against PyTensor, NumPy and JAX.

May import benchmarks.cases/timing, labsym, and (when installed) pytensor and jax.
`python -m benchmarks.optimizer` times the rewrites (and compiles) of the logistic-regression
and MLP (784-500-10, tanh, softmax crossentropy, L2, SGD) training graphs; `--mlp` also times
one MLP training step at batch 16 and 128 (float32).
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import cases
from benchmarks.timing import Timing, interleaved

LAYERS, BATCHES = (784, 500, 10), (16, 128)
L2, RATE = 1e-4, 0.01
REWRITE_TARGET = 0.5  # labsym's MLP rewrite time over PyTensor's (CVM) must stay at or below this


# ---------------------------------------------------------------- the training graphs
@dataclass(frozen=True)
class Library:
    """The Theano-style names a graph builder uses, so one builder serves both libraries."""

    T: Any
    shared: Callable[..., Any]
    grad: Callable[..., Any]
    softmax: Callable[[Any], Any]


def labsym_library() -> Library:
    import labsym
    import labsym.tensor as T

    return Library(T, labsym.shared, labsym.grad, T.nnet.softmax)


def pytensor_library() -> Library | None:
    """PyTensor's names, or None when it is not installed."""
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    return Library(pt, pytensor.shared, pytensor.grad, lambda z: pt.special.softmax(z, axis=-1))


def mlp_params(layers: tuple[int, int, int] = LAYERS, seed: int = 0) -> list[np.ndarray]:
    """W1, b1, W2, b2 in float32: Glorot-uniform hidden weights, small output weights."""
    n_in, n_hidden, n_out = layers
    rng = np.random.default_rng(seed)
    bound = np.sqrt(6.0 / (n_in + n_hidden))
    w1 = rng.uniform(-bound, bound, size=(n_in, n_hidden))
    w2 = rng.normal(size=(n_hidden, n_out)) * 0.1 / np.sqrt(n_hidden)
    return [a.astype("float32") for a in (w1, np.zeros(n_hidden), w2, np.zeros(n_out))]


def mlp_data(batch: int, n_in: int = LAYERS[0], n_out: int = LAYERS[2], seed: int = 1):
    """A float32 batch of inputs and int32 class labels."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, n_in)).astype("float32"), rng.integers(
        0, n_out, size=batch
    ).astype("int32")


def mlp_graph(lib: Library, params: list[np.ndarray]):
    """Inputs, [cost] and SGD updates of the tutorial MLP: tanh hidden layer, softmax, NLL + L2."""
    T = lib.T
    x, y = T.fmatrix("x"), T.ivector("y")
    names = ("W1", "b1", "W2", "b2")
    weights = [lib.shared(p.copy(), name=n) for p, n in zip(params, names, strict=True)]
    w1, b1, w2, b2 = weights
    hidden = T.tanh(T.dot(x, w1) + b1)
    p_y = lib.softmax(T.dot(hidden, w2) + b2)
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    cost = nll + np.float32(L2) * ((w1**2).sum() + (w2**2).sum())
    rate = np.float32(RATE)
    updates = [(w, w - rate * g) for w, g in zip(weights, lib.grad(cost, weights), strict=True)]
    return [x, y], [cost], updates


def logistic_graph(lib: Library):
    """The logistic-regression training graph of benchmarks/cases.py."""
    X, y, w0 = cases.logistic_data()
    return cases._logistic_graph(lib.T, lib.shared, lib.grad, X, y, w0)


GRAPHS: dict[str, Callable[[Library], tuple]] = {
    f"logistic regression ({cases.FEATS} features, float64)": logistic_graph,
    "MLP 784-500-10 (tanh, softmax NLL, L2, SGD; float32)": lambda lib: mlp_graph(
        lib, mlp_params()
    ),
}


# ---------------------------------------------------------------- rewrite time
@dataclass
class RewriteCase:
    """A fresh, unrewritten FunctionGraph per call of `make_fgraph`; `rewrite` edits it."""

    label: str
    make_fgraph: Callable[[], Any]
    rewrite: Callable[[Any], Any]


def labsym_rewrite_case(graph: tuple, mode: str = "FAST_RUN") -> RewriteCase:
    """labsym's rewriter on the FunctionGraph core/function.py builds (inputs, then shared)."""
    from labsym.compile import get_mode
    from labsym.core.fgraph import FunctionGraph
    from labsym.core.graph import ancestors
    from labsym.core.shared import SharedVariable

    inputs, outputs, updates = graph
    roots = list(outputs) + [expr for _, expr in updates]
    shared = [v for v in ancestors(roots, inputs) if isinstance(v, SharedVariable)]
    rewriter = get_mode(mode).rewriter
    return RewriteCase(
        f"labsym {mode}", lambda: FunctionGraph(list(inputs) + shared, roots), rewriter
    )


def pytensor_rewrite_case(graph: tuple, mode_name: str) -> RewriteCase:
    """PyTensor's rewriter on the FunctionGraph its FunctionMaker builds (with its features)."""
    from pytensor.compile.io import SymbolicOutput
    from pytensor.compile.maker import FunctionMaker
    from pytensor.compile.mode import get_mode
    from pytensor.compile.rebuild import construct_function_ins_and_outs
    from pytensor.configdefaults import config

    inputs, outputs, updates = graph
    mode = get_mode(mode_name)

    def make_fgraph():  # the steps of pytensor.function before FunctionMaker.prepare_fgraph
        specs, cloned = construct_function_ins_and_outs(inputs, outputs, updates=updates)
        return FunctionMaker.create_fgraph(specs, [SymbolicOutput(o) for o in cloned])[0]

    def rewrite(fgraph):
        # as FunctionMaker.prepare_fgraph runs it (stack traces of new nodes capped)
        with config.change_flags(mode=mode, traceback__limit=config.traceback__compile_limit):
            return mode.optimizer(fgraph)

    label = "pytensor default (numba)" if mode_name == "FAST_RUN" else f"pytensor {mode_name}"
    return RewriteCase(label, make_fgraph, rewrite)


def rewrite_cases(build: Callable[[Library], tuple]) -> list[RewriteCase]:
    """labsym FAST_RUN, then PyTensor CVM and default when installed; each with its own graph."""
    found = [labsym_rewrite_case(build(labsym_library()))]
    lib = pytensor_library()
    if lib is not None:
        found += [pytensor_rewrite_case(build(lib), mode) for mode in ("CVM", "FAST_RUN")]
    return found


def node_counts(case: RewriteCase) -> tuple[int, int]:
    """Apply nodes before and after the rewrite."""
    fgraph = case.make_fgraph()
    before = len(fgraph.apply_nodes)
    case.rewrite(fgraph)
    return before, len(fgraph.apply_nodes)


def _rewrite_samples(case: RewriteCase, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        fgraph = case.make_fgraph()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            case.rewrite(fgraph)
            samples.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return sorted(samples)


def time_rewrites(found: list[RewriteCase], rounds: int = 3, repeats: int = 7) -> list[Timing]:
    """Seconds per rewrite: cases interleaved over rounds; best median and overall min kept."""
    best: dict[str, Timing] = {}
    for _ in range(rounds):
        for case in found:
            samples = _rewrite_samples(case, repeats)
            t = Timing(case.label, samples[len(samples) // 2], samples[0])
            old = best.get(case.label, t)
            best[case.label] = Timing(case.label, min(t.median, old.median), min(t.best, old.best))
    return [best[case.label] for case in found]


# ---------------------------------------------------------------- compile time
def compile_cases(build: Callable[[Library], tuple]) -> list[tuple[str, Callable[[], object]]]:
    """Whole function creation (graph copy, rewrite, linking) for each library and mode."""
    import labsym

    graph = build(labsym_library())
    found = [("labsym FAST_RUN", lambda: labsym.function(graph[0], graph[1], updates=graph[2]))]
    lib = pytensor_library()
    if lib is not None:
        import pytensor

        pt_graph = build(lib)
        for mode, label in (("CVM", "pytensor CVM"), ("FAST_RUN", "pytensor default (numba)")):
            found.append((label, _pytensor_compiler(pytensor, pt_graph, mode)))
    return found


def _pytensor_compiler(pytensor: Any, graph: tuple, mode: str) -> Callable[[], object]:
    return lambda: pytensor.function(graph[0], graph[1], updates=graph[2], mode=mode)


def _print_rows(rows: list[Timing], baseline: Timing) -> None:
    for timing in rows:
        print(timing.row(baseline))


def main(rounds: int = 3, repeats: int = 7) -> None:
    """Print rewrite and compile times of both training graphs (ratio = median / PyTensor CVM's)."""
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("rewrite: a fresh FunctionGraph per repeat, only the rewriter call timed")
    for name, build in GRAPHS.items():
        found = rewrite_cases(build)
        counts = {case.label: node_counts(case) for case in found}
        rows = time_rewrites(found, rounds, repeats)
        baseline = rows[1] if len(rows) > 1 else rows[0]
        print(f"\nrewrite time: {name}; ratio = median / {baseline.label}'s")
        for timing in rows:
            before, after = counts[timing.label]
            print(f"{timing.row(baseline)}  nodes {before} -> {after}")
        if len(rows) > 1 and name.startswith("MLP"):
            ratio = rows[0].median / baseline.median
            verdict = "met" if ratio <= REWRITE_TARGET else "NOT met"
            print(f"  target labsym <= {REWRITE_TARGET}x PyTensor CVM: {ratio:.3f}x, {verdict}")
        compiles = interleaved(compile_cases(build), rounds, min_time=0.0, repeats=5)
        print(f"compile time (function creation, warm caches): {name}")
        _print_rows(compiles, compiles[1] if len(compiles) > 1 else compiles[0])


# ---------------------------------------------------------------- MLP training step
def numpy_mlp_step(x: np.ndarray, y: np.ndarray, params: list[np.ndarray]) -> Callable[[], float]:
    """Forward, hand-written backward and in-place SGD update; returns the step's loss."""
    state = [p.copy() for p in params]
    rows = np.arange(len(y))

    def step() -> float:
        w1, b1, w2, b2 = state
        hidden = np.tanh(x @ w1 + b1)
        logits = hidden @ w2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_sm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_sm[rows, y].mean() + L2 * ((w1 * w1).sum() + (w2 * w2).sum())
        g_logits = np.exp(log_sm)
        g_logits[rows, y] -= 1
        g_logits /= len(y)
        g_hidden = (g_logits @ w2.T) * (1 - hidden * hidden)
        g_w1 = x.T @ g_hidden + 2 * L2 * w1
        g_w2 = hidden.T @ g_logits + 2 * L2 * w2
        grads = [g_w1, g_hidden.sum(0), g_w2, g_logits.sum(0)]
        for p, g in zip(state, grads, strict=True):
            p -= RATE * g
        return float(loss)

    return step


def labsym_mlp_step(x, y, params, mode: str = "FAST_RUN") -> Callable[[], float]:
    import labsym

    inputs, outputs, updates = mlp_graph(labsym_library(), params)
    train = labsym.function(inputs, outputs[0], updates=updates, mode=mode)
    return lambda: float(train(x, y))


def pytensor_mlp_step(x, y, params, mode: str) -> Callable[[], float] | None:
    lib = pytensor_library()
    if lib is None:
        return None
    import pytensor

    inputs, outputs, updates = mlp_graph(lib, params)
    train = pytensor.function(inputs, outputs[0], updates=updates, mode=mode)
    return lambda: float(train(x, y))


def jax_mlp_step(x, y, params) -> Callable[[], float] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None

    def cost(weights, x, y):
        w1, b1, w2, b2 = weights
        log_sm = jax.nn.log_softmax(jnp.tanh(x @ w1 + b1) @ w2 + b2)
        nll = -log_sm[jnp.arange(y.shape[0]), y].mean()
        return nll + L2 * ((w1**2).sum() + (w2**2).sum())

    @jax.jit
    def step(weights, x, y):
        loss, grads = jax.value_and_grad(cost)(weights, x, y)
        return tuple(w - RATE * g for w, g in zip(weights, grads, strict=True)), loss

    state = {"weights": tuple(jnp.asarray(p) for p in params)}
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def run() -> float:
        state["weights"], loss = step(state["weights"], xj, yj)
        return float(loss)

    return run


def mlp_steps(x, y, params) -> list[tuple[str, Callable[[], float]]]:
    """Every available step, checked first: two steps from the same start give the same losses."""
    steps = [
        ("numpy hand-written step", numpy_mlp_step(x, y, params)),
        ("labsym FAST_RUN", labsym_mlp_step(x, y, params)),
        ("pytensor CVM", pytensor_mlp_step(x, y, params, "CVM")),
        ("pytensor default (numba)", pytensor_mlp_step(x, y, params, "FAST_RUN")),
        ("jax jit", jax_mlp_step(x, y, params)),
    ]
    steps = [(label, fn) for label, fn in steps if fn is not None]
    losses = np.array([[fn(), fn()] for _, fn in steps])
    for (label, _), pair in zip(steps, losses, strict=True):
        if not np.allclose(pair, losses[0], rtol=1e-4):
            raise AssertionError(f"MLP step: {label} losses {pair} differ from NumPy's {losses[0]}")
    return steps


def mlp_main(rounds: int = 3, batches: tuple[int, ...] = BATCHES) -> None:
    """Print one MLP SGD step's time per library; ratio = median / hand-written NumPy's."""
    params = mlp_params()
    for batch in batches:
        x, y = mlp_data(batch)
        steps = mlp_steps(x, y, params)
        print(f"\nMLP training step {LAYERS}, batch {batch}, float32 (losses agree)")
        _print_rows(rows := interleaved(steps, rounds, min_time=0.3), rows[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best kept")
    parser.add_argument("--mlp", action="store_true", help="also time the MLP training step")
    args = parser.parse_args()
    main(args.rounds)
    if args.mlp:
        mlp_main(args.rounds)
