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


def graphs_equal(a: Variable, b: Variable, memo: dict | None = None) -> bool:
    """Structural equality: same ops on equal inputs; leaves identical or equal constants."""
    memo = {} if memo is None else memo
    key = (id(a), id(b))
    if key in memo:
        return memo[key]
    if isinstance(a, Constant) and isinstance(b, Constant):
        result = bool(
            np.shape(a.data) == np.shape(b.data)
            and np.array_equal(a.data, b.data)
            and a.type.dtype == b.type.dtype
        )
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


def optimized_output(
    inputs: Sequence[Variable], output: Variable, mode: Any = "FAST_RUN"
) -> tuple[Any, Variable]:
    """Compile and return (function, the optimized output expressed over the original inputs)."""
    f = function(list(inputs), output, mode=mode)
    fg = f.maker.fgraph
    out = fg.outputs[0]
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
