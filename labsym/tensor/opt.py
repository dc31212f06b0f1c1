"""Theano's `theano.tensor.opt` names: register_canonicalize, _stabilize and _specialize.

Facade: re-exports only.
"""

from labsym.optim.user_api import register_canonicalize, register_specialize, register_stabilize

__all__ = ["register_canonicalize", "register_specialize", "register_stabilize"]
