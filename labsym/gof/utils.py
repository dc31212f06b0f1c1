"""Theano's `theano.gof.utils` names custom ops use: MethodNotDefined, scratchpad.

Facade: re-exports only.
"""

from labsym.core.exceptions import MethodNotDefined
from labsym.utils import Scratchpad as scratchpad  # noqa: N813 - Theano's lower-case name

__all__ = ["MethodNotDefined", "scratchpad"]
