"""Line magics: `%symgraph`, `%debugprint`, `%symprofile`, `%symrewrites`, and their mime bundles.

Each evaluates its argument in the user namespace and publishes one display; bad arguments are
a UsageError naming the problem. May import IPython, labsym.core, labsym.compile, labsym.viz
and labsym.magics.widgets.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

from IPython.core.error import UsageError

from labsym.core.fgraph import FunctionGraph
from labsym.core.function import Function
from labsym.core.graph import Variable
from labsym.viz.debugprint import debugprint

GRAPH_FORMATS = ("svg", "png")


def split_options(
    magic: str, line: str, valued: tuple[str, ...], switches: tuple[str, ...]
) -> tuple[str, dict]:
    """(the expression, {option: value or True}) from `EXPR --opt value --switch`."""
    start = re.search(r"(?:^|\s)--(?=[A-Za-z])", line)
    expr = (line[: start.start()] if start else line).strip()
    try:
        words = shlex.split(line[start.start() :]) if start else []
    except ValueError as exc:
        raise UsageError(f"%{magic}: cannot read the options: {exc}") from None
    found: dict[str, Any] = {}
    known = ", ".join([f"--{v} VALUE" for v in valued] + [f"--{s}" for s in switches])
    while words:
        name, eq, value = words.pop(0).partition("=")
        option = name[2:]
        if option in switches and not eq:
            found[option] = True
        elif option in valued:
            if not eq:
                if not words or words[0].startswith("--"):
                    raise UsageError(f"%{magic}: {name} needs a value")
                value = words.pop(0)
            found[option] = value
        else:
            raise UsageError(f"%{magic}: unknown option {name!r}; expected {known or 'none'}")
    if not expr:
        raise UsageError(f"%{magic}: missing the expression to show")
    return expr, found


def evaluate(shell: Any, magic: str, expr: str) -> Any:
    """`expr` evaluated in the user namespace; a failure is a UsageError naming it."""
    try:
        return shell.ev(expr)
    except Exception as exc:
        raise UsageError(
            f"%{magic}: cannot evaluate {expr!r}: {type(exc).__name__}: {exc}"
        ) from None


def _graph_object(magic: str, expr: str, obj: Any) -> Any:
    ok = isinstance(obj, (Variable, Function, FunctionGraph)) or (
        isinstance(obj, (list, tuple)) and obj and all(isinstance(v, Variable) for v in obj)
    )
    if not ok:
        raise UsageError(
            f"%{magic}: {expr} is a {type(obj).__name__}; expected a symbolic variable, a list "
            "of them, a compiled function or a FunctionGraph"
        )
    return list(obj) if isinstance(obj, tuple) else obj


def _function(shell: Any, magic: str, line: str) -> Function:
    expr = line.strip()
    if not expr:
        raise UsageError(f"%{magic}: missing the compiled function, e.g. %{magic} f")
    fn = evaluate(shell, magic, expr)
    if not isinstance(fn, Function):
        raise UsageError(f"%{magic}: {expr} is a {type(fn).__name__}, not a compiled function")
    return fn


def graph_bundle(obj: Any, *, format: str = "svg", compact: bool = False) -> dict[str, Any]:
    """The drawing of a graph: SVG (with the labsym graph JSON) or base64 PNG, and debugprint.

    Without a dot renderer: the install notice and the DOT text, as text/plain.
    """
    from labsym.viz.graphjson import MIME, graph_json
    from labsym.viz.graphviz import RendererMissing, render, to_dot

    doc = graph_json(obj)
    dot = to_dot(doc, compact=compact)
    bundle: dict[str, Any] = {"text/plain": debugprint(obj, file="str")}
    try:
        image = render(dot, format)
    except RendererMissing as exc:
        bundle["text/plain"] = f"{exc}; the DOT text:\n{dot}"
        image = None
    if format == "svg":
        if image is not None:
            bundle["image/svg+xml"] = image.decode("utf-8")
        bundle[MIME] = doc
    elif image is not None:
        bundle["image/png"] = base64.b64encode(image).decode("ascii")
    return bundle


def debugprint_bundle(obj: Any) -> dict[str, Any]:
    """Theano's debugprint text of a variable, a list of them or a function."""
    return {"text/plain": debugprint(obj, file="str")}


def _publish(bundle: dict[str, Any]) -> None:
    from IPython.display import publish_display_data

    publish_display_data(bundle)


def symgraph(shell: Any, line: str) -> None:
    """`%symgraph EXPR_OR_FUNCTION [--format svg|png] [--compact]`: draw the graph."""
    expr, options = split_options("symgraph", line, ("format",), ("compact",))
    fmt = options.get("format", "svg")
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"%symgraph: --format {fmt!r} is not one of {', '.join(GRAPH_FORMATS)}")
    obj = _graph_object("symgraph", expr, evaluate(shell, "symgraph", expr))
    _publish(graph_bundle(obj, format=fmt, compact=bool(options.get("compact"))))


def debugprint_magic(shell: Any, line: str) -> None:
    """`%debugprint EXPR`: Theano's debugprint of a variable, a list of them or a function."""
    expr, _ = split_options("debugprint", line, (), ())
    obj = _graph_object("debugprint", expr, evaluate(shell, "debugprint", expr))
    _publish(debugprint_bundle(obj))


def symprofile(shell: Any, line: str) -> None:
    """`%symprofile FUNCTION`: the profile tables of a function compiled with profiling."""
    fn = _function(shell, "symprofile", line)
    if fn.profile is None:
        raise UsageError(
            f"%symprofile: {line.strip()} was compiled without profiling; use "
            "%%symfunc ... --profile or function(..., profile=True)"
        )
    from labsym.viz.display import mimebundle

    _publish(mimebundle(fn.profile))


def symrewrites(shell: Any, line: str) -> None:
    """`%symrewrites FUNCTION`: the rewrite stepper over the function's rewrite history."""
    fn = _function(shell, "symrewrites", line)
    from IPython.display import display

    from labsym.magics.widgets import RewriteStepper

    try:
        stepper = RewriteStepper(fn)
    except (TypeError, ValueError) as exc:  # a mode that cannot record history
        raise UsageError(f"%symrewrites: {exc}") from None
    display(stepper)
