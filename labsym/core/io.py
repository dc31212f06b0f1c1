"""In, Out and Mode: how function() is told about inputs, outputs and how to compile.

Mode here is the injected contract (a rewriter and a linker); compile.py builds Modes from
names like 'FAST_RUN'. May import core.graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


def convert_function_input(spec: Any, index: int) -> In:
    """One entry of function()'s inputs as an In, accepting Theano's tuple shortcuts.

    `var`, `In(...)`, `(name, var)`, `(var, value)`, `((var, update), value)`,
    `(name, var, value)` and `(name, (var, update), value)`, as Theano's
    `convert_function_input`; anything else is a TypeError naming the entry.
    """
    if isinstance(spec, In):
        return spec
    if isinstance(spec, Variable):
        return In(spec)
    if not isinstance(spec, (list, tuple)) or not spec:
        raise TypeError(
            f"function input {index} is {spec!r}, not a symbolic variable "
            "(inputs must be a list of variables, In instances or Theano's tuple shortcuts)"
        )
    rest = list(spec)
    name = rest.pop(0) if isinstance(rest[0], str) else None
    update = value = None
    if rest and isinstance(rest[0], In) and len(rest) <= 2:
        result = rest[0]
        if len(rest) == 2:  # (In, value) or (name, In, value): Theano sets them on the In
            result.value = rest[1]
            if name is not None:
                result.name = name
        return result
    if rest and isinstance(rest[0], (list, tuple)) and len(rest[0]) == 2 and len(rest) == 2:
        (variable, update), value = rest
    elif rest and isinstance(rest[0], Variable) and len(rest) <= 2:
        variable = rest[0]
        value = rest[1] if len(rest) == 2 else None
    else:
        raise TypeError(
            f"invalid syntax for function input {index}: {spec!r}; use a variable, In(...), "
            "(name, var), (var, value), ((var, update), value) or (name, var, value)"
        )
    if not isinstance(variable, Variable):
        raise TypeError(f"function input {index}: {variable!r} is not a symbolic variable")
    if update is not None and not isinstance(update, Variable):
        raise TypeError(f"function input {index}: the update {update!r} is not a symbolic variable")
    if isinstance(value, (Variable, In)):
        raise TypeError(
            f"function input {index}: the default value for {variable} must be a value, "
            f"not {value!r}"
        )
    return In(variable, name=name, value=value, update=update)


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


@dataclass
class CallPlan:
    """What function() asks of a linker: binding, outputs, updates; the linker adds node code."""

    fgraph: Any
    explicit: list[Any]  # per explicit argument: (fgraph input, filter callable, In)
    shared: list[tuple[Variable, Any]]  # (fgraph input, Container)
    outputs: list[tuple[int, bool]]  # (fgraph output index, borrow)
    updates: list[tuple[int, Any]]  # (fgraph output index, Container to commit into)
    structure: str  # 'single', 'list' or 'none'
    allow_gc: bool = True
    profile: Any = None
    bind: Any = None
    fail: Any = None
    line_nodes: dict[str, dict[int, Any]] = field(default_factory=dict)  # file -> line -> node
    local_names: dict[Variable, str] = field(default_factory=dict)
    node_codes: list[NodeCode] = field(default_factory=list)  # filled by the linker
    mode: Any = None  # the outer Mode: inner graphs (scan, OpFromGraph) are compiled with it


class Program(Protocol):
    """What a linker returns: makes the `__call__` (checked, trusted or raw) the Function runs."""

    def make_call(self, trusted: bool = False, raw: bool = False) -> Callable[..., Any]: ...


class Linker(Protocol):
    """Links a whole FunctionGraph into a Program (backends/ implement it; core only calls)."""

    def link(self, fgraph: Any, plan: CallPlan) -> Program: ...


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
