"""Theano's per-node thunk protocol: PerformLinker, WrapLinker, WrapLinkerMany on the NumPy engine.

A wrapped linker still emits one statement per node into the generated call; that statement
fills the node's storage cells and hands `wrapper(i, node, thunk, ...)` the thunks. May import core.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.backends.python.callgen import NumPyProgram, link_per_node
from labsym.backends.python.vm import PythonLinker
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.io import CallPlan, NodeCode

__all__ = ["OpWiseCLinker", "PerformLinker", "Thunk", "WrapLinker", "WrapLinkerMany"]


def _cell_value(value: Any) -> Any:
    # Theano's storage held 0-d arrays, never NumPy scalars: recipes print `array(15.0)`
    return np.asarray(value) if isinstance(value, np.generic) else value


def node_function(code: NodeCode) -> Callable[..., tuple]:
    """`f(*input_values) -> output_values` running a linker's statements for one node."""
    if code.prologue:
        raise TypeError(
            f"{code.node}: this linker's code needs a per-call prologue, which a per-node "
            "thunk cannot run; wrap PerformLinker, OpWiseCLinker or the 'py' linker instead"
        )
    node = code.node
    args = [f"_in{i}" for i in range(len(node.inputs))]
    outs = [f"_out{i}" for i in range(len(node.outputs))]
    body = code.code.format(
        **{f"in{i}": a for i, a in enumerate(args)}, **{f"out{i}": o for i, o in enumerate(outs)}
    )
    lines = [f"def _node({', '.join(args)}):"]
    lines += ["    " + line for line in body.splitlines()]
    lines.append(f"    return ({''.join(o + ', ' for o in outs)})")
    namespace = dict(code.namespace)
    exec(compile("\n".join(lines) + "\n", f"<labsym-thunk {node}>", "exec"), namespace)  # noqa: S102
    return namespace["_node"]


class Thunk:
    """One node's callable with its storage: `thunk()` reads `inputs[j][0]`, sets `outputs[j][0]`.

    `inputs` and `outputs` are lists of one-element lists (Theano's storage cells), so a
    wrapper can read the values, call the thunk, and even change values before the next node.
    """

    lazy = False

    def __init__(
        self,
        node: Apply,
        run: Callable[..., tuple],
        inputs: list[list[Any]],
        outputs: list[list[Any]],
    ) -> None:
        self.node = node
        self.run = run
        self.inputs = inputs
        self.outputs = outputs

    def __call__(self) -> None:
        results = self.run(*[cell[0] for cell in self.inputs])
        for cell, value in zip(self.outputs, results, strict=True):
            cell[0] = _cell_value(value)

    def __repr__(self) -> str:
        return f"Thunk({self.node})"


class PerformLinker(PythonLinker):
    """Theano's PerformLinker: each node runs its op's NumPy implementation (perform).

    Used directly in `Mode(linker=PerformLinker())` it is labsym's NumPy engine; inside
    WrapLinker it supplies the per-node thunks.
    """

    def node_thunk(
        self, fgraph: Any, node: Apply, index: int, storage: dict[Variable, list[Any]]
    ) -> Thunk:
        """A Thunk for `node` whose cells are taken from (and added to) `storage`."""
        run = node_function(self.node_code(fgraph, node, index))
        cells = [storage.setdefault(v, [None]) for v in node.inputs]
        outs = [storage.setdefault(v, [None]) for v in node.outputs]
        return Thunk(node, run, cells, outs)


class OpWiseCLinker(PerformLinker):
    """Theano's OpWiseCLinker, as the per-node thunk protocol (WrapLinker, MonitorMode) uses it.

    Its thunks run each node as PerformLinker does, so programs that name it (debugging
    recipes) work unchanged; C code per node is `Mode(linker='c|py')` (backends/c/linker.py).
    """

    name = "c|py"


def _as_thunk_maker(linker: Any) -> Any:
    """A linker able to make per-node thunks: PerformLinker, or any labsym linker's statements."""
    if hasattr(linker, "node_thunk"):
        return linker
    if hasattr(linker, "node_code"):
        adapted = PerformLinker()
        adapted.node_code = linker.node_code  # type: ignore[method-assign]
        return adapted
    raise TypeError(
        f"WrapLinker: {linker!r} is not a linker; give linker objects such as PerformLinker() "
        "or OpWiseCLinker()"
    )


