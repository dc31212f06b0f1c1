"""What runs one device node: kernel plans through a Runtime, cuBLAS products, views, copies.

Each `*_thunk` returns a callable over GpuArrays (and host scalars) that the CUDA linker's
generated code calls once per node. May import core and backends.cuda.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda import kernels
from labsym.backends.cuda.gpuarray import DeviceBuffer, GpuArray
from labsym.backends.cuda.kernels.api import ArrayMeta, Plan, Unsupported, execute
from labsym.backends.cuda.kernels.elemwise import Program, map_launch
from labsym.backends.cuda.protocol import Runtime
from labsym.core.gpu_type import is_device_array
from labsym.core.graph import Apply
from labsym.core.ops.gpu import GpuOp
from labsym.core.type import TensorType

Fallback = Callable[[Apply], None]


def meta_of(array: GpuArray) -> ArrayMeta:
    """The kernel-side layout of a device array (strides in elements), made once per array."""
    meta = array.meta
    if meta is None:
        meta = array.meta = ArrayMeta(array.shape, array.element_strides, array.dtype.name)
    return meta


def _outputs(runtime: Runtime, metas: Sequence[ArrayMeta]) -> list[GpuArray]:
    """Fresh C-contiguous device arrays for a plan's outputs (their layout known already)."""
    outs = []
    for meta in metas:
        out = GpuArray.empty(runtime, meta.shape, meta.dtype)
        out.meta = meta
        outs.append(out)
    return outs


def contiguous(runtime: Runtime, array: GpuArray) -> GpuArray:
    """`array` itself when C-contiguous, else a C-contiguous device copy (one copy kernel)."""
    if array.is_c_contiguous:
        return array
    out = GpuArray.empty(runtime, array.shape, array.dtype)
    dtype = array.dtype.name
    launch = map_launch(
        Program.copy(dtype, dtype),
        array.shape,
        [array.element_strides],
        [out.element_strides],
        [0],
        [0],
    )
    if launch is not None:
        execute(runtime, Plan((meta_of(out),), (launch,)), [array.ptr], [out.ptr])
    return out


def device_copy(runtime: Runtime, array: GpuArray) -> GpuArray:
    """A fresh C-contiguous device copy (never the same memory)."""
    return array.copy() if array.is_c_contiguous else contiguous(runtime, array)


def _host_key(value: Any) -> Any:
    array = np.asarray(value)
    return (array.dtype.str, array.shape, array.tobytes())


def kernel_thunk(runtime: Runtime, node: Apply, on_fallback: Fallback) -> Callable[..., Any]:
    """Run a GpuOp node through the kernels package's plan; plans are cached per layout.

    A layout the kernels refuse at run time (`Unsupported`) runs the op's reference `perform`
    through host copies, after `on_fallback(node)` warns.
    """
    op: GpuOp = node.op  # type: ignore[assignment]
    twin = op.host_twin(node)
    host = set(kernels.host_inputs(twin))
    n_out = len(node.outputs)
    plans: dict[Any, Plan | None] = {}

    def plan_for(values: Sequence[Any]) -> Plan | None:
        metas, key_parts, host_values = [], [], {}
        for k, value in enumerate(values):
            if k in host:
                host_values[k] = value
                metas.append(ArrayMeta((), (), np.asarray(value).dtype.name))
                key_parts.append(_host_key(value))
            else:
                meta = meta_of(value)
                metas.append(meta)
                key_parts.append(meta)
        key = tuple(key_parts)
        if key not in plans:
            try:
                plans[key] = kernels.plan(twin, metas, host_values)
            except Unsupported:
                plans[key] = None
        return plans[key]

    def run(*values: Any) -> Any:
        if host:
            plan = plan_for(values)
        else:  # the common case: a lookup by the inputs' layouts
            plan = plans.get(tuple([meta_of(v) for v in values]), _MISSING)
            if plan is _MISSING:
                plan = plan_for(values)
        if plan is None:
            on_fallback(node)
            storage: list[list[Any]] = [[None] for _ in range(n_out)]
            op.perform(node, list(values), storage)
            outs = [cell[0] for cell in storage]
        else:
            outs = _outputs(runtime, plan.outputs)
            scratch = [DeviceBuffer(runtime, n) for n in plan.workspace]
            ptrs = [0 if k in host else v.ptr for k, v in enumerate(values)]
            execute(runtime, plan, ptrs, [o.ptr for o in outs], [s.ptr for s in scratch])
        return outs[0] if n_out == 1 else tuple(outs)

    return run


