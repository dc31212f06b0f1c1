"""Theano's `theano.tensor.extra_ops` namespace: cumsum, diff, bincount, unique, sort, Print...

Facade: re-exports only (repeat lives in core.ops.repeat, Print and Assert in core.ops.debug,
clip in core.ops.math).
"""

from labsym.core.ops.array_funcs import compress, fill_diagonal_offset
from labsym.core.ops.debug import Assert, Print, assert_op
from labsym.core.ops.extra_ops import (
    ArgSortOp,
    BinCountOp,
    CumOp,
    DiffOp,
    FillDiagonal,
    RavelMultiIndex,
    SearchsortedOp,
    SortOp,
    Unique,
    UnravelIndex,
    argsort,
    bincount,
    cumprod,
    cumsum,
    diff,
    fill_diagonal,
    flip,
    ravel_multi_index,
    roll,
    searchsorted,
    sort,
    squeeze,
    to_one_hot,
    unique,
    unravel_index,
)
from labsym.core.ops.math import clip
from labsym.core.ops.repeat import repeat
from labsym.core.ops.selection import Bartlett, bartlett

__all__ = [
    "ArgSortOp",
    "Assert",
    "Bartlett",
    "BinCountOp",
    "CumOp",
    "DiffOp",
    "FillDiagonal",
    "Print",
    "RavelMultiIndex",
    "SearchsortedOp",
    "SortOp",
    "Unique",
    "UnravelIndex",
    "argsort",
    "assert_op",
    "bartlett",
    "bincount",
    "clip",
    "compress",
    "cumprod",
    "cumsum",
    "diff",
    "fill_diagonal",
    "fill_diagonal_offset",
    "flip",
    "ravel_multi_index",
    "repeat",
    "roll",
    "searchsorted",
    "sort",
    "squeeze",
    "to_one_hot",
    "unique",
    "unravel_index",
]
