"""The linker registry: Theano's linker names -> the engine that runs a FunctionGraph.

May import core and the backends' own packages; compile/ (the composition root) reads it.

Choice (issue 9): `py`, `vm` and their `_nogc` forms are the NumPy engine. `c|py` and
`c|py_nogc` run every node with a C kernel as native code (all of a function's in one module)
and the rest on the NumPy engine; `c` is C only and refuses, at compile time, a graph holding
ops without C code. These explicit C names build the module before function() returns, and
raise if no C compiler works. `auto` and `cvm` (Theano's FAST_RUN default, so countless
Theano programs set `linker=cvm`) mean "the best engine available": the tiered C linker (NumPy
engine at once, C swapped in when built) when a compiler works and the `cxx` flag is not '',
else the NumPy engine, with one notice if the compiler is missing.
"""

from __future__ import annotations

import warnings
from typing import Any

from labsym.backends.c.linker import CLinker
from labsym.backends.c.module import c_compiler
from labsym.backends.python.vm import PythonLinker
from labsym.config import config

_NUMPY_NAMES = ("py", "vm", "vm_nogc")
_BEST_NAMES = ("auto", "cvm", "cvm_nogc")
C_NAMES = ("c", "c|py", "c|py_nogc")
_FOREIGN = ("numba", "jax", "pytorch")
LINKER_NAMES = _NUMPY_NAMES + _BEST_NAMES + C_NAMES
WORKING_NAMES = LINKER_NAMES  # every name runs (the C ones need a C compiler)


class LinkerUnavailableError(ValueError):
    """A linker name labsym knows but cannot run (no C compiler, or another project's)."""


_NOTICED: list[str] = []


def _no_compiler_reason() -> str:
    if not config.cxx.strip():
        return "the cxx flag is '' (C code disabled)"
    return f"the C compiler cxx={config.cxx!r} was not found on PATH (or cffi is missing)"


def _best(name: str) -> Any:
    """The tiered C linker when a compiler works, else the NumPy engine (one notice)."""
    nogc = name.endswith("_nogc")
    if c_compiler() is not None:
        return CLinker(name, allow_gc=not nogc, tiered=True)
    if config.cxx.strip() and not _NOTICED:
        _NOTICED.append(name)
        warnings.warn(
            f"labsym: {_no_compiler_reason()}, so functions run on the NumPy engine (correct, "
            "slower); install gcc, or set the cxx flag to '' to silence this notice",
            stacklevel=4,
        )
    return PythonLinker(allow_gc=not nogc)


def get_linker(name: str) -> Any:
    """A fresh linker for a Theano linker name; raises with the valid names otherwise."""
    if name in _NUMPY_NAMES:
        return PythonLinker(allow_gc=not name.endswith("_nogc"))
    if name in _BEST_NAMES:
        return _best(name)
    if name in C_NAMES:
        if c_compiler() is None:
            raise LinkerUnavailableError(
                f"linker={name!r} asks for C code, but {_no_compiler_reason()}; use one of "
                f"{', '.join(_NUMPY_NAMES + _BEST_NAMES)} ('cvm' and 'auto' use C when a "
                "compiler works and the NumPy engine otherwise)"
            )
        return CLinker(name, strict=name == "c", allow_gc=not name.endswith("_nogc"))
    if name in _FOREIGN:
        raise LinkerUnavailableError(
            f"linker={name!r} is a PyTensor/Aesara backend, not one of labsym's; "
            f"valid linkers: {', '.join(LINKER_NAMES)}"
        )
    raise ValueError(f"unknown linker {name!r}; valid linkers: {', '.join(LINKER_NAMES)}")


class _LazyCLinker:
    """A C linker in Theano's `predefined_linkers` table, resolved when first used."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._linker: Any = None

    def _resolved(self) -> Any:
        if self._linker is None:
            self._linker = get_linker(self.name)
        return self._linker

    def link(self, fgraph: Any, plan: Any) -> Any:
        return self._resolved().link(fgraph, plan)

    def node_code(self, fgraph: Any, node: Any, index: int, outer_mode: Any = None) -> Any:
        return self._resolved().node_code(fgraph, node, index, outer_mode)

    def __repr__(self) -> str:
        return f"CLinker({self.name!r})"


def get_device_linker(device: str, place: Any) -> Any:
    """The linker for device=cuda*/gpu*: CudaLinker, placing nodes with `place` (a rewrite
    the composition root binds to the backend's predicates)."""
    from labsym.backends.cuda.linker import CudaLinker

    return CudaLinker(device=device, place=place)


def theano_linker_table() -> dict[str, Any]:
    """Theano's `predefined_linkers`: a linker per name (C ones checked when used)."""
    table: dict[str, Any] = {name: get_linker(name) for name in _NUMPY_NAMES + _BEST_NAMES}
    return table | {name: _LazyCLinker(name) for name in C_NAMES}