_MISSING: Any = object()


def fused_parts(node: Apply) -> tuple[Apply, Apply] | None:
    """A FusedReduce-like host node (`reduce_op(composite(*inputs))`) as its two host nodes,
    (elementwise, reduction), or None for any other node."""
    op = node.op
    if not (hasattr(op, "scalar_node") and hasattr(op, "reduce_op")):
        return None
    inner = op.scalar_node(node)
    return inner, op.reduce_op.make_node(inner.outputs[0])


def fused_reduce_thunk(runtime: Runtime, node: Apply) -> Callable[..., Any]:
    """A fused elementwise-then-reduce node as two kernel plans (the elementwise result is a
    device temporary), so the reduced data never leaves the device."""
    parts = fused_parts(node.op.host_twin(node))  # type: ignore[attr-defined]
    assert parts is not None
    inner, reduction = parts
    plans: dict[Any, tuple[Plan, Plan]] = {}

    def run(*values: GpuArray) -> GpuArray:
        metas = tuple(meta_of(v) for v in values)
        if metas not in plans:
            first = kernels.plan(inner, metas)
            plans[metas] = (first, kernels.plan(reduction, first.outputs))
        first, second = plans[metas]
        (temp,) = _outputs(runtime, first.outputs)
        execute(runtime, first, [v.ptr for v in values], [temp.ptr])
        (out,) = _outputs(runtime, second.outputs)
        scratch = [DeviceBuffer(runtime, n) for n in second.workspace]
        execute(runtime, second, [temp.ptr], [out.ptr], [b.ptr for b in scratch])
        return out

    return run


def _as_matrix(array: GpuArray, side: str) -> GpuArray:
    if array.ndim == 2:
        return array
    return array[None, :] if side == "left" else array[:, None]


def _blas_operand(runtime: Runtime, array: GpuArray) -> tuple[GpuArray, bool, int]:
    """A row-major matrix as cuBLAS sees it: (array kept alive, transposed?, leading dim).

    Strides (s0, s1) with s1 == 1 are column-major storage of its transpose (ld s0); s0 == 1
    is a transposed view, column-major storage of the matrix itself (ld s1). The stride of a
    length-1 axis is free, so it is chosen to fit; any other layout is copied.
    """
    rows, cols = array.shape
    s0, s1 = array.element_strides
    if rows == 1:
        s0 = max(cols, 1) if s1 == 1 else 1
    if cols == 1:
        s1 = max(rows, 1) if s0 == 1 else 1
    if s1 == 1 and s0 >= max(cols, 1):
        return array, False, s0
    if s0 == 1 and s1 >= max(rows, 1):
        return array, True, s1
    return contiguous(runtime, array), False, max(cols, 1)


def gemm_into(
    runtime: Runtime, out: GpuArray, x: GpuArray, y: GpuArray, alpha: float, beta: float
) -> None:
    """out = alpha x.y + beta out, row-major matrices, through the runtime's cuBLAS gemm."""
    m, n = out.shape
    k = x.shape[1]
    if m == 0 or n == 0:
        return
    # row-major C = A B is column-major C^T = B^T A^T: pass B first
    b, b_trans, ldb = _blas_operand(runtime, y)
    a, a_trans, lda = _blas_operand(runtime, x)
    runtime.gemm(
        out.dtype.name, b_trans, a_trans, n, m, k,
        float(alpha), b.ptr, ldb, a.ptr, lda, float(beta), out.ptr, max(n, 1),
    )  # fmt: skip


