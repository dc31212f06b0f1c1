"""Integer-array indexing on the leading axes: AdvancedSubtensor (`x[i, j]`, e.g. the
`log_p[arange(n), y]` of a negative log-likelihood) and its AdvancedIncSubtensor.

Supported index lists are integer arrays or scalars on the first m axes, then full slices:
the index arrays broadcast together to B, the result has shape B + x.shape[m:]. A gather
thread reads one element; the scatter adds with atomicAdd (repeated index tuples accumulate
as np.add.at) or stores (set; repeats keep one value, unordered). Out-of-range indices give
NaN (0 for integers) in a gather and are skipped in a scatter (the host op raises IndexError).
May import core and backends.cuda only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.cuda.kernels import common
from labsym.backends.cuda.kernels.api import ArrayMeta, Launch, Plan, Ptr, fixed_args
from labsym.backends.cuda.kernels.elemwise import Program, map_launch, stretched
from labsym.backends.cuda.kernels.subtensor import ATOMIC_TYPES
from labsym.core.graph import Apply
from labsym.core.ops import subtensor as core_subtensor

MAX_INDEX_ARRAYS = 4


def _index_count(node: Apply) -> int | None:
    """m, the number of leading index arrays, or None when the index list has another form."""
    entries = node.op.idx_list
    m = 0
    while m < len(entries) and isinstance(entries[m], str) and not entries[m].startswith("bool"):
        m += 1
    rest_ok = all(e == core_subtensor.FULL for e in entries[m:])
    return m if 0 < m <= MAX_INDEX_ARRAYS and rest_ok else None


def handles(node: Apply) -> bool:
    return type(node.op) in (core_subtensor.AdvancedSubtensor, core_subtensor.AdvancedIncSubtensor)


def supports(node: Apply) -> bool:
    x = node.inputs[0]
    if _index_count(node) is None or not common.supported_dtype(x.dtype) or x.ndim > 8:
        return False
    if type(node.op) is core_subtensor.AdvancedIncSubtensor and not node.op.set_instead_of_inc:
        return x.dtype in ATOMIC_TYPES
    return True


def host_inputs(node: Apply) -> tuple[int, ...]:
    return ()


def _kernel(stem: str, gather: bool, x_dtype: str, b_dtype: str, idx_dtypes: Sequence[str],
            nb: int, nr: int, body: str):  # fmt: skip
    """Grid-stride over B x rest. `xarr` is the array the index tuple addresses (x for a
    gather, the output for a scatter), `barr` the B x rest shaped one (the output for a gather,
    y for a scatter). In the body `ok` says every index is in range, `xo` is the offset of the
    addressed element of xarr and `bo` that of barr's element."""
    sig = ["long long n", "long long n_rest", "ls_dims bshape", "ls_dims rshape", "ls_dims lens"]
    params = ["i64", "i64", "dims", "dims", "dims"]
    for k, d in enumerate(idx_dtypes):
        sig += [f"const {common.ctype(d)}* idx{k}", f"ls_dims ist{k}"]
        params += ["ptr", "dims"]
    x_const, b_const = ("const ", "") if gather else ("", "const ")
    sig += [f"{x_const}{common.ctype(x_dtype)}* xarr", "ls_dims xlead", "ls_dims xrest"]
    sig += [f"{b_const}{common.ctype(b_dtype)}* barr", "ls_dims bst", "ls_dims brest"]
    params += ["ptr", "dims", "dims", "ptr", "dims", "dims"]
    m = len(idx_dtypes)
    lines = [
        "long long b = i / n_rest, rr = i % n_rest, xo = 0, bo = 0;",
        *[f"long long p{k} = 0;" for k in range(m)],
        "{ long long r_ = b;",
    ]
    for d in range(nb - 1, -1, -1):
        step = "".join(f" p{k} += c_ * ist{k}.v[{d}];" for k in range(m))
        lines.append(
            f"  {{ long long c_ = r_ % bshape.v[{d}]; r_ /= bshape.v[{d}];{step}"
            f" bo += c_ * bst.v[{d}]; }}"
        )
    lines.append("}")
    lines.append("{ long long r_ = rr;")
    for d in range(nr - 1, -1, -1):
        lines.append(
            f"  {{ long long c_ = r_ % rshape.v[{d}]; r_ /= rshape.v[{d}];"
            f" xo += c_ * xrest.v[{d}]; bo += c_ * brest.v[{d}]; }}"
        )
    lines.append("}")
    lines.append("bool ok = true;")
    for k in range(m):
        lines.append(
            f"long long t{k} = (long long)idx{k}[p{k}]; if (t{k} < 0) t{k} += lens.v[{k}];"
        )
        lines.append(
            f"if (t{k} < 0 || t{k} >= lens.v[{k}]) ok = false; else xo += t{k} * xlead.v[{k}];"
        )
    text = (
        "    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
        " i += (long long)blockDim.x * gridDim.x) {\n"
        + "".join(f"        {line}\n" for line in lines)
        + body
        + "    }\n"
    )
    return common.kernel(stem, params, ", ".join(sig), text)


