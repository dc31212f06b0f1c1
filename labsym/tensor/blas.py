"""Theano's `theano.tensor.blas`: the BLAS op classes and instances.

Re-exports, plus Theano's gemm_inplace. labsym's Dot covers Theano's 2-d specialisation Dot22.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.graph import Apply
from labsym.core.ops.blas import Dot
from labsym.core.ops.gemm import Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace, ger

Dot22 = Dot  # Theano's matrix x matrix Dot; labsym keeps one Dot class for every rank


class GemmInplace(Gemm):
    """Theano's Gemm{inplace}: Z <- b*Z + a*dot(X, Y) written into Z's own buffer.

    A destructive op: a function may only apply it to an input declared
    `In(z, mutable=True)` and compiled with `accept_inplace=True`, as in Theano.
    """

    destroy_map = {0: [0]}

    def __str__(self) -> str:
        return "Gemm{inplace}"

    def numpy_callable(self, node: Apply):
        op = self

        def gemm_inplace_call(z: np.ndarray, a: Any, x: np.ndarray, y: np.ndarray, b: Any):
            product = np.dot(x, y)
            if product.shape != z.shape:
                raise ValueError(
                    f"{op}: shapes do not match: z {z.shape}, x {x.shape}, y {y.shape}"
                )
            if float(b) == 0:  # as BLAS: b == 0 means Z is not read
                z[...] = 0
            elif float(b) != 1:
                z *= b
            z += float(a) * product
            return z

        return gemm_inplace_call


gemm_inplace = GemmInplace()

__all__ = [
    "Dot",
    "Dot22",
    "Gemm",
    "GemmInplace",
    "Gemv",
    "Ger",
    "gemm_inplace",
    "gemm_no_inplace",
    "gemv_no_inplace",
    "ger",
]
