"""Indexing kernels. Basic indices: IncSubtensor/set_subtensor copy x into the output, then add
y to (or store it into) the indexed view of the output, broadcast as NumPy does. An integer
vector on the first axis: AdvancedSubtensor1 gathers rows (`W[idx]`), AdvancedIncSubtensor1
scatters y into a copy of x with atomicAdd, so repeated rows accumulate as np.add.at (set mode
with repeated rows keeps one of the values, unordered). A row index out of range cannot raise
on a device: a gather gives NaN (0 for integers) and a scatter skips it.

`basic_view` gives a view's layout without touching memory, for the linker's Subtensor views.
May import core and backends.cuda only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.indexing import basic_index
from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, Unsupported, fixed_args
from labsym.backends.cuda.kernels.elemwise import Program, map_launch, stretched
from labsym.core.graph import Apply
from labsym.core.ops import subtensor as core_subtensor
from labsym.core.scalar import SCALAR_OPS, cast_op


def basic_view(meta: ArrayMeta, key: Sequence[Any]) -> tuple[ArrayMeta, int]:
    """The layout of meta[key] for a basic index (ints, slices, None, Ellipsis), and the offset
    of its element (0, ..., 0) from meta's, in elements. Raises IndexError as NumPy does."""
    shape, strides, offset = basic_index(meta.shape, meta.strides, key)
    return ArrayMeta(tuple(shape), tuple(strides), meta.dtype), offset


_OPS = (
    core_subtensor.IncSubtensor,
    core_subtensor.AdvancedSubtensor1,
    core_subtensor.AdvancedIncSubtensor1,
)
# dtypes CUDA's atomicAdd takes (int64 through its unsigned long long overload)
ATOMIC_TYPES = {"float32": "float", "float64": "double", "int32": "int", "uint32": "unsigned int"}
ATOMIC_TYPES.update({"int64": "unsigned long long", "uint64": "unsigned long long"})


def handles(node: Apply) -> bool:
    return type(node.op) in _OPS


def supports(node: Apply) -> bool:
    x = node.inputs[0]
    if not (common.supported_dtype(x.dtype) and x.ndim <= 8):
        return False
    op = node.op
    if isinstance(op, core_subtensor.AdvancedIncSubtensor1) and not op.set_instead_of_inc:
        return x.dtype in ATOMIC_TYPES
    return True