class _NodeStep:
    """What the generated call runs for one node: fill the cells, call the wrapper, read back."""

    def __init__(
        self, wrapper: Callable[..., Any], index: int, node: Apply, thunks: list[Thunk]
    ) -> None:
        self.wrapper = wrapper
        self.index = index
        self.node = node
        self.thunks = thunks
        # other linkers keep their own storage; only graph inputs and constants are copied in
        self.copied = [
            j for j, v in enumerate(node.inputs) if v.owner is None or isinstance(v, Constant)
        ]

    def __call__(self, *values: Any) -> tuple:
        first, *others = self.thunks
        for cell, value in zip(first.inputs, values, strict=True):
            cell[0] = _cell_value(value)
        for thunk in others:
            for j in self.copied:
                thunk.inputs[j][0] = copy.copy(first.inputs[j][0])
        for cell in first.outputs:
            cell[0] = None
        try:
            self.wrapper(self.index, self.node, *self.thunks)
            results = tuple(cell[0] for cell in first.outputs)
        finally:
            for cell in first.inputs + first.outputs:
                cell[0] = None  # the generated call owns the values; do not keep them alive
        missing = [j for j, value in enumerate(results) if value is None]
        if missing:
            raise RuntimeError(
                f"WrapLinker: after the wrapper ran on node {self.index} ({self.node}), output "
                f"{missing[0]} of the first linker's thunk is unset; the wrapper must call "
                "fn() (or store every output)"
            )
        return results


class WrapLinker:
    """Theano's WrapLinker: `wrapper(i, node, *thunks)` runs each node, one thunk per linker.

    The wrapper decides when (and whether) to call each thunk; the first linker's outputs
    are the function's. Other linkers compute in their own storage, as in Theano. Updates,
    givens and shared variables behave as with any linker: a call that raises commits nothing.
    IfElse stays lazy (as under Theano's default VM): the branch not taken is not run, and the
    IfElse node itself is a branch in the generated call, so the wrapper does not see it.

    Examples
    --------
    >>> def trace(i, node, fn):
    ...     fn()
    ...     print(i, node, [out[0] for out in fn.outputs])
    >>> mode = Mode(linker=WrapLinker([PerformLinker()], trace), optimizer=None)
    """

    name = "wrap"

    def __init__(self, linkers: Sequence[Any], wrapper: Callable[..., Any]) -> None:
        if isinstance(linkers, (str, bytes)) or not isinstance(linkers, Sequence) or not linkers:
            raise TypeError(f"WrapLinker needs a non-empty list of linkers, got {linkers!r}")
        if not callable(wrapper):
            raise TypeError(f"WrapLinker: the wrapper {wrapper!r} is not callable")
        self.linkers = [_as_thunk_maker(linker) for linker in linkers]
        self.wrapper = wrapper
        # per FunctionGraph, the storage of linkers 1.. (linker 0 is fed by the generated call)
        self._storage: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __copy__(self) -> WrapLinker:
        return type(self)([copy.copy(linker) for linker in self.linkers], self.wrapper)

    def link(self, fgraph: Any, plan: CallPlan) -> NumPyProgram:
        """The whole-graph link step: this linker's statement per node, as one program."""
        return link_per_node(self, fgraph, plan)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        """The statement running `node` through the wrapper, with one thunk per linker."""
        storages = self._storage.get(fgraph)
        if storages is None:
            storages = self._storage[fgraph] = [{} for _ in self.linkers[1:]]
            for storage in storages:
                for var in fgraph.variables:
                    if isinstance(var, Constant):
                        storage[var] = [var.data]
        thunks = [self.linkers[0].node_thunk(fgraph, node, index, {})]
        thunks += [
            linker.node_thunk(fgraph, node, index, storage)
            for linker, storage in zip(self.linkers[1:], storages, strict=True)
        ]
        key = f"_wrap{index}"
        args = ", ".join(f"{{in{i}}}" for i in range(len(node.inputs)))
        outs = "".join(f"{{out{i}}}, " for i in range(len(node.outputs)))
        step = _NodeStep(self.wrapper, index, node, thunks)
        return NodeCode(node, f"{outs}= {key}({args})", {key: step})


def WrapLinkerMany(linkers: Sequence[Any], wrappers: Sequence[Callable[..., Any]]) -> WrapLinker:  # noqa: N802 - Theano's name
    """A WrapLinker whose wrapper calls each of `wrappers` in turn with `(i, node, *thunks)`.

    Each wrapper decides whether to call the thunks (Theano's semantics: a thunk called twice
    runs its node twice).
    """
    wrappers = list(wrappers)
    for wrapper in wrappers:
        if not callable(wrapper):
            raise TypeError(f"WrapLinkerMany: the wrapper {wrapper!r} is not callable")

    def wrapper(*args: Any) -> None:
        for one in wrappers:
            one(*args)

    return WrapLinker(linkers, wrapper)
