"""Fused elementwise evaluation: `exp(-x**2) * sin(y) + log1p(abs(z))` on 1e6 and 1e7 float64.

`python -m benchmarks.fusion` prints median/min per call and ratios to hand-written NumPy for
labsym FAST_RUN (one Composite node), labsym without fusion, and PyTensor when installed.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable

import numpy as np

from benchmarks.timing import Timing, interleaved

SIZES = (10**6, 10**7)


def numpy_expression(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The hand-written baseline: NumPy allocates a temporary per operation (some are elided)."""
    return np.exp(-(x**2)) * np.sin(y) + np.log1p(np.abs(z))


def labsym_case(x, y, z, fusion: bool) -> Callable[[], object]:
    """One call of the compiled labsym function, with or without the fusion phase."""
    import labsym
    import labsym.tensor as T
    from labsym.compile import get_mode

    a, b, c = T.dvectors("a", "b", "c")
    mode = get_mode("FAST_RUN") if fusion else get_mode("FAST_RUN").excluding("fusion")
    f = labsym.function([a, b, c], T.exp(-(a**2)) * T.sin(b) + T.log1p(abs(c)), mode=mode)
    n_nodes = len(f.maker.fgraph.apply_nodes)
    if fusion and n_nodes != 1:
        raise AssertionError(f"fusion left {n_nodes} nodes: {f.maker.fgraph}")
    return lambda: f(x, y, z)


def pytensor_case(x, y, z, mode: str) -> Callable[[], object] | None:
    """One call of the PyTensor function in `mode`, or None when PyTensor is not installed."""
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return None
    a, b, c = pt.dvectors("a", "b", "c")
    f = pytensor.function([a, b, c], pt.exp(-(a**2)) * pt.sin(b) + pt.log1p(abs(c)), mode=mode)
    return lambda: f(x, y, z)


def candidates(x, y, z) -> list[tuple[str, Callable[[], object]]]:
    """Every available case, each checked against NumPy before it is timed."""
    cases = [
        ("numpy hand-written", lambda: numpy_expression(x, y, z)),
        ("labsym FAST_RUN (fused)", labsym_case(x, y, z, fusion=True)),
        ("labsym without fusion", labsym_case(x, y, z, fusion=False)),
        ("pytensor CVM", pytensor_case(x, y, z, "CVM")),
        ("pytensor default", pytensor_case(x, y, z, "FAST_RUN")),
    ]
    expected = numpy_expression(x, y, z)
    available = [(label, fn) for label, fn in cases if fn is not None]
    for label, fn in available:
        np.testing.assert_allclose(np.asarray(fn()), expected, rtol=1e-9, atol=1e-14, err_msg=label)
    return available


def run(sizes: tuple[int, ...] = SIZES, rounds: int = 3) -> dict[int, list[Timing]]:
    """Timings per size; the first row of each list is the NumPy baseline."""
    results = {}
    for n in sizes:
        rng = np.random.default_rng(0)
        x, y, z = (rng.standard_normal(n) for _ in range(3))
        results[n] = interleaved(candidates(x, y, z), rounds, min_time=0.3)
    return results


def main(rounds: int = 3, sizes: tuple[int, ...] = SIZES) -> None:
    """Print the timings (benchmarks/run.py calls this with its --rounds)."""
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("times per call: median and min of 7 repeats; ratio = median / NumPy's median")
    for n, rows in run(tuple(sizes), rounds).items():
        print(f"\nfused elementwise exp(-x**2) * sin(y) + log1p(abs(z)), {n:.0e} float64 elements")
        for timing in rows:
            print(timing.row(rows[0]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the best is kept"
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="element counts")
    args = parser.parse_args()
    main(args.rounds, tuple(args.sizes))