def host_inputs(node: Apply) -> tuple[int, ...]:
    if type(node.op) is core_subtensor.IncSubtensor:
        return tuple(range(2, len(node.inputs)))
    return ()


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for an indexing node (see the package conventions)."""
    if type(node.op) is core_subtensor.AdvancedSubtensor1:
        return _plan_take(inputs[0], inputs[1])
    if type(node.op) is core_subtensor.AdvancedIncSubtensor1:
        return _plan_scatter(node, *inputs)
    return _plan_inc(node, inputs, host_values)


def _plan_inc(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """out = copy of x; out[idx] += y (or = y): two launches."""
    x, y = inputs[0], inputs[1]
    try:
        values = [host_values[k] for k in range(2, len(node.inputs))]
    except KeyError as exc:
        raise Unsupported(f"{node.op} needs its index inputs as host values ({exc})") from None
    key = core_subtensor._index_builder(node.op.idx_list)(values)  # the op's own index rules
    out = ArrayMeta.contiguous(x.shape, x.dtype)
    view, offset = basic_view(out, key)
    launches = []
    copy = map_launch(Program.copy(x.dtype, x.dtype), x.shape, [x.strides], [out.strides], [0], [0])
    if copy is not None:
        launches.append(copy)
    if len(y.shape) > len(view.shape):
        raise ValueError(f"{node.op}: a {len(y.shape)}-d value for a {len(view.shape)}-d subtensor")
    pad = len(view.shape) - len(y.shape)
    for a, static in enumerate(node.inputs[1].type.shape):
        if static is None and y.shape[a] == 1 and view.shape[pad + a] != 1:
            raise ValueError(
                f"{node.op}: the value's axis {a} has length 1 but is not broadcastable; "
                f"the subtensor has length {view.shape[pad + a]} there"
            )
    y_strides = stretched(y, view.shape)
    if node.op.set_instead_of_inc:
        prog = Program.copy(y.dtype, x.dtype)
        update = map_launch(prog, view.shape, [y_strides], [view.strides], [1], [0], [offset])
    else:
        add = SCALAR_OPS["add"]
        refs = (("input", 0), ("input", 1))
        total = add.output_dtype([x.dtype, y.dtype])
        steps = ((add, refs), (cast_op(x.dtype), (("step", 0),)))
        prog = Program(steps, (1,), (x.dtype, y.dtype), (total, x.dtype))
        # input 0 is the output's view itself: each element is read and written by one thread
        view_in = Ptr("out", 0, offset * out.itemsize)
        update = map_launch(
            prog, view.shape, [view.strides, y_strides], [view.strides], [view_in, 1], [0], [offset]
        )
    if update is not None:
        launches.append(update)
    return Plan((out,), tuple(launches))


def _rows_kernel(stem: str, out_dtype: str, src_dtype: str, idx_dtype: str, nr: int, body: str):
    """A grid-stride kernel over (row of the index vector, element of the row): `t` is the
    row of x it addresses (negative counts from the end; -1 when out of range)."""
    sig = [
        "long long n",
        "long long n_inner",
        "long long len0",
        "ls_dims rshape",
        f"const {common.ctype(idx_dtype)}* idx",
        "long long idx_stride",
        f"{common.ctype(out_dtype)}* out",
        "long long out_row",
        "ls_dims rst_out",
        f"const {common.ctype(src_dtype)}* src",
        "long long src_row",
        "ls_dims rst_src",
    ]
    params = ("i64", "i64", "i64", "dims", "ptr", "i64", "ptr", "i64", "dims", "ptr", "i64", "dims")
    decompose = "".join(
        f"            {{ long long c_ = r_ % rshape.v[{d}]; r_ /= rshape.v[{d}];"
        f" o_out += c_ * rst_out.v[{d}]; o_src += c_ * rst_src.v[{d}]; }}\n"
        for d in range(nr - 1, -1, -1)
    )
    text = (
        "    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
        " i += (long long)blockDim.x * gridDim.x) {\n"
        "        long long row = i / n_inner, o_out = 0, o_src = 0;\n"
        "        { long long r_ = i % n_inner;\n" + decompose + "        }\n"
        "        long long t = (long long)idx[row * idx_stride];\n"
        "        if (t < 0) t += len0;\n"
        "        if (t < 0 || t >= len0) t = -1;\n" + body + "    }\n"
    )
    return common.kernel(stem, params, ", ".join(sig), text)


def _rows_launch(
    stem: str,
    body: str,
    n_idx: int,
    inner_shape: tuple[int, ...],
    out: ArrayMeta,
    src: ArrayMeta,
    idx: ArrayMeta,
    src_slot: int,
    idx_slot: int,
    len0: int,
) -> Launch | None:
    """The launch of `body` over n_idx rows x the trailing `inner_shape`: output 0 is `out`,
    input src_slot is `src`, input idx_slot the index vector into an axis of length len0."""
    n_inner = int(np.prod(inner_shape, dtype=np.int64))
    n = n_idx * n_inner
    if n == 0:
        return None
    rshape, (rst_out, rst_src) = common.collapse(inner_shape, [out.strides[1:], src.strides[1:]])
    kern = _rows_kernel(stem, out.dtype, src.dtype, idx.dtype, len(rshape), body)
    grid, block = common.grid_1d(n)

    build = fixed_args(
        [
            *[("i64", v) for v in (n, n_inner, len0)],
            common.dims(rshape),
            Ptr("in", idx_slot),
            ("i64", idx.strides[0]),
            Ptr("out", 0),
            ("i64", out.strides[0]),
            common.dims(rst_out),
            Ptr("in", src_slot),
            ("i64", src.strides[0]),
            common.dims(rst_src),
        ]
    )

    return Launch(kern, grid, block, build)


def _plan_take(x: ArrayMeta, idx: ArrayMeta) -> Plan:
    """out[r, ...] = x[idx[r], ...]."""
    n_idx = idx.shape[0]
    out = ArrayMeta.contiguous((n_idx, *x.shape[1:]), x.dtype)
    bad = common.literal(np.nan if x.dtype in common.FLOAT_DTYPES else 0, x.dtype)
    body = f"        out[row * out_row + o_out] = t < 0 ? {bad} : src[t * src_row + o_src];\n"
    launch = _rows_launch("take", body, n_idx, x.shape[1:], out, x, idx, 0, 1, x.shape[0])
    return Plan((out,), () if launch is None else (launch,))


def _plan_scatter(node: Apply, x: ArrayMeta, y: ArrayMeta, idx: ArrayMeta) -> Plan:
    """out = copy of x; out[idx[r], ...] += y[r, ...] (atomically) or = y[r, ...]."""
    n_idx = idx.shape[0]
    sub_shape = (n_idx, *x.shape[1:])
    if len(y.shape) > len(sub_shape):
        raise ValueError(f"{node.op}: a {len(y.shape)}-d value for a {len(sub_shape)}-d subtensor")
    y_b = ArrayMeta(sub_shape, stretched(y, sub_shape), y.dtype)
    out = ArrayMeta.contiguous(x.shape, x.dtype)
    launches = []
    copy = map_launch(Program.copy(x.dtype, x.dtype), x.shape, [x.strides], [out.strides], [0], [0])
    if copy is not None:
        launches.append(copy)
    if node.op.set_instead_of_inc:
        body = "        if (t >= 0) out[t * out_row + o_out] = src[row * src_row + o_src];\n"
    else:
        a = ATOMIC_TYPES[x.dtype]
        body = (
            f"        if (t >= 0) atomicAdd(({a}*)&out[t * out_row + o_out],"
            f" ({a})src[row * src_row + o_src]);\n"
        )
    stem = "scatter_set" if node.op.set_instead_of_inc else "scatter_add"
    scatter = _rows_launch(stem, body, n_idx, x.shape[1:], out, y_b, idx, 1, 2, x.shape[0])
    if scatter is not None:
        launches.append(scatter)
    return Plan((out,), tuple(launches))
