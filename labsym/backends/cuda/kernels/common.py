"""What every kernel source shares: CUDA types per dtype, the preamble, literals, launch sizes.

The preamble needs no header: NVRTC compiles it as it is, and emu.h supplies the same names
to gcc. May import core and backends.cuda only.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np

from labsym.backends.cuda.protocol import MAX_NDIM, CudaKernel

CU_TYPES = {
    "bool": "unsigned char",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "float32": "float",
    "float64": "double",
}
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float32", "float64")
BLOCK = 256  # threads per block of the 1-D kernels
MAX_BLOCKS = 2048  # grid-stride loops cover the rest


def _helpers() -> str:
    """NumPy's floor division, remainder and integer power, one device function per dtype."""
    parts = []
    for d in (*INT_DTYPES, "bool"):
        t = CU_TYPES[d]
        parts.append(
            f"__device__ inline {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) return 0;"
            f" {t} q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1; return q; }}\n"
            f"__device__ inline {t} py_mod_{d}({t} a, {t} b) {{ if (b == 0) return 0;"
            f" {t} r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }}\n"
            f"__device__ inline {t} ls_ipow_{d}({t} a, {t} b) {{"
            f" {t} r = 1; if (b < 0) return 0;"
            f" while (b != 0) {{ if (b & 1) r *= a; a *= a; b >>= 1; }} return r; }}"
        )
    for d in FLOAT_DTYPES:
        t = CU_TYPES[d]
        parts.append(
            f"__device__ inline {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) return a / b;"
            f" {t} mod = fmod(a, b); {t} div = (a - mod) / b;"
            f" if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;"
            f" if (div != 0) {{ {t} f = floor(div); if (div - f > ({t})0.5) f += 1; return f; }}"
            f" return copysign(({t})0, a / b); }}\n"
            f"__device__ inline {t} py_mod_{d}({t} a, {t} b) {{"
            f" if (b == 0) return fmod(a, b);"
            f" {t} mod = fmod(a, b); if (mod != 0) {{ if ((b < 0) != (mod < 0)) mod += b; }}"
            f" else mod = copysign(({t})0, b); return mod; }}"
        )
    return "\n".join(parts)


PREAMBLE = f"""#ifndef LS_CUDA_PREAMBLE
#define LS_CUDA_PREAMBLE
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
struct ls_dims {{ long long v[{MAX_NDIM}]; }};
#define LS_INF __longlong_as_double(0x7ff0000000000000LL)
#define LS_NAN __longlong_as_double(0x7ff8000000000000LL)
{_helpers()}
#endif
"""


def ctype(dtype: str) -> str:
    """The CUDA type of a supported dtype."""
    return CU_TYPES[dtype]


def supported_dtype(dtype: str) -> bool:
    return dtype in CU_TYPES


def literal(value: object, dtype: str) -> str:
    """`value` as a CUDA expression of type `dtype` (exact for every finite value)."""
    t = CU_TYPES[dtype]
    if dtype in FLOAT_DTYPES:
        v = float(np.asarray(value, dtype=dtype))
        if math.isnan(v):
            return f"(({t})LS_NAN)"
        if math.isinf(v):
            return f"(({t})({'-' if v < 0 else ''}LS_INF))"
        return f"(({t}){v!r})"
    v = int(np.asarray(value, dtype=dtype))
    if dtype == "uint64":
        return f"(({t}){v}ULL)"
    if v == -(2**63):
        return f"(({t})(-9223372036854775807LL - 1))"
    return f"(({t}){v}LL)"


def kernel(stem: str, params: Sequence[str], signature: str, body: str) -> CudaKernel:
    """A CudaKernel named after `stem` and a hash of its text (unique within a batch)."""
    digest = hashlib.sha1((stem + signature + body).encode()).hexdigest()[:12]
    name = f"ls_{stem}_{digest}"
    source = f'{PREAMBLE}\nextern "C" __global__ void {name}({signature})\n{{\n{body}}}\n'
    return CudaKernel(name, source, tuple(params))


def grid_1d(n: int, block: int = BLOCK) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(grid, block) for a grid-stride loop over n items."""
    blocks = max(1, min(MAX_BLOCKS, -(-n // block)))
    return (blocks, 1, 1), (block, 1, 1)


def dims(values: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """A ("dims", ...) launch argument, padded to MAX_NDIM."""
    if len(values) > MAX_NDIM:
        raise ValueError(f"at most {MAX_NDIM} dimensions, got {len(values)}")
    return ("dims", tuple(int(v) for v in values) + (0,) * (MAX_NDIM - len(values)))


def collapse(
    shape: Sequence[int], strides: Sequence[Sequence[int]]
) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Drop length-1 axes and merge axes every operand walks as one; at least one axis stays."""
    keep = [d for d in range(len(shape)) if shape[d] != 1]
    out_shape = [shape[d] for d in keep]
    out_strides = [[s[d] for d in keep] for s in strides]
    d = len(out_shape) - 1
    while d > 0:
        if all(s[d - 1] == s[d] * out_shape[d] for s in out_strides):
            out_shape[d - 1] *= out_shape[d]
            del out_shape[d]
            for s in out_strides:
                s[d - 1] = s[d]
                del s[d]
        d -= 1
    if not out_shape:
        return (1,), [(0,) for _ in strides]
    return tuple(out_shape), [tuple(s) for s in out_strides]


def index_code(ndim: int, names: Sequence[str], linear: str = "i") -> str:
    """C statements turning `linear` into element offsets `o_<name>` from shape and strides.

    Operand `name` has its strides in the ls_dims parameter `st_<name>`; the shape is `shape`.
    """
    lines = [f"long long r = {linear};"]
    lines += [f"long long o_{n} = 0;" for n in names]
    for d in range(ndim - 1, -1, -1):
        if d:
            lines.append(f"long long c{d} = r % shape.v[{d}]; r /= shape.v[{d}];")
        else:
            lines.append("long long c0 = r;")
        lines += [f"o_{n} += c{d} * st_{n}.v[{d}];" for n in names]
    return "\n".join("        " + line for line in lines) + "\n"
