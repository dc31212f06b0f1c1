"""Theano's `theano.tensor.sort`: sort, argsort and top-k (`from theano.tensor.sort import ...`).

Facade: re-exports only (SortOp/ArgSortOp live in core.ops.extra_ops, topk in array_funcs).
"""

from labsym.core.ops.array_funcs import argtopk, topk, topk_and_argtopk
from labsym.core.ops.extra_ops import ArgSortOp, SortOp, argsort, sort

__all__ = ["ArgSortOp", "SortOp", "argsort", "argtopk", "sort", "topk", "topk_and_argtopk"]
