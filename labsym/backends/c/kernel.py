"""The C kernel contract: C code for one Apply node, in Theano's `c_code` convention.

A kernel body is statements with Theano's substitutions: `%(in0)s`... name the inputs
(`PyArrayObject*` for tensor inputs, borrowed, never NULL; `PyObject*` otherwise), `%(out0)s`...
name the outputs (`PyArrayObject*` set to NULL on entry: the body must store a NEW reference),
`%(fail)s` is a statement that jumps to the failure path (set a Python exception first, e.g.
with PyErr_Format). The body runs holding the GIL; a pure loop may release it with
Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS (no `%(fail)s` in between). module.py wraps each
body into an exported function and compiles every kernel of a function into one cffi module.
Renderers for op types register here; `kernel_for(node, mode)` finds one. A renderer registered
with `with_mode=True` also receives the outer function's Mode (ops with inner graphs, e.g. scan,
render the inner graph as that Mode rewrites it). May import core only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labsym.core.graph import Apply


@dataclass(frozen=True)
class CKernel:
    """C code for one node: a body, file-scope support code, and what it needs to build."""

    body: str
    # file-scope C (static functions); each piece (a str, or a tuple of them) deduplicated by text
    support_code: str | tuple[str, ...] = ""
    headers: tuple[str, ...] = ()  # "<math.h>" or '"name.h"'
    libraries: tuple[str, ...] = ()
    compile_args: tuple[str, ...] = ()
    cache_version: tuple = ()  # Theano's c_code_cache_version; not in the key (the source is)
    include_dirs: tuple[str, ...] = ()  # Theano's c_header_dirs
    library_dirs: tuple[str, ...] = ()  # Theano's c_lib_dirs
    init_code: tuple[str, ...] = ()  # statements run once when the module loads (c_init_code)
    # test the IEEE flags (divide/overflow/invalid) after the body, so the thunk can warn as
    # NumPy's ufuncs do (elementwise, reductions, softmax family)
    fp_flags: bool = False


def _pieces(kernels: Sequence[CKernel], field: str) -> tuple:
    """Every kernel's `field` (a str or a tuple of them), in order, each text once, none empty."""
    found: dict = {}
    for k in kernels:
        value = getattr(k, field)
        found.update(dict.fromkeys((value,) if isinstance(value, str) else value))
    return tuple(v for v in found if v)


def combine(
    body: str,
    kernels: Sequence[CKernel],
    cache_version: tuple,
    support_code: tuple[str, ...] = (),
    init_code: tuple[str, ...] = (),
) -> CKernel:
    """One kernel running `body`, which inlines `kernels`: it needs everything they need to
    build (their support code after `support_code`, their init code before `init_code`)."""
    return CKernel(
        body,
        (*support_code, *_pieces(kernels, "support_code")),
        _pieces(kernels, "headers"),
        _pieces(kernels, "libraries"),
        _pieces(kernels, "compile_args"),
        (*cache_version, *(k.cache_version for k in kernels)),
        _pieces(kernels, "include_dirs"),
        _pieces(kernels, "library_dirs"),
        (*_pieces(kernels, "init_code"), *init_code),
        any(k.fp_flags for k in kernels),
    )


Renderer = Callable[..., "CKernel | None"]
_RENDERERS: dict[type, Renderer] = {}
_WITH_MODE: set[Renderer] = set()  # renderers called as renderer(node, mode=...)
_FALLBACKS: list[Renderer] = []  # tried in order for ops no registered type covers


def register(*op_types: type, with_mode: bool = False) -> Callable[[Renderer], Renderer]:
    """Decorator: `renderer(node) -> CKernel | None` renders nodes whose op is one of op_types.

    With `with_mode`, the renderer is called as `renderer(node, mode=outer_mode)`.
    """

    def deco(fn: Renderer) -> Renderer:
        for t in op_types:
            _RENDERERS[t] = fn
        if with_mode:
            _WITH_MODE.add(fn)
        return fn

    return deco


def register_fallback(fn: Renderer) -> Renderer:
    """Decorator: a renderer tried for ops that no registered op type covers (user c_code)."""
    _FALLBACKS.append(fn)
    return fn


_loaded = False


def _load_kernel_modules() -> None:
    """Import the kernel modules and the user-op fallback on first lookup."""
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module("labsym.backends.c.kernels")
        importlib.import_module("labsym.backends.c.userop")


def kernel_for(node: Apply, mode: Any = None) -> CKernel | None:
    """The C kernel for `node` (by the most specific registered op type, else a fallback).

    `mode` is the outer function's Mode (None: the default), passed to `with_mode` renderers.
    """
    _load_kernel_modules()
    for cls in type(node.op).__mro__:
        renderer = _RENDERERS.get(cls)
        if renderer is not None:
            return renderer(node, mode=mode) if renderer in _WITH_MODE else renderer(node)
    for fallback in _FALLBACKS:
        kernel = fallback(node)
        if kernel is not None:
            return kernel
    return None
