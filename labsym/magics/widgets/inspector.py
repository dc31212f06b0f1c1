"""NodeInspector: every intermediate value of one call, with the first NaN/Inf found for you.

Runs the function's optimized graph node by node through the per-node thunks of
backends.python.thunks, on copies of the inputs and shared values (nothing is updated).
May import labsym.core, labsym.backends, labsym.viz.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.python.thunks import PerformLinker
from labsym.core.graph import Apply, Constant, Variable
from labsym.magics.widgets._common import inline_svg, require_ipywidgets, widget_bundle
from labsym.viz.html import STYLE, escape

__all__ = ["NodeInspector", "ValueRow"]

HEADERS = ("#", "node", "value", "shape", "dtype", "min", "max", "mean", "NaN", "Inf", "created at")
_BAD_STYLE = "background:#fdd"


@dataclass(frozen=True)
class ValueRow:
    """One value of the call: where it came from and what it holds.

    `index` is the node's position in the schedule (None for the function's inputs);
    min/max/mean are over the finite entries (None when there are none or it is not numeric).
    """

    index: int | None
    node: str
    variable: str
    shape: tuple[int, ...] | None
    dtype: str
    min: float | None
    max: float | None
    mean: float | None
    nan: int
    inf: int
    source: str

    @property
    def bad(self) -> bool:
        """True when the value holds a NaN or an Inf."""
        return self.nan > 0 or self.inf > 0

    def cells(self) -> tuple[str, ...]:
        """The row as table cells (numbers to 6 significant digits)."""

        def num(x: float | None) -> str:
            return "" if x is None else f"{x:.6g}"

        return (
            "" if self.index is None else str(self.index),
            self.node,
            self.variable,
            "" if self.shape is None else str(self.shape),
            self.dtype,
            num(self.min),
            num(self.max),
            num(self.mean),
            str(self.nan),
            str(self.inf),
            self.source,
        )


def _source(var: Variable) -> str:
    trace = getattr(var, "trace", None) or getattr(getattr(var, "tag", None), "trace", None)
    if not trace or not hasattr(trace, "lineno"):
        return ""
    return f"{os.path.basename(trace.filename)}:{trace.lineno}"


def describe_value(index: int | None, node: str, var: Variable, value: Any) -> ValueRow:
    """The row of statistics for one computed value."""
    if not isinstance(value, (np.ndarray, np.generic)):
        kind = type(value).__name__
        return ValueRow(index, node, str(var), None, kind, None, None, None, 0, 0, _source(var))
    array = np.asarray(value)
    nan = inf = 0
    low = high = mean = None
    if array.dtype.kind in "biufc":
        if array.dtype.kind in "fc":
            nan = int(np.isnan(array).sum())
            inf = int(np.isinf(array).sum())
        finite = array[np.isfinite(array)] if (nan or inf) else array
        if finite.size:
            real = finite.real if finite.dtype.kind == "c" else finite
            low, high = float(real.min()), float(real.max())
            mean = float(real.mean())
    shape = tuple(int(d) for d in array.shape)
    return ValueRow(
        index, node, str(var), shape, str(array.dtype), low, high, mean, nan, inf, _source(var)
    )


def _input_values(fn: Any, inputs: tuple, named: dict) -> dict[Variable, list[Any]]:
    """Storage cells for the graph inputs: the call's arguments (checked as a call checks them)
    and copies of the shared values, so the inspection changes nothing the function keeps."""
    plan = fn._plan  # the call plan the generated __call__ reads: binding, filters, shared cells
    values = plan.bind(inputs, named)
    storage: dict[Variable, list[Any]] = {}
    for (var, filter_input, _spec), value in zip(plan.explicit, values, strict=True):
        storage[var] = [copy.deepcopy(filter_input(value))]
    for var, container in plan.shared:
        storage[var] = [copy.deepcopy(container.value)]
    for var in plan.fgraph.variables:
        if isinstance(var, Constant):
            storage[var] = [var.data]
    return storage


class NodeInspector:
    """Run a compiled function once on given inputs and tabulate every intermediate value.

    `rows` holds one ValueRow per input and per node output, in execution order; `first_bad`
    is the first row holding a NaN or Inf and `first_bad_node` its Apply node (None if all is
    finite). `values` maps each variable to its value as computed (kept even where an inplace
    node later overwrote it). Shared variables are read, never updated. Every node runs, an
    IfElse's branch not taken included; scan inner graphs show as their outer node only.
    Displays as a widget in a notebook; `html()` is the table alone.

    Examples
    --------
    >>> x = T.dvector("x")
    >>> f = theano.function([x], T.log(x) * x, mode="FAST_COMPILE")
    >>> NodeInspector(f, [0.0, 1.0]).first_bad.node
    'Elemwise{log,no_inplace}'
    """

    def __init__(self, fn: Any, *inputs: Any, **named_inputs: Any) -> None:
        if not hasattr(fn, "_plan") or not hasattr(fn, "maker"):
            raise TypeError(f"NodeInspector needs a compiled labsym function, got {fn!r}")
        self.fn = fn
        self.fgraph = fn.maker.fgraph
        self.rows: list[ValueRow] = []
        self.nodes: list[Apply | None] = []  # the Apply of each row (None for inputs)
        self.values: dict[Variable, Any] = {}
        self._run(_input_values(fn, inputs, named_inputs))
        self._widget: Any = None
        self._graph: tuple[str | None] | None = None  # the drawing, once made

    def _run(self, storage: dict[Variable, list[Any]]) -> None:
        roles = {var: "input" for var, _f, _s in self.fn._plan.explicit}
        roles.update({var: "shared" for var, _c in self.fn._plan.shared})
        for var in self.fgraph.inputs:
            self._add(None, roles.get(var, "input"), var, storage[var][0], None)
        linker = PerformLinker()
        with np.errstate(all="ignore"):  # NaN and Inf are what we are looking for
            for i, node in enumerate(self.fgraph.toposort()):
                thunk = linker.node_thunk(self.fgraph, node, i, storage)
                for positions in (getattr(node.op, "destroy_map", None) or {}).values():
                    for j in positions:  # an inplace node overwrites it: keep what it was
                        self.values[node.inputs[j]] = copy.copy(thunk.inputs[j][0])
                thunk()
                for var, cell in zip(node.outputs, thunk.outputs, strict=True):
                    self._add(i, str(node.op), var, cell[0], node)

    def _add(self, index: int | None, label: str, var: Variable, value: Any, node: Any) -> None:
        self.values[var] = value
        self.rows.append(describe_value(index, label, var, value))
        self.nodes.append(node)

    @property
    def first_bad(self) -> ValueRow | None:
        """The first value (in execution order) holding a NaN or an Inf."""
        return next((row for row in self.rows if row.bad), None)

    @property
    def first_bad_node(self) -> Apply | None:
        """The Apply node that produced the first NaN/Inf (None if an input holds it, or none)."""
        return next((node for row, node in zip(self.rows, self.nodes) if row.bad), None)

    @property
    def outputs(self) -> list[Any]:
        """The function's outputs as this run computed them (updates' new values included)."""
        return [self.values[var] for var in self.fgraph.outputs]

    def summary(self) -> str:
        """One line: how many values, how many hold NaN/Inf, and where the first one is."""
        bad = self.first_bad
        head = f"{len(self.rows)} values, {sum(r.bad for r in self.rows)} with NaN/Inf"
        if bad is None:
            return f"{head}; all finite"
        where = "input" if bad.index is None else f"node {bad.index}"
        at = f" (created at {bad.source})" if bad.source else ""
        return f"{head}; first at {where}: {bad.node} -> {bad.variable}{at}"

    def html(self) -> str:
        """The table, the first NaN/Inf row marked (every name escaped)."""
        head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
        first = self.first_bad
        body = []
        for row in self.rows:
            style = f' style="{_BAD_STYLE}"' if row is first else ""
            cells = "".join(f"<td>{escape(c)}</td>" for c in row.cells())
            body.append(f"<tr{style}>{cells}</tr>")
        return (
            f"<p>{escape(self.summary())}</p>"
            f'{STYLE}<table class="labsym-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def graph_svg(self) -> str | None:
        """The optimized graph, the first NaN/Inf node in red (None without a dot renderer)."""
        from labsym.viz.graphjson import graph_json
        from labsym.viz.graphviz import svg

        if self._graph is not None:
            return self._graph[0]
        doc = graph_json(self.fn)
        bad = self.first_bad
        heat = {}
        if bad is not None and bad.index is not None:
            heat = {r["id"]: 1.0 for r in doc["nodes"] if r.get("index") == bad.index}
        self._graph = (svg(doc, heat=heat),)
        return self._graph[0]

    @property
    def widget(self) -> Any:
        """The ipywidgets view: summary, table, and the highlighted graph."""
        if self._widget is None:
            widgets = require_ipywidgets()
            graph = self.graph_svg()
            children = [widgets.HTML(self.html())]
            if graph is not None:
                children.append(widgets.HTML(inline_svg(graph)))
            self._widget = widgets.VBox(children)
        return self._widget

    def __str__(self) -> str:
        widths = [
            max(len(h), *(len(r.cells()[k]) for r in self.rows)) for k, h in enumerate(HEADERS)
        ]
        lines = [self.summary(), "  ".join(h.ljust(w) for h, w in zip(HEADERS, widths))]
        for row in self.rows:
            mark = "  <-- first NaN/Inf" if row is self.first_bad else ""
            lines.append("  ".join(c.ljust(w) for c, w in zip(row.cells(), widths)).rstrip() + mark)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<NodeInspector {self.summary()}>"

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        graph = self.graph_svg()
        html = self.html() + (inline_svg(graph) if graph is not None else "")
        return widget_bundle(self, str(self), html, **kwargs)
