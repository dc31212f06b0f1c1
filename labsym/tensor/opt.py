"""Theano's `theano.tensor.opt` names: register_canonicalize/_stabilize/_specialize and the
get_scalar_constant_value helper user rewrites call.

Facade: re-exports only.
"""

from labsym.core.ops.debug import Assert, assert_op
from labsym.core.ops.shape import MakeVector
from labsym.optim.user_api import (
    register_canonicalize,
    register_specialize,
    register_specialize_device,
    register_stabilize,
    register_uncanonicalize,
    register_useless,
)
from labsym.tensor.basic import NotScalarConstantError, get_scalar_constant_value

__all__ = [
    "Assert",
    "MakeVector",
    "NotScalarConstantError",
    "assert_op",
    "get_scalar_constant_value",
    "register_canonicalize",
    "register_specialize",
    "register_specialize_device",
    "register_stabilize",
    "register_uncanonicalize",
    "register_useless",
]
