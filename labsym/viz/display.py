"""Rich notebook displays (mime bundles) of labsym's objects, and their IPython registration.

Bundles: a Variable (pp text, SVG of its graph when small, graph JSON), a compiled Function (its
compile report), a ProfileStats (Theano's three tables and a heat graph), a rewrite History and
the config (HTML tables). Every bundle carries "text/plain"; every user string is escaped.

How core types get displays without core importing viz: core defines no `_repr_*_` methods.
This module registers one function per core type with IPython's
`display_formatter.mimebundle_formatter.for_type`, and `labsym/__init__.py` calls
`register_if_in_ipython()` at import, which returns at once unless IPython is already imported
and a shell is running, so `import labsym` in a kernel is enough and costs nothing elsewhere.
Keys: "text/plain", "text/html", "image/svg+xml", graphjson.MIME (a graph, schema
docs/graph-json.md) and history.MIME (schema "labsym.rewrites" v1: {"schema", "version",
"steps": [{index, phase, rule, math, before, after, before_graph, after_graph}]}, where the
graphs are graph JSON documents or null).
May import labsym.config, labsym.core, labsym.optim and labsym.viz; IPython only lazily.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from labsym.config import Config
from labsym.core.function import Function
from labsym.core.graph import Variable
from labsym.core.profiling import ProfileStats
from labsym.optim.driver import History
from labsym.viz import html

SMALL_GRAPH = 200  # graphs with at most this many Apply nodes are drawn inline as SVG
# debugprint text kept in a bundle: a deep chain's indentation grows quadratically (a 2000-op
# chain printed 32 MB), and every byte is saved in the notebook; the graph JSON has it all
TEXT_LIMIT = 200_000


def bounded(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text`, or its first lines up to `limit` characters and a line saying what was left out."""
    if len(text) <= limit:
        return text
    kept = text[: text.rfind("\n", 0, limit) + 1]
    left = text.count("\n", len(kept)) + (not text.endswith("\n"))
    return (
        f"{kept}... {left} more lines not shown ({len(text):,} characters in all); "
        "labsym.printing.debugprint(...) prints them\n"
    )


def mimebundle(obj: Any) -> dict[str, Any]:
    """The display bundle of a Variable, Function, ProfileStats, History or Config."""
    for cls, make in _BUNDLES:
        if isinstance(obj, cls):
            return make(obj)
    kinds = ", ".join(cls.__name__ for cls, _ in _BUNDLES)
    raise TypeError(f"mimebundle needs one of {kinds}, got {type(obj).__name__}")


def _svg(doc: dict, **to_dot_options: Any) -> str | None:
    """The drawing of a graph_json document when small enough and a renderer exists."""
    from labsym.viz.graphviz import svg

    n_apply = sum(row["kind"] == "apply" for row in doc["nodes"])
    if n_apply > SMALL_GRAPH:
        return None
    drawing = svg(doc, **to_dot_options)
    if drawing is None:
        return None
    return drawing[drawing.find("<svg") :]  # no XML prolog: the SVG is also inlined in HTML


def variable_bundle(var: Variable) -> dict[str, Any]:
    """pp text, the expression graph as SVG (or debugprint HTML if none) and its JSON."""
    from labsym.viz.debugprint import debugprint
    from labsym.viz.graphjson import MIME, graph_json
    from labsym.viz.pprint import pp

    doc = graph_json(var)
    bundle: dict[str, Any] = {"text/plain": pp(var), MIME: doc}
    drawing = _svg(doc)
    if drawing is not None:
        bundle["image/svg+xml"] = drawing
    else:
        bundle["text/html"] = html.pre(bounded(debugprint(var, file="str")))
    return bundle


def compile_report(fn: Function) -> dict[str, Any]:
    """A Function's compile report: types, node counts, rewrites per phase, times, graph."""
    from labsym.viz.debugprint import debugprint
    from labsym.viz.graphjson import MIME, graph_json

    maker = fn.maker
    doc = graph_json(fn)
    graph_text = bounded(debugprint(fn, file="str"))
    drawing = _svg(doc)
    parts = [
        html.STYLE,
        f"<div class='labsym-function'><h3>{html.escape(_title(fn))}</h3>",
        html.table(["input", "type", "default"], _input_rows(fn), caption="Inputs"),
        html.table(["output", "type"], _output_rows(fn), caption="Outputs"),
    ]
    if maker.updates:
        parts.append(html.table(["shared variable", "update"], _update_rows(fn), caption="Updates"))
    parts.append(html.table(["", ""], summary_rows(fn), caption="Compilation"))
    phases = phase_rows(fn)
    if phases:
        parts.append(
            html.table(["phase", "rewrites", "seconds"], phases, caption="Rewrites per phase")
        )
    history = getattr(maker.fgraph, "history", None)
    if history:
        rules = [[rule, count] for rule, count in history.by_rule().items()]
        parts.append(html.table(["rule", "applied"], rules, caption="Rules applied"))
    if drawing is not None:
        parts.append(html.section("Optimized graph", drawing))
    else:
        parts.append(html.section("Optimized graph", html.pre(graph_text)))
    parts.append("</div>")
    text = "\n".join([repr(fn), *(f"  {k}: {v}" for k, v in summary_rows(fn)), graph_text])
    return {"text/plain": text.rstrip("\n"), "text/html": "".join(parts), MIME: doc}


