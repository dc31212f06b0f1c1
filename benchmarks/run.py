"""Run the benchmarks and print per-call times with ratios to hand-written NumPy (or PyTensor).

`python -m benchmarks.run [--only SECTION ...] [--rounds N]` (PyTensor and JAX columns appear
when installed, e.g. in the venv made by benchmarks/make_venv.sh).
"""

from __future__ import annotations

import argparse
import importlib
import platform
from collections.abc import Callable

import numpy as np

from benchmarks import cases, fusion, lenet, optimizer, viz
from benchmarks.timing import interleaved


def _section(title: str, rows: list) -> None:
    print(f"\n{title}")
    baseline = rows[0]
    for timing in rows:
        print(timing.row(baseline))


def call_overhead(rounds: int) -> None:
    for label, a, b in (
        ("scalar add (0-d float64)", np.asarray(1.5), np.asarray(2.5)),
        ("vector add (length 10)", np.arange(10.0), np.ones(10)),
    ):
        candidates = [
            ("numpy x + y", cases.add_numpy(a, b)),
            ("labsym function", cases.add_labsym(a, b)),
            ("pytensor CVM", cases.add_pytensor(a, b, "CVM")),
            ("pytensor default (numba)", cases.add_pytensor(a, b, "FAST_RUN")),
            ("jax jit", cases.add_jax(a, b)),
        ]
        _section(
            f"call overhead: {label}",
            interleaved([c for c in candidates if c[1] is not None], rounds),
        )


def logistic_step(rounds: int) -> None:
    X, y, w0 = cases.logistic_data()
    candidates = [
        ("numpy hand-written step", cases.logistic_numpy(X, y, w0)),
        ("labsym FAST_RUN", cases.logistic_labsym(X, y, w0)),
        ("labsym FAST_COMPILE", cases.logistic_labsym(X, y, w0, mode="FAST_COMPILE")),
        ("pytensor CVM", cases.logistic_pytensor(X, y, w0, "CVM")),
        ("jax jit", cases.logistic_jax(X, y, w0)),
    ]
    _section(
        f"logistic regression step (N={cases.N}, {cases.FEATS} features, float64)",
        interleaved([c for c in candidates if c[1] is not None], rounds, min_time=0.3),
    )


def lenet_steps(rounds: int) -> None:
    lenet.main(rounds)


def rnn_steps(rounds: int) -> None:
    """benchmarks/rnn.py's benchmark, or a note when that module does not exist (yet)."""
    try:
        rnn = importlib.import_module("benchmarks.rnn")
    except ModuleNotFoundError as err:
        if err.name != "benchmarks.rnn":
            raise
        print("\nrnn: skipped (benchmarks/rnn.py is missing)")
        return
    rnn.main(rounds)


SECTIONS: dict[str, Callable[[int], None]] = {
    "calls": call_overhead,
    "logistic": logistic_step,
    "fusion": lambda rounds: fusion.main(rounds),
    "optimizer": lambda rounds: optimizer.main(rounds),
    "mlp": lambda rounds: optimizer.mlp_main(rounds),
    "lenet": lenet_steps,
    "rnn": rnn_steps,
    "viz": lambda rounds: viz.main(rounds),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the best is kept"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*SECTIONS, "all"],
        default=["all"],
        help="the sections to run (default: all, in this order)",
    )
    return parser.parse_args(argv)


def selected(only: list[str]) -> list[str]:
    """Section names to run, in the order of SECTIONS."""
    return list(SECTIONS) if "all" in only else [name for name in SECTIONS if name in only]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("times per call: median and min of 7 repeats; ratio = median / first row's median")
    for name in selected(args.only):
        SECTIONS[name](args.rounds)


if __name__ == "__main__":
    main()
