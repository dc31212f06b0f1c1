"""C kernels for Elemwise and fused Composite nodes: one vectorised loop per node.

The node's scalar program becomes local C statements (one per step, from the scalar table via
render.scalar_expr) inside a `#pragma omp simd` loop over contiguous arrays; ew_driver's shared
C driver handles broadcasting, strides, inplace outputs and OpenMP. Nodes with a record that has
no C template, a float16/complex dtype, or a multi-output program whose outputs read different
inputs stay on the Python engine (the renderer returns None).
"""

from __future__ import annotations

import ctypes.util
import hashlib
from collections.abc import Sequence

import numpy as np

from labsym.backends.c import render
from labsym.backends.c.kernel import CKernel, register
from labsym.backends.c.kernels.ew_driver import DRIVER
from labsym.config import config
from labsym.core import scalar
from labsym.core.graph import Apply
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise

MVEC = ctypes.util.find_library("mvec") is not None
# -fwrapv: integer overflow wraps as in NumPy; -ffp-contract=off: no FMA contraction, so a*b+c
# rounds as NumPy's two ufuncs do (libm/libmvec calls keep their few-ulp differences)
COMPILE_ARGS = ("-fwrapv", "-ffp-contract=off")
CACHE_VERSION = (2,)

Program = tuple[tuple[tuple[scalar.ScalarOp, tuple], ...], tuple[int, ...]]


def preamble() -> str:
    """The support code every loop kernel needs: scalar helpers, libmvec declarations, driver."""
    return render.kernel_preamble(MVEC) + DRIVER


def build_config() -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """(compile args, libraries, OpenMP minimum size or -1) under the current config."""
    args, libs = list(COMPILE_ARGS), ["mvec"] if MVEC else []
    minsize = -1
    if config.openmp:
        args.append("-fopenmp")
        libs.append("gomp")
        minsize = int(config.openmp_elemwise_minsize)
    return tuple(args), tuple(libs), minsize


def program_of(node: Apply) -> Program | None:
    """(steps, output steps) of an Elemwise or Composite node, or None if C cannot run it."""
    op = node.op
    if isinstance(op, Elemwise):
        if type(op.scalar_op) is not scalar.ScalarOp:  # a user subclass: its own impl
            return None
        args = tuple(("input", k) for k in range(len(node.inputs)))
        return ((op.scalar_op, args),), (0,)
    if isinstance(op, Composite):
        everything = frozenset(range(op.n_inputs))
        if len(op.outputs) > 1 and any(op.dependencies[j] != everything for j in op.outputs):
            return None  # outputs of different shapes
        if len(op.outputs) == 1 and op.dependencies[op.outputs[0]] != everything:
            return None  # an unread input would constrain nothing in perform
        if any(type(spec) is not scalar.ScalarOp for spec, _ in op.program):
            return None
        return op.program, op.outputs
    return None


def scalar_statements(
    program: Program, in_dtypes: Sequence[str], in_names: Sequence[str]
) -> tuple[list[str], list[str], list[str]] | None:
    """(C statements computing every step, output variable names, output dtypes), or None.

    Step j is the local `t<j>`; inputs are the C variables `in_names` of `in_dtypes`.
    """
    steps, outputs = program
    names: list[str] = []
    step_dtypes: list[str] = []
    lines = []
    for j, (spec, args) in enumerate(steps):
        arg_names, arg_dtypes = [], []
        for kind, what in args:
            if kind == "input":
                arg_names.append(in_names[what])
                arg_dtypes.append(in_dtypes[what])
            elif kind == "step":
                arg_names.append(names[what])
                arg_dtypes.append(step_dtypes[what])
            else:
                if what.dtype not in render.C_TYPES:
                    return None
                arg_names.append(render.c_literal(what.dtype, what.value))
                arg_dtypes.append(what.dtype)
        found = render.scalar_expr(spec, arg_dtypes, arg_names)
        if found is None:
            return None
        expr, dtype = found
        names.append(f"t{j}")
        step_dtypes.append(dtype)
        lines.append(f"{render.C_TYPES[dtype]} t{j} = {expr};")
    return lines, [names[j] for j in outputs], [step_dtypes[j] for j in outputs]


