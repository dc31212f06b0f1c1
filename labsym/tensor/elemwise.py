"""Theano's `theano.tensor.elemwise`: Elemwise, DimShuffle and the reduction base classes.

Facade: re-exports only.
"""

from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.reduce import All, Any, CAReduce, CAReduceDtype, Prod, ProdWithoutZeros, Sum

__all__ = [
    "All",
    "Any",
    "CAReduce",
    "CAReduceDtype",
    "DimShuffle",
    "Elemwise",
    "Prod",
    "ProdWithoutZeros",
    "Sum",
]
