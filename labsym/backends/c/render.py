"""Render the scalar table's C templates: one record as a C expression over named scalar arguments.

`scalar_expr` is the one place a record becomes C: Elemwise/Composite loop kernels and the
per-record functions the scalar-table test compiles (`render_table`) both use it. The dtype a
record computes in follows Elemwise's `perform` (NumPy's ufunc with `dtype=` the output dtype).
Backends may import core, never compile/, viz/ or magics/.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsym.core import scalar

C_TYPES = {
    "bool": "unsigned char",
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "uint8": "uint8_t",
    "uint16": "uint16_t",
    "uint32": "uint32_t",
    "uint64": "uint64_t",
    "float32": "float",
    "float64": "double",
}
INT_DTYPES = [d for d in C_TYPES if d.startswith(("int", "uint"))]
FLOAT_DTYPES = ["float32", "float64"]

# glibc's libmvec has vector variants of these (float: name + "f"); declared `omp declare simd`
# so GCC vectorises calls to them under -fopenmp-simd without -ffast-math
MVEC_UNARY = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "cbrt",
    "cos",
    "cosh",
    "erf",
    "erfc",
    "exp",
    "exp10",
    "exp2",
    "expm1",
    "log",
    "log10",
    "log1p",
    "log2",
    "sin",
    "sinh",
    "tan",
    "tanh",
]
MVEC_BINARY = ("atan2", "hypot", "pow")
# libm functions with a float variant (name + "f"), used when a record computes in float32
_FLOAT_VARIANTS = (
    set(MVEC_UNARY)
    | set(MVEC_BINARY)
    | {
        "sqrt",
        "fabs",
        "tgamma",
        "lgamma",
        "trunc",
        "ceil",
        "floor",
        "nearbyint",
        "round",
    }
)
_CALL_RE = re.compile(r"\b(" + "|".join(sorted(_FLOAT_VARIANTS)) + r")\(")
_FLOAT_LITERAL_RE = re.compile(r"(?<![\w.])(\d+\.\d*)(?![\w.])")

# np.clip(x, lo, hi) is minimum(maximum(x, lo), hi): NaN bounds propagate, lo > hi gives hi
_CLIP = "((M < {2} || M != M) ? M : {2})".replace("M", "(({0} > {1} || {0} != {0}) ? {0} : {1})")
# records whose template is wrong or slow for integer inputs: exact integer versions
_INT_TEMPLATES = {
    "abs": "({0} < 0 ? -{0} : {0})",
    "pow": "pow_int({0}, {1})",
    "ceil": "{0}",
    "floor": "{0}",
    "trunc": "{0}",
    "round_half_to_even": "{0}",
    "round_half_away_from_zero": "{0}",
}


# NumPy's float -> int casts as x86-64 computes them, with C's undefined cases defined: NaN,
# infinities and values out of range give cvttsd2si's "integer indefinite" (INT_MIN) and raise
# FE_INVALID (the FP-flag path then warns "invalid value encountered in cast"); narrower types
# truncate the int32 result, uint32 the int64 one (NumPy's SIMD loop differs there: its answer
# depends on the array's length, this is its scalar loop's), uint64 converts x - 2**63 from 2**63
# on and flips the top bit
_FLOAT_TO_INT = r"""#include <fenv.h>
/* branch-free, so loops stay vectorised: `bad` is inf * 0 (NaN, raising FE_INVALID) exactly
   when x is out of range, and the conversion only happens in range */
static inline int32_t labsym_trunc32(double x) {
  int ok = x > -2147483649.0 && x < 2147483648.0;
  double bad = (ok ? 0.0 : INFINITY) * 0.0;
  return ok ? (int32_t)x : INT32_MIN + (bad == bad); }
static inline int64_t labsym_trunc64(double x) {
  int ok = x >= -9223372036854775808.0 && x < 9223372036854775808.0;
  double bad = (ok ? 0.0 : INFINITY) * 0.0;
  return ok ? (int64_t)x : INT64_MIN + (bad == bad); }
