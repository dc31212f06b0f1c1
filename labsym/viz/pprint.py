"""pp (Theano's infix pretty printer) and min_informative_str (a lettered outline of a graph).

May import labsym.core (graph, ops) and labsym.viz.debugprint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.graph import Constant, Variable
from labsym.core.ops.blas import Dot
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.ops.shape import MakeVector
from labsym.core.ops.subtensor import Subtensor
from labsym.viz.debugprint import char_from_number

__all__ = ["OPERATORS", "min_informative_str", "pp"]

# Theano's tensor pprint: these elementwise ops print as parenthesized operators, "(a + b)" and
# "(-a)"; every other one as a call of its function name, "gt(a, b)", "exp(x)"
OPERATORS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "true_div": "/",
    "int_div": "//",
    "pow": "**",
    "neg": "-",
}
# scalar-table name -> Theano's function name where they differ
_FUNCTION_NAMES = {"second": "fill", "abs": "abs_"}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon"}  # leaf names Theano printed as \alpha


def pp(var: Variable) -> str:
    """A one-line, math-like string of the expression computing `var` (Theano's `pp`).

    Shorter than debugprint when the question is "what formula is this": every operator is
    parenthesized so the text is unambiguous, other ops print as calls (`gt(a, b)`), a matrix
    product as `(x \\dot w)`, and broadcasting DimShuffles are not shown. As in Theano, named
    intermediate variables are expanded too; only inputs and constants are leaves.

    Examples
    --------
    >>> x, y = dscalars('x', 'y')
    >>> pp(2. * (x + y))
    '(TensorConstant{2.0} * (x + y))'
    >>> pp(exp(x) > y)
    'gt(exp(x), y)'
    """
    if not isinstance(var, Variable):
        raise TypeError(f"pp prints a symbolic Variable, got {type(var).__name__} {var!r:.60}")
    texts: dict[Variable, str] = {}
    stack: list[tuple[Variable, bool]] = [(var, False)]
    while stack:  # post-order without recursion: deep graphs must not hit the recursion limit
        current, inputs_done = stack.pop()
        if current in texts:
            continue
        node = current.owner
        if node is None:
            texts[current] = _leaf(current)
        elif inputs_done:
            texts[current] = _render(current, [texts[i] for i in node.inputs])
        else:
            stack.append((current, True))
            stack.extend((i, False) for i in reversed(node.inputs) if i not in texts)
    return texts[var]


def _leaf(var: Variable) -> str:
    return f"\\{var.name}" if var.name in _GREEK else str(var)


def _render(var: Variable, args: list[str]) -> str:
    op = var.owner.op
    if isinstance(op, Elemwise):
        return _render_elemwise(op, args)
    if isinstance(op, DimShuffle):
        return _render_dimshuffle(op, args[0])
    if isinstance(op, Dot):
        return f"({args[0]} \\dot {args[1]})"
    if isinstance(op, MakeVector):
        return f"[{', '.join(args)}]"
    if type(op) is Subtensor:
        return _render_subtensor(op, var.owner.inputs[1:], args)
    return f"{op}({', '.join(args)})"


def _render_subtensor(op: Subtensor, indices: list, args: list[str]) -> str:
    """`x[Constant{1}]`, `x[i, 1:]`: Theano's SubtensorPrinter, a constant index as Constant{1}.

    (Theano printed a slice's bounds as their type, `x[int64:]`; here they show their values.)
    """
    texts = iter(
        f"Constant{{{var.data}}}" if isinstance(var, Constant) and var.ndim == 0 else text
        for var, text in zip(indices, args[1:], strict=True)
    )
    entries = []
    for entry in op.idx_list:
        if isinstance(entry, slice):
            start = "" if entry.start is None else next(texts)
            stop = "" if entry.stop is None else next(texts)
            step = "" if entry.step is None else ":" + next(texts)
            entries.append(f"{'' if start == 'Constant{0}' else start}:{stop}{step}")
        elif isinstance(entry, str):
            entries.append(next(texts))
        else:
            entries.append(str(entry))
    return f"{args[0]}[{', '.join(entries)}]"


def _render_elemwise(op: Elemwise, args: list[str]) -> str:
    spec = op.scalar_op
    name = spec.name
    if op.inplace_pattern not in ((), ((0, 0),)):
        return f"{op}({', '.join(args)})"  # Theano had no printer for other inplace patterns
    suffix = "=" if op.inplace_pattern else ""  # x += y, exp=(x): Theano's inplace printers
    if name in OPERATORS:
        symbol = OPERATORS[name] + suffix
        if len(args) == 1:
            return f"({symbol}{args[0]})"
        return "(" + f" {symbol} ".join(args) + ")"
    if name == "abs" and not suffix:
        return f"|{args[0]}|"
    if spec.output == "fixed":  # a cast prints as its dtype: float32(x)
        return f"{spec.params[0]}{suffix}({', '.join(args)})"
    return f"{_FUNCTION_NAMES.get(name, name)}{suffix}({', '.join(args)})"


def _render_dimshuffle(op: DimShuffle, arg: str) -> str:
    order = list(op.new_order)
    while order and order[0] == "x":  # broadcast padding on the left is not shown
        order.pop(0)
    if order == list(range(op.input_ndim)):
        return arg
    if order == list(reversed(range(op.input_ndim))):
        return f"{arg}.T"
    return f"DimShuffle{{{', '.join(str(o) for o in order)}}}({arg})"


def min_informative_str(obj: Any, indent_level: int = 0) -> str:
    """An outline of `obj`'s graph that stops at named variables and constants (Theano's).

    Each variable gets a letter; a variable met again prints as `<letter>`. Stopping at names
    keeps the outline short in graphs assembled from several people's sub-graphs.

    Examples
    --------
    >>> x, y = scalars(); z = x + y; z.name = 'z'
    >>> print(min_informative_str(2. * z))
    A. Elemwise{mul,no_inplace}
     B. TensorConstant{2.0}
     C. z
    """
    labels: dict[int, str] = {}
    lines: list[str] = []
    stack: list[tuple[Any, int]] = [(obj, indent_level)]
    while stack:
        item, level = stack.pop()
        indent = " " * level
        if id(item) in labels:
            lines.append(f"{indent}<{labels[id(item)]}>")
            continue
        label = labels[id(item)] = char_from_number(len(labels))
        owner = getattr(item, "owner", None)
        if isinstance(item, np.ndarray):
            text = "<ndarray>"
        elif getattr(item, "name", None) is not None:
            text = item.name
        elif owner is not None:
            text = str(owner.op)
            stack.extend((inp, level + 1) for inp in reversed(owner.inputs))
        else:
            text = str(item)
        lines.append(f"{indent}{label}. {text}")
    return "\n".join(lines)
