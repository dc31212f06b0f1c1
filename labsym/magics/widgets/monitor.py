"""TrainingMonitor: a training loop feeds it (step, cost, named values); it shows them live.

In a Jupyter kernel: a progress bar with rate and ETA and an SVG line chart per value (ipywidgets);
in a terminal: a tqdm bar (or plain lines without tqdm). May import labsym.viz.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from labsym.magics.widgets._common import (
    in_kernel,
    require_ipywidgets,
    widget_bundle,
    widgets_available,
)
from labsym.viz.html import escape

__all__ = ["TrainingMonitor", "line_chart_svg"]

_FRONTENDS = ("auto", "widget", "text")
_MAX_POINTS = 400  # points drawn per series: long runs are strided, the newest point always kept


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"TrainingMonitor.update: {name} must be a number (or a 0-d array), got {value!r}"
        ) from None


def format_duration(seconds: float) -> str:
    """`m:ss` or `h:mm:ss`, as tqdm writes elapsed time and ETA."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _strided(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(points) <= _MAX_POINTS:
        return points
    step = math.ceil(len(points) / _MAX_POINTS)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def _panel(name: str, points: list[tuple[int, float]], top: int, width: int, height: int) -> str:
    """One series' axes, polyline and labels, drawn `top` pixels down the chart."""
    left, right, pad = 56, 8, 18
    plot_w, plot_h = width - left - right, height - 2 * pad
    finite = [(s, v) for s, v in points if math.isfinite(v)]
    parts = [
        f'<g transform="translate(0,{top})">',
        f'<rect x="{left}" y="{pad}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        'stroke="#ccc"/>',
    ]
    last = points[-1][1] if points else float("nan")
    parts.append(
        f'<text x="{left}" y="{pad - 5}" font-size="12" font-family="sans-serif">'
        f"{escape(name)} = {escape(_fmt(last))}</text>"
    )
    if finite:
        s0, s1 = finite[0][0], finite[-1][0]
        lo, hi = min(v for _, v in finite), max(v for _, v in finite)
        span_s, span_v = (s1 - s0) or 1, (hi - lo) or 1.0

        def xy(s: int, v: float) -> str:
            x = left + plot_w * (s - s0) / span_s
            y = pad + plot_h * (1 - (v - lo) / span_v)
            return f"{x:.1f},{y:.1f}"

        line = " ".join(xy(s, v) for s, v in _strided(finite))
        parts += [
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{line}"/>',
            f'<text x="{left - 4}" y="{pad + 10}" font-size="10" text-anchor="end">'
            f"{escape(_fmt(hi))}</text>",
            f'<text x="{left - 4}" y="{pad + plot_h}" font-size="10" text-anchor="end">'
            f"{escape(_fmt(lo))}</text>",
            f'<text x="{left}" y="{height - 4}" font-size="10">{s0}</text>',
            f'<text x="{left + plot_w}" y="{height - 4}" font-size="10" text-anchor="end">'
            f"{s1}</text>",
        ]
    parts.append("</g>")
    return "".join(parts)


def line_chart_svg(
    series: dict[str, list[tuple[int, float]]], width: int = 480, panel_height: int = 120
) -> str:
    """An SVG with one line chart per named series of (step, value): no plotting library needed.

    Non-finite values are left out of the line (the label still shows them).
    """
    height = panel_height * max(len(series), 1)
    panels = [
        _panel(name, points, k * panel_height, width, panel_height)
        for k, (name, points) in enumerate(series.items())
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(panels)}</svg>'
    )


