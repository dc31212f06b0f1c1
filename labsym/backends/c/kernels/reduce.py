"""C kernels for reductions: Sum, Prod, ProdWithoutZeros, Max, Min, All, Any (with axes or all),
Argmax, Argmin, MaxAndArgmax, and FusedReduce (an elementwise program reduced in one pass).

With config.openmp, threads split the outermost kept axis (each owns its accumulators) above
openmp_elemwise_minsize elements. Accumulator and output dtypes are perform's (CAReduceDtype's
acc_dtype, then a cast); float sums and products are reassociated by the vector reduction
(within a few ulps of NumPy's pairwise sum times the length), max/min propagate NaN, empty
max/min/argmax raise NumPy's ValueError. float16/complex dtypes stay on the Python engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from labsym.backends.c import render
from labsym.backends.c.kernel import CKernel, register
from labsym.backends.c.kernels import elemwise
from labsym.backends.c.kernels.red_driver import DRIVER
from labsym.core.graph import Apply
from labsym.core.ops import reduce as red
from labsym.core.ops.fused_reduce import FusedReduce

CACHE_VERSION = (4,)

_KINDS = {
    red.Sum: "add",
    red.Prod: "mul",
    red.ProdWithoutZeros: "mul",
    red.Max: "max",
    red.Min: "min",
    red.All: "and",
    red.Any: "or",
}
_CLAUSE = {"add": "+", "mul": "*", "and": "&", "or": "|", "max": "max", "min": "min"}
_EMPTY = "zero-size array to reduction operation {} which has no identity"


def _kind(op: red.CAReduce) -> str | None:
    return _KINDS.get(type(op))


def _identity(kind: str, dtype: str) -> str:
    if kind in ("add", "or"):
        return "0"
    if kind in ("mul", "and"):
        return "1"
    if dtype in render.FLOAT_DTYPES:
        return "(-INFINITY)" if kind == "max" else "INFINITY"
    if dtype == "bool":
        return "0" if kind == "max" else "1"
    info = np.iinfo(dtype)
    return render.c_literal(dtype, info.min if kind == "max" else info.max)


def _sig(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def _reduce_function(
    name: str,
    kind: str,
    in_dtypes: Sequence[str],
    acc: str,
    lines: Sequence[str],
    value: str,
    zero_is_one: bool,
) -> str:
    """`static void name(n, p, reduce)`: contiguous inputs into one accumulator or a row of them."""
    nin = len(in_dtypes)
    ct = render.C_TYPES[acc]
    decls = [
        f"  const {render.C_TYPES[d]}* a{k} = (const {render.C_TYPES[d]}*)p[{k}];"
        for k, d in enumerate(in_dtypes)
    ]
    loads = [f"{render.C_TYPES[d]} x{k} = a{k}[i];" for k, d in enumerate(in_dtypes)]
    v = f"(({value}) != 0)" if kind in ("and", "or") else f"(({ct}){value})"
    if zero_is_one:
        v = f"({value} == 0 ? ({ct})1 : {v})"
    compute = " ".join([*loads, *lines, f"{ct} v = {v};"])
    is_float = acc in render.FLOAT_DTYPES
    if kind in ("max", "min"):
        cmp = ">" if kind == "max" else "<"
        scalar_update = f"r = v {cmp} r ? v : r;" + (" nan |= v != v;" if is_float else "")
        nan_check = " || v != v" if is_float else ""
        row_update = f"acc[i] = (v {cmp} acc[i]{nan_check}) ? v : acc[i];"
        clause = f"reduction({_CLAUSE[kind]}:r)" + (" reduction(|:nan)" if is_float else "")
    else:
        op = {"add": "+", "mul": "*", "and": "&", "or": "|"}[kind]
        scalar_update = f"r = r {op} v;"
        row_update = f"acc[i] = acc[i] {op} v;"
        clause = f"reduction({_CLAUSE[kind]}:r)"
    finish = "  if (nan) r = NAN;\n" if kind in ("max", "min") and is_float else ""
    return elemwise.once(
        name,
        f"static void {name}(npy_intp n, char** p, int reduce) {{\n"
        + "\n".join(decls)
        + f"\n  {ct}* acc = ({ct}*)p[{nin}];\n"
        "  if (reduce) {\n"
        f"    {ct} r = *acc; int nan = r != r; (void)nan;\n"
        f"    #pragma omp simd {clause}\n"
        f"    for (npy_intp i = 0; i < n; i++) {{ {compute} {scalar_update} }}\n"
        f"  {finish}  *acc = r;\n"
        "  } else {\n"
        "    #pragma omp simd\n"
        f"    for (npy_intp i = 0; i < n; i++) {{ {compute} {row_update} }}\n"
        "  }\n}\n",
    )


def _bytes(name: str, values: Sequence[int]) -> str:
    items = ", ".join(str(int(v)) for v in values) or "0"
    return f"static const unsigned char {name}[] = {{{items}}};\n"


def reduction_kernel(
    node: Apply,
    kind: str,
    axis: tuple[int, ...] | None,
    program: elemwise.Program | None,
    acc: str,
    zero_is_one: bool = False,
) -> CKernel | None:
    """The kernel reducing `program` (None: input 0 itself) of node's inputs over `axis`."""
    in_dtypes = [v.type.dtype for v in node.inputs]
    out = node.outputs[0].type.dtype
    if any(d not in render.C_TYPES for d in [*in_dtypes, out, acc]) or len(in_dtypes) > 63:
        return None
    if program is None:
        lines, value = [], "x0"
    else:
        found = elemwise.scalar_statements(
            program, in_dtypes, [f"x{k}" for k in range(len(in_dtypes))]
        )
        if found is None:
            return None
        lines, results, _ = found
        value = results[0]
    ndim = max(v.type.ndim for v in node.inputs)
    reduced = [int(axis is None or d in axis) for d in range(ndim)]
    bcast = [int(v.type.shape[d] == 1) for v in node.inputs for d in range(ndim)]
    fn = f"labsym_red_{_sig(kind, in_dtypes, acc, lines, value, zero_is_one)}"
    code = _reduce_function(fn, kind, in_dtypes, acc, lines, value, zero_is_one)
    init = f"{fn}_init"
    code += elemwise.once(
        init,
        f"static void {init}(char* p, npy_intp n) {{ {render.C_TYPES[acc]}* a = "
        f"({render.C_TYPES[acc]}*)p; for (npy_intp i = 0; i < n; i++) a[i] = "
        f"{_identity(kind, acc)}; }}\n",
    )
    title = str(node.op)[:200]
    empty = _EMPTY.format("maximum" if kind == "max" else "minimum")
    empty_c = elemwise.c_string(empty) if kind in ("max", "min") else "NULL"
    args, libs, minsize = elemwise.build_config()
    spec = f"labsym_rspec_{_sig(fn, ndim, reduced, bcast, title, out, minsize)}"
    code += elemwise.once(
        spec,
        elemwise.c_array("int", f"{spec}_in", [np.dtype(d).num for d in in_dtypes])
        + _bytes(f"{spec}_bc", bcast)
        + _bytes(f"{spec}_rd", reduced)
        + f"static const labsym_red_spec {spec} = {{{elemwise.c_string(title)}, "
        f"{len(in_dtypes)}, {ndim}, {spec}_in, {spec}_bc, {spec}_rd, {np.dtype(acc).num}, "
        f"{np.dtype(out).num}, {fn}, {init}, {empty_c}, {minsize}}};\n",
    )
    ins = ", ".join(f"%(in{k})s" for k in range(len(in_dtypes)))
    return CKernel(
        body=(
            f"PyArrayObject* red_ins[] = {{{ins}}};\n"
            f"if (labsym_red_call(&{spec}, red_ins, &%(out0)s)) %(fail)s\n"
        ),
        support_code=elemwise.preamble() + DRIVER + code,
        libraries=libs,
        compile_args=args,
        cache_version=CACHE_VERSION,
        fp_flags=True,
    )


