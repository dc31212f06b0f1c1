"""ProfileStats: per-node call counts and times collected by profiled functions (plain data).

`summary()` prints Theano's text report; viz/profile.py renders the same rows as HTML tables.
May import config and nothing above core.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from labsym.config import config

IMPORTED_AT = time.time()  # "Time since theano import" in the report


@dataclass
class ProfileRow:
    """One line of a Class, Ops or Apply table: label, seconds, calls, applies, impl, node id."""

    label: str
    seconds: float
    calls: int
    applies: int
    impl: str = "Py"
    node_id: int = -1
    shapes: str = ""


class SummaryText(str):
    """The text `summary()` printed; IPython shows nothing more (it is already on the stream).

    Theano's summary() printed and returned None; labsym also returns the text so that
    `"Function profiling" in f.profile.summary()` works.
    """

    def _ipython_display_(self) -> None:
        """Displayed as nothing: the report was printed when summary() ran."""


@dataclass
class ProfileStats:
    """Times of one compiled function: total calls, compile phases and per-node seconds.

    Node i of the lists is node i of the compiled schedule (`nodes`, the function's toposort).
    """

    name: str = ""
    call_count: int = 0
    call_time: float = 0.0
    compile_time: float = 0.0
    optimizer_time: float = 0.0
    linker_time: float = 0.0
    c_compile_time: float = 0.0  # building the function's C module (also in the background)
    node_names: list[str] = field(default_factory=list)
    node_ops: list[str] = field(default_factory=list)
    node_classes: list[str] = field(default_factory=list)
    node_times: list[float] = field(default_factory=list)
    node_calls: list[int] = field(default_factory=list)
    node_shapes: list[str] = field(default_factory=list)
    node_run_shapes: list[Any] = field(default_factory=list)
    node_impls: list[str] = field(default_factory=list)  # "C" (native) or "Py" per node
    # nodes whose C code adds its kernel's own time to node_times (not the call around it)
    timed_in_c: set[int] = field(default_factory=set)
    atexit_print: bool = True  # Theano's: printed at exit when the profile flag is set
    nodes: list[Any] = field(default_factory=list, repr=False, compare=False)
    fgraph: Any = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> str:
        """Theano's name for the profile's title."""
        return self.name

    def register_nodes(self, nodes: list[Any], fgraph: Any = None) -> None:
        """Record the nodes of the compiled schedule (index i is node i) and their graph."""
        self.nodes = list(nodes)
        self.fgraph = fgraph
        self.node_names = [str(n) for n in nodes]
        self.node_ops = [str(n.op) for n in nodes]
        self.node_classes = [f"{type(n.op).__module__}.{type(n.op).__qualname__}" for n in nodes]
        self.node_shapes = [_static_shapes(n) for n in nodes]
        self.node_impls = ["Py"] * len(nodes)
        self.timed_in_c = set()
        # in place: compiled code may hold these lists already (C thunks bound to node_times)
        self.node_run_shapes[:] = [None] * len(nodes)
        self.node_times[:] = [0.0] * len(nodes)
        self.node_calls[:] = [0] * len(nodes)

    def shapes_of(self, index: int) -> str:
        """Node `index`'s output shapes: as the last call made them, else as its types know."""
        ran = self.node_run_shapes[index] if index < len(self.node_run_shapes) else None
        if ran is None:
            return self.node_shapes[index]
        return ", ".join("?" if shape is None else str(tuple(shape)) for shape in ran)

    def impl_of(self, index: int) -> str:
        """'C' if node `index` runs native code, else 'Py' (Theano's <type> column)."""
        return self.node_impls[index] if index < len(self.node_impls) else "Py"

    @property
    def thunk_time(self) -> float:
        """Seconds spent inside the nodes, summed over every call."""
        return sum(self.node_times)

    def rows_by(self, key: str) -> list[ProfileRow]:
        """Rows grouped by 'class', 'op' or 'apply', in Theano's order (slowest first)."""
        if key == "apply":
            rows = [
                ProfileRow(label, t, c, 1, self.impl_of(i), i, self.shapes_of(i))
                for i, (label, t, c) in enumerate(
                    zip(self.node_names, self.node_times, self.node_calls)
                )
            ]
            return sorted(rows, key=lambda r: (r.seconds, r.node_id), reverse=True)
        if key not in ("class", "op"):
            raise ValueError(f"rows_by(key) takes 'class', 'op' or 'apply', not {key!r}")
        labels = self.node_classes if key == "class" else self.node_ops
        grouped: dict[str, ProfileRow] = {}
        for i, (label, t, c) in enumerate(zip(labels, self.node_times, self.node_calls)):
            row = grouped.setdefault(label, ProfileRow(label, 0.0, 0, 0, self.impl_of(i)))
            row.seconds += t
            row.calls += c
            row.applies += 1
        return sorted(grouped.values(), key=lambda r: (r.seconds, r.calls, r.applies), reverse=True)

    def summary(
        self, file: Any = None, n_ops_to_print: int = 20, n_apply_to_print: int = 20
    ) -> SummaryText:
        """Print Theano's profile report to `file` (default sys.stderr) and return its text."""
        text = SummaryText("\n".join(self.summary_lines(n_ops_to_print, n_apply_to_print)))
        print(text, file=sys.stderr if file is None else file)
        return text

    def summary_lines(self, n_ops_to_print: int = 20, n_apply_to_print: int = 20) -> list[str]:
        """The report's lines: function totals, then the Class, Ops and Apply tables."""
        lines = self._function_lines()
        lines.append(f"Time since theano import {time.time() - IMPORTED_AT:.3f}s")
        if self.thunk_time > 0:
            lines += self._table_lines("class", n_ops_to_print)
            lines += self._table_lines("op", n_ops_to_print)
            lines += self._apply_lines(n_apply_to_print)
        elif self.call_count > 0:
            lines.append(
                "  No execution time accumulated (hint: try config profiling.time_thunks=1)"
            )
        return lines

    def _function_lines(self) -> list[str]:
        # labsym's generated __call__ is also Theano's Function.fn: both times are call_time
        lines = [
            "Function profiling",
            "==================",
            f"  Message: {self.name}",
            f"  Time in {self.call_count} calls to Function.__call__: {self.call_time:e}s",
        ]
        if self.call_time > 0:
            lines.append(f"  Time in Function.fn.__call__: {self.call_time:e}s (100.000%)")
            if self.thunk_time > 0:
                share = 100 * self.thunk_time / self.call_time
                lines.append(f"  Time in thunks: {self.thunk_time:e}s ({share:.3f}%)")
        c_build = []
        if self.c_compile_time > 0:  # only then: without C the layout is exactly Theano's
            c_build.append(
                f"       C module build time {self.c_compile_time:e}s "
                f"({self.node_impls.count('C')} of {len(self.node_names)} Apply nodes run C code)"
            )
        return lines + [
            f"  Total compile time: {self.compile_time:e}s",
            f"    Number of Apply nodes: {len(self.node_names)}",
            f"    Theano Optimizer time: {self.optimizer_time:e}s",
            f"       Theano validate time: {0.0:e}s",
            "    Theano Linker time (includes C, CUDA code generation/compiling): "
            f"{self.linker_time:e}s",
            f"       Import time {0.0:e}s",
            f"       Node make_thunk time {self.linker_time:e}s",
            *c_build,
            "",
        ]

    def _table_lines(self, key: str, n: int) -> list[str]:
        title, noun, name = {
            "class": ("Class", "Classes", "<Class name>"),
            "op": ("Ops", "Ops", "<Op name>"),
        }[key]
        calls_fmt = "{:6d}  " if key == "class" else "  {:4d}  "
        applies_fmt = " {:4d}  " if key == "class" else "  {:4d}  "
        headers = [*_COMMON_HEADERS, "<type>", "<#call>", "<#apply>"]
        fmt = " ".join([*_COMMON_FORMATS, "   {:2s} ", calls_fmt, applies_fmt, "{}"])
        maxlen = _name_width(headers)
        lines = [title, "---", " ".join([*headers, name])]
        whole, cumulative = self.thunk_time, 0.0
        rows = self.rows_by(key)
        for row in rows[:n]:
            if row.calls == 0:
                continue
            cumulative += row.seconds
            lines.append(
                fmt.format(
                    row.seconds * 100 / whole,
                    cumulative * 100 / whole,
                    row.seconds,
                    row.seconds / row.calls,
                    row.impl,
                    row.calls,
                    row.applies,
                    row.label[:maxlen],
                )
            )
        return lines + _remaining(rows[n:], whole, noun) + [""]

    def _apply_lines(self, n: int) -> list[str]:
        headers = [*_COMMON_HEADERS, "<#call>", "<id>"]
        fmt = " ".join([*_COMMON_FORMATS, " {:4d}  ", "{:3d}", "", "", "{}"])
        maxlen = _name_width(headers)
        lines = ["Apply", "------", " ".join([*headers, "<Apply name>"])]
        whole, cumulative = self.thunk_time, 0.0
        rows = self.rows_by("apply")
        for row in rows[:n]:
            cumulative += row.seconds
            if row.calls == 0:
                continue
            lines.append(
                fmt.format(
                    row.seconds * 100 / whole,
                    cumulative * 100 / whole,
                    row.seconds,
                    row.seconds / row.calls,
                    row.calls,
                    row.node_id,
                    row.label[:maxlen],
                )
            )
        return lines + _remaining(rows[n:], whole, "Apply instances") + [""]

    def merged(self, others: list[ProfileStats], message: str) -> ProfileStats:
        """One profile summing this one and `others` (Theano's sum of the profiles at exit)."""
        total = ProfileStats(name=message)
        for stats in [self, *others]:
            for attr in ("call_count", "call_time", "compile_time", "optimizer_time"):
                setattr(total, attr, getattr(total, attr) + getattr(stats, attr))
            total.linker_time += stats.linker_time
            total.c_compile_time += stats.c_compile_time
            for attr in ("node_names", "node_ops", "node_classes", "node_times", "node_calls"):
                getattr(total, attr).extend(getattr(stats, attr))
            total.node_shapes.extend(stats.node_shapes)
            total.node_run_shapes.extend(stats.node_run_shapes)
            total.node_impls.extend(stats.impl_of(i) for i in range(len(stats.node_names)))
            total.nodes.extend(stats.nodes)
        return total

    def __str__(self) -> str:
        return "\n".join(self.summary_lines())


_COMMON_HEADERS = ["<% time>", "<sum %>", "<apply time>", "<time per call>"]
_COMMON_FORMATS = ["  {:4.1f}% ", " {:5.1f}% ", "   {:7.3f}s ", "     {:8.2e}s "]


def _name_width(headers: list[str]) -> int:
    """Room left for the name column on a profiling.output_line_width-wide line."""
    used = sum(len(h) for h in headers) + len(headers)
    return max(config.profiling__output_line_width - used, 0)


def _remaining(rows: list[ProfileRow], whole: float, noun: str) -> list[str]:
    seconds = sum(r.seconds for r in rows)
    share = 100 * seconds / whole if whole else 0.0
    # Theano's Apply line uses %.2f%%, the Class and Ops lines %6.2f%%
    pct = f"{share:.2f}" if noun == "Apply instances" else f"{share:6.2f}"
    return [
        f"   ... (remaining {len(rows)} {noun} account for {pct}%({seconds:.2f}s) of the runtime)"
    ]


def _static_shapes(node: Any) -> str:
    """The node's output shapes as its types know them: '(None, 3)' per output."""
    shapes = []
    for out in node.outputs:
        shape = getattr(out.type, "shape", None)
        shapes.append("?" if shape is None else str(tuple(shape)))
    return ", ".join(shapes)


def print_profiles(
    profiles: list[ProfileStats], file: Any, n_ops_to_print: int = 20, n_apply_to_print: int = 20
) -> None:
    """Theano's report at exit: each used profile (costliest first), then their sum if several."""
    printed = []
    for stats in sorted(profiles, key=lambda s: s.compile_time + s.call_time, reverse=True):
        if stats.call_count >= 1 or stats.compile_time > 1:
            stats.summary(file, n_ops_to_print, n_apply_to_print)
            printed.append(stats)
        else:
            print("Skipping empty Profile")
    if len(printed) > 1:
        message = f"Sum of all({len(printed)}) printed profiles at exit excluding Scan op profile."
        printed[0].merged(printed[1:], message).summary(file, n_ops_to_print, n_apply_to_print)
