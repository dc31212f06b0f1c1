"""The base every single-output NumPy-backed op shares, and small helpers of lengths and gradients.

Kept apart from the shape ops so op families depend on a base, not on each other. May import
core.graph, core.op, core.dtypes and core.ops.math.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import math as m

ShapeEntry = int | Variable  # a length: a static int or a symbolic int scalar


class NumpyOp(Op):
    """A single-output op whose reference `perform` is its `numpy_callable`."""

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        output_storage[0][0] = self.numpy_callable(node)(*inputs)


def float_grad(g: Any, x: Variable) -> Any:
    """`g` cast to the dtype of x, or None when x is discrete (no gradient)."""
    if not dtypes.is_float(x.dtype) and x.dtype not in dtypes.COMPLEX_DTYPES:
        return None
    return m.cast(g, x.dtype)


def prod_lengths(entries: Sequence[ShapeEntry]) -> ShapeEntry:
    """Product of lengths: an int when every entry is static."""
    static = 1
    symbolic = []
    for e in entries:
        if isinstance(e, (int, np.integer)):
            static *= int(e)
        else:
            symbolic.append(e)
    if not symbolic:
        return static
    product = symbolic[0] if len(symbolic) == 1 else m.mul(*symbolic)
    return product if static == 1 else m.mul(product, static)
