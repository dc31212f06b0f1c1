"""The linker registry: Theano's linker names -> the engine that runs a FunctionGraph.

May import core and the backends' own packages; compile/ (the composition root) reads it.

Choice (issue 9): `py`, `vm` and their `_nogc` forms are the NumPy engine. `auto` and `cvm`
(Theano's default linker for FAST_RUN, so countless Theano programs set `linker=cvm`) mean
"the best engine available": the NumPy engine until the C backend exists. An explicit request
for C code (`c`, `c|py`, `c|py_nogc`) raises until then, instead of silently running NumPy.
"""

from __future__ import annotations

from typing import Any

from labsym.backends.python.vm import PythonLinker

_NUMPY_NAMES = ("py", "vm", "vm_nogc")
_BEST_NAMES = ("auto", "cvm", "cvm_nogc")
C_NAMES = ("c", "c|py", "c|py_nogc")
_FOREIGN = ("numba", "jax", "pytorch")
WORKING_NAMES = _NUMPY_NAMES + _BEST_NAMES
LINKER_NAMES = WORKING_NAMES + C_NAMES


class LinkerUnavailableError(ValueError):
    """A linker name labsym knows but cannot run (C not built yet, or another project's)."""


class UnbuiltCLinker:
    """Placeholder for a C linker in Theano's tables; using it raises the registry's error."""

    def __init__(self, name: str) -> None:
        self.name = name

    def link(self, fgraph: Any, plan: Any) -> Any:
        raise LinkerUnavailableError(_c_message(self.name))

    def node_code(self, fgraph: Any, node: Any, index: int, outer_mode: Any = None) -> Any:
        raise LinkerUnavailableError(_c_message(self.name))

    def __repr__(self) -> str:
        return f"UnbuiltCLinker({self.name!r})"


def _c_message(name: str) -> str:
    return (
        f"linker={name!r} asks for C code, but labsym's C backend is not built yet; "
        f"use one of {', '.join(WORKING_NAMES)} ('cvm' and 'auto' pick the best engine "
        "available, the NumPy engine today)"
    )


def get_linker(name: str) -> Any:
    """A fresh linker for a Theano linker name; raises with the valid names otherwise."""
    if name in _NUMPY_NAMES or name in _BEST_NAMES:
        return PythonLinker()
    if name in C_NAMES:
        raise LinkerUnavailableError(_c_message(name))
    if name in _FOREIGN:
        raise LinkerUnavailableError(
            f"linker={name!r} is a PyTensor/Aesara backend, not one of labsym's; "
            f"valid linkers: {', '.join(WORKING_NAMES)}"
        )
    raise ValueError(f"unknown linker {name!r}; valid linkers: {', '.join(LINKER_NAMES)}")


def get_device_linker(device: str, place: Any) -> Any:
    """The linker for device=cuda*/gpu*: CudaLinker, placing nodes with `place` (a rewrite
    the composition root binds to the backend's predicates)."""
    from labsym.backends.cuda.linker import CudaLinker

    return CudaLinker(device=device, place=place)


def theano_linker_table() -> dict[str, Any]:
    """Theano's `predefined_linkers`: a working linker or an UnbuiltCLinker per name."""
    table: dict[str, Any] = {name: get_linker(name) for name in WORKING_NAMES}
    return table | {name: UnbuiltCLinker(name) for name in C_NAMES}
