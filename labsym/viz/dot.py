"""Finding a Graphviz `dot` and running it: DOT text in, SVG/PNG/... bytes out.

The `graphviz` Python package always runs the executable named by its module global DOT_BINARY
("dot"), with no per-call choice, so it cannot run graphviz-pure's `graphviz-pure` binary without
changing that global for every user of the package in the process. We run the binary found here
with subprocess instead: same command line (`dot -Tsvg`), same output. Imports only the stdlib.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

__all__ = ["FORMATS", "RendererMissing", "find_dot", "render", "warn_no_renderer"]

FORMATS = ("svg", "png", "pdf", "ps", "jpg", "jpeg", "gif", "json", "plain", "dot", "canon")

INSTALL_HINT = (
    "no Graphviz renderer found: set LABSYM_DOT to a dot executable, put Graphviz's `dot` on "
    "PATH, or `pip install graphviz-pure` (also in `pip install labsym[jupyter]`)"
)

_warned = False


class RendererMissing(Exception):
    """No `dot` executable was found; the message is the one-line install hint."""


def find_dot() -> str | None:
    """The dot executable to run: $LABSYM_DOT, then `dot` on PATH, then graphviz-pure's binary.

    graphviz-pure is looked for next to the running Python (a virtualenv's bin directory need
    not be on PATH in a notebook kernel), then on PATH. A LABSYM_DOT that names no executable
    is skipped, and the install hint names it when nothing else is found.
    """
    candidates = [os.environ.get("LABSYM_DOT") or None, "dot"]
    candidates.append(str(Path(sys.executable).parent / _exe("graphviz-pure")))
    candidates.append("graphviz-pure")
    for candidate in candidates:
        if candidate is None:
            continue
        found = shutil.which(candidate)
        if found is not None:
            return found
    return None


def _exe(name: str) -> str:
    return name + ".exe" if sys.platform == "win32" else name


def render(dot_source: str, format: str = "svg", timeout: float | None = 120.0) -> bytes:
    """`dot_source` laid out and drawn by the found dot in `format` (svg, png, pdf, ...).

    A layout that takes over `timeout` seconds is stopped (a notebook cell must not hang).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown graph format {format!r}; expected one of {', '.join(FORMATS)}")
    executable = find_dot()
    if executable is None:
        raise RendererMissing(_hint())
    import subprocess  # only when drawing: keeps `import labsym` fast

    try:
        proc = subprocess.run(
            [executable, f"-T{format}"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"{executable} took over {timeout:g} s to lay out the graph; draw it with "
            "collapse=True, or look at its DOT text"
        ) from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{executable} -T{format} failed (exit {proc.returncode}): {message}")
    return proc.stdout


def _hint() -> str:
    configured = os.environ.get("LABSYM_DOT")
    if configured:
        return f"LABSYM_DOT={configured!r} is not an executable; " + INSTALL_HINT
    return INSTALL_HINT


def warn_no_renderer() -> None:
    """Warn once per session that graphs are shown as DOT text because no dot was found."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(_hint() + "; showing the DOT text instead", UserWarning, stacklevel=3)