def plan(node: Apply, inputs: list[ArrayMeta], host_values: dict[int, Any]) -> Plan:
    """Launches for an AdvancedSubtensor or AdvancedIncSubtensor node of the supported form."""
    m = _index_count(node)
    assert m is not None
    inc = type(node.op) is core_subtensor.AdvancedIncSubtensor
    x = inputs[0]
    first_index = 2 if inc else 1
    indices = inputs[first_index:]
    if m > len(x.shape):
        raise IndexError(f"too many indices: {m} for an array of {len(x.shape)} dims")
    try:
        bshape = tuple(np.broadcast_shapes(*[i.shape for i in indices]))
    except ValueError:
        shapes = [i.shape for i in indices]
        raise IndexError(
            f"shape mismatch: indexing arrays could not be broadcast {shapes}"
        ) from None
    rest = x.shape[m:]
    sub_shape = bshape + rest
    out = ArrayMeta.contiguous(x.shape if inc else sub_shape, x.dtype)
    steps: list[Launch] = []
    if inc:
        y = inputs[1]
        if len(y.shape) > len(sub_shape):
            raise ValueError(
                f"{node.op}: a {len(y.shape)}-d value for a {len(sub_shape)}-d subtensor"
            )
        copy = map_launch(
            Program.copy(x.dtype, x.dtype), x.shape, [x.strides], [out.strides], [0], [0]
        )
        steps += [copy] if copy is not None else []
        xarr, barr = out, ArrayMeta(sub_shape, stretched(y, sub_shape), y.dtype)
    else:
        xarr, barr = x, out
    n = int(np.prod(sub_shape, dtype=np.int64))
    if n == 0:
        return Plan((out,), tuple(steps))
    nb = len(bshape)
    idx_strides = [stretched(i, bshape) for i in indices]
    bsh, bstrides = common.collapse(bshape, [*idx_strides, barr.strides[:nb]])
    rsh, (xrest, brest) = common.collapse(rest, [xarr.strides[m:], barr.strides[nb:]])
    if inc and node.op.set_instead_of_inc:
        body = "        if (ok) xarr[xo] = barr[bo];\n"
    elif inc:
        a = ATOMIC_TYPES[x.dtype]
        body = f"        if (ok) atomicAdd(({a}*)&xarr[xo], ({a})barr[bo]);\n"
    else:
        bad = common.literal(np.nan if x.dtype in common.FLOAT_DTYPES else 0, x.dtype)
        body = f"        barr[bo] = ok ? xarr[xo] : {bad};\n"
    stem = ("scatter_nd_" + ("set" if node.op.set_instead_of_inc else "add")) if inc else "take_nd"
    kern = _kernel(stem, not inc, xarr.dtype, barr.dtype, [i.dtype for i in indices], len(bsh),
                   len(rsh), body)  # fmt: skip
    grid, block = common.grid_1d(n)
    lens = x.shape[:m]
    n_rest = int(np.prod(rest, dtype=np.int64))

    parts = [("i64", n), ("i64", n_rest), common.dims(bsh), common.dims(rsh), common.dims(lens)]
    for k in range(m):
        parts += [Ptr("in", first_index + k), common.dims(bstrides[k])]
    x_ptr, b_ptr = (Ptr("out", 0), Ptr("in", 1)) if inc else (Ptr("in", 0), Ptr("out", 0))
    parts += [x_ptr, common.dims(xarr.strides[:m]), common.dims(xrest)]
    parts += [b_ptr, common.dims(bstrides[m]), common.dims(brest)]
    steps.append(Launch(kern, grid, block, fixed_args(parts)))
    return Plan((out,), tuple(steps))
