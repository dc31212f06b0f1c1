"""Theano's global optimizers over local ones: TopoOptimizer, EquilibriumOptimizer, MergeOptimizer.

Theano's "Graph optimization" tutorial applies them to a FunctionGraph by hand
(`TopoOptimizer(local_simplify).optimize(fgraph)`); they run optim.driver's sweeps.
May import core and optim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from labsym.core.fgraph import FunctionGraph
from labsym.optim.driver import apply_to_fixed_point, merge
from labsym.optim.patterns import Rule
from labsym.optim.user_api import FromFunctionLocalOptimizer, LocalOptimizer

__all__ = ["EquilibriumOptimizer", "MergeOptimizer", "TopoOptimizer", "in2out", "out2in"]

_ORDERS = ("in_to_out", "out_to_in")


def _rule(local_opt: Any) -> Rule:
    """The driver Rule for a LocalOptimizer (Theano-style subclass too) or a `fn(node)`."""
    if not isinstance(local_opt, LocalOptimizer):
        if not callable(local_opt) or isinstance(local_opt, type):
            raise TypeError(
                f"{local_opt!r} is not a local optimizer; give a LocalOptimizer (local_optimizer, "
                "PatternSub, OpSub, or a subclass defining transform) or a function of a node"
            )
        local_opt = FromFunctionLocalOptimizer(local_opt, None)
    return local_opt.to_rule(("navigator",), local_opt.name)


class _Navigator:
    """Applies local optimizers to a FunctionGraph's nodes in one order, for some sweeps."""

    def __init__(self, local_opts: Sequence[Any], order: str, max_passes: int) -> None:
        if order not in _ORDERS:
            raise ValueError(f"order must be one of {', '.join(_ORDERS)}, got {order!r}")
        self.local_opts = list(local_opts)
        self.rules = [_rule(opt) for opt in self.local_opts]
        self.order = order
        self.max_passes = max_passes

    def optimize(self, fgraph: FunctionGraph) -> int:
        """Rewrite `fgraph` in place; returns the number of replacements made."""
        if not isinstance(fgraph, FunctionGraph):
            raise TypeError(f"optimize needs a FunctionGraph, got {type(fgraph).__name__}")
        return apply_to_fixed_point(
            fgraph, self.rules, "navigator", max_passes=self.max_passes, order=self.order
        )

    apply = optimize
    __call__ = optimize


class TopoOptimizer(_Navigator):
    """One sweep of `local_opt` (or a list of them) over the nodes, inputs to outputs first.

    Examples
    --------
    >>> fgraph = FunctionGraph([x, y], [(x * y) / y])
    >>> TopoOptimizer(local_simplify).optimize(fgraph)  # (x*y)/y -> x
    1
    """

    def __init__(
        self,
        local_opt: Any,
        order: str = "in_to_out",
        ignore_newtrees: bool = False,
        failure_callback: Callable[..., Any] | None = None,
    ) -> None:
        group = local_opt if isinstance(local_opt, (list, tuple)) else [local_opt]
        super().__init__(group, order, max_passes=1)


class EquilibriumOptimizer(_Navigator):
    """Sweeps of all `optimizers` until one changes nothing (Theano's fixed-point navigator).

    `max_use_ratio` bounds the sweeps at that many times the graph's node count, as a guard
    against rewrites that undo each other.
    """

    def __init__(
        self,
        optimizers: Sequence[Any],
        failure_callback: Callable[..., Any] | None = None,
        ignore_newtrees: bool = True,
        tracks_on_change_inputs: bool = False,
        max_use_ratio: float | None = None,
        final_optimizers: Sequence[Any] | None = None,
        cleanup_optimizers: Sequence[Any] | None = None,
    ) -> None:
        if isinstance(optimizers, (str, bytes)) or not isinstance(optimizers, Sequence):
            raise TypeError(f"EquilibriumOptimizer needs a list of optimizers, got {optimizers!r}")
        opts = [*optimizers, *(final_optimizers or ()), *(cleanup_optimizers or ())]
        super().__init__(opts, "in_to_out", max_passes=30)
        self.max_use_ratio = max_use_ratio

    def optimize(self, fgraph: FunctionGraph) -> int:
        if self.max_use_ratio is not None:
            self.max_passes = max(1, int(self.max_use_ratio * max(1, len(fgraph.apply_nodes))))
        return super().optimize(fgraph)

    apply = optimize
    __call__ = optimize


class MergeOptimizer:
    """Merge identical constants and identical computations (same op on the same inputs)."""

    def optimize(self, fgraph: FunctionGraph) -> int:
        """Merge in place; returns the number of merges."""
        return merge(fgraph)

    apply = optimize
    __call__ = optimize


def in2out(*local_opts: Any, **kwargs: Any) -> TopoOptimizer:
    """Theano's helper: one sweep of the local optimizers from the inputs to the outputs."""
    return TopoOptimizer(list(local_opts), order="in_to_out")


def out2in(*local_opts: Any, **kwargs: Any) -> TopoOptimizer:
    """Theano's helper: one sweep of the local optimizers from the outputs to the inputs."""
    return TopoOptimizer(list(local_opts), order="out_to_in")
