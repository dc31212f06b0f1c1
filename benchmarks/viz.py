"""Graph drawing: time to make the SVG of the MLP training graph and of 1000-node graphs.

`python -m benchmarks.viz` prints median/min seconds per drawing (to_dot plus the dot run) with
the renderer labsym finds (LABSYM_DOT, `dot`, graphviz-pure), or says that none was found.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable

from benchmarks.optimizer import labsym_library, mlp_graph, mlp_params
from benchmarks.timing import Timing, time_call


def mlp_function():
    """The compiled tutorial MLP training step (FAST_RUN): cost and SGD updates."""
    import labsym

    inputs, outputs, updates = mlp_graph(labsym_library(), mlp_params())
    return labsym.function(inputs, outputs, updates=updates)


def unrolled_chain(n: int = 1000):
    """An unrolled computation of n elementwise nodes that all read the input: y = y * x + x."""
    import labsym.tensor as T

    x = T.dvector("x")
    y = x
    for _ in range(n // 2):
        y = y * x + x
    return y


def repeated_add(n: int = 1000):
    """n additions of the same op in a row (y = y + x): what collapse=True summarises."""
    import labsym.tensor as T

    x = T.dvector("x")
    y = x
    for _ in range(n):
        y = y + x
    return y


def cases() -> list[tuple[str, Callable[[], object]]]:
    """(label, drawing) pairs; each drawing makes the DOT text and renders it to SVG."""
    from labsym.viz.graphviz import svg, to_dot

    fn = mlp_function()
    chain = unrolled_chain()
    adds = repeated_add()
    n_mlp = len(fn.maker.fgraph.apply_nodes)
    return [
        (f"to_dot MLP step ({n_mlp} nodes)", lambda: to_dot(fn)),
        (f"svg MLP step ({n_mlp} nodes)", lambda: svg(fn)),
        ("to_dot 1000-node chain", lambda: to_dot(chain)),
        ("svg 1000-node chain", lambda: svg(chain)),
        ("svg 1000-node chain, collapse=True", lambda: svg(chain, collapse=True)),
        ("svg 1000 adds", lambda: svg(adds)),
        ("svg 1000 adds, collapse=True", lambda: svg(adds, collapse=True)),
    ]


def main(rounds: int = 3) -> list[Timing]:
    """Print one row per drawing: median and min seconds over 7 repeats (best of `rounds`)."""
    from labsym.viz.dot import find_dot

    renderer = find_dot()
    print(f"\ngraph drawing (renderer: {renderer or 'none found; SVG rows skipped'})")
    rows = []
    for label, fn in cases():
        if renderer is None and label.startswith("svg"):
            continue
        timing = min(
            (time_call(label, fn, min_time=0.05, repeats=7) for _ in range(rounds)),
            key=lambda t: t.median,
        )
        rows.append(timing)
        print(timing.row())
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    main(args.rounds)
