"""Reduction kernels: Sum, Prod, ProdWithoutZeros, Max, Min, All, Any over any axes, the
index searches Argmax, Argmin, MaxAndArgmax (several axes searched as one, in C order), and
FusedReduce (a reduction of a Composite's values computed as they are read: no temporary).

Long reductions give each output a block that reduces a strided slice per thread, then a tree
in shared memory; short ones give each output a thread. Kept and reduced axes travel as two
(shape, strides) pairs, each collapsed on the host. May import core and backends.cuda only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, fixed_args
from labsym.backends.cuda.kernels.elemwise import Program, broadcast_shape, program_of, stretched
from labsym.backends.cuda.protocol import CudaKernel
from labsym.core.graph import Apply
from labsym.core.ops import reduce as core_reduce
from labsym.core.ops.fused_reduce import FusedReduce

THREAD_PER_OUTPUT_MAX = 64  # reductions this short run one thread per output
MAX_BLOCK = 256


@dataclass(frozen=True)
class Reduction:
    """What one node reduces: the combine rule, dtypes, and which outputs it writes."""

    kind: str  # 'add', 'mul', 'max', 'min', 'and', 'or', 'argmax', 'argmin'
    in_dtype: str
    acc_dtype: str
    out_dtype: str | None  # the value output's dtype (None: index only)
    index: bool  # writes the int64 index of the extremum
    skip_zeros: bool = False  # ProdWithoutZeros

    @property
    def search(self) -> bool:
        return self.kind in ("argmax", "argmin")


_SIMPLE = {
    core_reduce.Sum: "add",
    core_reduce.Prod: "mul",
    core_reduce.ProdWithoutZeros: "mul",
    core_reduce.Max: "max",
    core_reduce.Min: "min",
    core_reduce.All: "and",
    core_reduce.Any: "or",
}


def _parts(node: Apply) -> tuple[Apply, Apply | None]:
    """(the reduction node, the Composite node it reads or None)."""
    if isinstance(node.op, FusedReduce):
        inner = node.op.scalar_node(node)
        return node.op.reduce_op.make_node(inner.outputs[0]), inner
    return node, None


def _reduction(node: Apply) -> Reduction | None:
    node = _parts(node)[0]
    op, x = node.op, node.inputs[0]
    kind = _SIMPLE.get(type(op))
    if kind is not None:
        out = node.outputs[0].dtype
        acc = getattr(op, "acc_dtype", None) or ("bool" if kind in ("and", "or") else x.dtype)
        return Reduction(kind, x.dtype, acc, out, False, type(op) is core_reduce.ProdWithoutZeros)
    if type(op) is core_reduce.Argmax:
        return Reduction("argmax", x.dtype, x.dtype, None, True)
    if type(op) is core_reduce.Argmin:
        return Reduction("argmin", x.dtype, x.dtype, None, True)
    if type(op) is core_reduce.MaxAndArgmax:
        return Reduction("argmax", x.dtype, x.dtype, x.dtype, True)
    return None


# ---------------------------------------------------------------------- source
def _identity(r: Reduction) -> str:
    t = r.acc_dtype
    if r.kind == "add" or r.kind == "or":
        return common.literal(0, t)
    if r.kind == "mul" or r.kind == "and":
        return common.literal(1, t)
    lowest = r.kind in ("max", "argmax")
    if t in common.FLOAT_DTYPES:
        return common.literal(-np.inf if lowest else np.inf, t)
    if t == "bool":
        return common.literal(0 if lowest else 1, t)
    info = np.iinfo(t)
    return common.literal(info.min if lowest else info.max, t)


def _load(r: Reduction, expr: str) -> str:
    acc = common.ctype(r.acc_dtype)
    if r.kind in ("and", "or"):
        return f"(({acc})({expr} != 0))"
    if r.skip_zeros:
        return f"({expr} == 0 ? ({acc})1 : ({acc})({expr}))"
    return f"(({acc})({expr}))"


def _combine(r: Reduction, a: str, b: str) -> str:
    """C statement folding value b into a (NaN propagates, as NumPy's maximum.reduce)."""
    if r.kind == "add":
        return f"{a} = {a} + {b};"
    if r.kind == "mul":
        return f"{a} = {a} * {b};"
    if r.kind == "and":
        return f"{a} = {a} && {b};"
    if r.kind == "or":
        return f"{a} = {a} || {b};"
    cmp = ">" if r.kind == "max" else "<"
    return f"{a} = (({a} {cmp} {b}) || {a} != {a}) ? {a} : {b};"


def _pick(r: Reduction, va: str, ia: str, vb: str, ib: str) -> str:
    """C statement: (va, ia) becomes (vb, ib) if b is the earlier extremum (first NaN wins)."""
    better = ">" if r.kind == "argmax" else "<"
    return (
        f"if ({ib} >= 0 && ({ia} < 0 || (({vb} != {vb}) ? (!({va} != {va}) || {ib} < {ia})"
        f" : (!({va} != {va}) && ({vb} {better} {va} || ({vb} == {va} && {ib} < {ia}))))))"
        f" {{ {va} = {vb}; {ia} = {ib}; }}"
    )


def _offsets(var: str, linear: str, shape: str, stride: str, ndim: int, n_in: int) -> str:
    """Statements: `{var}{k}` = input k's offset of `linear` over `shape`, for every input k
    (its strides are `{stride}{k}`)."""
    lines = [f"long long {var}{k} = 0;" for k in range(n_in)]
    lines.append(f"{{ long long r_ = {linear};")
    for d in range(ndim - 1, -1, -1):
        lines.append(f"  {{ long long c_ = r_ % {shape}.v[{d}]; r_ /= {shape}.v[{d}];")
        lines += [f"    {var}{k} += c_ * {stride}{k}.v[{d}];" for k in range(n_in)]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _source(
    r: Reduction, nk: int, nr: int, block: int | None, prog: Program | None = None
) -> CudaKernel:
    """The kernel: one block per output when `block` is given, else one thread per output.
    It reduces input 0's values, or `prog`'s output computed from all its inputs."""
    acc = common.ctype(r.acc_dtype)
    in_dtypes = prog.in_dtypes if prog is not None else (r.in_dtype,)
    sig = ["long long n_out", "long long n_red", "ls_dims kshape", "ls_dims rshape"]
    params = ["i64", "i64", "dims", "dims"]
    if r.out_dtype is not None:
        sig.append(f"{common.ctype(r.out_dtype)}* out")
        params.append("ptr")
    if r.index:
        sig.append("long long* out_index")
        params.append("ptr")
    for k, d in enumerate(in_dtypes):
        sig += [f"const {common.ctype(d)}* in{k}", f"ls_dims kst{k}", f"ls_dims rst{k}"]
        params += ["ptr", "dims", "dims"]
    loads = "".join(
        f"{common.ctype(d)} x{k} = in{k}[base{k} + off{k}];\n" for k, d in enumerate(in_dtypes)
    )
    value = "x0"
    if prog is not None:
        loads += prog.statements()
        value = f"s{prog.outputs[0]}"
    fold = _pick(r, "acc", "acc_i", "v", "j") if r.search else _combine(r, "acc", "v")
    init = f"{acc} acc = {_identity(r)}; long long acc_i = -1;"
    if block is None:
        first, step = "(long long)blockIdx.x * blockDim.x + threadIdx.x", "blockDim.x * gridDim.x"
        j_first, j_step = "0", "1"
    else:
        first, step = "blockIdx.x", "gridDim.x"
        j_first, j_step = "threadIdx.x", "blockDim.x"
    n_in = len(in_dtypes)
    body = [f"for (long long o = {first}; o < n_out; o += (long long){step}) {{"]
    body.append(_offsets("base", "o", "kshape", "kst", nk, n_in))
    body.append(init)
    body.append(f"for (long long j = {j_first}; j < n_red; j += {j_step}) {{")
    body.append(_offsets("off", "j", "rshape", "rst", nr, n_in))
    body.append(loads)
    body.append(f"{acc} v = {_load(r, value)};")
    body.append(fold)
    body.append("}")
    if block is not None:
        body.append("sv[threadIdx.x] = acc; si[threadIdx.x] = acc_i;")
        body.append("__syncthreads();")
        body.append("for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {")
        body.append("if (threadIdx.x < s) {")
        body.append(f"{acc} v = sv[threadIdx.x + s]; long long j = si[threadIdx.x + s];")
        body.append(fold)
        body.append("sv[threadIdx.x] = acc; si[threadIdx.x] = acc_i;")
        body.append("}")
        body.append("__syncthreads();")
        body.append("}")
        body.append("acc = sv[0]; acc_i = si[0];")
        body.append("__syncthreads();  // sv is reused by this block's next output")
        body.append("if (threadIdx.x == 0) {")
    else:
        body.append("{")
    if r.out_dtype is not None:
        body.append(f"out[o] = ({common.ctype(r.out_dtype)})acc;")
    if r.index:
        body.append("out_index[o] = acc_i < 0 ? 0 : acc_i;")
    body.append("}")
    body.append("}")
    text = ""
    if block is not None:
        text += f"    __shared__ {acc} sv[{block}];\n    __shared__ long long si[{block}];\n"
    text += "".join(f"    {line}\n" for line in body)
    stem = f"red_{r.kind}_{'b' if block else 't'}{nk}_{nr}"
    return common.kernel(stem, params, ", ".join(sig), text)


# ---------------------------------------------------------------------- the family interface
def handles(node: Apply) -> bool:
    return _reduction(node) is not None


def supports(node: Apply) -> bool:
    r = _reduction(node)
    if r is None:
        return False
    dts = [r.in_dtype, r.acc_dtype] + ([r.out_dtype] if r.out_dtype else [])
    if not all(common.supported_dtype(d) for d in dts) or node.inputs[0].ndim > 8:
        return False
    inner = _parts(node)[1]
    return inner is None or program_of(inner).supported()


def host_inputs(node: Apply) -> tuple[int, ...]:
    return ()


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for a reduction node (see the package conventions)."""
    r = _reduction(node)
    assert r is not None
    reduction, inner = _parts(node)
    if inner is None:
        shape, strides, prog = inputs[0].shape, [inputs[0].strides], None
    else:
        prog = program_of(inner)
        shape = broadcast_shape(inner, inputs, range(len(inputs)))
        strides = [stretched(m, shape) for m in inputs]
    axes = reduction.op.axis
    reduced = tuple(range(len(shape))) if axes is None else tuple(axes)
    kept = [d for d in range(len(shape)) if d not in reduced]
    out_shape = tuple(shape[d] for d in kept)
    n_out = int(np.prod(out_shape, dtype=np.int64))
    n_red = int(np.prod([shape[d] for d in reduced], dtype=np.int64))
    outputs = []
    if r.out_dtype is not None:
        outputs.append(ArrayMeta.contiguous(out_shape, r.out_dtype))
    if r.index:
        outputs.append(ArrayMeta.contiguous(out_shape, "int64"))
    if n_out == 0:
        return Plan(tuple(outputs), ())
    if n_red == 0 and r.kind in ("max", "min", "argmax", "argmin"):
        raise ValueError(f"{node.op}: zero-size reduction, which has no identity")
    kshape, kst = common.collapse(out_shape, [[s[d] for d in kept] for s in strides])
    rshape, rst = common.collapse(
        [shape[d] for d in reduced], [[s[d] for d in reduced] for s in strides]
    )
    if n_red <= THREAD_PER_OUTPUT_MAX:
        kern = _source(r, len(kshape), len(rshape), None, prog)
        grid, threads = common.grid_1d(n_out)
    else:
        block = min(MAX_BLOCK, max(32, 1 << (n_red - 1).bit_length()))
        kern = _source(r, len(kshape), len(rshape), block, prog)
        grid, threads = (min(n_out, common.MAX_BLOCKS), 1, 1), (block, 1, 1)
    n_value = 1 if r.out_dtype is not None else 0
    parts = [("i64", n_out), ("i64", n_red), common.dims(kshape), common.dims(rshape)]
    parts += [Ptr("out", k) for k in range(n_value + int(r.index))]
    for k in range(len(strides)):
        parts += [Ptr("in", k), common.dims(kst[k]), common.dims(rst[k])]
    return Plan(tuple(outputs), (Launch(kern, grid, threads, fixed_args(parts)),))
