"""Theano's `theano.gof.graph` names: the graph classes, traversals and graph copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labsym.core.graph import Apply, Constant, Variable, ancestors, clone_graph, io_toposort
from labsym.core.graph import graph_inputs as inputs


def clone(
    i: Sequence[Variable], o: Sequence[Variable], copy_inputs: bool = True
) -> tuple[list[Variable], list[Variable]]:
    """Copies of the graph between inputs `i` and outputs `o` (Theano's gof.graph.clone)."""
    new_i, new_o, _ = clone_graph(list(i), list(o), copy_inputs=copy_inputs)
    return new_i, new_o


def clone_replace(
    output: Any, replace: Any = None, strict: bool = True, share_inputs: bool = True
) -> Any:
    """`theano.clone`: a copy of `output` (a variable or a list) with subgraphs replaced.

    `replace` maps variables to their replacements (dict or pairs); with `strict`, a
    replacement must have the replaced variable's type. `share_inputs=False` also copies the
    graph's inputs (shared variables copied this way keep their storage).
    """
    if isinstance(replace, Mapping):
        pairs = list(replace.items())
    elif isinstance(replace, (list, tuple)):
        pairs = list(replace)
    elif replace is None:
        pairs = []
    else:
        raise ValueError(
            "replace is neither a dictionary, list, tuple or None ! The value provided is "
            f"{replace}, of type {type(replace)}"
        )
    for old, new in pairs:
        if strict and old.type != new.type:
            raise TypeError(
                f"clone: cannot replace {old} ({old.type}) by {new} ({new.type}) with "
                "strict=True; give a replacement of the same type or strict=False"
            )
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    memo = dict(pairs)
    _, outs, _ = clone_graph([], outputs, memo=memo, copy_inputs=not share_inputs)
    if isinstance(output, (list, tuple)):
        return type(output)(outs)
    return outs[0]


__all__ = [
    "Apply",
    "Constant",
    "Variable",
    "ancestors",
    "clone",
    "clone_replace",
    "inputs",
    "io_toposort",
]
