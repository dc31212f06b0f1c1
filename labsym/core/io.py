"""In, Out and Mode: how function() is told about inputs, outputs and how to compile.

Mode here is the injected contract (a rewriter and a linker); compile.py builds Modes from
names like 'FAST_RUN'. May import core.graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from labsym.core.graph import Apply, Variable


class In:
    """A function input with options: a name, a default value, borrow, and a stateful update."""

    def __init__(
        self,
        variable: Variable,
        name: str | None = None,
        value: Any = None,
        update: Any = None,
        mutable: bool | None = None,
        strict: bool = False,
        allow_downcast: bool | None = None,
        autoname: bool = True,
        implicit: bool | None = None,
        borrow: bool = False,
    ) -> None:
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable) if mutable is not None else update is not None
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.implicit = bool(implicit)
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"In({self.variable}, name={self.name!r})"


class Out:
    """A function output; `borrow=True` may return an internal buffer instead of a copy."""

    def __init__(self, variable: Variable, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"Out({self.variable}, borrow={self.borrow})"


@dataclass
class NodeCode:
    """Python statements a linker emits for one node.

    `code` assigns the node's outputs, named by `{out0}`, `{out1}`..., from `{in0}`...;
    `namespace` holds the objects the statements refer to (thunks, ufuncs).
    """

    node: Apply
    code: str
    namespace: dict[str, Any]
    prologue: str = ""  # a statement run once before any node (outside lazy branches)


class Linker(Protocol):
    """Turns each node of a FunctionGraph into Python statements (calls into thunks)."""

    def node_code(self, fgraph: Any, node: Apply, index: int) -> NodeCode: ...


class Mode:
    """How to compile: an optional graph rewriter and a linker, both injected.

    `rewriter(fgraph)` edits the graph in place; `describe_node(node)` (optional) gives the
    debugprint shown by exception_verbosity=high.
    """

    def __init__(
        self,
        linker: Linker,
        rewriter: Callable[[Any], Any] | None = None,
        name: str = "custom",
        describe_node: Callable[[Apply], str] | None = None,
    ) -> None:
        self.linker = linker
        self.rewriter = rewriter
        self.name = name
        self.describe_node = describe_node
        self.by_name: str | None = None  # set when built from a mode name such as 'FAST_RUN'

    def __repr__(self) -> str:
        return f"Mode({self.name})"
