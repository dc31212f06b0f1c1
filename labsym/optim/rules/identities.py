"""Removes ops that only shape gradients (zero_grad, grad_clip, ...): at run time they are x.

Gradients are built before compiling, so by then these ops have done their job.
May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

from labsym.core.gradient_ops import _GradientView
from labsym.core.graph import Apply
from labsym.optim.patterns import Rule


def drop_gradient_view(fgraph: Any, node: Apply) -> list | None:
    """zero_grad(x), disconnected_grad(x), grad_clip(x, ...), grad_scale(x, k) -> x."""
    return [node.inputs[0]]


RULES = [
    Rule(
        "drop_gradient_views",
        ("canonicalize",),
        node_rule=drop_gradient_view,
        tracks=(_GradientView,),
        math="grad_clip(x), grad_scale(x), zero_grad(x), ... -> x",
    ),
]