# an inplace kernel writes into its destroyed input only if no other input reads memory of it
# at other positions (the destroy handler rules that out in a graph; this keeps a kernel
# called on any arrays correct): identical views are fine, overlapping extents are not
_OVERLAP = r"""
static void labsym_ew_extent(PyArrayObject* a, char** lo, char** hi) {
  char *l = PyArray_BYTES(a), *h = l + PyArray_ITEMSIZE(a);
  for (int d = 0; d < PyArray_NDIM(a); d++) {
    npy_intp n = PyArray_DIM(a, d), s = PyArray_STRIDE(a, d);
    if (n == 0) { *lo = *hi = NULL; return; }
    if (s < 0) l += (n - 1) * s; else h += (n - 1) * s;
  }
  *lo = l; *hi = h;
}
static int labsym_ew_same_view(PyArrayObject* a, PyArrayObject* b) {
  if (PyArray_BYTES(a) != PyArray_BYTES(b) || PyArray_NDIM(a) != PyArray_NDIM(b)) return 0;
  for (int d = 0; d < PyArray_NDIM(a); d++)
    if (PyArray_DIM(a, d) != PyArray_DIM(b, d) || PyArray_STRIDE(a, d) != PyArray_STRIDE(b, d))
      return 0;
  return 1;
}
/* 1 if another input overlaps an output's destroyed input without being the same view */
static int labsym_ew_overlaps(PyArrayObject** ins, int nin, const int* ip, int nout) {
  for (int j = 0; j < nout; j++) {
    int t = ip[j];
    if (t < 0) continue;
    char *tl, *th;
    labsym_ew_extent(ins[t], &tl, &th);
    if (!tl) continue;
    for (int k = 0; k < nin; k++) {
      if (k == t || ins[k] == ins[t] || labsym_ew_same_view(ins[k], ins[t])) continue;
      char *kl, *kh;
      labsym_ew_extent(ins[k], &kl, &kh);
      if (kl && kl < th && tl < kh) return 1;
    }
  }
  return 0;
}
"""


def _fits(node: Apply, out: int, inp: int) -> bool:
    """Whether input `inp` can hold output `out` (same dtype, never broadcast): perform's rule."""
    i, o = node.inputs[inp].type, node.outputs[out].type
    return i.dtype == o.dtype and all(a != 1 or b == 1 for a, b in zip(i.shape, o.shape))


def _loop_function(
    name: str, in_dtypes: Sequence[str], out_dtypes: Sequence[str], body: str
) -> str:
    """`static void name(npy_intp n, char** p)`: the simd loop over contiguous operands."""
    nin = len(in_dtypes)
    decls = [
        f"  const {render.C_TYPES[d]}* a{k} = (const {render.C_TYPES[d]}*)p[{k}];"
        for k, d in enumerate(in_dtypes)
    ]
    decls += [
        f"  {render.C_TYPES[d]}* o{j} = ({render.C_TYPES[d]}*)p[{nin + j}];"
        for j, d in enumerate(out_dtypes)
    ]
    return once(
        name,
        f"static void {name}(npy_intp n, char** p) {{\n" + "\n".join(decls) + "\n"
        "  #pragma omp simd\n"
        "  for (npy_intp i = 0; i < n; i++) {\n" + body + "\n  }\n}\n",
    )


def once(name: str, code: str) -> str:
    """`code` guarded so that a module holding it in several kernels' support code compiles."""
    guard = name.upper() + "_DEFINED"
    return f"#ifndef {guard}\n#define {guard}\n{code}#endif\n"


def c_array(ctype: str, name: str, values: Sequence[int]) -> str:
    """A file-scope `static const ctype name[]` holding `values` (one 0 when empty)."""
    items = ", ".join(str(int(v)) for v in values) or "0"
    return f"static const {ctype} {name}[] = {{{items}}};\n"


