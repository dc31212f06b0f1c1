"""Theano's `theano.compile.function_module` names: Function, FunctionMaker, UnusedInputError.

Facade: re-exports only.
"""

from labsym.core.exceptions import MissingInputError
from labsym.core.function import Function, FunctionMaker, UnusedInputError

__all__ = ["Function", "FunctionMaker", "MissingInputError", "UnusedInputError"]
