"""The C kernel of a Scan whose inner graph is all C: the step loop runs in C, no Python per step.

The inner graph is the one the outer function's Mode makes of it (as `Scan.inner_function(mode)`
compiles it for the Python loop). Every inner node's own kernel body is inlined,
in schedule order, into one loop (scan_code.py) with the inner inputs and results as C locals;
results are released after their last use. Inner constants become module-level arrays built
once when the module loads. The node stays on the Python loop (None) when an inner node has no
C kernel, is lazy (ifelse), destroys an inner input, or holds a non-tensor value, or when a
constant is larger than MAX_CONSTANT_BYTES (it would bloat the C source).
May import core and backends.c.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import numpy as np

from labsym.backends.c.kernel import CKernel, combine, kernel_for, register
from labsym.backends.c.kernels.elemwise import c_string
from labsym.backends.c.kernels.scan_code import SUPPORT, LoopCode, StateCode, loop_body
from labsym.backends.c.linker import CLinker
from labsym.backends.python.vm import PythonLinker
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.io import Mode
from labsym.core.ops.blas import Dot, MatMul, TensorDot
from labsym.core.ops.gemm import Gemm, Gemv, Ger
from labsym.core.ops.opfromgraph import compile_inner
from labsym.core.scan.op import Scan
from labsym.core.type import TensorType

VERSION = (1,)
MAX_CONSTANT_BYTES = 1 << 16
BLAS_OPS = (Dot, MatMul, TensorDot, Gemm, Gemv, Ger)
# the prefix of a nested scan's labels and locals: renamed per inner node, so that two equal
# nested scans (same prefix) inlined into one loop get distinct labels
_NESTED = re.compile(r"\b(ls[0-9a-f]{10}(?:n\d+)*)_")
_LABEL = re.compile(r"(?m)^\s*((?!default\b)[A-Za-z_]\w*)\s*:(?!:)")  # a label's definition


def _is_tensor(var: Variable) -> bool:
    return isinstance(var.type, TensorType) and np.dtype(var.type.dtype).kind in "biufc"


def _constant_code(const: Constant) -> tuple[str, str, str] | None:
    """(C name, support code, init code) of a module-level array holding a constant's value."""
    data = np.array(const.data, dtype=const.type.dtype, order="C")
    if data.nbytes > MAX_CONSTANT_BYTES or data.ndim != const.type.ndim:
        return None
    data = data.astype(data.dtype.newbyteorder("="), copy=False)
    raw = data.tobytes()
    key = f"{data.dtype.str}{data.shape}".encode() + raw
    name = "labsym_scanc_" + hashlib.sha1(key).hexdigest()[:16]
    values = ",".join(str(b) for b in raw) or "0"
    support = (
        f"static PyArrayObject* {name} = NULL;\n"
        f"static const unsigned char {name}_data[] = {{{values}}};\n"
    )
    dims = ", ".join(str(d) for d in data.shape) or "0"
    init = (
        f"  if (!{name}) {{\n    npy_intp dims[] = {{{dims}}};\n"
        f"    {name} = (PyArrayObject*)PyArray_EMPTY({data.ndim}, dims, {data.dtype.num}, 0);\n"
        f"    if (!{name}) return NULL;\n"
        f"    memcpy(PyArray_DATA({name}), {name}_data, {len(raw)});\n"
        f"    PyArray_CLEARFLAGS({name}, NPY_ARRAY_WRITEABLE);\n  }}"
    )
    return name, support, init


