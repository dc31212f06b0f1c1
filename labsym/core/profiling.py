"""ProfileStats: per-node call counts and times collected by profiled functions (plain data).

viz/ renders it as tables and charts; `summary()` gives Theano's text report.
May import nothing above core.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProfileStats:
    """Times of one compiled function: total calls, compile phases and per-node seconds."""

    name: str = ""
    call_count: int = 0
    call_time: float = 0.0
    compile_time: float = 0.0
    optimizer_time: float = 0.0
    linker_time: float = 0.0
    node_names: list[str] = field(default_factory=list)
    node_ops: list[str] = field(default_factory=list)
    node_classes: list[str] = field(default_factory=list)
    node_times: list[float] = field(default_factory=list)
    node_calls: list[int] = field(default_factory=list)

    def register_nodes(self, nodes: list[Any]) -> None:
        """Record the nodes of the compiled schedule (index i is node i)."""
        self.node_names = [str(n) for n in nodes]
        self.node_ops = [str(n.op) for n in nodes]
        self.node_classes = [type(n.op).__name__ for n in nodes]
        self.node_times = [0.0] * len(nodes)
        self.node_calls = [0] * len(nodes)

    def rows_by(self, key: str) -> list[tuple[str, float, int, int]]:
        """(label, seconds, calls, n_apply) grouped by 'class', 'op' or 'apply', slowest first."""
        labels = {"class": self.node_classes, "op": self.node_ops, "apply": self.node_names}[key]
        times: dict[str, float] = defaultdict(float)
        calls: dict[str, int] = defaultdict(int)
        applies: dict[str, int] = defaultdict(int)
        for label, t, c in zip(labels, self.node_times, self.node_calls):
            times[label] += t
            calls[label] += c
            applies[label] += 1
        return sorted(((k, times[k], calls[k], applies[k]) for k in times), key=lambda r: -r[1])

    def summary(self, n_rows: int = 20) -> str:
        """Theano-style text report: totals, then Class, Ops and Apply tables."""
        thunk_time = sum(self.node_times)
        lines = [
            "Function profiling",
            "==================",
            f"  Message: {self.name}",
            f"  Time in {self.call_count} calls to Function.__call__: {self.call_time:e}s",
            f"  Time in thunks: {thunk_time:e}s ({_pct(thunk_time, self.call_time)})",
            f"  Total compile time: {self.compile_time:e}s",
            f"    Optimizer time: {self.optimizer_time:e}s",
            f"    Linker time: {self.linker_time:e}s",
        ]
        for key, title in (("class", "Class"), ("op", "Ops"), ("apply", "Apply")):
            lines += [
                "",
                title,
                "-" * len(title),
                "<% time> <sum %> <apply time> <time per call> <#call> <#apply> <name>",
            ]
            cumulative = 0.0
            for label, t, c, a in self.rows_by(key)[:n_rows]:
                cumulative += t
                per_call = t / c if c else 0.0
                lines.append(
                    f"  {_pct(t, thunk_time):>6} {_pct(cumulative, thunk_time):>6} {t:.3e}s "
                    f"{per_call:.2e}s {c:>6} {a:>4} {label}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"
