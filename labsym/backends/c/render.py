"""Render the scalar table's C templates into C elementwise functions, one per record x dtype.
Backends may import core, never compile/, viz/ or magics/."""

from __future__ import annotations

from dataclasses import dataclass

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


def _helpers() -> str:
    """floor_div_<dtype> / py_mod_<dtype>: NumPy's floor division and remainder semantics."""
    parts = ["#include <math.h>", "#include <stdint.h>"]
    for d in INT_DTYPES + ["bool"]:
        t = C_TYPES[d]
        parts.append(
            f"static {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) return 0;"
            f" {t} q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1; return q; }}\n"
            f"static {t} py_mod_{d}({t} a, {t} b) {{ if (b == 0) return 0;"
            f" {t} r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }}"
        )
    for d in FLOAT_DTYPES:
        t = C_TYPES[d]
        parts.append(
            f"static {t} floor_div_{d}({t} a, {t} b) {{ if (b == 0) return a / b;"
            f" {t} mod = fmod(a, b); {t} div = (a - mod) / b;"
            f" if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;"
            f" if (div != 0) {{ {t} f = floor(div); if (div - f > 0.5) f += 1; return f; }}"
            f" return copysign(0.0, a / b); }}\n"
            f"static {t} py_mod_{d}({t} a, {t} b) {{ if (b == 0) return fmod(a, b);"
            f" {t} mod = fmod(a, b); if (mod != 0) {{ if ((b < 0) != (mod < 0)) mod += b; }}"
            f" else mod = copysign(0.0, b); return mod; }}"
        )
    return "\n".join(parts) + "\n"


PREAMBLE = _helpers()


def _records() -> list[scalar.ScalarOp]:
    return list(scalar.SCALAR_OPS.values()) + [scalar.cast_op(d) for d in C_TYPES]


def skipped() -> dict[str, str]:
    """Records this renderer does not cover, with the reason."""
    out = {}
    for rec in _records():
        if rec.c is None:
            out[rec.name] = "no C template"
        elif rec.output in ("real", "complex") or rec.name in ("angle", "conj"):
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
    try:
        out_dtype = rec.output_dtype([dtype] * rec.nin)
    except TypeError:
        return None
    if out_dtype not in C_TYPES:
        return None
    template = rec.c
    if rec.output == "fixed" and out_dtype == "bool":
        template = "{0}"  # nonzero -> 1 below, not a truncating cast
    elif rec.name == "invert" and dtype == "bool":
        template = "(!{0})"  # NumPy's ~ on bool is logical not
    elif "{ctype}" in template:
        template = template.format(ctype=C_TYPES[out_dtype]).replace("{{", "{").replace("}}", "}")
    # float-valued ops compute integer inputs in their output float type
    compute = out_dtype if rec.output in ("float", "float64") else dtype
    template = template.replace("floor_div(", f"floor_div_{compute}(")
    template = template.replace("py_mod(", f"py_mod_{compute}(")
    ct, cout = C_TYPES[compute], C_TYPES[out_dtype]
    args = [f"x{k}" for k in range(rec.nin)]
    expr = template.format(*args)
    value = f"(({expr}) != 0)" if out_dtype == "bool" else f"({cout})({expr})"
    name = f"{rec.name}_{dtype}"
    params = ", ".join(f"const {C_TYPES[dtype]}* in{k}" for k in range(rec.nin))
    loads = " ".join(f"{ct} x{k} = ({ct})in{k}[i];" for k in range(rec.nin))
    source = (
        f"void {name}({params}, {cout}* out, long n) {{\n"
        f"    for (long i = 0; i < n; i++) {{ {loads} out[i] = {value}; }}\n}}\n"
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
