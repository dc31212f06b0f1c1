"""User ops with Theano's C methods ("Extending Theano with a C Op") as C kernels.

An op that defines a callable `c_code(node, name, inames, onames, sub)` is rendered here when
no kernel is registered for its type: `c_support_code()`, `c_support_code_apply(node, name)`,
`c_headers()`, `c_header_dirs()`, `c_libraries()`, `c_lib_dirs()`, `c_compile_args()`,
`c_init_code()` and `c_code_cache_version()` are read when present. Inside the code, as in
Theano, `dtype_<x>` is the element type of variable x (`npy_float64`...), `type_num_<x>` its
NumPy type number, `itemsize_<x>` its item size, and `sub['fail']` jumps to the failure path.

One difference from Theano: an output variable (`%(z)s`) is NULL when the code starts (Theano
could hand back the previous call's output for reuse), so the tutorial's
`if (NULL == %(z)s || ...) { Py_XDECREF(%(z)s); %(z)s = PyArray_EMPTY(...); }` always
allocates. Only ops whose inputs and outputs are all tensors are rendered. May import core and
backends.c.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.c.kernel import CKernel, register_fallback
from labsym.core.graph import Apply
from labsym.core.type import TensorType

_FAIL = "LABSYM_FAIL_TOKEN_"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _token(kind: str, index: int) -> str:
    """A C identifier standing for `%(<kind><index>)s` until the code is escaped."""
    return f"LABSYM_{kind.upper()}{index}_TOKEN_"


def _list(op: Any, method: str, *args: Any) -> list[str]:
    fn = getattr(op, method, None)
    return list(fn(*args)) if callable(fn) else []


def _text(op: Any, method: str, *args: Any) -> str:
    fn = getattr(op, method, None)
    return fn(*args) if callable(fn) else ""


def _header(name: str) -> str:
    """Theano's c_headers spelling ('math.h', '<math.h>', '"x.h"') as an #include argument."""
    return name if name[:1] in '<"' else f"<{name}>"


def _declarations(names: Sequence[str], variables: Sequence[Any]) -> list[str]:
    """Theano's per-variable helpers: dtype_<x>, type_num_<x> and itemsize_<x>."""
    lines = []
    for name, var in zip(names, variables):
        dtype = np.dtype(var.type.dtype)
        ctype = "npy_bool" if dtype.kind == "b" else f"npy_{dtype.name}"
        lines.append(f"typedef {ctype} dtype_{name};")
        lines.append(f"const int type_num_{name} = {dtype.num};")
        lines.append(f"const int itemsize_{name} = {dtype.itemsize};")
        lines.append(f"(void)type_num_{name}; (void)itemsize_{name};")
    return lines


def _escape(code: str, n_in: int, n_out: int) -> str:
    """The user's C (already %-formatted by them) in the kernel contract's %-template form."""
    code = code.replace("%", "%%").replace(_FAIL, "%(fail)s")
    for i in range(n_in):
        code = code.replace(_token("in", i), f"%(in{i})s")
    for k in range(n_out):
        code = code.replace(_token("out", k), f"%(out{k})s")
    return code


@register_fallback
def user_op_kernel(node: Apply) -> CKernel | None:
    """A CKernel from the op's Theano C methods, or None (no c_code, or non-tensor variables)."""
    op = node.op
    if not callable(getattr(op, "c_code", None)):
        return None
    variables = [*node.inputs, *node.outputs]
    if not all(isinstance(v.type, TensorType) for v in variables):
        return None
    inames = [_token("in", i) for i in range(len(node.inputs))]
    onames = [_token("out", k) for k in range(len(node.outputs))]
    # identical nodes get the same name, so their support code is deduplicated, not redefined
    # ops that differ only in attributes outside __props__ (or without props) get other names
    # default reprs' addresses are dropped: the name (and the disk cache key) must not change
    # from one process to the next
    state = _ADDRESS.sub("", repr(sorted(vars(op).items()))) if hasattr(op, "__dict__") else ""
    key = f"{type(op).__module__}.{type(op).__qualname__}|{op}|{state}|" + ",".join(
        str(v.type) for v in variables
    )
    name = "node_" + hashlib.sha1(key.encode()).hexdigest()[:12]
    sub = {"fail": _FAIL, "id": 1, "struct_id": 1, "params": "NULL"}
    body = op.c_code(node, name, inames, onames, sub)
    decls = _declarations(inames + onames, variables)
    n_in, n_out = len(inames), len(onames)
    support = [_text(op, "c_support_code"), _text(op, "c_support_code_apply", node, name)]
    version = getattr(op, "c_code_cache_version", None)
    return CKernel(
        body=_escape("\n".join(decls) + "\n{\n" + body + "\n}", n_in, n_out),
        support_code=tuple(filter(None, support)),
        headers=tuple(_header(h) for h in _list(op, "c_headers")),
        libraries=tuple(_list(op, "c_libraries")),
        compile_args=tuple(_list(op, "c_compile_args")),
        cache_version=tuple(version()) if callable(version) else (),
        include_dirs=tuple(_list(op, "c_header_dirs")),
        library_dirs=tuple(_list(op, "c_lib_dirs")),
        init_code=tuple(_list(op, "c_init_code")),
    )