@register(red.CAReduce)
def render_careduce(node: Apply) -> CKernel | None:
    """Sum/Prod/ProdWithoutZeros/Max/Min/All/Any; None for other CAReduce subclasses."""
    op = node.op
    kind = _kind(op)
    if kind is None:
        return None
    x = node.inputs[0].type.dtype
    acc = op.accumulate_dtype(x) or x
    if kind in ("and", "or"):
        acc = "bool"
    zero = isinstance(op, red.ProdWithoutZeros)
    return reduction_kernel(node, kind, op.axis, None, acc, zero)


@register(FusedReduce)
def render_fused_reduce(node: Apply) -> CKernel | None:
    """reduce(elementwise program(inputs)) in one pass, with no temporary array."""
    op = node.op
    kind = _kind(op.reduce_op)
    program = elemwise.program_of(op.scalar_node(node))
    if kind is None or program is None:
        return None
    value = op.scalar_node(node).outputs[0].type.dtype
    acc = op.reduce_op.accumulate_dtype(value) or value
    if kind in ("and", "or"):
        acc = "bool"
    return reduction_kernel(node, kind, op.reduce_op.axis, program, acc)


# ---------------------------------------------------------------------- argmax and friends
_ARG_BLOCK_BYTES = 1024  # contiguous runs: vectorised block extremes, then one block searched
_ARG_PREFETCH = 4096  # bytes ahead of the block being reduced