def _inner_fgraph(op: Scan, mode: Any) -> FunctionGraph:
    """The inner graph as the Mode in use rewrites it for the step function.

    A Mode object's own rewriter runs with the NumPy engine as linker: the graph is the one
    `Scan.inner_function(mode)` would compile, without building a C module for a step function
    that the C loop replaces (gcc time). Mode names (and None) compile the step function itself.
    """
    inner_mode = op.mode if op.mode is not None else mode
    if not isinstance(inner_mode, Mode):
        return op.inner_function(mode).__self__.maker.fgraph
    rewrite_only = Mode(PythonLinker(), inner_mode.rewriter, inner_mode.name)
    try:
        fn = compile_inner(op.fgraph.inputs, op.fgraph.outputs, rewrite_only, True, str(op))
    except NotImplementedError:  # an op with C code only: the NumPy engine refuses to link it
        return op.inner_function(mode).__self__.maker.fgraph
    return fn.maker.fgraph


def _own_mode_runs_c(op: Scan, mode: Any) -> bool:
    """False when the scan was built with its own mode whose linker is not the C linker
    (DebugMode, NanGuardMode, MonitorMode, linker='py', or such a mode's name): its step
    function must run that way, with its checks, so the loop stays in Python."""
    if op.mode is None:
        return True
    own = op.mode if isinstance(op.mode, Mode) else op.inner_function(mode).__self__.maker.mode
    return isinstance(getattr(own, "linker", None), CLinker)


def _input_names(op: Scan, fgraph: FunctionGraph, p: str) -> dict[Variable, str]:
    """The C local of each inner input: sequence rows, state taps, shared values, non-sequences."""
    seqs, taps, shared, nonseqs = op.info.inner_groups(fgraph.inputs)
    names = {v: f"{p}q{j}" for j, v in enumerate(seqs)}
    for k, state in enumerate(taps):
        if op.info.final_only[k] and op.info.state_taps[k] == (-1,):
            names[state[0]] = f"{p}s{k}"  # rebound each step (scan_code.StateCode.rebound)
        else:
            names.update({v: f"{p}t{k}_{m}" for m, v in enumerate(state)})
    names.update({v: f"{p}h{s}" for s, v in enumerate(shared)})
    names.update({v: f"{p}c{j}" for j, v in enumerate(nonseqs)})
    return names


def _usable(node: Apply) -> bool:
    """An inner node the loop can inline: tensors only, eager, destroying no inner input."""
    if getattr(node.op, "lazy_branches", None) is not None:
        return False
    if not all(_is_tensor(v) for v in [*node.inputs, *node.outputs]):
        return False
    destroyed = [
        node.inputs[i] for ins in getattr(node.op, "destroy_map", {}).values() for i in ins
    ]
    return not any(v.owner is None for v in destroyed)


def _blas_operands(nodes: list[Apply], nonseqs: list[Variable]) -> tuple[int, ...]:
    """The non-sequences (by position) that an inner BLAS op reads as a matrix."""
    read = {v for n in nodes if isinstance(n.op, BLAS_OPS) for v in n.inputs if v.ndim >= 2}
    return tuple(j for j, v in enumerate(nonseqs) if v in read)


