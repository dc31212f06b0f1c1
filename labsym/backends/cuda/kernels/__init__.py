"""CUDA kernels for graph nodes, rendered as source text (scalar table -> CUDA), one plan per node.

The CUDA linker asks two things of this package:

- `supports(node) -> bool`: whether the node has a device implementation (dtypes included:
  bool, int8..int64, uint8..uint64, float32, float64; no float16, no complex).
- `plan(node, inputs, host_values=None) -> Plan` for the run-time layouts of its inputs.
- `basic_view(meta, key) -> (ArrayMeta, offset)`: the layout of a basic-index view (Subtensor),
  no kernel needed.

Families: elemwise (Elemwise, Composite, Alloc, Join), reduce (CAReduce ops, Argmax/Argmin,
MaxAndArgmax), nnet (softmax family, crossentropies), subtensor (IncSubtensor on basic
indices; AdvancedSubtensor1 row gather, AdvancedIncSubtensor1 atomic row scatter), advanced
(AdvancedSubtensor/AdvancedIncSubtensor with integer arrays on the leading axes), pool (Pool,
MaxPoolGrad, AveragePoolGrad, DownsampleFactorMaxGradGrad), conv (Conv2d and its gradients:
im2col/col2im kernels around one cuBLAS GEMM, a `GemmCall` step of the plan).
`kernels.random` has Philox4x32-10 plans (plan_uniform, plan_normal) and their NumPy
reference; no graph op draws from it yet.

Conventions (every family follows them):

- `inputs[k]` is an `ArrayMeta(shape, strides, dtype)` per node input: strides are in ELEMENTS,
  may be negative or 0 (broadcast), and a pointer passed for it is the address of element
  (0, ..., 0) (for a negative stride that is not the start of the allocation).
- Inputs listed by `host_inputs(node)` (small integer scalars: Alloc's shape, Join's axis) are
  read on the host: the caller passes their values as `host_values={k: value}`; the kernels never
  read them, and the caller passes 0 for their pointer.
- `Plan.outputs`: one C-contiguous `ArrayMeta` per node output; the caller allocates each
  (`meta.nbytes`, at least 1 byte) and passes its address. `Plan.workspace`: byte sizes of scratch
  buffers the caller allocates for the duration of the launches.
- `Plan.launches`: run in order on one stream; a `GemmCall` is one Runtime.gemm on plan
  buffers, a `Launch` is (CudaKernel, grid, block, build_args, shared_bytes), with
  `build_args(input_ptrs, output_ptrs, workspace_ptrs)` giving the launch arguments as
  `(kind, value)` pairs (kinds of `protocol.CudaKernel.params`; shapes and strides travel as
  `ls_dims` structs). A node of size 0 has no launches.
- Kernel source depends on dtypes, the op and the number of (collapsed) dimensions, never on
  lengths: one compile serves every batch size. Launch sizes come from the run-time shapes.
- An output may alias an input (inplace) only where that input is C-contiguous with the
  output's shape and dtype.
- `plan` raises `Unsupported` when a node or layout has no kernel (the caller runs it on the
  host), and `ValueError` for a run-time error the host would raise too (shape mismatch).

`execute(runtime, plan, ins, outs, workspace)` compiles and launches a plan on any Runtime.
May import core and backends.cuda only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labsym.backends.cuda.kernels import advanced, conv, elemwise, nnet, pool, reduce, subtensor
from labsym.backends.cuda.kernels.api import (
    ArgsBuilder,
    ArrayMeta,
    GemmCall,
    Launch,
    Plan,
    Ptr,
    Unsupported,
    execute,
    fixed_args,
    run_on,
)
from labsym.backends.cuda.kernels.subtensor import basic_view
from labsym.core.graph import Apply

__all__ = [
    "ArgsBuilder",
    "ArrayMeta",
    "GemmCall",
    "Launch",
    "Plan",
    "Ptr",
    "Unsupported",
    "basic_view",
    "execute",
    "fixed_args",
    "host_inputs",
    "plan",
    "run_on",
    "supports",
]

_FAMILIES = (elemwise, reduce, nnet, subtensor, advanced, pool, conv)


def _family(node: Apply) -> Any:
    for family in _FAMILIES:
        if family.handles(node):
            return family
    return None


def supports(node: Apply) -> bool:
    """True if `node` has a CUDA kernel for its input and output dtypes."""
    family = _family(node)
    return family is not None and family.supports(node)


def host_inputs(node: Apply) -> tuple[int, ...]:
    """Indices of the inputs `plan` needs as host values (shape scalars, axes), not pointers."""
    family = _family(node)
    return family.host_inputs(node) if family is not None else ()


def plan(
    node: Apply, inputs: Sequence[ArrayMeta], host_values: Mapping[int, Any] | None = None
) -> Plan:
    """The launches computing `node` for inputs laid out as `inputs` (see the conventions)."""
    family = _family(node)
    if family is None or not family.supports(node):
        raise Unsupported(f"no CUDA kernel for {node.op}")
    return family.plan(node, list(inputs), dict(host_values or {}))
