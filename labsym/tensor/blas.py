"""Theano's `theano.tensor.blas`: the BLAS op classes and instances.

Facade: re-exports only. labsym's Dot covers Theano's 2-d specialisation Dot22.
"""

from labsym.core.ops.blas import Dot
from labsym.core.ops.gemm import Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace, ger

Dot22 = Dot  # Theano's matrix x matrix Dot; labsym keeps one Dot class for every rank

__all__ = ["Dot", "Dot22", "Gemm", "Gemv", "Ger", "gemm_no_inplace", "gemv_no_inplace", "ger"]
