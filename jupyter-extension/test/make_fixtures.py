"""Write the display bundles of real labsym objects as JSON files, for test/real.test.ts.

Usage: python test/make_fixtures.py OUT_DIR. Each file is {"mime": ..., "bundle": ...}: a plain
graph with markup names, a function with an update, a profile, a rewrite history, a scan and an
OpFromGraph (inner graphs), and a 2000-apply-node graph.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import labsym
import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.viz import display, graphjson, history

HOSTILE = "<img src=x onerror=alert(1)>"


def objects() -> dict[str, object]:
    """name -> an object whose display bundle the renderer must draw."""
    x = T.dvector(HOSTILE)
    w = labsym.shared(np.ones((3, 3)), name=HOSTILE + "W")
    y = T.tanh(T.dot(w, x) + 1).sum()
    trained = function(
        [x], y, updates=[(w, w - 0.1 * T.grad(y, w))], mode=Mode(linker="py").with_history()
    )
    timed = function([x], T.exp(x).sum(), profile=True, mode=Mode(linker="py"))
    timed(np.ones(3))
    seq = T.dvector("seq")
    out, _ = labsym.scan(lambda s, acc: acc + s * 2, sequences=seq, outputs_info=T.constant(0.0))
    a, b = T.dscalars("a", "b")
    inner = labsym.OpFromGraph([a, b], [a * b + a])
    big = T.dvector("big")
    expr = big
    for i in range(2000):
        expr = T.exp(expr) if i % 2 else expr + 1.0
    return {
        "variable": y,
        "function": trained,
        "profile": timed.profile,
        "history": trained.maker.fgraph.history,
        "scan": function([seq], out[-1]),
        "opfromgraph": inner(a, b) * 2,
        "big": expr,
    }


def main(out_dir: str) -> None:
    """Write one {name}.json per object into `out_dir`."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, obj in objects().items():
        bundle = display.mimebundle(obj)
        bundle.pop("text/html", None)  # not read by the renderer; large for big graphs
        mime = history.MIME if history.MIME in bundle else graphjson.MIME
        (folder / f"{name}.json").write_text(json.dumps({"mime": mime, "bundle": bundle}))


if __name__ == "__main__":
    main(sys.argv[1])
