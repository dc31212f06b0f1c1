"""Softmax-family kernels: Softmax, LogSoftmax, SoftmaxGrad (any axis or all axes),
SoftmaxWithBias, CrossentropySoftmax1Hot(+Dx) and CrossentropyCategorical1Hot(+Grad).

A "row" is one slice along the reduced axes: one block per row computes its maximum and sums
with shared-memory trees (every thread then holds the totals), then writes its elements.
Crossentropy kernels read one class index per row; an index out of range gives NaN (the host
op raises IndexError). May import core and backends.cuda only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, fixed_args
from labsym.backends.cuda.protocol import CudaKernel
from labsym.core.graph import Apply
from labsym.core.ops import nnet as core_nnet
from labsym.core.ops import nnet_fused

MAX_BLOCK = 256


def _block_helpers(dtype: str) -> str:
    """Block-wide sum and NaN-propagating max; every thread gets the result."""
    t = common.ctype(dtype)
    return f"""#ifndef LS_BLOCK_REDUCE_{dtype}
#define LS_BLOCK_REDUCE_{dtype}
__device__ inline {t} ls_block_sum_{dtype}({t} v, {t}* red) {{
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {{
        if (threadIdx.x < s) red[threadIdx.x] = red[threadIdx.x] + red[threadIdx.x + s];
        __syncthreads();
    }}
    {t} r = red[0];
    __syncthreads();
    return r;
}}
__device__ inline {t} ls_max_{dtype}({t} a, {t} b) {{ return (a > b || a != a) ? a : b; }}
__device__ inline {t} ls_block_max_{dtype}({t} v, {t}* red) {{
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {{
        if (threadIdx.x < s)
            red[threadIdx.x] = ls_max_{dtype}(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }}
    {t} r = red[0];
    __syncthreads();
    return r;
}}
#endif
"""


def _decompose(linear: str, shape: str, names: Sequence[str], prefix: str, ndim: int) -> str:
    """Statements: `{prefix}_{name}` = offset of `linear` over `shape` with strides
    `{prefix}st_{name}`, for every operand name (one shared decomposition)."""
    lines = [f"long long {prefix}_{n} = 0;" for n in names]
    lines.append(f"{{ long long r_ = {linear};")
    for d in range(ndim - 1, -1, -1):
        lines.append(f"  {{ long long c_ = r_ % {shape}.v[{d}]; r_ /= {shape}.v[{d}];")
        lines += [f"  {prefix}_{n} += c_ * {prefix}st_{n}.v[{d}];" for n in names]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


class _Rows:
    """A row kernel under construction: operands with kept/reduced strides, and its body."""

    def __init__(self, stem: str, acc: str, nk: int, nr: int, block: int) -> None:
        self.stem, self.acc, self.nk, self.nr, self.block = stem, acc, nk, nr, block
        self.sig = ["long long n_rows", "long long n_red", "ls_dims kshape", "ls_dims rshape"]
        self.params = ["i64", "i64", "dims", "dims"]
        self.names: list[str] = []

    def operand(self, name: str, dtype: str, output: bool = False) -> None:
        const = "" if output else "const "
        self.sig += [f"{const}{common.ctype(dtype)}* {name}", f"ls_dims kst_{name}"]
        self.sig.append(f"ls_dims rst_{name}")
        self.params += ["ptr", "dims", "dims"]
        self.names.append(name)

    def loop(self, inner: str) -> str:
        """A loop of this thread's elements of the row; `@name` in inner is name's element."""
        for n in sorted(self.names, key=len, reverse=True):
            inner = inner.replace(f"@{n}", f"{n}[k_{n} + r_{n}]")
        return (
            "for (long long j = threadIdx.x; j < n_red; j += blockDim.x) {\n"
            + _decompose("j", "rshape", self.names, "r", self.nr)
            + "\n"
            + inner
            + "\n}\n"
        )

    def kernel(self, row_body: str) -> CudaKernel:
        acc = common.ctype(self.acc)
        text = (
            f"    __shared__ {acc} red[{self.block}];\n"
            "    for (long long o = blockIdx.x; o < n_rows; o += gridDim.x) {\n"
            + _decompose("o", "kshape", self.names, "k", self.nk)
            + "\n"
            + row_body
            + "    }\n"
        )
        k = common.kernel(self.stem, self.params, ", ".join(self.sig), text)
        return CudaKernel(k.name, _block_helpers(self.acc) + k.source, k.params)


def _max_and_sum(rows: _Rows, value: str, dtype: str) -> str:
    """Statements: m = the row's max of `value`, s = the row's sum of exp(value - m) (the
    overflow-safe log-sum-exp every softmax and crossentropy kernel starts with)."""
    t = common.ctype(dtype)
    text = f"{t} m = {common.literal(-np.inf, dtype)};\n"
    text += rows.loop(f"m = ls_max_{dtype}(m, {value});")
    text += f"m = ls_block_max_{dtype}(m, red);\n{t} s = 0;\n"
    text += rows.loop(f"s += exp({value} - m);")
    return text + f"s = ls_block_sum_{dtype}(s, red);\n"


def _softmax_body(rows: _Rows, value: str, log: bool) -> str:
    """max, then sum of exp(v - max), then y = exp(v - max) / sum or v - max - log(sum)."""
    t = common.ctype(rows.acc)
    text = _max_and_sum(rows, value, rows.acc)
    if log:
        text += f"{t} ls = log(s);\n" + rows.loop(f"@y = {value} - m - ls;")
    else:
        text += rows.loop(f"@y = exp({value} - m) / s;")
    return text


# ---------------------------------------------------------------------- planning helpers
def _split(shape: Sequence[int], axes: Sequence[int], operands: Sequence[Sequence[int]]):
    """Collapsed (kshape, kstrides per operand), (rshape, rstrides per operand)."""
    kept = [d for d in range(len(shape)) if d not in axes]
    kshape, kst = common.collapse(
        [shape[d] for d in kept], [[s[d] for d in kept] for s in operands]
    )
    rshape, rst = common.collapse(
        [shape[d] for d in axes], [[s[d] for d in axes] for s in operands]
    )
    return (kshape, kst), (rshape, rst)


def _row_plan(
    rows_stem: str,
    acc: str,
    shape: Sequence[int],
    axes: Sequence[int],
    operands: Sequence[tuple[str, str, Sequence[int], bool, tuple[str, int]]],
    body: Any,
    outputs: tuple[ArrayMeta, ...],
) -> Plan:
    """A block-per-row plan; operands are (name, dtype, strides over shape, is output, slot)
    where slot is ('in', k) or ('out', k); body(rows) gives the row's code."""
    n_rows = int(np.prod([shape[d] for d in range(len(shape)) if d not in axes], dtype=np.int64))
    n_red = int(np.prod([shape[d] for d in axes], dtype=np.int64))
    if n_rows == 0 or n_red == 0:
        return _empty_rows(outputs)
    (kshape, kst), (rshape, rst) = _split(shape, axes, [o[2] for o in operands])
    block = min(MAX_BLOCK, max(32, 1 << (n_red - 1).bit_length()))
    rows = _Rows(rows_stem, acc, len(kshape), len(rshape), block)
    for name, dtype, _, is_out, _ in operands:
        rows.operand(name, dtype, is_out)
    kern = rows.kernel(body(rows))
    slots = [o[4] for o in operands]
    parts = [("i64", n_rows), ("i64", n_red), common.dims(kshape), common.dims(rshape)]
    for (where, k), ks, rs in zip(slots, kst, rst):
        parts += [Ptr(where, k), common.dims(ks), common.dims(rs)]
    grid = (min(n_rows, common.MAX_BLOCKS), 1, 1)
    return Plan(outputs, (Launch(kern, grid, (block, 1, 1), fixed_args(parts)),))


def _empty_rows(outputs: tuple[ArrayMeta, ...]) -> Plan:
    """No rows, or rows of no element: nothing to compute when the outputs are empty too (a
    per-row result of zero-length rows, e.g. a crossentropy over no class, has no value)."""
    if any(o.size for o in outputs):
        raise ValueError("rows of zero length have no softmax or crossentropy value")
    return Plan(outputs, ())


def _axes(node: Apply) -> tuple[int, ...]:
    ndim = node.inputs[-1].ndim
    axis = node.op.axis
    return tuple(range(ndim)) if axis is None else (axis % ndim,)


def _plan_softmax(node: Apply, inputs: list[ArrayMeta], log: bool) -> Plan:
    (x,) = inputs
    dtype = node.outputs[0].dtype
    out = ArrayMeta.contiguous(x.shape, dtype)
    operands = [
        ("x", x.dtype, x.strides, False, ("in", 0)),
        ("y", dtype, out.strides, True, ("out", 0)),
    ]
    stem = "logsoftmax" if log else "softmax"
    return _row_plan(
        stem,
        dtype,
        x.shape,
        _axes(node),
        operands,
        lambda rows: _softmax_body(rows, f"(({common.ctype(dtype)})@x)", log),
        (out,),
    )


def _plan_softmax_grad(node: Apply, inputs: list[ArrayMeta]) -> Plan:
    dy, sm = inputs
    if dy.shape != sm.shape:
        raise ValueError(f"{node.op}: dy has shape {dy.shape} but sm has shape {sm.shape}")
    dtype = node.outputs[0].dtype
    t = common.ctype(dtype)
    out = ArrayMeta.contiguous(sm.shape, dtype)
    operands = [
        ("dy", dy.dtype, dy.strides, False, ("in", 0)),
        ("sm", sm.dtype, sm.strides, False, ("in", 1)),
        ("out", dtype, out.strides, True, ("out", 0)),
    ]

    def body(rows: _Rows) -> str:
        text = f"{t} s = 0;\n" + rows.loop(f"s += ({t})@dy * ({t})@sm;")
        text += f"s = ls_block_sum_{dtype}(s, red);\n"
        return text + rows.loop(f"@out = (({t})@dy - s) * ({t})@sm;")

    return _row_plan("softmaxgrad", dtype, sm.shape, _axes(node), operands, body, (out,))


def _plan_softmax_with_bias(node: Apply, inputs: list[ArrayMeta]) -> Plan:
    x, b = inputs
    if b.shape[0] != x.shape[1]:
        raise ValueError(f"{node.op}: b has {b.shape[0]} entries for x with {x.shape[1]} columns")
    dtype = node.outputs[0].dtype
    out = ArrayMeta.contiguous(x.shape, dtype)
    operands = [
        ("x", x.dtype, x.strides, False, ("in", 0)),
        ("b", b.dtype, (0, b.strides[0]), False, ("in", 1)),
        ("y", dtype, out.strides, True, ("out", 0)),
    ]
    t = common.ctype(dtype)
    value = f"(({t})@x + ({t})@b)"
    return _row_plan(
        "softmaxbias",
        dtype,
        x.shape,
        (1,),
        operands,
        lambda rows: _softmax_body(rows, value, False),
        (out,),
    )


def _target(name: str) -> str:
    """The row's class index, or -1 when it is out of range."""
    return f"long long t = (long long){name}[k_{name}];\nif (t < 0 || t >= n_red) t = -1;\n"


def _check_rows(node: Apply, matrix: ArrayMeta, *vectors: ArrayMeta) -> None:
    for v in vectors:
        if v.shape != (matrix.shape[0],):
            raise ValueError(
                f"{node.op}: a vector of shape {v.shape} for a matrix of shape {matrix.shape}"
            )


def _plan_crossentropy(node: Apply, inputs: list[ArrayMeta]) -> Plan:
    """CrossentropySoftmax1Hot(x, y) (from logits) or CrossentropyCategorical1Hot(p, y)."""
    x, y = inputs
    _check_rows(node, x, y)
    dtype = node.outputs[0].dtype
    t = common.ctype(dtype)
    out = ArrayMeta.contiguous((x.shape[0],), dtype)
    operands = [
        ("x", x.dtype, x.strides, False, ("in", 0)),
        ("yi", y.dtype, (y.strides[0], 0), False, ("in", 1)),
        ("out", dtype, (1, 0), True, ("out", 0)),
    ]
    logits = isinstance(node.op, nnet_fused.CrossentropySoftmax1Hot)
    nan = common.literal(np.nan, dtype)

    def body(rows: _Rows) -> str:
        picked = f"(({t})x[k_x + t * rst_x.v[0]])"
        if logits:
            text = _max_and_sum(rows, f"({t})@x", dtype)
            value = f"-({picked} - m - log(s))"
        else:
            text, value = "", f"-log({picked})"
        text += _target("yi")
        return text + f"if (threadIdx.x == 0) out[k_out] = t < 0 ? {nan} : {value};\n"

    stem = "xent_softmax" if logits else "xent_1hot"
    return _row_plan(stem, dtype, x.shape, (1,), operands, body, (out,))


def _plan_crossentropy_grad(node: Apply, inputs: list[ArrayMeta]) -> Plan:
    """CrossentropySoftmax1HotDx(dy, x, y) or CrossentropyCategorical1HotGrad(g, p, y)."""
    g, x, y = inputs
    _check_rows(node, x, y, g)
    dtype = node.outputs[0].dtype
    t = common.ctype(dtype)
    out = ArrayMeta.contiguous(x.shape, dtype)
    operands = [
        ("g", g.dtype, (g.strides[0], 0), False, ("in", 0)),
        ("x", x.dtype, x.strides, False, ("in", 1)),
        ("yi", y.dtype, (y.strides[0], 0), False, ("in", 2)),
        ("out", dtype, out.strides, True, ("out", 0)),
    ]
    logits = isinstance(node.op, nnet_fused.CrossentropySoftmax1HotDx)
    nan = common.literal(np.nan, dtype)

    def body(rows: _Rows) -> str:
        text = _target("yi") + f"{t} gy = ({t})g[k_g];\n"
        if logits:
            text += _max_and_sum(rows, f"({t})@x", dtype)
            value = f"(exp(({t})@x - m) / s - (j == t ? 1 : 0)) * gy"
        else:
            value = f"(j == t ? -gy / ({t})@x : ({t})0)"
        return text + rows.loop(f"@out = t < 0 ? {nan} : {value};")

    stem = "xent_softmax_dx" if logits else "xent_1hot_grad"
    return _row_plan(stem, dtype, x.shape, (1,), operands, body, (out,))


# ---------------------------------------------------------------------- the family interface
_PLANS = {
    core_nnet.Softmax: lambda node, ins: _plan_softmax(node, ins, False),
    core_nnet.LogSoftmax: lambda node, ins: _plan_softmax(node, ins, True),
    core_nnet.SoftmaxGrad: _plan_softmax_grad,
    core_nnet.SoftmaxWithBias: _plan_softmax_with_bias,
    core_nnet.CrossentropyCategorical1Hot: _plan_crossentropy,
    nnet_fused.CrossentropySoftmax1Hot: _plan_crossentropy,
    core_nnet.CrossentropyCategorical1HotGrad: _plan_crossentropy_grad,
    nnet_fused.CrossentropySoftmax1HotDx: _plan_crossentropy_grad,
}


def handles(node: Apply) -> bool:
    return type(node.op) in _PLANS


def supports(node: Apply) -> bool:
    variables = (*node.inputs, *node.outputs)
    return all(common.supported_dtype(v.dtype) for v in variables) and node.outputs[0].ndim <= 8


def host_inputs(node: Apply) -> tuple[int, ...]:
    return ()


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for a softmax-family or crossentropy node (see the package conventions)."""
    return _PLANS[type(node.op)](node, inputs)
