"""Theano's `theano.gradient` module names: grad, Rop/Lop, jacobian/hessian, gradient-shaping ops.

Facade: re-exports, and subgraph_grad composed from grad.
"""

from typing import Any

from labsym.core.autodiff import (
    DisconnectedInputError,
    GradientError,
    Lop,
    NullTypeGradError,
    Rop,
    grad,
    grad_not_implemented,
    grad_undefined,
    hessian,
    jacobian,
)
from labsym.core.gradient_ops import (
    DisconnectedGrad,
    GradClip,
    GradScale,
    UndefinedGrad,
    ZeroGrad,
    disconnected_grad,
    grad_clip,
    grad_scale,
    undefined_grad,
    zero_grad,
)
from labsym.core.numeric_grad import numeric_grad
from labsym.gradient_check import GradientCheckError, verify_grad

consider_constant = zero_grad  # Theano's ConsiderConstant: the value, with a zero gradient

__all__ = [
    "DisconnectedGrad",
    "DisconnectedInputError",
    "GradClip",
    "GradScale",
    "GradientCheckError",
    "GradientError",
    "Lop",
    "NullTypeGradError",
    "Rop",
    "consider_constant",
    "UndefinedGrad",
    "ZeroGrad",
    "disconnected_grad",
    "grad",
    "grad_clip",
    "grad_not_implemented",
    "grad_scale",
    "grad_undefined",
    "hessian",
    "jacobian",
    "numeric_grad",
    "undefined_grad",
    "verify_grad",
    "subgraph_grad",
    "zero_grad",
]


def subgraph_grad(
    wrt: list, end: list, start: dict | None = None, cost: Any = None, details: bool = False
) -> tuple:
    """Gradients of `cost` and/or known `start` gradients, back to `wrt` and stopping at `end`.

    Theano's layer-by-layer backpropagation helper: returns (grads wrt `wrt`, grads wrt `end`),
    and with `details` also the lists of `start`-only and `cost`-only gradients; the `end`
    variables are held constant, disconnected inputs are ignored.
    """
    if cost is None and start is None:
        raise TypeError("subgraph_grad: give a cost, start gradients, or both")
    if not isinstance(end, list) or not isinstance(wrt, list):
        raise TypeError("subgraph_grad: wrt and end must be lists of variables")
    if start is not None and not isinstance(start, dict):
        raise TypeError("subgraph_grad: start must be a dict {variable: its gradient}")
    params = list(dict.fromkeys(wrt + end))

    def grads_of(cost_: Any, known: dict | None) -> list:
        # Theano's consider_constant=end still gives each end variable its own gradient;
        # labsym's grad blocks gradients *into* a constant, so each end variable is asked
        # for with only the other end variables held constant.
        def one(p: Any) -> Any:
            held = [e for e in end if e is not p]
            return grad(
                cost_, p, consider_constant=held, known_grads=known, disconnected_inputs="ignore"
            )

        return [one(p) for p in params]

    start_grads = None if start is None else grads_of(None, start)
    cost_grads = None if cost is None else grads_of(cost, None)
    if start_grads is None:
        grads = cost_grads
    else:
        grads = list(start_grads)
        if cost_grads is not None:
            grads = [g + c for g, c in zip(grads, cost_grads, strict=True)]
    by_param = dict(zip(params, grads, strict=True))
    wrt_grads = [by_param[k] for k in wrt]
    end_grads = [by_param[k] for k in end]
    if details:
        return wrt_grads, end_grads, start_grads, cost_grads
    return wrt_grads, end_grads
