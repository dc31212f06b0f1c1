"""Theano's `theano.gradient` module names: grad, Rop/Lop, jacobian/hessian, gradient-shaping ops.

Facade: re-exports only.
"""

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
    "zero_grad",
]
