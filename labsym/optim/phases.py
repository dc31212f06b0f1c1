"""The pipeline: phases named in one ordered list, and the Rewriter a Mode runs.

A phase is merge (structural) or a set of rules applied to a fixed point; rules say which
phases they belong to. Nothing registers itself on import: the rule modules are listed here.
May import core and optim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from labsym.core.fgraph import FunctionGraph
from labsym.optim import driver
from labsym.optim.driver import History, PhaseTiming
from labsym.optim.patterns import Rule
from labsym.optim.rules import (
    canonicalize,
    constants,
    fusion,
    identities,
    inline,
    inplace,
    shape,
    specialize,
    stabilize,
)
from labsym.optim.user import user_rules

PHASES: tuple[str, ...] = ("merge", "canonicalize", "stabilize", "specialize", "fusion", "inplace")

RULE_MODULES = (
    constants,
    inline,
    identities,
    shape,
    canonicalize,
    stabilize,
    specialize,
    fusion,
    inplace,
)

OPTIMIZER_PHASES: dict[str, tuple[str, ...]] = {
    "fast_run": PHASES,
    "unsafe": PHASES,
    "fast_compile": ("merge", "canonicalize"),
    "merge": ("merge",),
    "o0": (),
    "None": (),
}


def builtin_rules() -> list[Rule]:
    """Every built-in rule, in declaration order."""
    return [rule for module in RULE_MODULES for rule in module.RULES]


class Rewriter:
    """Runs the chosen phases in pipeline order; `excluding` drops phases or rules by name."""

    def __init__(
        self,
        phases: Iterable[str],
        excluding: Iterable[str] = (),
        extra_rules: Sequence[Rule] = (),
        record_history: bool = False,
    ) -> None:
        wanted = set(phases)
        unknown = wanted - set(PHASES)
        if unknown:
            raise ValueError(
                f"unknown phases {sorted(unknown)}; the pipeline is {', '.join(PHASES)}"
            )
        self.excluding = set(excluding)
        self.phases = [p for p in PHASES if p in wanted and p not in self.excluding]
        self.extra_rules = list(extra_rules)
        self.record_history = record_history

    @property
    def rules(self) -> list[Rule]:
        """Built-in, extra and (registered now) user rules, minus the excluded names."""
        every = [*builtin_rules(), *self.extra_rules, *user_rules()]
        return [
            r
            for r in every
            if r.name not in self.excluding and not self.excluding & set(r.extra.get("tags", ()))
        ]

    def rules_of(self, phase: str) -> list[Rule]:
        return [r for r in self.rules if phase in r.phases]

    def __call__(self, fgraph: FunctionGraph) -> list[PhaseTiming]:
        history = History() if self.record_history else None
        timings = []
        for phase in self.phases:
            if phase == "merge":
                timings.append(driver.timed(phase, driver.merge, fgraph, history))
                continue
            rules = self.rules_of(phase)
            if rules:
                driver.merge(fgraph, history)
                timings.append(
                    driver.timed(phase, driver.apply_to_fixed_point, fgraph, rules, phase, history)
                )
        if history is not None:
            fgraph.history = history
        fgraph.phase_timings = timings
        return timings


def rewriter_for(
    optimizer: Any, including: Iterable[str] = (), excluding: Iterable[str] = (), **kw: Any
) -> Rewriter:
    """The Rewriter for a Theano optimizer name ('fast_run', 'fast_compile', None, ...)."""
    name = "None" if optimizer is None else str(optimizer)
    if name not in OPTIMIZER_PHASES:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZER_PHASES)}"
        )
    phases = set(OPTIMIZER_PHASES[name]) | {p for p in including if p in PHASES}
    return Rewriter(phases, excluding=excluding, **kw)
