"""Counter-based random numbers: Philox4x32-10 on the device and the same draws in NumPy.

Draw i of a stream (key, offset) comes from the Philox block with counter
(i // per_block + offset low word, high word, stream low, stream high), so a draw depends
only on its index: any thread layout, the CPU reference and a GPU give identical bits.
Uniforms: float32 from the top 24 bits of one word, float64 from 53 bits of two words,
both in [0, 1); normals: Box-Muller on consecutive uniform pairs.
May import core and backends.cuda only.
"""

from __future__ import annotations

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, fixed_args

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
ROUNDS = 10
_MASK = 0xFFFFFFFF


def philox4x32(counters: np.ndarray, key: tuple[int, int], rounds: int = ROUNDS) -> np.ndarray:
    """Philox4x32 of each row of `counters` (n x 4 uint32) under `key` (two uint32 words)."""
    c = [np.asarray(counters, dtype=np.uint64)[:, j].copy() for j in range(4)]
    k0, k1 = np.uint64(key[0] & _MASK), np.uint64(key[1] & _MASK)
    mask, shift = np.uint64(_MASK), np.uint64(32)
    for r in range(rounds):
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        hi0, lo0, hi1, lo1 = p0 >> shift, p0 & mask, p1 >> shift, p1 & mask
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
        if r != rounds - 1:
            k0, k1 = (k0 + np.uint64(W0)) & mask, (k1 + np.uint64(W1)) & mask
    return np.stack(c, axis=1).astype(np.uint32)


def _per_block(dtype: str) -> int:
    return 4 if dtype == "float32" else 2


def _counters(n_blocks: int, offset: int, stream: int) -> np.ndarray:
    block = np.arange(n_blocks, dtype=np.uint64) + np.uint64(offset)
    ctr = np.empty((n_blocks, 4), dtype=np.uint64)
    ctr[:, 0], ctr[:, 1] = block & np.uint64(_MASK), block >> np.uint64(32)
    ctr[:, 2], ctr[:, 3] = stream & _MASK, (stream >> 32) & _MASK
    return ctr


