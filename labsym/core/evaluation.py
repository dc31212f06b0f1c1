"""Variable.eval: compile (and cache) a function of a variable's inputs, then call it.

The compiler is injected by the composition root (labsym.compile), since core may not
import it. May import core.graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_compiler: Callable[..., Any] | None = None


def set_compiler(compiler: Callable[..., Any]) -> None:
    """Called by labsym.compile: the `function` used by eval."""
    global _compiler
    _compiler = compiler


def evaluate(var: Any, inputs_to_values: dict) -> Any:
    """Evaluate `var` given values for its symbolic inputs (compiled once per input set)."""
    if _compiler is None:
        raise RuntimeError("import labsym (not only labsym.core) to evaluate variables")
    inputs = list(inputs_to_values)
    cache = var.tag.__dict__.setdefault("_eval_cache", {})
    key = tuple(id(v) for v in inputs)
    if key not in cache:
        cache[key] = _compiler(inputs, var, on_unused_input="ignore")
    return cache[key](*[inputs_to_values[v] for v in inputs])
