"""Build a cffi extension module from rendered C functions (compiled in a temp dir, not cached).
Backends may import core, never compile/, viz/ or magics/."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from typing import Any

from labsym.backends.c.render import PREAMBLE, Rendered


def compiler_available() -> bool:
    """True if a C compiler is on PATH."""
    return bool(shutil.which("cc") or shutil.which("gcc"))


def build_module(functions: list[Rendered], name: str = "_labsym_scalar_table") -> Any:
    """Compile `functions` into one cffi module with -O2 and return its `lib`, `ffi` pair."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef("\n".join(f.cdef for f in functions))
    source = PREAMBLE + "\n".join(f.source for f in functions)
    ffi.set_source(name, source, extra_compile_args=["-O2"], libraries=["m"])
    tmpdir = tempfile.mkdtemp(prefix="labsym_c_")
    try:
        path = ffi.compile(tmpdir=tmpdir)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules.pop(name, None)
        spec.loader.exec_module(module)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return module.lib, module.ffi
