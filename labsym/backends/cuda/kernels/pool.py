"""Pooling kernels over the last two axes: Pool (max, sum, average with or without padding),
MaxPoolGrad, AveragePoolGrad and DownsampleFactorMaxGradGrad.

Every kernel gathers: one thread per element it writes, looping over the windows (forward)
or over the windows that contain its element (gradients), so no atomics are needed. Padding
cells are never read (they hold the lowest value for max and 0 for sums, as the host op).
Window size, stride and padding are baked into the source. May import core and backends.cuda.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, fixed_args
from labsym.core.graph import Apply
from labsym.core.ops import pool as core_pool

_OPS = (
    core_pool.Pool,
    core_pool.MaxPoolGrad,
    core_pool.AveragePoolGrad,
    core_pool.DownsampleFactorMaxGradGrad,
)


def handles(node: Apply) -> bool:
    return type(node.op) in _OPS


def supports(node: Apply) -> bool:
    variables = (*node.inputs, *node.outputs)
    return all(common.supported_dtype(v.dtype) for v in variables) and node.inputs[0].ndim <= 10


def host_inputs(node: Apply) -> tuple[int, ...]:
    return ()


def _window_code(op: Any, axis: int, o: str, lo: str, hi: str) -> str:
    """Statements: the window of output index `o` on one axis, as real-cell bounds [lo, hi)."""
    ws, s, p = op.ws[axis], op.stride[axis], op.pad[axis]
    n = "H" if axis == 0 else "W"
    return (
        f"long long {lo}_p = {o} * {s}, {hi}_p = {lo}_p + {ws};\n"
        f"if ({hi}_p > {n} + {2 * p}) {hi}_p = {n} + {2 * p};\n"
        f"long long {lo} = {lo}_p - {p} < 0 ? 0 : {lo}_p - {p};\n"
        f"long long {hi} = {hi}_p - {p} > {n} ? {n} : {hi}_p - {p};\n"
    )


def _count_code(op: Any) -> str:
    """Statement: `count`, the averaging window size (padding included or not)."""
    if op.mode == "average_inc_pad":
        return "double count = (double)((r1_p - r0_p) * (c1_p - c0_p));\n"
    return "double count = (double)((r1 - r0) * (c1 - c0));\n"


def _averaging(op: Any) -> str:
    """Statements: `count` of the window (u, v)."""
    return (
        _window_code(op, 0, "u", "r0", "r1")
        + _window_code(op, 1, "v", "c0", "c1")
        + _count_code(op)
    )


def _containing(op: Any, axis: int, x: str, first: str, last: str, n_out: str) -> str:
    """Statements: the output indices [first, last] whose window contains input index x."""
    ws, s, p = op.ws[axis], op.stride[axis], op.pad[axis]
    return (
        f"long long {last} = ({x} + {p}) / {s};\n"
        f"if ({last} > {n_out} - 1) {last} = {n_out} - 1;\n"
        f"long long {first} = {x} + {p} - {ws} + 1;\n"
        f"{first} = {first} <= 0 ? 0 : ({first} + {s - 1}) / {s};\n"
    )


def _kernel(node: Apply, names: Sequence[str], dtypes: Sequence[str], nl: int, over_out: bool):
    """The kernel of `node` with operands `names` (the last is written), nl lead axes."""
    op = node.op
    sig = ["long long n", "long long H", "long long W", "long long OH", "long long OW"]
    sig.append("ls_dims lshape")
    params = ["i64"] * 5 + ["dims"]
    for k, (name, dtype) in enumerate(zip(names, dtypes)):
        const = "" if k == len(names) - 1 else "const "
        sig += [f"{const}{common.ctype(dtype)}* {name}", f"ls_dims lst_{name}"]
        sig += [f"long long rs_{name}", f"long long cs_{name}"]
        params += ["ptr", "dims", "i64", "i64"]
    rows, cols = ("OH", "OW") if over_out else ("H", "W")
    head = (
        "for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
        " i += (long long)blockDim.x * gridDim.x) {\n"
        f"long long a1 = i % {cols}, a0 = (i / {cols}) % {rows}, lead = i / ({cols} * {rows});\n"
    )
    head += "".join(f"long long b_{nm} = 0;\n" for nm in names)
    head += "{ long long r_ = lead;\n"
    for d in range(nl - 1, -1, -1):
        head += f"  {{ long long c_ = r_ % lshape.v[{d}]; r_ /= lshape.v[{d}];"
        head += "".join(f" b_{nm} += c_ * lst_{nm}.v[{d}];" for nm in names) + " }\n"
    head += "}\n"
    body = _body(node, names, dtypes)
    text = "".join(f"    {line}\n" for line in (head + body + "}").splitlines())
    return common.kernel(f"pool_{type(op).__name__.lower()}", params, ", ".join(sig), text)


def _at(name: str, r: str, c: str) -> str:
    return f"{name}[b_{name} + ({r}) * rs_{name} + ({c}) * cs_{name}]"


def _body(node: Apply, names: Sequence[str], dtypes: Sequence[str]) -> str:
    op, out = node.op, names[-1]
    t_out = common.ctype(dtypes[-1])
    if isinstance(op, core_pool.MaxPoolGrad) and not isinstance(
        op, core_pool.DownsampleFactorMaxGradGrad
    ):
        x, mx, gz = names[:3]
        t = f"({t_out})"
        return (
            _containing(op, 0, "a0", "o0", "o1", "OH")
            + _containing(op, 1, "a1", "q0", "q1", "OW")
            + f"{t_out} acc = 0;\n"
            + "for (long long u = o0; u <= o1; u++) for (long long v = q0; v <= q1; v++)\n"
            + f"  if ({_at(x, 'a0', 'a1')} == {_at(mx, 'u', 'v')})"
            + f" acc += {t}{_at(gz, 'u', 'v')};\n"
            + f"{_at(out, 'a0', 'a1')} = acc;\n"
        )
    if isinstance(op, core_pool.AveragePoolGrad):
        x, gz = names[:2]
        scale = "" if op.mode == "sum" else " / count"
        return (
            _containing(op, 0, "a0", "o0", "o1", "OH")
            + _containing(op, 1, "a1", "q0", "q1", "OW")
            + "double acc = 0;\n"
            + "for (long long u = o0; u <= o1; u++) for (long long v = q0; v <= q1; v++) {\n"
            + (_averaging(op) if op.mode != "sum" else "")
            + f"acc += (double){_at(gz, 'u', 'v')}{scale};\n}}\n"
            + f"{_at(out, 'a0', 'a1')} = ({t_out})acc;\n"
        )
    window = _window_code(op, 0, "a0", "r0", "r1") + _window_code(op, 1, "a1", "c0", "c1")
    loop = "for (long long u = r0; u < r1; u++) for (long long v = c0; v < c1; v++)"
    if isinstance(op, core_pool.DownsampleFactorMaxGradGrad):
        x, mx, ggx = names[:3]
        return (
            window
            + f"{t_out} acc = 0;\n{loop}\n"
            + f"  if ({_at(x, 'u', 'v')} == {_at(mx, 'a0', 'a1')})"
            + f" acc += ({t_out}){_at(ggx, 'u', 'v')};\n"
            + f"{_at(out, 'a0', 'a1')} = acc;\n"
        )
    (x,) = names[:1]
    if op.mode == "max":
        is_float = dtypes[0] in common.FLOAT_DTYPES
        lowest = common.literal(-np.inf if is_float else np.iinfo(dtypes[0]).min, dtypes[0])
        return (
            window
            + f"{common.ctype(dtypes[0])} acc = {lowest};\n{loop} {{\n"
            + f"  {common.ctype(dtypes[0])} e = {_at(x, 'u', 'v')};\n"
            + "  acc = (acc > e || acc != acc) ? acc : e;\n}\n"
            + f"{_at(out, 'a0', 'a1')} = ({t_out})acc;\n"
        )
    acc_t = "double" if dtypes[0] not in common.FLOAT_DTYPES else common.ctype(dtypes[0])
    text = window + f"{acc_t} acc = 0;\n{loop} acc += ({acc_t}){_at(x, 'u', 'v')};\n"
    if op.mode != "sum":
        text += _count_code(op) + f"acc = acc / ({acc_t})count;\n"
    return text + f"{_at(out, 'a0', 'a1')} = ({t_out})acc;\n"


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for a pooling node (see the package conventions)."""
    op = node.op
    x = inputs[0]
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    oh, ow = (op._pooled_length(i, n) for i, n in enumerate((h, w)))
    pooled = (*lead, oh, ow)
    expected = {
        core_pool.Pool: [],
        core_pool.MaxPoolGrad: [("maxout", pooled), ("gz", pooled)],
        core_pool.DownsampleFactorMaxGradGrad: [("maxout", pooled), ("ggx", x.shape)],
        core_pool.AveragePoolGrad: [("gz", pooled)],
    }[type(op)]
    for (role, want), meta in zip(expected, inputs[1:]):
        if meta.shape != tuple(want):
            raise ValueError(f"{op}: {role} has shape {meta.shape}, expected {tuple(want)}")
    writes_pooled = isinstance(op, (core_pool.Pool, core_pool.DownsampleFactorMaxGradGrad))
    out = ArrayMeta.contiguous(pooled if writes_pooled else x.shape, node.outputs[0].dtype)
    metas = [*inputs, out]
    n = out.size
    if n == 0:
        return Plan((out,), ())
    names = ["x", "mx", "g"][: len(inputs)] + ["out"]
    lshape, lstrides = common.collapse(lead, [m.strides[:-2] for m in metas])
    kern = _kernel(node, names, [m.dtype for m in metas], len(lshape), writes_pooled)
    grid, block = common.grid_1d(n)
    slots = [("in", k) for k in range(len(inputs))] + [("out", 0)]

    parts = [("i64", v) for v in (n, h, w, oh, ow)] + [common.dims(lshape)]
    for (where, k), m, ls in zip(slots, metas, lstrides):
        parts += [Ptr(where, k), common.dims(ls), ("i64", m.strides[-2]), ("i64", m.strides[-1])]
    return Plan((out,), (Launch(kern, grid, block, fixed_args(parts)),))