def _title(fn: Function) -> str:
    args = ", ".join(str(spec.name or spec.variable) for spec in fn.maker.inputs)
    return f"Function {fn.name or '<anonymous>'}({args})"


def _input_rows(fn: Function) -> list[list[Any]]:
    rows = []
    for spec in fn.maker.inputs:
        default = "" if spec.value is None else repr(spec.value)
        rows.append([str(spec.name or spec.variable), str(spec.variable.type), default])
    return rows


def _expression(var: Variable) -> str:
    """A variable as the user wrote it: its name, else its pp text (shortened)."""
    from labsym.viz.pprint import pp

    text = var.name or pp(var)
    return text if len(text) <= 120 else text[:117] + "..."


def _output_rows(fn: Function) -> list[list[Any]]:
    return [[_expression(out.variable), str(out.variable.type)] for out in fn.maker.outputs]


def _update_rows(fn: Function) -> list[list[Any]]:
    return [[str(target), _expression(expr)] for target, expr in fn.maker.updates]


def summary_rows(fn: Function) -> list[tuple[str, Any]]:
    """(label, value) rows: node counts before and after rewriting, times, mode and linker."""
    maker = fn.maker
    mode = maker.mode
    linker = getattr(mode, "linker_name", None) or type(mode.linker).__name__
    return [
        ("mode", getattr(mode, "name", type(mode).__name__)),
        ("linker", linker),
        ("apply nodes before rewriting", maker.nodes_before),
        ("apply nodes after rewriting", len(maker.fgraph.apply_nodes)),
        ("compile time (s)", f"{maker.compile_time:.3e}"),
        ("optimizer time (s)", f"{maker.optimizer_time:.3e}"),
        ("linker time (s)", f"{maker.linker_time:.3e}"),
    ]


def phase_rows(fn: Function) -> list[list[Any]]:
    """[phase, rewrites, seconds] for each phase the optimizer ran, in pipeline order."""
    timings = getattr(fn.maker.fgraph, "phase_timings", None) or []
    return [[t.phase, t.rewrites, f"{t.seconds:.3e}"] for t in timings]


def profile_bundle(stats: ProfileStats) -> dict[str, Any]:
    """Theano's text summary, the three tables as HTML with a heat graph, the timed graph JSON."""
    from labsym.viz.graphjson import MIME, graph_json
    from labsym.viz.profile import heat, profile_html

    bundle: dict[str, Any] = {"text/plain": str(stats)}
    drawing = None
    if stats.fgraph is not None:
        doc = graph_json(stats.fgraph, profile=stats)
        bundle[MIME] = doc
        drawing = _svg(doc, heat=heat(stats, doc))
    bundle["text/html"] = profile_html(stats, drawing)
    return bundle


def history_bundle(records: History) -> dict[str, Any]:
    """The rewrites as text, an HTML table, and JSON with each step's before/after subgraphs."""
    from labsym.viz import history

    return {
        "text/plain": history.history_text(records),
        "text/html": history.history_html(records),
        history.MIME: history.history_json(records),
    }


def config_bundle(cfg: Config) -> dict[str, Any]:
    """print(config)'s text and a table of flags, values and where each was set from."""
    from labsym.viz.configview import config_html

    return {"text/plain": str(cfg), "text/html": config_html(cfg)}


_BUNDLES: list[tuple[type, Callable[[Any], dict[str, Any]]]] = [
    (Variable, variable_bundle),
    (Function, compile_report),
    (ProfileStats, profile_bundle),
    (History, history_bundle),
    (Config, config_bundle),
]


def register_formatters(ip: Any) -> None:
    """Make IPython show labsym's objects through `mimebundle` (for their subclasses too)."""
    formatter = ip.display_formatter.mimebundle_formatter
    for cls, make in _BUNDLES:
        formatter.for_type(cls, make)
    # History is a list: IPython's own text/plain printer for lists would replace the bundle's
    from labsym.viz.history import history_text

    plain = ip.display_formatter.formatters["text/plain"]
    plain.for_type(History, lambda records, printer, cycle: printer.text(history_text(records)))


def register_if_in_ipython() -> None:
    """register_formatters on the running IPython shell; nothing (and no import) outside one."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    ip = get_ipython()
    if ip is not None:
        register_formatters(ip)
