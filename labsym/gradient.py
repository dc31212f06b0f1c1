"""Theano's `theano.gradient` module names: grad, verify_grad, Rop, Lop and the gradient errors.

Facade: re-exports only.
"""

from labsym.core.autodiff import (
    DisconnectedInputError,
    GradientError,
    Lop,
    NullTypeGradError,
    Rop,
    grad,
    grad_undefined,
)
from labsym.gradient_check import GradientCheckError, verify_grad

__all__ = [
    "DisconnectedInputError",
    "GradientCheckError",
    "GradientError",
    "Lop",
    "NullTypeGradError",
    "Rop",
    "grad",
    "grad_undefined",
    "verify_grad",
]
