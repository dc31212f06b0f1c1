"""Elementwise kernels: Elemwise and fused Composite nodes from the scalar table, the copies
built on the same loop (Alloc's broadcast fill, Join's concatenation), and ARange's fill.

One thread per output element in a grid-stride loop; operands carry shapes and strides in
elements (broadcast axes have stride 0), collapsed on the host to the fewest axes, with a
contiguous variant when every operand is one dense run. May import core and backends.cuda only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common, scalar
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, Unsupported, fixed_args
from labsym.backends.cuda.protocol import MAX_NDIM
from labsym.core.graph import Apply
from labsym.core.ops.basic import Alloc, Join
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import ScalarOp, cast_op

Ref = tuple


@dataclass(frozen=True)
class Program:
    """Scalar steps over `in_dtypes` inputs (Composite's refs); `outputs` name the stored steps."""

    steps: tuple[tuple[ScalarOp, tuple[Ref, ...]], ...]
    outputs: tuple[int, ...]
    in_dtypes: tuple[str, ...]
    step_dtypes: tuple[str, ...]

    @classmethod
    def copy(cls, in_dtype: str, out_dtype: str) -> Program:
        """out = in converted to out_dtype (Alloc, Join, contiguous copies)."""
        return cls(((cast_op(out_dtype), (("input", 0),)),), (0,), (in_dtype,), (out_dtype,))

    def supported(self) -> bool:
        if not all(common.supported_dtype(d) for d in self.in_dtypes):
            return False
        return all(
            scalar.supports(spec, [self._dtype(r) for r in refs], self.step_dtypes[j])
            for j, (spec, refs) in enumerate(self.steps)
        )

    def _dtype(self, ref: Ref) -> str:
        kind, what = ref
        if kind == "input":
            return self.in_dtypes[what]
        if kind == "step":
            return self.step_dtypes[what]
        return what.dtype

    def statements(self) -> str:
        """The loop body after the loads of x<k>: one typed local per step, then the stores."""
        lines = []
        for j, (spec, refs) in enumerate(self.steps):
            args = [self._expr(r) for r in refs]
            dts = [self._dtype(r) for r in refs]
            expr = scalar.expression(spec, args, dts, self.step_dtypes[j])
            lines.append(f"{common.ctype(self.step_dtypes[j])} s{j} = {expr};")
        return "\n".join("        " + line for line in lines) + "\n"

    @staticmethod
    def _expr(ref: Ref) -> str:
        kind, what = ref
        if kind == "input":
            return f"x{what}"
        if kind == "step":
            return f"s{what}"
        return common.literal(what.value, what.dtype)


def program_kernel(prog: Program, ndim: int, contiguous: bool):
    """The CudaKernel running `prog` over `ndim` collapsed axes (or one dense run)."""
    n_in, n_out = len(prog.in_dtypes), len(prog.outputs)
    outs = [f"out{m}" for m in range(n_out)]
    ins = [f"in{k}" for k in range(n_in)]
    sig = ["long long n"]
    params = ["i64"]
    if not contiguous:
        sig.append("ls_dims shape")
        params.append("dims")
    operands = [
        (f"{common.ctype(prog.step_dtypes[j])}*", f"out{m}") for m, j in enumerate(prog.outputs)
    ]
    operands += [(f"const {common.ctype(d)}*", f"in{k}") for k, d in enumerate(prog.in_dtypes)]
    for decl, name in operands:  # each operand's pointer, then (strided) its strides
        sig.append(f"{decl} {name}")
        params.append("ptr")
        if not contiguous:
            sig.append(f"ls_dims st_{name}")
            params.append("dims")
    body = [
        "    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;",
        "         i += (long long)blockDim.x * gridDim.x) {",
    ]
    text = "\n".join(body) + "\n"
    if contiguous:
        at = {name: "i" for name in outs + ins}
    else:
        text += common.index_code(ndim, outs + ins)
        at = {name: f"o_{name}" for name in outs + ins}
    for k, d in enumerate(prog.in_dtypes):
        text += f"        {common.ctype(d)} x{k} = in{k}[{at[f'in{k}']}];\n"
    text += prog.statements()
    for m, j in enumerate(prog.outputs):
        text += f"        out{m}[{at[f'out{m}']}] = s{j};\n"
    text += "    }\n"
    stem = "map_c" if contiguous else f"map{ndim}"
    return common.kernel(stem, params, ", ".join(sig), text)


def map_launch(
    prog: Program,
    shape: Sequence[int],
    in_strides: Sequence[Sequence[int]],
    out_strides: Sequence[Sequence[int]],
    in_slots: Sequence[int | Ptr],
    out_slots: Sequence[int | Ptr],
    out_offsets: Sequence[int] | None = None,
) -> Launch | None:
    """One launch of `prog` over `shape`: input k is ins[in_slots[k]], output m is
    outs[out_slots[m]] + out_offsets[m] elements (a Ptr slot names any plan buffer, e.g. an
    output read as an input, or a workspace); None when there is nothing to compute."""
    n = 1
    for d in shape:
        n *= int(d)
    if n == 0:
        return None
    cshape, cstrides = common.collapse(shape, [*out_strides, *in_strides])
    n_out = len(out_strides)
    contiguous = len(cshape) == 1 and all(s == (1,) for s in cstrides)
    kern = program_kernel(prog, len(cshape), contiguous)
    out_sizes = [np.dtype(prog.step_dtypes[j]).itemsize for j in prog.outputs]
    offsets = list(out_offsets or [0] * n_out)

    parts: list = [("i64", n)]
    if not contiguous:
        parts.append(common.dims(cshape))
    for m in range(n_out):
        slot = out_slots[m] if isinstance(out_slots[m], Ptr) else Ptr("out", out_slots[m])
        parts.append(slot._replace(offset=slot.offset + offsets[m] * out_sizes[m]))
        if not contiguous:
            parts.append(common.dims(cstrides[m]))
    for k in range(len(in_strides)):
        parts.append(in_slots[k] if isinstance(in_slots[k], Ptr) else Ptr("in", in_slots[k]))
        if not contiguous:
            parts.append(common.dims(cstrides[n_out + k]))
    build = fixed_args(parts)

    grid, block = common.grid_1d(n)
    return Launch(kern, grid, block, build)


# ---------------------------------------------------------------------- the family interface
def handles(node: Apply) -> bool:
    return isinstance(node.op, (Elemwise, Composite, Alloc, Join))


def program_of(node: Apply) -> Program:
    """The scalar program an Elemwise or Composite node runs, with its static dtypes."""
    op = node.op
    in_dtypes = tuple(v.dtype for v in node.inputs)
    if isinstance(op, Elemwise):
        refs = tuple(("input", k) for k in range(len(node.inputs)))
        return Program(((op.scalar_op, refs),), (0,), in_dtypes, (node.outputs[0].dtype,))
    types = op.step_types([v.type for v in node.inputs])
    return Program(op.program, op.outputs, in_dtypes, tuple(t.dtype for t in types))


def supports(node: Apply) -> bool:
    host = host_inputs(node)
    arrays = [v for k, v in enumerate(node.inputs) if k not in host] + list(node.outputs)
    if not all(common.supported_dtype(v.dtype) for v in arrays):
        return False
    if node.outputs[0].ndim > MAX_NDIM:
        return False
    return isinstance(node.op, (Alloc, Join)) or program_of(node).supported()


def host_inputs(node: Apply) -> tuple[int, ...]:
    if isinstance(node.op, Alloc):
        return tuple(range(1, len(node.inputs)))
    if isinstance(node.op, Join):
        return (0,)
    return ()


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for an Elemwise, Composite, Alloc or Join node (see the package conventions)."""
    if isinstance(node.op, Alloc):
        return _plan_alloc(node, inputs, host_values)
    if isinstance(node.op, Join):
        return _plan_join(node, inputs, host_values)
    prog = program_of(node)
    shapes = []
    for j in prog.outputs:
        used = (
            sorted(node.op.dependencies[j])
            if isinstance(node.op, Composite)
            else list(range(len(inputs)))
        )
        shapes.append(broadcast_shape(node, inputs, used))
    if len(set(shapes)) > 1:
        raise Unsupported(f"{node.op}: outputs of different shapes {shapes}")
    shape = shapes[0]
    in_strides = [stretched(m, shape) for m in inputs]
    outs = tuple(ArrayMeta.contiguous(shape, prog.step_dtypes[j]) for j in prog.outputs)
    launch = map_launch(
        prog,
        shape,
        in_strides,
        [o.strides for o in outs],
        range(len(inputs)),
        range(len(outs)),
    )
    return Plan(outs, () if launch is None else (launch,))


def broadcast_shape(
    node: Apply, inputs: Sequence[ArrayMeta], used: Sequence[int]
) -> tuple[int, ...]:
    """The output shape; only axes whose type is length 1 broadcast, as Elemwise checks."""
    ndim = len(node.outputs[0].type.shape)
    shape = []
    for axis in range(ndim):
        members = [k for k in used if node.inputs[k].type.shape[axis] != 1]
        lengths = {inputs[k].shape[axis] for k in members}
        if len(lengths) > 1:
            shown = ", ".join(
                f"input[{k}].shape[{axis}] = {inputs[k].shape[axis]}" for k in members
            )
            raise ValueError(
                f"Input dimension mis-match in {node.op}: {shown} "
                "(a length-1 axis is only broadcast when its type is broadcastable)"
            )
        shape.append(lengths.pop() if lengths else 1)
    return tuple(shape)


def stretched(meta: ArrayMeta, shape: Sequence[int]) -> tuple[int, ...]:
    """meta's strides for reading it at `shape` (right-aligned; length-1 axes read with 0)."""
    pad = len(shape) - len(meta.shape)
    strides = []
    for axis, length in enumerate(shape):
        if axis < pad or meta.shape[axis - pad] == 1:
            strides.append(0)
        elif meta.shape[axis - pad] == length:
            strides.append(meta.strides[axis - pad])
        else:
            raise ValueError(f"cannot broadcast shape {meta.shape} to {tuple(shape)}")
    return tuple(strides)


def _plan_alloc(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    try:
        shape = tuple(int(host_values[k]) for k in range(1, len(node.inputs)))
    except KeyError as exc:
        raise Unsupported(f"Alloc needs its shape inputs as host values, missing {exc}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"Alloc: negative length in shape {shape}")
    value = inputs[0]
    dtype = node.outputs[0].dtype
    out = ArrayMeta.contiguous(shape, dtype)
    strides = stretched(value, shape)
    launch = map_launch(Program.copy(value.dtype, dtype), shape, [strides], [out.strides], [0], [0])
    return Plan((out,), () if launch is None else (launch,))


def _plan_join(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    if 0 not in host_values:
        raise Unsupported("Join needs its axis as a host value")
    parts = inputs[1:]
    ndim = len(parts[0].shape)
    axis = int(host_values[0])
    axis = axis + ndim if axis < 0 else axis
    if not 0 <= axis < ndim:
        raise ValueError(f"Join: axis {host_values[0]} out of range for {ndim} dims")
    for p in parts:
        for d in range(ndim):
            if d != axis and p.shape[d] != parts[0].shape[d]:
                raise ValueError(
                    f"Join: all the input array dimensions except for the concatenation axis "
                    f"must match exactly, got shapes {[q.shape for q in parts]}"
                )
    shape = list(parts[0].shape)
    shape[axis] = sum(p.shape[axis] for p in parts)
    dtype = node.outputs[0].dtype
    out = ArrayMeta.contiguous(shape, dtype)
    launches, start = [], 0
    for k, p in enumerate(parts):
        launch = map_launch(
            Program.copy(p.dtype, dtype),
            p.shape,
            [p.strides],
            [out.strides],
            [k + 1],
            [0],
            [start * out.strides[axis]],
        )
        if launch is not None:
            launches.append(launch)
        start += p.shape[axis]
    return Plan((out,), tuple(launches))


def plan_arange(dtype: str, start: Any, stop: Any, step: Any) -> Plan:
    """ARange's values on the device, for host scalars: the first two values converted to the
    dtype, then first + i * (second - first), in the dtype (as NumPy's fill).

    Not claimed by `supports` (every input of an ARange node is a host scalar, which the
    placement of device ops does not take); a linker may call it directly."""
    start, stop, step = (np.asarray(v).item() for v in (start, stop, step))
    if step == 0:
        raise ValueError("ARange: step must not be zero")
    if all(isinstance(v, int) for v in (start, stop, step)):
        length = len(range(start, stop, step))
    else:
        length = max(math.ceil((stop - start) / step), 0)
    out = ArrayMeta.contiguous((length,), dtype)
    if length == 0:
        return Plan((out,), ())
    t = common.ctype(dtype)
    is_float = dtype in common.FLOAT_DTYPES
    kind, ptype = (
        ({"float32": "f32", "float64": "f64"}[dtype], t) if is_float else ("i64", "long long")
    )
    first = np.asarray(start).astype(dtype)
    second = np.asarray(start + step).astype(dtype)
    text = (
        "    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
        " i += (long long)blockDim.x * gridDim.x)\n"
        f"        out[i] = i == 0 ? ({t})first : i == 1 ? ({t})second"
        f" : ({t})(first + ({ptype})i * (second - first));\n"
    )
    sig = f"long long n, {ptype} first, {ptype} second, {t}* out"
    kern = common.kernel("arange", ("i64", kind, kind, "ptr"), sig, text)
    grid, block = common.grid_1d(length)
    values = (first.item(), second.item())

    build = fixed_args([("i64", length), (kind, values[0]), (kind, values[1]), Ptr("out", 0)])
    return Plan((out,), (Launch(kern, grid, block, build),))