def _arg_function(name: str, dtype: str, find_max: bool) -> str:
    """`name` (one run of the search) and `name`_update (one reduced position into rows of best
    values and indices). NaN counts as the extreme and the first one wins, as in np.argmax."""
    t = render.C_TYPES[dtype]
    cmp, clause = (">", "max") if find_max else ("<", "min")
    is_float = dtype in render.FLOAT_DTYPES
    nan = " || (v != v && b == b)" if is_float else ""
    size = _ARG_BLOCK_BYTES // np.dtype(dtype).itemsize
    # One pass of vectorised block extremes remembers the first block that improved most; that
    # block alone is then searched (vectorised) for the first index of its extreme. NaN is only
    # noted (z, the sum of x * 0: NaN for NaN and infinities) and then looked for in the block:
    # the first NaN wins at once. Full blocks have a constant length (a straight vector loop).
    block = (
        f"      {t} m = q[c], z = 0; (void)z;\n"
        f"      #pragma omp simd reduction({clause}:m)"
        + (" reduction(+:z)" if is_float else "")
        + "\n      for (npy_intp i = c; i < c + {0}; i++) {{ m = q[i] CMP m ? q[i] : m;".replace(
            "CMP", cmp
        )
        + (" z += q[i] * 0;" if is_float else "")
        + " }}\n"
        + (
            "      if (z != z) {{\n"
            "        npy_intp k = c;\n        while (k < c + {0} && q[k] == q[k]) k++;\n"
            "        if (k < c + {0}) {{ memcpy(best, q + k, sizeof(b)); return start + k; }}\n"
            "      }}\n"
            if is_float
            else ""
        )
        + f"      if (m {cmp} b) {{{{ b = m; found = c; }}}}\n"
    )
    contiguous = (
        f"  if (s == (npy_intp)sizeof({t})) {{\n"
        f"    const {t}* q = (const {t}*)p;\n"
        "    npy_intp found = -1, c = 0;\n"
        f"    for (; c + {size} <= n; c += {size}) {{\n"
        # hardware prefetch alone left a run of rows ~5-10% behind NumPy's argmax
        f"      for (int j = 0; j < {_ARG_BLOCK_BYTES}; j += 64)\n"
        f"        __builtin_prefetch((const char*)(q + c) + {_ARG_PREFETCH} + j);\n"
        + block.format(size)
        + "    }\n"
        "    if (c < n) {  /* the last, shorter block */\n"
        "      npy_intp e = n - c;\n" + block.format("e") + "    }\n"
        "    if (found >= 0) {\n"
        f"      int e = n - found < {size} ? (int)(n - found) : {size}, k = e;\n"
        f"      const {t}* r = q + found;\n"
        "      #pragma omp simd reduction(min:k)\n"
        "      for (int i = 0; i < e; i++) k = r[i] == b && i < k ? i : k;\n"
        "      at = start + found + k;\n    }\n"
        "    memcpy(best, &b, sizeof(b));\n    return at;\n  }\n"
    )
    scan = elemwise.once(
        name,
        f"static npy_intp {name}(const char* p, npy_intp n, npy_intp s, char* best,"
        " npy_intp start, npy_intp at) {\n"
        f"  {t} b; memcpy(&b, best, sizeof(b));\n"
        + ("  if (b != b) return at;  /* a NaN won already */\n" if is_float else "")
        + contiguous
        + "  for (npy_intp i = 0; i < n; i++) {\n"
        f"    {t} v = *(const {t}*)(p + i * s);\n"
        f"    if (v {cmp} b{nan}) {{ b = v; at = start + i; }}\n"
        "  }\n  memcpy(best, &b, sizeof(b));\n  return at;\n}\n",
    )
    step = (
        f"{t} v = x[i * sx]; {t} b = bv[i * so]; int take = v {cmp} b{nan};"
        " bv[i * so] = take ? v : b; bi[i * so] = take ? r : bi[i * so];"
    )
    update = elemwise.once(
        f"{name}_update",
        f"static void {name}_update(const char* p, npy_intp n, npy_intp s, char* best,"
        " npy_int64* bi, npy_intp so, npy_int64 r) {\n"
        f"  const {t}* x = (const {t}*)p; {t}* bv = ({t}*)best;\n"
        f"  npy_intp sx = s / (npy_intp)sizeof({t});\n"
        "  if (sx == 1 && so == 1) {  /* as constants: a unit-stride vector loop */\n"
        "    sx = 1; so = 1;\n"
        f"    #pragma omp simd\n    for (npy_intp i = 0; i < n; i++) {{ {step} }}\n"
        f"  }} else\n    for (npy_intp i = 0; i < n; i++) {{ {step} }}\n}}\n",
    )
    return scan + update


