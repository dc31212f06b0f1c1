"""Constant folding: a node whose inputs are all constants becomes a constant.

May import core and optim.patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.graph import Apply, Constant
from labsym.core.op import Op
from labsym.core.ops.elemwise import Elemwise
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


def upcast_constant_inputs(fgraph: Any, node: Apply) -> list | None:
    """f(x, c) -> f(x, c') with c' = c in f's output dtype, where f upcasts its inputs anyway.

    Theano's local_upcast_elemwise_constant_inputs: `x + 1` on float64 reads 1.0, and prints
    as TensorConstant{(1,) of 1.0}; the values computed are the same.
    """
    from labsym.core.variable import TensorConstant

    op = node.op
    if not isinstance(op, Elemwise) or op.scalar_op.output not in ("upcast", "float"):
        return None
    if op.scalar_op.dtype_from or len(node.outputs) != 1:
        return None
    dtype = node.outputs[0].dtype
    inputs = list(node.inputs)
    changed = False
    for i, inp in enumerate(inputs):
        if isinstance(inp, Constant) and inp.dtype != dtype:
            data = np.asarray(inp.data).astype(dtype)
            inputs[i] = TensorConstant(inp.type.clone(dtype=dtype), data)
            changed = True
    if not changed:
        return None
    return Apply(op, inputs, [node.outputs[0].clone()]).outputs


RULES = [
    Rule(
        "upcast_constant_inputs",
        ("canonicalize", "specialize"),
        node_rule=upcast_constant_inputs,
        tracks=(Elemwise,),
        math="f(x, c) -> f(x, cast(c, dtype of f(x, c)))",
    ),
    Rule(
        "constant_folding",
        ("canonicalize", "specialize"),
        node_rule=fold_constants,
        tracks=(Op,),
        math="op(constants) -> constant",
    ),
]
