"""Theano's `theano.tensor` namespace (`import labsym.tensor as T`): constructors, math, shapes.

Facade: re-exports only; the namespace is Theano's: `tensor.basic` (functions, op classes,
constructors) plus the submodules Theano imported here.
"""

from labsym.printing import min_informative_str, pprint
from labsym.tensor import (
    basic,
    blas,
    elemwise,
    extra_ops,
    nlinalg,
    nnet,
    opt,
    shared_randomstreams,
    sharedvar,
    signal,
    slinalg,
    sort,
    subtensor,
    var,
    xlogx,
)
from labsym.tensor.basic import *  # noqa: F403 - Theano's `from theano.tensor.basic import *`
from labsym.tensor.basic import __all__ as _basic_all
from labsym.tensor.extra_ops import bartlett, fill_diagonal_offset

__all__ = [*_basic_all, "bartlett", "fill_diagonal_offset", "min_informative_str", "pprint"]
