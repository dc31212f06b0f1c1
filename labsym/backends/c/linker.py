"""The C linker: every node with a C kernel runs native code, all of a function's in ONE module.

`link(fgraph, plan)` renders each node's kernel (`module.node_entry`), builds one extension
module for the function, and emits the NumPy engine's straight-line program
(backends.python.callgen) calling the module's builtins in place of the NumPy callables:
scheduling, gc of intermediates, lazy branches, input checks, profiling (a C node's time is
its kernel's, taken inside C) and the commit of updates are the engine's. A node without
a kernel runs its NumPy statement (Theano's `c|py`); with `strict` (Theano's `c`) such nodes
are a compile-time error naming their ops. `tiered` (cvm/auto, unless the flag
cmodule.tiered is False) links the NumPy engine at once and swaps the C thunks in when a
background build is done (backends.c.tiered). May import config, core, backends.python and
backends.c.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from labsym.backends.c.fusion import fuse_reductions, reporter_for
from labsym.backends.c.module import (
    ModuleSource,
    NodeEntry,
    build_module,
    make_thunk,
    node_entry,
)
from labsym.backends.python.callgen import NumPyProgram, call_statement, link_per_node
from labsym.backends.python.vm import PythonLinker
from labsym.config import config
from labsym.core.graph import Apply
from labsym.core.io import CallPlan, NodeCode


class NoCCodeError(NotImplementedError):
    """linker='c' (C only) was asked to compile a graph holding ops without C code."""


def c_entries(nodes: Sequence[Apply], mode: Any = None) -> dict[int, NodeEntry]:
    """The module entries of the nodes that have a C kernel, by schedule index.

    Lazy nodes (ifelse) stay in the engine: their branches are `if` blocks of the program.
    `mode` is the function's Mode (scan renders its inner graph as that Mode rewrites it).
    """
    entries: dict[int, NodeEntry] = {}
    for i, node in enumerate(nodes):
        if getattr(node.op, "lazy_branches", None) is not None:
            continue
        entry = node_entry(node, f"labsym_node{i}", mode)
        if entry is not None:
            entries[i] = entry
    return entries


def c_statement(node: Apply, index: int, thunk: Callable[..., Any]) -> NodeCode:
    """The engine's statement calling a C thunk (same form and name as the NumPy one)."""
    return call_statement(node, f"_f{index}", thunk)


def load_module(
    entries: dict[int, NodeEntry], nodes: Sequence[Apply], code: ModuleSource | None = None
) -> Any:
    """The function's C module (cached or built); `code`: its rendered source, if known."""
    ops = ", ".join(dict.fromkeys(str(nodes[i].op) for i in entries))
    hint = f"function of {len(nodes)} nodes, {len(entries)} in C: {ops}"[:300]
    return build_module(list(entries.values()), hint=hint, code=code)


def bind_thunks(
    lib: Any, entries: dict[int, NodeEntry], nodes: Sequence[Apply], profile: Any = None
) -> dict[int, Callable[..., Any]]:
    """The thunk per schedule index; with a profile each adds its kernel's time to it."""
    times = None if profile is None else profile.node_times
    return {
        i: make_thunk(
            lib, entry, reporter_for(entry, nodes[i]) if entry.kernel.fp_flags else None, times, i
        )
        for i, entry in entries.items()
    }


def build_thunks(
    entries: dict[int, NodeEntry],
    nodes: Sequence[Apply],
    profile: Any = None,
    code: ModuleSource | None = None,
) -> dict[int, Callable[..., Any]]:
    """One module for every entry; the thunk per schedule index (no module without entries)."""
    if not entries:
        return {}
    return bind_thunks(load_module(entries, nodes, code), entries, nodes, profile)


def mark_c_nodes(plan: CallPlan, indices: Sequence[int], seconds: float) -> None:
    """Tell the profile (if any) which nodes run C code (timed inside it, by thunks bound to
    the profile) and how long the module took."""
    profile = plan.profile
    if profile is not None:
        profile.c_compile_time += seconds
        for i in indices:
            profile.node_impls[i] = "C"
        profile.timed_in_c.update(indices)


class CProgram(NumPyProgram):
    """The engine's program with C thunks; `native` says whether any node runs C code."""

    def __init__(self, plan: CallPlan, native: bool) -> None:
        super().__init__(plan)
        self.native = native


class CLinker:
    """Theano's `c|py` (`strict=False`) and `c` (`strict=True`) linkers; `_nogc` keeps values."""

    def __init__(
        self, name: str = "c|py", strict: bool = False, allow_gc: bool = True, tiered: bool = False
    ) -> None:
        self.name = name
        self.strict = strict
        self.allow_gc = allow_gc
        self.tiered = tiered
        self.python = PythonLinker()
        self._thunks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"CLinker({self.name!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its compiled thunks (a pickled Function recompiles)."""
        return {k: v for k, v in self.__dict__.items() if k != "_thunks"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thunks = weakref.WeakKeyDictionary()

    def link(self, fgraph: Any, plan: CallPlan) -> Any:
        """The whole-graph link step: one C module for the function, the engine's program."""
        if not self.allow_gc:
            plan.allow_gc = False
        nodes = fgraph.toposort()
        entries = c_entries(nodes, plan.mode)
        self._check_strict(nodes, entries)
        entries = fuse_reductions(fgraph, nodes, entries)  # reduce(elemwise) in one pass
        if self.tiered and config.cmodule__tiered and entries:
            from labsym.backends.c.tiered import link_tiered

            return link_tiered(self, fgraph, plan, nodes, entries)
        return self.link_now(fgraph, plan, nodes, entries)

    def link_now(
        self,
        fgraph: Any,
        plan: CallPlan,
        nodes: Sequence[Apply],
        entries: dict[int, NodeEntry],
        code: ModuleSource | None = None,
    ) -> CProgram:
        """Build the module now (`code`: its rendered source, if known) and link the program."""
        start = time.perf_counter()
        thunks = build_thunks(entries, nodes, plan.profile, code)
        self._thunks[fgraph] = {nodes[i]: t for i, t in thunks.items()}
        seconds = time.perf_counter() - start if entries else 0.0
        program = CProgram(link_per_node(self, fgraph, plan).plan, native=bool(entries))
        mark_c_nodes(plan, list(entries), seconds)
        return program

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        """The C thunk's statement for `node`, or the NumPy engine's (one module per graph)."""
        thunks = self._thunks.get(fgraph)
        if thunks is None:  # called by a wrapping linker (DebugMode) without link()
            nodes = fgraph.toposort()
            entries = c_entries(nodes, outer_mode)
            self._check_strict(nodes, entries)
            thunks = self._thunks[fgraph] = {
                nodes[i]: t for i, t in build_thunks(entries, nodes).items()
            }
        thunk = thunks.get(node)
        if thunk is None:
            return self.python.node_code(fgraph, node, index, outer_mode)
        return c_statement(node, index, thunk)

    def _check_strict(self, nodes: Sequence[Apply], entries: dict[int, NodeEntry]) -> None:
        if not self.strict:
            return
        missing = sorted({str(n.op) for i, n in enumerate(nodes) if i not in entries})
        if missing:
            raise NoCCodeError(
                f"linker={self.name!r} runs C code only, and these ops have no C code: "
                f"{', '.join(missing)}; use linker='c|py' (or 'cvm') to run them with NumPy"
            )