def dot_thunk(runtime: Runtime, node: Apply) -> Callable[..., Any]:
    """Dot of vectors and matrices (GpuDot22) as one cuBLAS gemm."""
    out_ndim = node.outputs[0].ndim

    def run(x: GpuArray, y: GpuArray) -> GpuArray:
        a, b = _as_matrix(x, "left"), _as_matrix(y, "right")
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} are not aligned")
        out = GpuArray.empty(runtime, (a.shape[0], b.shape[1]), node.outputs[0].dtype)
        gemm_into(runtime, out, a, b, 1.0, 0.0)
        shape = tuple(x.shape[:-1]) + tuple(y.shape[1:])
        return out if out_ndim == 2 else out.reshape(shape)

    return run


def gemm_thunk(runtime: Runtime, node: Apply) -> Callable[..., Any]:
    """Gemm (GpuGemm): a fresh copy of z, then cuBLAS accumulates alpha x.y into it."""

    def run(z: GpuArray, alpha: Any, x: GpuArray, y: GpuArray, beta: Any) -> GpuArray:
        if x.shape[1] != y.shape[0] or z.shape != (x.shape[0], y.shape[1]):
            raise ValueError(f"Gemm: z {z.shape}, x {x.shape}, y {y.shape} do not match")
        b = float(beta)
        out = device_copy(runtime, z) if b != 0.0 else GpuArray.empty(runtime, z.shape, z.dtype)
        gemm_into(runtime, out, x, y, float(alpha), b)
        return out

    return run


def dimshuffle_thunk(node: Apply) -> Callable[..., Any]:
    """DimShuffle (GpuDimShuffle) as a view: new shape and strides, no kernel."""
    order = node.op.host_op.new_order  # type: ignore[attr-defined]

    def run(x: GpuArray) -> GpuArray:
        return x.dimshuffle(order)

    return run


def metadata_thunk(node: Apply) -> Callable[..., Any]:
    """Ops that read only an array's layout (GpuSubtensor's basic-index views, GpuSpecifyShape's
    length check): the host op's own callable applied to the GpuArray, whose `shape` and
    `__getitem__` answer as NumPy's; the other inputs (indices, lengths) are host values."""
    op = node.op.host_op  # type: ignore[attr-defined]
    x = node.inputs[0]
    twin = op.make_node(TensorType(x.type.dtype, x.type.shape)(), *node.inputs[1:])
    return op.numpy_callable(twin)


def upload_thunk(runtime: Runtime, constant: Any = None) -> Callable[..., Any]:
    """GpuFromHost; a constant input is uploaded once, when the function is linked."""
    if constant is not None:
        cached = GpuArray.from_host(runtime, np.asarray(constant))
        return lambda _value: cached

    def upload(value: Any) -> GpuArray:
        return GpuArray.from_host(runtime, value)

    return upload


def download(value: Any) -> np.ndarray:
    """HostFromGpu."""
    return value.get()


def output_helpers(runtime: Runtime) -> dict[str, Callable[[Any], Any]]:
    """Device-aware `_copy`/`_asarray` for the generated call: a device value committed to a
    device shared variable is copied on the device, never brought to the host."""

    def copy(value: Any) -> Any:
        return device_copy(runtime, value) if is_device_array(value) else np.array(value)

    def as_array(value: Any) -> Any:
        return value if is_device_array(value) else np.asarray(value)

    return {"_copy": copy, "_asarray": as_array}


def warn_key(node: Apply) -> str:
    """The op type a host-fallback warning is given once for."""
    op = node.op.host_op if isinstance(node.op, GpuOp) else node.op
    return type(op).__name__