class TrainingMonitor:
    """Watch a training loop: progress with rate and ETA, and a live chart of cost and values.

    Call `update(step, cost=..., **named_values)` from the loop; the display refreshes every
    `every` updates (and on `close()`). In a Jupyter kernel it shows ipywidgets; in a terminal
    (or without ipywidgets) a tqdm bar with the latest values (plain lines without tqdm).
    `frontend` forces one: 'widget' or 'text'. All values stay available in `series`.

    Examples
    --------
    >>> with TrainingMonitor(total=100, title="logistic regression") as monitor:
    ...     for step in range(100):
    ...         err, w_norm = train(D[0], D[1])
    ...         monitor.update(step + 1, cost=err, w_norm=w_norm)
    """

    def __init__(
        self,
        total: int | None = None,
        title: str = "training",
        every: int = 1,
        frontend: str = "auto",
        file: TextIO | None = None,
    ) -> None:
        if total is not None and (not isinstance(total, int) or total <= 0):
            raise ValueError(
                f"TrainingMonitor: total must be a positive int or None, got {total!r}"
            )
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"TrainingMonitor: every must be a positive int, got {every!r}")
        if frontend not in _FRONTENDS:
            raise ValueError(
                f"TrainingMonitor: frontend must be one of {_FRONTENDS}, got {frontend!r}"
            )
        self.total = total
        self.title = str(title)
        self.every = every
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.step = 0
        self.updates = 0
        self.closed = False
        self._now = time.perf_counter  # replaced in tests for exact rates
        self._start = self._now()  # as tqdm: the clock runs from creation
        if frontend == "auto":
            frontend = "widget" if in_kernel() and widgets_available() else "text"
        self.frontend = frontend
        self.widget: Any = None
        self._bar: Any = None
        self._file = file
        self._handle: Any = None  # the notebook output showing this monitor
        if frontend == "widget":
            self._build_widget()
            if in_kernel():
                from IPython.display import display

                self._handle = display(self, display_id=True)
        else:
            self._start_text_bar()

    # --- feeding ---------------------------------------------------------------------------
    def update(self, step: int | None = None, cost: Any = None, **values: Any) -> None:
        """Record one step's values (step defaults to the previous step + 1) and maybe redraw."""
        if self.closed:
            raise RuntimeError("TrainingMonitor.update after close()")
        step = self.step + 1 if step is None else int(step)
        named = ({"cost": cost} if cost is not None else {}) | values
        for name, value in named.items():
            self.series.setdefault(name, []).append((step, _number(name, value)))
        advanced, self.step = step - self.step, step
        self.updates += 1
        if self._bar is not None:
            self._bar.update(max(advanced, 0))
        if self.updates % self.every == 0:
            self.refresh()

    @property
    def latest(self) -> dict[str, float]:
        """The newest value of each named series."""
        return {name: points[-1][1] for name, points in self.series.items()}

    @property
    def elapsed(self) -> float:
        """Seconds since the monitor was created."""
        return self._now() - self._start

    @property
    def rate(self) -> float | None:
        """Steps per second since the monitor was created (None before the first step)."""
        elapsed = self.elapsed
        return self.step / elapsed if self.step > 0 and elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None without a total or a rate)."""
        rate = self.rate
        if self.total is None or rate is None:
            return None
        return max(self.total - self.step, 0) / rate

    def status_text(self) -> str:
        """`step 40/100 (40%) · 12.5 steps/s · elapsed 00:03 · ETA 00:05`."""
        parts = [f"step {self.step}" + (f"/{self.total}" if self.total else "")]
        if self.total:
            parts[0] += f" ({100 * min(self.step / self.total, 1):.0f}%)"
        if self.rate is not None:
            parts.append(f"{self.rate:.3g} steps/s")
        parts.append(f"elapsed {format_duration(self.elapsed)}")
        if self.eta is not None:
            parts.append(f"ETA {format_duration(self.eta)}")
        return " · ".join(parts)

    def values_text(self) -> str:
        """`cost=0.25, acc=0.5`: the newest values, 4 significant digits."""
        return ", ".join(f"{name}={_fmt(value)}" for name, value in self.latest.items())

    def svg(self) -> str:
        """The chart of every series so far."""
        return line_chart_svg(self.series)

    # --- showing ---------------------------------------------------------------------------
    def _build_widget(self) -> None:
        widgets = require_ipywidgets()
        self._title = widgets.HTML(f"<b>{escape(self.title)}</b>")
        self._progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=float(self.total or 1), bar_style="info"
        )
        self._status = widgets.Label(self.status_text())
        self._values = widgets.Label("")
        self._chart = widgets.HTML("")
        self.widget = widgets.VBox(
            [self._title, widgets.HBox([self._progress, self._status]), self._values, self._chart]
        )

    def _start_text_bar(self) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # plain lines: see _print_line
            return
        self._bar = tqdm(
            total=self.total, desc=self.title, file=self._file, unit="step", dynamic_ncols=True
        )

    def _print_line(self) -> None:
        file = self._file or sys.stderr
        print(f"{self.title}: {self.status_text()} · {self.values_text()}", file=file, flush=True)

    def refresh(self) -> None:
        """Redraw now (update() calls this every `every` steps)."""
        if self.widget is not None:
            if self.total:
                self._progress.value = float(min(self.step, self.total))
            else:  # no total: a full bar once training runs
                self._progress.value = 1.0 if self.step else 0.0
            self._status.value = self.status_text()
            self._values.value = self.values_text()
            self._chart.value = self.svg()
        elif self._bar is not None:
            self._bar.set_postfix_str(self.values_text(), refresh=True)
        else:
            self._print_line()

    def close(self) -> None:
        """Final redraw; the bar turns green (or the text bar closes)."""
        self._finish("success")

    def _finish(self, bar_style: str) -> None:
        if self.closed:
            return
        self.refresh()
        self.closed = True
        if self.widget is not None:
            self._progress.bar_style = bar_style
        if self._bar is not None:
            self._bar.close()
        if self._handle is not None:  # the saved notebook keeps the final chart as HTML
            self._handle.update(self)

    def __enter__(self) -> TrainingMonitor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._finish("danger" if exc_type is not None else "success")

    def __repr__(self) -> str:
        return f"<TrainingMonitor {self.title!r}: {self.status_text()}; {self.values_text()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        html = f"<b>{escape(self.title)}</b><p>{escape(self.status_text())}</p>{self.svg()}"
        if self.widget is None:  # a text-frontend monitor shows its chart as an image
            return {"text/plain": repr(self), "text/html": html}
        return widget_bundle(self, repr(self), html, **kwargs)