@register(Scan, with_mode=True)
def render_scan(node: Apply, mode: Any = None) -> CKernel | None:
    """The whole step loop in C, or None (the Python loop runs) if the inner graph is not all C."""
    op, info = node.op, node.op.info
    if node.inputs[0].type.dtype != "int64" or not all(
        _is_tensor(v) for v in [*node.inputs[1:], *node.outputs]
    ):
        return None
    if not _own_mode_runs_c(op, mode):
        return None
    fgraph = _inner_fgraph(op, mode)
    inner_mode = op.mode if op.mode is not None else mode
    n_out = info.n_states + info.n_nit_sot + info.n_shared + int(info.as_while)
    if len(fgraph.outputs) != n_out or len(fgraph.inputs) != len(op.fgraph.inputs):
        return None
    if not all(_is_tensor(v) for v in [*fgraph.inputs, *fgraph.outputs]):
        return None
    nodes = fgraph.toposort()
    kernels = []
    for inner in nodes:
        kernel = kernel_for(inner, inner_mode) if _usable(inner) else None
        if kernel is None:
            return None
        kernels.append(kernel)
    tag = hashlib.sha1(
        json.dumps([str(op), repr(info), [k.body for k in kernels]]).encode()
    ).hexdigest()[:10]
    p = f"ls{tag}_"
    names = _input_names(op, fgraph, p)
    constants: dict[Variable, tuple[str, str, str]] = {}
    for var in [v for n in nodes for v in n.inputs] + list(fgraph.outputs):
        if isinstance(var, Constant) and var not in constants:
            code = _constant_code(var)
            if code is None:
                return None
            constants[var] = code
            names[var] = code[0]
    locals_: list[str] = []
    for inner in nodes:
        for out in inner.outputs:
            names[out] = f"{p}v{len(locals_)}"
            locals_.append(names[out])
    inner_code = _inline(nodes, kernels, names, set(fgraph.outputs), p)
    labels = _LABEL.findall(inner_code)
    if len(labels) != len(set(labels)):  # e.g. a user op's C inlined twice: its labels clash
        return None
    used = {v for n in nodes for v in n.inputs} | set(fgraph.outputs)
    seqs, taps, _, nonseqs = info.inner_groups(fgraph.inputs)
    states = tuple(
        StateCode(
            taps=info.state_taps[k],
            final=info.final_only[k],
            first=0 if info.keeps_init(k) else info.spans[k],
            typenum=np.dtype(node.outputs[k].type.dtype).num,
            tap_names=tuple(names[v] if v in used else None for v in taps[k]),
        )
        for k in range(info.n_states)
    )
    nits = node.outputs[info.n_states : info.n_states + info.n_nit_sot]
    loop = LoopCode(
        prefix=p,
        op_name=json.dumps(str(op)).replace("%", "%%"),
        n_seqs=info.n_seqs,
        seq_names=tuple(names[v] if v in used else None for v in seqs),
        states=states,
        nit_typenums=tuple(np.dtype(v.type.dtype).num for v in nits),
        nit_empty_dims=tuple(tuple(d or 0 for d in v.type.shape[1:]) for v in nits),
        n_shared=info.n_shared,
        n_nonseqs=info.n_nonseqs,
        packed_nonseqs=_blas_operands(nodes, nonseqs),
        as_while=info.as_while,
        step_locals=tuple(locals_),
        inner=inner_code,
        results=tuple(names[v] for v in fgraph.outputs),
    )
    return combine(
        loop_body(loop),
        kernels,
        ("scan", VERSION),
        support_code=(SUPPORT, *(c[1] for c in constants.values())),
        init_code=tuple(c[2] for c in constants.values()),
    )


def _inline(
    nodes: list[Apply],
    kernels: list[CKernel],
    names: dict[Variable, str],
    outputs: set[Variable],
    p: str,
) -> str:
    """The inner bodies in schedule order, each result released after its last use."""
    last: dict[Variable, int] = {}
    for i, inner in enumerate(nodes):
        for v in inner.outputs:
            last[v] = i
        for v in inner.inputs:
            if v.owner is not None:
                last[v] = i
    blocks = []
    for i, (inner, kernel) in enumerate(zip(nodes, kernels, strict=True)):
        subs = {f"in{j}": names[v] for j, v in enumerate(inner.inputs)}
        subs.update({f"out{j}": names[v] for j, v in enumerate(inner.outputs)})
        where = c_string(str(inner)[:300])  # named on the error: the step's failing node
        subs["fail"] = f"{{ labsym_scan_note({where}, {p}i); goto {p}end; }}"
        raw = (
            _NESTED.sub(rf"\g<1>n{i}_", kernel.body) if isinstance(inner.op, Scan) else kernel.body
        )
        body = (raw % subs).replace("%", "%%")
        done = [v for v, at in last.items() if at == i and v not in outputs]
        frees = "".join(f"    Py_CLEAR({names[v]});\n" for v in done)
        what = str(inner.op).replace("*/", "* /").replace("%", "%%")
        blocks.append(f"    /* {what} */\n    {{\n{body}\n    }}\n{frees}")
    return "".join(blocks)
