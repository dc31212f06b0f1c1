"""Helpers for rewrite tests: every rule is checked for graph structure AND numbers.

`check_rewrite(inputs, output, expected, values)` compiles with FAST_RUN and with no rewrites,
asserts the optimized graph equals `expected` (another symbolic expression of the same
inputs, or a predicate on the FunctionGraph) and that both functions agree on `values`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.compile import Mode, function
from labsym.core.graph import Constant, Variable
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.elemwise import DimShuffle


def graphs_equal(a: Variable, b: Variable, memo: dict | None = None) -> bool:
    """Structural equality: same ops on equal inputs; leaves identical or equal constants."""
    memo = {} if memo is None else memo
    key = (id(a), id(b))
    if key in memo:
        return memo[key]
    data_a, data_b = _constant_data(a), _constant_data(b)
    if data_a is not None and data_b is not None:
        # values, not dtypes: a Python scalar is a constant of the smallest dtype holding it
        # (Theano's autocast), which rewrites may fold into the dtype of its neighbours
        result = bool(np.shape(data_a) == np.shape(data_b) and np.array_equal(data_a, data_b))
    elif a.owner is None or b.owner is None:
        result = a is b or (
            a.owner is None
            and b.owner is None
            and getattr(a, "_fgraph_origin", a) is getattr(b, "_fgraph_origin", b)
        )
    else:
        result = (
            a.owner.op == b.owner.op
            and a.index == b.index
            and len(a.owner.inputs) == len(b.owner.inputs)
            and all(graphs_equal(x, y, memo) for x, y in zip(a.owner.inputs, b.owner.inputs))
        )
    memo[key] = result
    return result


def _constant_data(var: Variable) -> Any:
    """The value of a constant, or of a constant padded by DimShuffles (`x * 2.0`'s 2.0)."""
    shuffles = []
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        shuffles.append(var.owner)
        var = var.owner.inputs[0]
    if not isinstance(var, Constant):
        return None
    data = var.data
    for node in reversed(shuffles):
        data = node.op.numpy_callable(node)(data)
    return data


def optimized_output(
    inputs: Sequence[Variable], output: Variable, mode: Any = "FAST_RUN"
) -> tuple[Any, Variable]:
    """Compile and return (function, the optimized output expressed over the original inputs)."""
    f = function(list(inputs), output, mode=mode)
    fg = f.maker.fgraph
    out = fg.outputs[0]
    if out.owner is not None and isinstance(out.owner.op, DeepCopyOp):
        out = out.owner.inputs[0]  # the copy Theano's functions return of an input or constant
    # map the fgraph's cloned inputs back to the user's variables so graphs can be compared
    for original, clone in zip(inputs, fg.inputs):
        clone._fgraph_origin = original
    for original in inputs:
        original._fgraph_origin = original
    return f, out


def check_rewrite(
    inputs: Sequence[Variable],
    output: Variable,
    expected: Variable | Callable[[Any], bool],
    values: Sequence[Any],
    mode: Any = "FAST_RUN",
    rtol: float = 1e-7,
    atol: float = 1e-12,
) -> Any:
    """Assert the rewritten graph is `expected` and numbers match the unrewritten graph."""
    f, out = optimized_output(inputs, output, mode)
    if callable(expected) and not isinstance(expected, Variable):
        assert expected(f.maker.fgraph), f"unexpected rewritten graph: {f.maker.fgraph}"
    else:
        assert graphs_equal(out, expected), f"rewritten to {f.maker.fgraph}, expected {expected}"
    reference = function(list(inputs), output, mode=Mode(optimizer=None))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(f(*values), reference(*values), rtol=rtol, atol=atol)
    return f


def ops_in(fgraph: Any) -> list[str]:
    """str() of every op in the rewritten graph, in schedule order."""
    return [str(node.op) for node in fgraph.toposort()]
