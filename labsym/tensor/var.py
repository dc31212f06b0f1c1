"""Theano's `theano.tensor.var`: the tensor variable classes (`type(x)` shows this module).

Facade: re-exports only.
"""

from labsym.core.variable import TensorConstant, TensorVariable
from labsym.core.variable import _TensorOperators as _tensor_py_operators

__all__ = ["TensorConstant", "TensorVariable", "_tensor_py_operators"]
