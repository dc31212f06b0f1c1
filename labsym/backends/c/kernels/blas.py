"""C kernels for Dot, Gemm, Gemv and Ger: calls into NumPy's (or SciPy's) BLAS (backends/c/blas.py).

A node stays on the NumPy engine when no BLAS is found, or for Dot when its result is not
float32/float64 computed in that dtype (NumPy's dot of integers uses no BLAS). Gemm, Gemv and
Ger whose destroy_map names input 0 (Theano's Gemm{inplace}) write into that input.
"""

from __future__ import annotations

import json

import numpy as np

from labsym.backends.c.blas import BLAS_CTYPES, blas_available, blas_kernel
from labsym.backends.c.kernel import CKernel, register
from labsym.core.graph import Apply
from labsym.core.ops.blas import Dot
from labsym.core.ops.gemm import Gemm, Gemv, Ger

VERSION = (2,)


def _prefix(dtype: str) -> str | None:
    """BLAS's type letter for an output dtype, or None when no BLAS computes it."""
    if dtype not in BLAS_CTYPES or not blas_available():
        return None
    return "s" if dtype == "float32" else "d"


def _kernel(body: str) -> CKernel:
    return blas_kernel(body, cache_version=VERSION)


@register(Dot)
def render_dot(node: Apply) -> CKernel | None:
    """dot of 1-d/2-d float operands: gemm, gemv or dot; mixed inputs cast as NumPy casts them."""
    out = node.outputs[0].dtype
    p = _prefix(out)
    a, b = (v.type.dtype for v in node.inputs)
    if p is None or np.result_type(a, b) != np.dtype(out):
        return None
    return _kernel(
        f"%(out0)s = labsym_blas_product_{p}(%(in0)s, %(in1)s);\n  if (!%(out0)s) %(fail)s"
    )


@register(Gemm, Gemv, Ger)
def render_gemm(node: Apply) -> CKernel | None:
    """Gemm/Gemv (b*z + a*dot(x, y)) and Ger (b*A + a*outer(x, y)), inplace when destroying."""
    p = _prefix(node.outputs[0].dtype)
    if p is None:
        return None
    inplace = int(getattr(node.op, "destroy_map", {}).get(0) == [0])
    fn = "ger" if isinstance(node.op, Ger) else "gemx"
    name = json.dumps(str(node.op)).replace("%", "%%")  # a C string literal inside the body
    args = ", ".join(f"%(in{i})s" for i in range(5))
    return _kernel(
        f"%(out0)s = labsym_blas_{fn}_{p}({args}, {inplace}, {name});\n  if (!%(out0)s) %(fail)s"
    )
