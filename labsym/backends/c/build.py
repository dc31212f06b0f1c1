"""Build a cffi module of rendered scalar C functions (the scalar-table test's module), with the
compile cache's builder: cached like every module, -O2 (no -march=native). Backends may import
core, never compile/, viz/ or magics/."""

from __future__ import annotations

import shutil
from typing import Any

from labsym.backends.c import cache
from labsym.backends.c.render import PREAMBLE, Rendered


def compiler_available() -> bool:
    """True if a C compiler is on PATH."""
    return bool(shutil.which("cc") or shutil.which("gcc"))


def build_module(functions: list[Rendered], name: str = "scalar table") -> Any:
    """Compile `functions` into one cffi module with -O2; returns its `lib`, `ffi` pair."""
    cdef = "\n".join(f.cdef for f in functions)
    source = PREAMBLE + "\n".join(f.source for f in functions)
    options = {"extra_compile_args": ["-O2"], "libraries": ["m"]}
    module = cache.load_or_build(f"{name}: {len(functions)} functions", cdef, source, options)
    return module.lib, module.ffi
