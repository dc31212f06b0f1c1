"""Run the benchmarks and print per-call times with ratios to hand-written NumPy.

`python -m benchmarks.run` (PyTensor and JAX columns appear when installed, e.g. in the
venv made by benchmarks/setup_compare_env.sh).
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

from benchmarks import cases
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
        _section(f"call overhead: {label}", interleaved([c for c in candidates if c[1] is not None], rounds))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best is kept")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("times per call: median and min of 7 repeats; ratio = median / first row's median")
    call_overhead(args.rounds)
    logistic_step(args.rounds)


if __name__ == "__main__":
    main()