def uniform_reference(
    n: int, key: tuple[int, int], dtype: str = "float32", offset: int = 0, stream: int = 0
) -> np.ndarray:
    """The n uniform draws in [0, 1) that `plan_uniform` computes on a device, in NumPy."""
    per = _per_block(dtype)
    words = philox4x32(_counters(-(-n // per), offset, stream), key).astype(np.uint64)
    if dtype == "float32":
        return ((words.reshape(-1)[:n] >> np.uint64(8)).astype(np.float32)) * np.float32(2**-24)
    pairs = words.reshape(-1, 2)[:n]
    bits = ((pairs[:, 0] << np.uint64(21)) ^ (pairs[:, 1] >> np.uint64(11))) & np.uint64(2**53 - 1)
    return bits.astype(np.float64) * 2.0**-53


def normal_reference(
    n: int, key: tuple[int, int], dtype: str = "float32", offset: int = 0, stream: int = 0
) -> np.ndarray:
    """n standard normal draws (Box-Muller on uniform pairs), as `plan_normal` computes them."""
    u = uniform_reference(n + (n % 2), key, dtype, offset, stream).reshape(-1, 2)
    radius = np.sqrt(np.asarray(-2.0, dtype) * np.log(np.asarray(1.0, dtype) - u[:, 0]))
    angle = np.asarray(2.0 * np.pi, dtype) * u[:, 1]
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).reshape(-1)[:n]


_PHILOX = f"""#ifndef LS_PHILOX
#define LS_PHILOX
__device__ inline void ls_philox4x32(unsigned int c[4], unsigned int k0, unsigned int k1) {{
    for (int r = 0; r < {ROUNDS}; r++) {{
        unsigned int hi0 = __umulhi({M0:#x}u, c[0]), lo0 = {M0:#x}u * c[0];
        unsigned int hi1 = __umulhi({M1:#x}u, c[2]), lo1 = {M1:#x}u * c[2];
        unsigned int n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += {W0:#x}u; k1 += {W1:#x}u;
    }}
}}
#endif
"""


def _uniform_values(dtype: str) -> str:
    """Statements filling `float/double u[per]` from the block `c`."""
    if dtype == "float32":
        return "float u[4]; for (int q = 0; q < 4; q++) u[q] = (c[q] >> 8) * 0x1p-24f;\n"
    return (
        "double u[2]; for (int q = 0; q < 2; q++) {\n"
        "    unsigned long long b = (((unsigned long long)c[2 * q] << 21)"
        " ^ ((unsigned long long)c[2 * q + 1] >> 11)) & 0x1fffffffffffffULL;\n"
        "    u[q] = b * 0x1p-53; }\n"
    )


def _kernel(dtype: str, normal: bool):
    t = common.ctype(dtype)
    per = _per_block(dtype)
    body = (
        "    for (long long blk = (long long)blockIdx.x * blockDim.x + threadIdx.x;"
        f" blk * {per} < n; blk += (long long)blockDim.x * gridDim.x) {{\n"
        "        unsigned long long b = blk + (unsigned long long)offset;\n"
        "        unsigned int c[4] = {(unsigned int)b, (unsigned int)(b >> 32),"
        " (unsigned int)stream, (unsigned int)((unsigned long long)stream >> 32)};\n"
        "        ls_philox4x32(c, (unsigned int)key0, (unsigned int)key1);\n"
        "        " + _uniform_values(dtype)
    )
    if normal:
        body += (
            f"        for (int q = 0; q < {per}; q += 2) {{\n"
            f"            {t} radius = sqrt(({t})-2.0 * log(({t})1.0 - u[q]));\n"
            f"            {t} angle = ({t})(2.0 * M_PI) * u[q + 1];\n"
            "            u[q] = radius * cos(angle); u[q + 1] = radius * sin(angle); }\n"
        )
    body += (
        f"        for (int q = 0; q < {per}; q++)\n"
        f"            if (blk * {per} + q < n) out[blk * {per} + q] = u[q];\n"
        "    }\n"
    )
    params = ("i64", "i64", "i64", "i64", "i64", "ptr")
    sig = (
        f"long long n, long long key0, long long key1, long long offset, long long stream, {t}* out"
    )
    k = common.kernel(f"philox_{'normal' if normal else 'uniform'}", params, sig, body)
    return type(k)(k.name, _PHILOX + k.source, k.params)


def _plan(n: int, key: tuple[int, int], dtype: str, offset: int, stream: int, normal: bool) -> Plan:
    if dtype not in ("float32", "float64"):
        raise ValueError(f"random draws are float32 or float64, not {dtype}")
    out = ArrayMeta.contiguous((n,), dtype)
    if n == 0:
        return Plan((out,), ())
    kern = _kernel(dtype, normal)
    grid, block = common.grid_1d(-(-n // _per_block(dtype)))
    k0, k1 = int(key[0]) & _MASK, int(key[1]) & _MASK

    build = fixed_args([*[("i64", v) for v in (n, k0, k1, offset, stream)], Ptr("out", 0)])
    return Plan((out,), (Launch(kern, grid, block, build),))


def plan_uniform(
    n: int, key: tuple[int, int], dtype: str = "float32", offset: int = 0, stream: int = 0
) -> Plan:
    """n uniform draws in [0, 1) into one output; equal to uniform_reference bit for bit.

    `offset` counts Philox blocks already used by this (key, stream): 4 float32 or 2 float64
    draws per block, so a caller advances it by ceil(n / per_block) after each call."""
    return _plan(n, key, dtype, offset, stream, False)


def plan_normal(
    n: int, key: tuple[int, int], dtype: str = "float32", offset: int = 0, stream: int = 0
) -> Plan:
    """n standard normal draws (Box-Muller); equal to normal_reference up to libm rounding."""
    return _plan(n, key, dtype, offset, stream, True)