def _arg_kernel(node: Apply, axis: tuple[int, ...] | None, find_max: bool, with_value: bool):
    dtype = node.inputs[0].type.dtype
    if dtype not in render.C_TYPES:
        return None
    ndim = node.inputs[0].type.ndim
    reduced = [int(axis is None or d in axis) for d in range(ndim)]
    fn = f"labsym_arg_{dtype}_{'max' if find_max else 'min'}"
    title = str(node.op)[:200]
    spec = f"labsym_aspec_{_sig(fn, reduced, title)}"
    if with_value:  # MaxAndArgmax's perform takes np.max first
        empty = _EMPTY.format("maximum")
    else:
        empty = f"attempt to get {'argmax' if find_max else 'argmin'} of an empty sequence"
    code = _arg_function(fn, dtype, find_max) + elemwise.once(
        spec,
        _bytes(f"{spec}_rd", reduced)
        + f"static const labsym_arg_spec {spec} = {{{elemwise.c_string(title)}, {ndim}, "
        f"{np.dtype(dtype).num}, {spec}_rd, {fn}, {fn}_update, {elemwise.c_string(empty)}}};\n",
    )
    if with_value:
        call = f"labsym_arg_call(&{spec}, %(in0)s, &%(out0)s, &%(out1)s)"
    else:
        call = f"labsym_arg_call(&{spec}, %(in0)s, NULL, &%(out0)s)"
    return CKernel(
        body=f"if ({call}) %(fail)s\n",
        support_code=elemwise.preamble() + DRIVER + code,
        cache_version=CACHE_VERSION,
    )


@register(red.Argmax)
def render_argmax(node: Apply) -> CKernel | None:
    """Argmax/Argmin: the first extreme (or first NaN), flattened over the axes in C order."""
    return _arg_kernel(node, node.op.axis, not isinstance(node.op, red.Argmin), False)


@register(red.MaxAndArgmax)
def render_max_and_argmax(node: Apply) -> CKernel | None:
    """Theano's pair op: the maximum and its index from one pass."""
    return _arg_kernel(node, node.op.axis, True, True)
