"""Theano's `theano.tensor` namespace (`import labsym.tensor as T`): constructors, math, shapes.

Facade: re-exports only; the namespace is Theano's: `tensor.basic` (functions, op classes,
constructors) plus the submodules Theano imported here.
"""

from typing import Any

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

# min_informative_str and pprint come from __getattr__ (printing, imported on first use)
__all__ = [*_basic_all, "bartlett", "fill_diagonal_offset", "min_informative_str", "pprint"]  # noqa: F405


def __getattr__(name: str) -> Any:
    """PEP 562: printing's pprint and min_informative_str, imported on first use (printing
    pulls in viz's graphviz/HTML writers, which compiling a graph never needs)."""
    if name not in ("min_informative_str", "pprint"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import labsym.printing

    value = getattr(labsym.printing, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included (for completion)."""
    return sorted(set(globals()) | {"min_informative_str", "pprint"})