static inline int8_t cast_float_to_int8(double x) { return (int8_t)labsym_trunc32(x); }
static inline int16_t cast_float_to_int16(double x) { return (int16_t)labsym_trunc32(x); }
static inline int32_t cast_float_to_int32(double x) { return labsym_trunc32(x); }
static inline int64_t cast_float_to_int64(double x) { return labsym_trunc64(x); }
static inline uint8_t cast_float_to_uint8(double x) { return (uint8_t)labsym_trunc32(x); }
static inline uint16_t cast_float_to_uint16(double x) { return (uint16_t)labsym_trunc32(x); }
static inline uint32_t cast_float_to_uint32(double x) { return (uint32_t)labsym_trunc64(x); }
static inline uint64_t cast_float_to_uint64(double x) {
  int high = x >= 9223372036854775808.0;
  return (uint64_t)labsym_trunc64(high ? x - 9223372036854775808.0 : x)
         ^ (high ? 0x8000000000000000ull : 0); }"""


def _helpers() -> str:
    """floor_div_/py_mod_/pow_int_<dtype>, cast_float_to_<int dtype>: NumPy's floor division,
    remainder, integer power and float -> int cast."""
    parts = [
        "#include <fenv.h>",
        "#include <math.h>",
        "#include <stdint.h>",
        "#ifndef LABSYM_NEGATIVE_POWER",
        "#define LABSYM_NEGATIVE_POWER",
        "static _Thread_local int labsym_negative_power; /* the drivers raise NumPy's error */",
        "#endif",
    ]
    for d in INT_DTYPES + ["bool"]:
        t = C_TYPES[d]
        signed = d.startswith("int")
        # MIN / -1 traps on x86: -a wraps (NumPy's answer), and the remainder is 0
        neg = f" if (b == -1) return ({t})(0 - (uint64_t)a);" if signed else ""
        zero = " if (b == -1) return 0;" if signed else ""
        negative = " if (b < 0) { labsym_negative_power = 1; return 0; }" if signed else ""
        parts.append(
            # by zero: 0, and the divide-by-zero flag NumPy's integer loops raise (it warns)
            f"static inline {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) {{"
            f" feraiseexcept(FE_DIVBYZERO); return 0; }}{neg}"
            f" {t} q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1; return q; }}\n"
            f"static inline {t} py_mod_{d}({t} a, {t} b) {{ if (b == 0) {{"
            f" feraiseexcept(FE_DIVBYZERO); return 0; }}{zero}"
            f" {t} r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }}\n"
            # by squaring in unsigned arithmetic: wraps modulo 2**bits as NumPy's loop does
            f"static inline {t} pow_int_{d}({t} a, {t} b) {{{negative}"
            f" uint64_t r = 1, x = (uint64_t)a; uint64_t e = (uint64_t)b;"
            f" while (e) {{ if (e & 1) r *= x; x *= x; e >>= 1; }} return ({t})r; }}"
        )
    parts.append(_FLOAT_TO_INT)
    for d in FLOAT_DTYPES:
        t = C_TYPES[d]
        parts.append(
            f"static inline {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) return a / b;"
            f" {t} mod = fmod(a, b); {t} div = (a - mod) / b;"
            f" if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;"
            f" if (div != 0) {{ {t} f = floor(div); if (div - f > 0.5) f += 1; return f; }}"
            f" return copysign(0.0, a / b); }}\n"
            f"static inline {t} py_mod_{d}({t} a, {t} b) {{ if (b == 0) return fmod(a, b);"
            f" {t} mod = fmod(a, b); if (mod != 0) {{ if ((b < 0) != (mod < 0)) mod += b; }}"
            f" else mod = copysign(0.0, b); return mod; }}"
        )
    return "\n".join(parts) + "\n"


def _simd_declarations() -> str:
    """`#pragma omp declare simd notinbranch` declarations of the libmvec functions."""
    lines = []
    for name in MVEC_UNARY:
        lines += ["#pragma omp declare simd notinbranch", f"double {name}(double);"]
        lines += ["#pragma omp declare simd notinbranch", f"float {name}f(float);"]
    for name in MVEC_BINARY:
        lines += ["#pragma omp declare simd notinbranch", f"double {name}(double, double);"]
        lines += ["#pragma omp declare simd notinbranch", f"float {name}f(float, float);"]
    return "\n".join(lines) + "\n"


PREAMBLE = _helpers()


def kernel_preamble(simd_math: bool) -> str:
    """Support code of loop kernels: the helpers, and with `simd_math` (libmvec is there to
    link) the vector declarations of libm; guarded so a module holds it once."""
    declarations = _simd_declarations() if simd_math else ""
    return (
        "#ifndef LABSYM_SCALAR_PREAMBLE\n#define LABSYM_SCALAR_PREAMBLE\n"
        + PREAMBLE
        + declarations
        + "#endif\n"
    )


def c_literal(dtype: str, value: Any) -> str:
    """A C expression of type C_TYPES[dtype] with exactly this value (NaN, inf, -0.0 included)."""
    ctype = C_TYPES[dtype]
    if dtype == "bool":
        return "1" if value else "0"
    if dtype in FLOAT_DTYPES:
        v = float(np.asarray(value, dtype=dtype))
        if math.isnan(v):
            text = "NAN"
        elif math.isinf(v):
            text = "INFINITY" if v > 0 else "(-INFINITY)"
        else:
            text = v.hex()  # C99 hex float: exact
        return f"(({ctype}){text})"
    v = int(value)
    if dtype == "int64" and v == -(2**63):
        return "INT64_MIN"
    suffix = "ULL" if dtype.startswith("uint") else "LL"
    return f"(({ctype}){v}{suffix})"


def compute_dtype(rec: scalar.ScalarOp, in_dtypes: Sequence[str], out_dtype: str) -> str:
    """The dtype `rec`'s arguments are converted to before its template runs (perform's)."""
    if rec.output == "bool":
        common = np.result_type(*in_dtypes).name
        if rec.name in ("isnan", "isinf") and common not in FLOAT_DTYPES:
            return "float64"
        return common
    if rec.output == "fixed":
        return in_dtypes[0]
    return out_dtype


def scalar_expr(
    rec: scalar.ScalarOp, in_dtypes: Sequence[str], args: Sequence[str]
) -> tuple[str, str] | None:
    """(C expression of `rec` over the C variables `args` of `in_dtypes`, its output dtype).

    The expression has the output's C type (bool: 0 or 1). None when the record has no C
    template, or a dtype (float16, complex) or combination C does not cover.
    """
    if rec.c is None or rec.name in scalar_skipped_names():
        return None
    if any(d not in C_TYPES for d in in_dtypes):
        return None
    try:
        out_dtype = rec.output_dtype(list(in_dtypes))
    except TypeError:
        return None
    if out_dtype not in C_TYPES or not numpy_accepts(rec, tuple(in_dtypes), out_dtype):
        return None
    compute = compute_dtype(rec, in_dtypes, out_dtype)
    template = rec.c
    integral = compute not in FLOAT_DTYPES
    if rec.output == "fixed" and out_dtype == "bool":
        template = "{0}"  # nonzero -> 1 below, not a truncating cast
    elif rec.name == "invert" and compute == "bool":
        template = "(!{0})"  # NumPy's ~ on bool is logical not
    elif rec.name == "clip":
        template = _CLIP
    elif rec.output == "fixed" and compute in FLOAT_DTYPES and out_dtype in INT_DTYPES:
        template = f"cast_float_to_{out_dtype}({{0}})"  # C's cast is undefined out of range
    elif integral and rec.name in _INT_TEMPLATES:
        template = _INT_TEMPLATES[rec.name]
    elif "{ctype}" in template:
        template = template.format(ctype=C_TYPES[out_dtype]).replace("{{", "{").replace("}}", "}")
    template = template.replace("floor_div(", f"floor_div_{compute}(")
    template = template.replace("py_mod(", f"py_mod_{compute}(")
    template = template.replace("pow_int(", f"pow_int_{compute}(")
    if compute == "float32":
        template = _CALL_RE.sub(lambda mt: mt.group(1) + "f(", template)
        template = _FLOAT_LITERAL_RE.sub(lambda mt: mt.group(1) + "f", template)
    ct = C_TYPES[compute]
    converted = []
    for k, (arg, dtype) in enumerate(zip(args, in_dtypes, strict=True)):
        # switch's condition and second's model are read as they are
        converted.append(arg if k < rec.dtype_from or dtype == compute else f"(({ct}){arg})")
    expr = template.format(*converted)
    if out_dtype == "bool":
        return f"(({expr}) != 0)", out_dtype
    return f"(({C_TYPES[out_dtype]})({expr}))", out_dtype


@functools.lru_cache(maxsize=4096)
def numpy_accepts(rec: scalar.ScalarOp, in_dtypes: tuple[str, ...], out_dtype: str) -> bool:
    """Whether perform computes in the dtype C does (NumPy has a loop; a ufunc or no cast)."""
    impl = rec.impl.resolve() if isinstance(rec.impl, scalar.LazyUfunc) else rec.impl
    samples = [np.ones((1,), dtype=d) for d in in_dtypes]
    with np.errstate(all="ignore"):
        try:
            natural = np.asarray(impl(*samples)).dtype.name
            if natural != out_dtype and isinstance(impl, np.ufunc):
                impl(*samples, dtype=out_dtype)
        except TypeError:
            return False
    # a plain Python impl computes in NumPy's own dtype (float16 for int8...), then casts
    return natural == out_dtype or isinstance(impl, np.ufunc)


def scalar_skipped_names() -> frozenset[str]:
    """Records with a template that C does not render: complex-valued ones."""
    return _COMPLEX_NAMES


_COMPLEX_NAMES = frozenset(
    r.name for r in scalar.SCALAR_OPS.values() if r.output in ("real", "complex")
) | {"angle", "conj"}


# ---------------------------------------------------------------------- the scalar-table test
@dataclass(frozen=True)
class Rendered:
    """One rendered C function: `void name(const T* a, ..., T_out* out, long n)`."""

    record: scalar.ScalarOp
    dtype: str  # every input's dtype
    out_dtype: str
    name: str
    source: str

    @property
    def cdef(self) -> str:
        return self.source.split("{", 1)[0].strip() + ";"


def _records() -> list[scalar.ScalarOp]:
    return list(scalar.SCALAR_OPS.values()) + [scalar.cast_op(d) for d in C_TYPES]


def skipped() -> dict[str, str]:
    """Records this renderer does not cover, with the reason."""
    out = {}
    for rec in _records():
        if rec.c is None:
            out[rec.name] = "no C template"
        elif rec.name in _COMPLEX_NAMES:
            out[rec.name] = "complex"
    return out


def _dtypes_for(rec: scalar.ScalarOp) -> list[str]:
    if rec.name in ("and_", "or_", "xor", "invert"):
        return ["bool", *INT_DTYPES]
    if rec.name in ("isnan", "isinf"):
        return FLOAT_DTYPES
    if not rec.accepts_bool:
        return [*INT_DTYPES, *FLOAT_DTYPES]
    return list(C_TYPES)


def render_record(rec: scalar.ScalarOp, dtype: str) -> Rendered | None:
    """The C function for `rec` with every input of `dtype`, or None if it has no output dtype."""
    args = [f"x{k}" for k in range(rec.nin)]
    found = scalar_expr(rec, [dtype] * rec.nin, args)
    if found is None:
        return None
    expr, out_dtype = found
    name = f"{rec.name}_{dtype}"
    t = C_TYPES[dtype]
    params = ", ".join(f"const {t}* in{k}" for k in range(rec.nin))
    loads = " ".join(f"{t} x{k} = in{k}[i];" for k in range(rec.nin))
    source = (
        f"void {name}({params}, {C_TYPES[out_dtype]}* out, long n) {{\n"
        f"    for (long i = 0; i < n; i++) {{ {loads} out[i] = {expr}; }}\n}}\n"
    )
    return Rendered(rec, dtype, out_dtype, name, source)


def render_table() -> list[Rendered]:
    """Every renderable record x dtype of the scalar table (casts included)."""
    skip = skipped()
    out = []
    for rec in _records():
        if rec.name in skip:
            continue
        for dtype in _dtypes_for(rec):
            r = render_record(rec, dtype)
            if r is not None:
                out.append(r)
    return out
