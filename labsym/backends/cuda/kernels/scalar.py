"""Scalar-table records as CUDA expressions: the record's `c` template (or its `cuda` override),
computed in NumPy's type for the argument dtypes and converted to the output dtype.

May import core and backends.cuda only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from labsym.backends.cuda.kernels.common import CU_TYPES, INT_DTYPES
from labsym.core import dtypes
from labsym.core.scalar import ScalarOp

# Where integer (and bool) arithmetic needs another template than C's double-valued functions:
# C converts an int argument of fabs/ceil/pow to double; CUDA's overloads make that ambiguous,
# and NumPy computes these exactly in the integer type.
_INTEGER_TEMPLATES = {
    "abs": "({0} < 0 ? -{0} : {0})",
    "ceil": "{0}",
    "floor": "{0}",
    "trunc": "{0}",
    "round_half_to_even": "{0}",
    "round_half_away_from_zero": "{0}",
    "pow": "ls_ipow({0}, {1})",
}
# the complex-number records on real arguments (complex dtypes have no kernels); not angle:
# its NumPy implementation rounds to the input's precision before the float64 output
_REAL_TEMPLATES = {"real": "{0}", "imag": "0", "conj": "{0}"}
_BITWISE = ("and_", "or_", "xor", "invert")
# NumPy's isnan/isinf on an integer are False; C's would need a float argument
_FLOAT_ONLY_PREDICATES = ("isnan", "isinf")
_FLOAT_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:[eE][-+]?\d+)?)(?![\w.])")


def supports(spec: ScalarOp, arg_dtypes: Sequence[str], out_dtype: str) -> bool:
    """True if `spec` has a CUDA template and every dtype involved is supported."""
    if (spec.cuda or spec.c) is None or spec.output == "complex" or spec.name == "angle":
        return False
    if not all(d in CU_TYPES for d in (*arg_dtypes, out_dtype)):
        return False
    # NumPy has no bitwise loops for floats
    return spec.name not in _BITWISE or compute_dtype(spec, arg_dtypes, out_dtype) not in (
        "float32",
        "float64",
    )


def compute_dtype(spec: ScalarOp, arg_dtypes: Sequence[str], out_dtype: str) -> str:
    """The dtype NumPy computes `spec` in for these argument dtypes."""
    if spec.output == "fixed":
        return arg_dtypes[0]
    if spec.name in _FLOAT_ONLY_PREDICATES:
        return dtypes.upgrade_to_float(arg_dtypes[0])
    if spec.output == "bool":
        return dtypes.upcast(*arg_dtypes[spec.dtype_from :])
    return out_dtype


def expression(
    spec: ScalarOp, args: Sequence[str], arg_dtypes: Sequence[str], out_dtype: str
) -> str:
    """A CUDA expression of type CU_TYPES[out_dtype] applying `spec` to the C expressions `args`."""
    compute = compute_dtype(spec, arg_dtypes, out_dtype)
    ct = CU_TYPES[compute]
    template = _REAL_TEMPLATES.get(spec.name) or spec.cuda or spec.c
    assert template is not None
    if spec.output == "fixed":
        template = "{0}"  # the conversion below is the cast
    elif spec.name == "invert" and compute == "bool":
        template = "(!{0})"  # NumPy's ~ on bool is logical not
    elif compute in (*INT_DTYPES, "bool") and spec.name in _INTEGER_TEMPLATES:
        if not (spec.name == "abs" and compute.startswith("uint")):
            template = _INTEGER_TEMPLATES[spec.name]
        else:
            template = "{0}"
    template = template.replace("floor_div(", f"floor_div_{compute}(")
    template = template.replace("py_mod(", f"py_mod_{compute}(")
    template = template.replace("ls_ipow(", f"ls_ipow_{compute}(")
    if compute == "float32":
        template = _FLOAT_LITERAL.sub(r"\1f", template)  # keep float32 math in float
    operands = [
        a if k < spec.dtype_from else f"(({ct})({a}))" for k, a in enumerate(args[: spec.nin])
    ]
    expr = template.format(*operands)
    if out_dtype == "bool":
        return f"(({expr}) != 0)"
    return f"(({CU_TYPES[out_dtype]})({expr}))"
