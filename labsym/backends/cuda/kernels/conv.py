"""2-d convolution by im2col + one cuBLAS GEMM, as the CPU op: Conv2d, Conv2dGradWeights and
Conv2dGradInputs (col2im as a gather, so no atomics).

With K = C*kh*kw rows and P = N*oh*ow columns, every op is one GEMM between workspace matrices:
  forward       out(F x P) = Wm(F x K) . cols(K x P)
  grad weights  gW(F x K)  = gz(F x P) . cols(K x P)^T
  grad inputs   cols(K x P) = Wm(F x K)^T . gz(F x P), then col2im
Wm is the (flipped, for filter_flip) filter bank and the F x P matrices are NCHW arrays permuted
by copy kernels. May import core and backends.cuda only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import (
    ArrayMeta,
    GemmCall,
    Launch,
    Plan,
    Ptr,
    Unsupported,
    fixed_args,
)
from labsym.backends.cuda.kernels.elemwise import Program, map_launch
from labsym.core.graph import Apply
from labsym.core.ops import conv as core_conv

_OPS = (core_conv.Conv2d, core_conv.Conv2dGradInputs, core_conv.Conv2dGradWeights)
_GEOMETRY_PARAMS = ["P0", "P1", "S0", "S1", "D0", "D1"]


def handles(node: Apply) -> bool:
    return type(node.op) in _OPS


def supports(node: Apply) -> bool:
    return all(common.supported_dtype(v.dtype) for v in (*node.inputs[:2], *node.outputs))


def host_inputs(node: Apply) -> tuple[int, ...]:
    return () if type(node.op) is core_conv.Conv2d else (2, 3)


def _im2col_kernel(x_dtype: str, dtype: str):
    """cols[(c, i, j), (n, oy, ox)] = x[n, c, oy*S0 - P0 + i*D0, ox*S1 - P1 + j*D1] (0 outside)."""
    t = common.ctype(dtype)
    names = ["total", "P", "C", "H", "W", "OH", "OW", "KH", "KW", *_GEOMETRY_PARAMS]
    sig = [f"long long {n}" for n in names]
    sig += [f"const {common.ctype(x_dtype)}* x", "long long sn", "long long sc"]
    sig += ["long long sh", "long long sw", f"{t}* cols"]
    params = ["i64"] * len(names) + ["ptr", "i64", "i64", "i64", "i64", "ptr"]
    body = (
        "    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;"
        " e += (long long)blockDim.x * gridDim.x) {\n"
        "        long long p = e % P, row = e / P;\n"
        "        long long j = row % KW, i = (row / KW) % KH, c = row / (KW * KH);\n"
        "        long long ox = p % OW, oy = (p / OW) % OH, n = p / (OW * OH);\n"
        "        long long y = oy * S0 - P0 + i * D0, q = ox * S1 - P1 + j * D1;\n"
        "        cols[e] = (y >= 0 && y < H && q >= 0 && q < W)"
        f" ? ({t})x[n * sn + c * sc + y * sh + q * sw] : ({t})0;\n"
        "    }\n"
    )
    return common.kernel("im2col", params, ", ".join(sig), body)


def _col2im_kernel(dtype: str):
    """out[n, c, y, q] = the sum of cols entries whose window sample is (y, q)."""
    t = common.ctype(dtype)
    names = ["total", "P", "C", "H", "W", "OH", "OW", "KH", "KW", *_GEOMETRY_PARAMS]
    sig = [f"long long {n}" for n in names] + [f"const {t}* cols", f"{t}* out"]
    params = ["i64"] * len(names) + ["ptr", "ptr"]
    body = (
        "    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;"
        " e += (long long)blockDim.x * gridDim.x) {\n"
        "        long long q = e % W, y = (e / W) % H;\n"
        "        long long c = (e / (W * H)) % C, n = e / (W * H * C);\n"
        f"        {t} acc = 0;\n"
        "        for (long long i = 0; i < KH; i++) {\n"
        "            long long ty = y + P0 - i * D0;\n"
        "            if (ty < 0 || ty % S0 != 0 || ty / S0 >= OH) continue;\n"
        "            for (long long j = 0; j < KW; j++) {\n"
        "                long long tq = q + P1 - j * D1;\n"
        "                if (tq < 0 || tq % S1 != 0 || tq / S1 >= OW) continue;\n"
        "                acc += cols[((c * KH + i) * KW + j) * P + (n * OH + ty / S0) * OW"
        " + tq / S1];\n"
        "            }\n"
        "        }\n"
        "        out[e] = acc;\n"
        "    }\n"
    )
    return common.kernel("col2im", params, ", ".join(sig), body)


def _copy(meta: ArrayMeta, dtype: str, dst_strides: Sequence[int], src: Ptr, dst: Ptr):
    """A copy kernel of meta's elements (converted to dtype) into dst with dst_strides."""
    launch = map_launch(
        Program.copy(meta.dtype, dtype), meta.shape, [meta.strides], [dst_strides], [src], [dst]
    )
    return [] if launch is None else [launch]