def c_string(text: str) -> str:
    """`text` as a C string literal (one line)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


@register(Elemwise, Composite)
def render_elemwise(node: Apply) -> CKernel | None:
    """One loop kernel for an Elemwise/Composite node, or None (the Python engine runs it)."""
    program = program_of(node)
    if program is None or len(node.inputs) + len(node.outputs) > 64:
        return None
    in_dtypes = [v.type.dtype for v in node.inputs]
    out_dtypes = [v.type.dtype for v in node.outputs]
    if any(d not in render.C_TYPES for d in in_dtypes + out_dtypes):
        return None
    found = scalar_statements(program, in_dtypes, [f"x{k}" for k in range(len(in_dtypes))])
    if found is None:
        return None
    lines, results, result_dtypes = found
    if result_dtypes != out_dtypes:
        return None
    steps = program[0]
    used = sorted({what for _, args in steps for kind, what in args if kind == "input"})
    loads = [f"{render.C_TYPES[in_dtypes[k]]} x{k} = a{k}[i];" for k in used]
    stores = [f"o{j}[i] = {r};" for j, r in enumerate(results)]
    body = "\n".join("    " + s for s in loads + lines + stores)
    digest = hashlib.sha1(
        repr((in_dtypes, out_dtypes, body)).encode(), usedforsecurity=False
    ).hexdigest()[:16]
    fn = f"labsym_ew_{digest}"
    loop = _loop_function(fn, in_dtypes, out_dtypes, body)

    args, libs, minsize = build_config()
    ndim = node.outputs[0].ndim
    destroy = getattr(node.op, "destroy_map", None) or {}
    inplace = []
    for j in range(len(node.outputs)):
        target = destroy.get(j, [-1])[0]
        inplace.append(target if target >= 0 and _fits(node, j, target) else -1)
    writes_input = any(t >= 0 for t in inplace)
    # `<spec>_fresh` allocates every output: for a call whose inputs overlap a destroyed one
    variants = [("", "_ip")] + ([("_fresh", "_noip")] if writes_input else [])
    bcast = [int(v.type.shape[d] == 1) for v in node.inputs for d in range(ndim)]
    title = str(node.op)[:200]
    key = repr((fn, minsize, ndim, bcast, inplace, title)).encode()
    spec = f"labsym_spec_{hashlib.sha1(key, usedforsecurity=False).hexdigest()[:16]}"
    support = (
        preamble()
        + loop
        + once(
            spec,
            c_array("int", f"{spec}_in", [np.dtype(d).num for d in in_dtypes])
            + c_array("int", f"{spec}_out", [np.dtype(d).num for d in out_dtypes])
            + c_array("unsigned char", f"{spec}_bc", bcast)
            + c_array("int", f"{spec}_ip", inplace)
            + (c_array("int", f"{spec}_noip", [-1] * len(out_dtypes)) if writes_input else "")
            + "".join(
                f"static const labsym_ew_spec {spec}{suffix} = {{{c_string(title)}, "
                f"{len(in_dtypes)}, {len(out_dtypes)}, {ndim}, {spec}_in, {spec}_out, "
                f"{spec}_bc, {spec}{ip}, {fn}, {minsize}}};\n"
                for suffix, ip in variants
            ),
        )
    )
    ins = ", ".join(f"%(in{k})s" for k in range(len(in_dtypes)))
    nout = len(out_dtypes)
    chosen = f"&{spec}"
    if writes_input:
        support += once("labsym_ew_overlap", _OVERLAP)
        overlap = f"labsym_ew_overlaps(ew_ins, {len(in_dtypes)}, {spec}_ip, {nout})"
        chosen = f"({overlap} ? &{spec}_fresh : &{spec})"
    body_c = (
        f"PyArrayObject* ew_ins[] = {{{ins}}};\n"
        f"PyArrayObject* ew_outs[{nout}];\n"
        f"if (labsym_ew_call({chosen}, ew_ins, ew_outs)) %(fail)s\n"
        + "".join(f"%(out{j})s = ew_outs[{j}];\n" for j in range(nout))
    )
    return CKernel(
        body=body_c,
        support_code=support,
        libraries=libs,
        compile_args=args,
        cache_version=CACHE_VERSION,
        fp_flags=True,
    )
