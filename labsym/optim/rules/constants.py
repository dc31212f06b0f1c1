"""Constant folding: a node whose inputs are all constants becomes a constant.

May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.graph import Apply, Constant
from labsym.core.op import Op
from labsym.optim.patterns import Rule

MAX_FOLDED_ELEMENTS = 1 << 20  # larger results stay computed at run time (memory, compile time)


def fold_constants(fgraph: Any, node: Apply) -> list | None:
    """op(c1, c2, ...) -> constant, computed once at compile time with the op's perform."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if not node.op.do_constant_folding(node):
        return None
    from labsym.core.variable import TensorConstant

    storage: list[list[Any]] = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, [i.data for i in node.inputs], storage)
    except Exception:
        return None  # leave the error to run time, where it is reported with context
    outs = []
    for out, (value,) in zip(node.outputs, storage):
        value = np.asarray(value, dtype=out.dtype)
        if value.size > MAX_FOLDED_ELEMENTS:
            return None
        if any(s is not None and s != v for s, v in zip(out.type.shape, value.shape)):
            return None
        outs.append(TensorConstant(out.type, value))
    return outs


RULES = [
    Rule(
        "constant_folding",
        ("canonicalize", "specialize"),
        node_rule=fold_constants,
        tracks=(Op,),
        math="op(constants) -> constant",
    ),
]