def _filters(w: ArrayMeta, dtype: str, flip: bool, slot: int, ws: int) -> list[Launch]:
    """Wm: the filter bank w (flipped on its kernel axes for a true convolution), contiguous."""
    f, c, kh, kw = w.shape
    strides, offset = list(w.strides), 0
    if flip:
        offset = ((kh - 1) * w.strides[2] + (kw - 1) * w.strides[3]) * w.itemsize
        strides[2], strides[3] = -strides[2], -strides[3]
    flipped = ArrayMeta(w.shape, tuple(strides), w.dtype)
    dense = ArrayMeta.contiguous(w.shape, dtype).strides
    return _copy(flipped, dtype, dense, Ptr("in", slot, offset), Ptr("ws", ws))


def _gemm(dtype: str, trans_a: bool, trans_b: bool, mnk: tuple, a: tuple, b: tuple, c: tuple):
    """C = op(A) op(B), cuBLAS's column-major (m, n, k); a, b, c are (Ptr, leading dimension)."""
    return GemmCall(dtype, trans_a, trans_b, *mnk, 1.0, *a, *b, 0.0, *c)


def _fp_strides(n: int, f: int, oh: int, ow: int) -> tuple[int, ...]:
    """Strides of an (n, f, oh, ow) array stored as the F x P matrix (P = n*oh*ow)."""
    return (oh * ow, n * oh * ow, ow, 1)


def _geometry(node: Apply, image: tuple[int, int], kernel: tuple[int, int]) -> tuple:
    op = node.op
    params = (op.border_mode, op.subsample, op.filter_dilation)
    # the op's own rules for padding and output size (a ValueError when the kernel does not fit)
    pad, out = core_conv._geometry(str(op), image, kernel, params)
    return pad, out


def _scalars(dims: dict[str, int], pad, op) -> list[tuple[str, int]]:
    values = [dims[k] for k in ("total", "P", "C", "H", "W", "OH", "OW", "KH", "KW")]
    values += [pad[0], pad[1], *op.subsample, *op.filter_dilation]
    return [("i64", int(v)) for v in values]


