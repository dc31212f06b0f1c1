"""RewriteStepper: step through the rewrites that turned a function's graph into its optimized one.

Each step shows the phase, the rule, its math, and the part of the graph the rule removed next to
the part it added (drawn by viz.graphviz; debugprint text when no renderer exists).
May import labsym.compile, labsym.optim (records only), labsym.viz.
"""

from __future__ import annotations

import inspect
from typing import Any

from labsym.magics.widgets._common import inline_svg, require_ipywidgets, widget_bundle
from labsym.viz.html import escape, pre

__all__ = ["RewriteStepper", "history_of"]


def _recompiled_with_history(fn: Any) -> Any:
    """`fn` compiled again from what it was built from, in its mode plus rewrite history."""
    from labsym.compile import function

    mode = fn.maker.mode
    if not hasattr(mode, "with_history"):
        raise TypeError(
            f"RewriteStepper: {fn!r} was compiled with {mode!r}, which cannot record rewrites; "
            "compile it with mode=labsym.Mode(...).with_history()"
        )
    accepted = inspect.signature(function).parameters
    spec = {k: v for k, v in fn.maker.spec.items() if k in accepted and k != "mode"}
    spec["profile"] = False  # the copy must not join the user's profiles
    return function(mode=mode.with_history(), **spec)


def history_of(obj: Any) -> list:
    """The rewrite records of a Function, a FunctionGraph or a history list.

    A function compiled without history is compiled again, in the same mode with history on.
    """
    if isinstance(obj, list):
        return obj
    fgraph = getattr(getattr(obj, "maker", None), "fgraph", None)
    if fgraph is not None:
        if fgraph.history is None:
            fgraph = _recompiled_with_history(obj).maker.fgraph
        return list(fgraph.history or [])
    if hasattr(obj, "history") and hasattr(obj, "apply_nodes"):  # a FunctionGraph
        if obj.history is None:
            raise ValueError(
                "RewriteStepper: this FunctionGraph was optimized without history; "
                "use Mode(...).with_history()"
            )
        return list(obj.history)
    raise TypeError(
        "RewriteStepper takes a compiled function, a FunctionGraph or its rewrite history, "
        f"got {type(obj).__name__}"
    )


def _drawing(subgraph: Any, caption: str) -> str:
    """One side of a step: the subgraph's SVG (changed nodes highlighted), else debugprint text."""
    if subgraph is None or not subgraph.outputs:
        return f"<figure><figcaption>{escape(caption)}</figcaption><p>(nothing)</p></figure>"
    from labsym.viz.graphviz import svg
    from labsym.viz.history import subgraph_json

    doc = subgraph_json(subgraph)
    # every Apply in a side is one the rewrite removed (before) or added (after)
    heat = {row["id"]: 1.0 for row in doc["nodes"] if row["kind"] == "apply"}
    drawing = svg(doc, heat=heat)
    if drawing is None:
        from labsym.viz.debugprint import debugprint

        text = debugprint(list(subgraph.outputs), file="str")
        body = pre(text)
    else:
        body = inline_svg(drawing)
    return f"<figure><figcaption>{escape(caption)}</figcaption>{body}</figure>"


def step_html(record: Any, index: int, total: int) -> str:
    """The HTML of one rewrite: phase, rule, math, and the graph before -> after."""
    head = (
        f"<p><b>step {index + 1}/{total}</b> · phase <code>{escape(record.phase)}</code> · "
        f"rule <code>{escape(record.rule)}</code></p>"
    )
    math = f"<p>math: <code>{escape(record.math)}</code></p>" if record.math else ""
    text = f"<p><code>{escape(record.before)}</code> → <code>{escape(record.after)}</code></p>"
    sides = (
        '<div style="display:flex;gap:1em;align-items:flex-start">'
        + _drawing(getattr(record, "before_graph", None), "before (removed, highlighted)")
        + _drawing(getattr(record, "after_graph", None), "after (added, highlighted)")
        + "</div>"
    )
    return f'<div class="labsym-rewrite">{head}{math}{text}{sides}</div>'


class RewriteStepper:
    """A slider (with play and prev/next buttons) over a function's rewrite history.

    Takes a compiled function (compiled again with history when it has none), a FunctionGraph
    optimized with history, or the history list. `index` is the step shown; `html()` the
    step's view without a front end.

    Examples
    --------
    >>> f = theano.function([x], T.log(1 + x), mode=theano.Mode().with_history())
    >>> stepper = RewriteStepper(f)
    >>> stepper.records[-1].rule
    'log1p_from_log'
    """

    def __init__(self, fn_or_history: Any) -> None:
        self.records = history_of(fn_or_history)
        self.index = 0
        self._pages: dict[int, str] = {}
        self._widget: Any = None

    def __len__(self) -> int:
        return len(self.records)

    def html(self, index: int | None = None) -> str:
        """The view of step `index` (the current step by default); cached per step."""
        if not self.records:
            return "<p>No rewrites were applied: the optimized graph is the graph as written.</p>"
        index = self.index if index is None else index
        if not 0 <= index < len(self.records):
            raise IndexError(f"RewriteStepper: step {index} out of range 0..{len(self) - 1}")
        if index not in self._pages:
            self._pages[index] = step_html(self.records[index], index, len(self.records))
        return self._pages[index]

    def go(self, index: int) -> None:
        """Show step `index` (the slider follows)."""
        self.html(index)  # validates
        self.index = index
        if self._widget is not None:
            self._slider.value = index
            self._view.value = self.html()

    @property
    def widget(self) -> Any:
        """The ipywidgets view: play, slider, prev/next, and the step's HTML."""
        if self._widget is None:
            self._build()
        return self._widget

    def _build(self) -> None:
        widgets = require_ipywidgets()
        last = max(len(self.records) - 1, 0)
        disabled = len(self.records) < 2
        self._play = widgets.Play(min=0, max=last, interval=1500, disabled=disabled)
        self._slider = widgets.IntSlider(
            value=self.index, min=0, max=last, description="step", disabled=disabled
        )
        self._prev = widgets.Button(description="◀ prev", disabled=disabled)
        self._next = widgets.Button(description="next ▶", disabled=disabled)
        self._view = widgets.HTML(self.html())
        widgets.link((self._play, "value"), (self._slider, "value"))
        self._slider.observe(self._on_slider, names="value")
        self._prev.on_click(lambda _button: self._slider.set_trait("value", max(self.index - 1, 0)))
        self._next.on_click(
            lambda _button: self._slider.set_trait("value", min(self.index + 1, last))
        )
        controls = widgets.HBox([self._play, self._slider, self._prev, self._next])
        self._widget = widgets.VBox([controls, self._view])

    def _on_slider(self, change: dict) -> None:
        self.index = change["new"]
        self._view.value = self.html()

    def __str__(self) -> str:
        from labsym.viz.history import history_text

        return history_text(self.records)

    def __repr__(self) -> str:
        return f"<RewriteStepper: {len(self.records)} rewrites, at step {self.index}>"

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return widget_bundle(self, str(self), self.html(), **kwargs)
