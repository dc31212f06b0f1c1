"""Basic-index views and IncSubtensor/set_subtensor kernels: x copied into the output, then
y added to (or stored into) the indexed view of the output, broadcast as NumPy does.

`basic_view` gives a view's layout without touching memory, for the linker's Subtensor views.
May import core and backends.cuda only.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Unsupported
from labsym.backends.cuda.kernels.elemwise import Program, map_launch, stretched
from labsym.core.graph import Apply
from labsym.core.ops import subtensor as core_subtensor
from labsym.core.scalar import SCALAR_OPS, cast_op


def basic_view(meta: ArrayMeta, key: Sequence[Any]) -> tuple[ArrayMeta, int]:
    """The layout of meta[key] for a basic index (ints, slices, None, Ellipsis), and the offset
    of its element (0, ..., 0) from meta's, in elements. Raises IndexError as NumPy does."""
    key = tuple(key)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > len(meta.shape):
        raise IndexError(f"too many indices: {used} for an array of {len(meta.shape)} dims")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (len(meta.shape) - used) + key[at + 1 :]
    shape, strides, offset, axis = [], [], 0, 0
    for k in key:
        if k is None:
            shape.append(1)
            strides.append(0)
            continue
        length, stride = meta.shape[axis], meta.strides[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(length)
            shape.append(len(range(start, stop, step)))
            strides.append(stride * step)
            offset += start * stride if shape[-1] else 0
        else:
            i = operator.index(k)
            if not -length <= i < length:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {length}")
            offset += (i % length) * stride
        axis += 1
    shape += meta.shape[axis:]
    strides += meta.strides[axis:]
    return ArrayMeta(tuple(shape), tuple(strides), meta.dtype), offset


def _is_basic_inc(node: Apply) -> bool:
    return type(node.op) is core_subtensor.IncSubtensor


def handles(node: Apply) -> bool:
    return _is_basic_inc(node)


def supports(node: Apply) -> bool:
    x = node.inputs[0]
    return common.supported_dtype(x.dtype) and x.ndim <= 8


def host_inputs(node: Apply) -> tuple[int, ...]:
    return tuple(range(2, len(node.inputs)))


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """out = copy of x; out[idx] += y (or = y): two launches (see the package conventions)."""
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
        inner = map_launch(
            prog, view.shape, [view.strides, y_strides], [view.strides], [0, 1], [0], [offset]
        )
        update = None if inner is None else _reading_output(inner, offset * out.itemsize)
    if update is not None:
        launches.append(update)
    return Plan((out,), tuple(launches))


def _reading_output(launch: Launch, byte_offset: int) -> Launch:
    """`launch` with its input 0 taken from output 0 (+ byte_offset): out[idx] = out[idx] + y.

    Each element is read and written by the same thread, so the aliasing is safe."""
    inner = launch.build_args

    def build(ins, outs, ws):
        return inner([outs[0] + byte_offset, ins[1]], outs, ws)

    return Launch(launch.kernel, launch.grid, launch.block, build, launch.shared_bytes)