def _im2col(node, x: ArrayMeta, dtype, dims, pad, dst: int) -> Launch:
    kern = _im2col_kernel(x.dtype, dtype)
    grid, block = common.grid_1d(dims["total"])
    scalars = _scalars(dims, pad, node.op)

    build = fixed_args([*scalars, Ptr("in", 0), *[("i64", s) for s in x.strides], Ptr("ws", dst)])
    return Launch(kern, grid, block, build)


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches and GEMMs for a convolution node (see the package conventions)."""
    dtype = node.outputs[0].dtype
    item = np.dtype(dtype).itemsize
    op = node.op
    if type(op) is core_conv.Conv2d:
        x, w = inputs
        n, c, h, wd = x.shape
        f, cw, kh, kw = w.shape
        if c != cw:
            raise ValueError(f"{op}: the input has {c} channels but the filters expect {cw}")
    else:
        try:
            size = (int(host_values[2]), int(host_values[3]))
        except KeyError:
            raise Unsupported(f"{op} needs its size inputs as host values") from None
        if type(op) is core_conv.Conv2dGradInputs:
            w, gz = inputs[:2]
            f, c, kh, kw = w.shape
            n, (h, wd) = gz.shape[0], size
        else:
            x, gz = inputs[:2]
            n, c, h, wd = x.shape
            f, (kh, kw) = gz.shape[1], size
    pad, (oh, ow) = _geometry(node, (h, wd), (kh, kw))
    if type(op) is not core_conv.Conv2d and gz.shape != (n, f, oh, ow):
        raise ValueError(
            f"{op}: the output gradient has shape {gz.shape}, expected {(n, f, oh, ow)}"
        )
    k, p = c * kh * kw, n * oh * ow
    dims = {"P": p, "C": c, "H": h, "W": wd, "OH": oh, "OW": ow, "KH": kh, "KW": kw}
    if type(op) is core_conv.Conv2d:
        out = ArrayMeta.contiguous((n, f, oh, ow), dtype)
    elif type(op) is core_conv.Conv2dGradInputs:
        out = ArrayMeta.contiguous((n, c, h, wd), dtype)
    else:
        out = ArrayMeta.contiguous((f, c, kh, kw), dtype)
    if out.size == 0:
        return Plan((out,), ())
    workspace = (max(k * p, 1) * item, max(f * k, 1) * item, max(f * p, 1) * item)
    cols, wm, fp = 0, 1, 2  # workspace buffers: K x P, F x K, F x P
    steps: list[Launch | GemmCall] = []
    if type(op) is core_conv.Conv2d:
        steps.append(_im2col(node, x, dtype, {**dims, "total": k * p}, pad, cols))
        steps += _filters(w, dtype, op.filter_flip, 1, wm)
        steps.append(
            _gemm(
                dtype,
                False,
                False,
                (p, f, k),
                (Ptr("ws", cols), p),
                (Ptr("ws", wm), k),
                (Ptr("ws", fp), p),
            )
        )
        as_nchw = ArrayMeta((n, f, oh, ow), _fp_strides(n, f, oh, ow), dtype)
        steps += _copy(as_nchw, dtype, out.strides, Ptr("ws", fp), Ptr("out", 0))
    elif type(op) is core_conv.Conv2dGradWeights:
        steps.append(_im2col(node, x, dtype, {**dims, "total": k * p}, pad, cols))
        steps += _copy(gz, dtype, _fp_strides(n, f, oh, ow), Ptr("in", 1), Ptr("ws", fp))
        steps.append(
            _gemm(
                dtype,
                True,
                False,
                (k, f, p),
                (Ptr("ws", cols), p),
                (Ptr("ws", fp), p),
                (Ptr("ws", wm), k),
            )
        )
        dense = ArrayMeta.contiguous((f, c, kh, kw), dtype)
        steps += _flip_into_output(dense, op.filter_flip, wm)
    else:
        steps += _filters(w, dtype, op.filter_flip, 0, wm)
        steps += _copy(gz, dtype, _fp_strides(n, f, oh, ow), Ptr("in", 1), Ptr("ws", fp))
        steps.append(
            _gemm(
                dtype,
                False,
                True,
                (p, k, f),
                (Ptr("ws", fp), p),
                (Ptr("ws", wm), k),
                (Ptr("ws", cols), p),
            )
        )
        total = n * c * h * wd
        kern = _col2im_kernel(dtype)
        grid, block = common.grid_1d(total)
        scalars = _scalars({**dims, "total": total}, pad, op)
        build = fixed_args([*scalars, Ptr("ws", cols), Ptr("out", 0)])
        steps.append(Launch(kern, grid, block, build))
    return Plan((out,), tuple(steps), workspace)


def _flip_into_output(dense: ArrayMeta, flip: bool, src_ws: int) -> list[Launch]:
    """Copy the F x K gradient (F, C, kh, kw) from the workspace to output 0, flipped if asked."""
    f, c, kh, kw = dense.shape
    strides, offset = list(dense.strides), 0
    if flip:
        offset = ((kh - 1) * strides[2] + (kw - 1) * strides[3]) * dense.itemsize
        strides[2], strides[3] = -strides[2], -strides[3]
    view = ArrayMeta(dense.shape, tuple(strides), dense.dtype)
    return _copy(view, dense.dtype, dense.strides, Ptr("ws", src_ws, offset), Ptr("out", 0))
