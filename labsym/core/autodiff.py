"""Symbolic differentiation: `grad` by reverse traversal of each op's L_op, and `Rop`/`Lop`.

The result is an ordinary graph, so gradients can be printed, rewritten, compiled or
differentiated again. May import core.graph, core.variable, core.ops.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from labsym.core import dtypes
from labsym.core.graph import Variable, graph_inputs, io_toposort
from labsym.core.scalar import ZERO


class DisconnectedInputError(ValueError):
    """A `wrt` variable does not influence the cost (or only through non-differentiable ops)."""


class GradientError(TypeError):
    """A gradient was asked of something that has none (non-scalar cost, op without grad)."""


class NullTypeGradError(TypeError):
    """An op in the path declared its gradient undefined for an input."""


def _as_list(wrt: Any) -> tuple[list, bool]:
    if isinstance(wrt, (list, tuple)):
        return list(wrt), True
    return [wrt], False


def _connected_nodes(roots: list[Variable], wrt: list[Variable], blockers: set[Variable]):
    """Nodes between `wrt` and `roots`, in order, plus the variables that depend on `wrt`."""
    sources = graph_inputs(roots, blockers) + [w for w in wrt]
    topo = io_toposort(list(blockers) + sources, roots)
    connected = set(wrt)
    for node in topo:
        for i, inp in enumerate(node.inputs):
            if inp in connected and inp not in blockers:
                pattern = node.op.connection_pattern(node)
                for j, out in enumerate(node.outputs):
                    if pattern[i][j]:
                        connected.add(out)
    return topo, connected


def _sum_contributions(parts: list) -> Any:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def grad(
    cost: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    add_names: bool = True,
    known_grads: dict | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
):
    """Symbolic gradient of a scalar `cost` with respect to `wrt` (a variable or a list).

    Returns the same structure as `wrt`. `known_grads` seeds gradients of intermediate
    variables (cost may then be None); `consider_constant` stops back-propagation.

    Example: `gx = grad((x ** 2).sum(), x)` builds `2 * x` as a graph.
    """
    from labsym.core.ops import math
    from labsym.core.variable import as_tensor_variable, constant

    if disconnected_inputs not in ("ignore", "warn", "raise"):
        raise ValueError(f"disconnected_inputs must be ignore/warn/raise, got {disconnected_inputs!r}")
    if return_disconnected not in ("zero", "None", "Disconnected"):
        raise ValueError(f"return_disconnected must be zero/None/Disconnected, got {return_disconnected!r}")
    wrt_list, was_list = _as_list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {w!r}")
    contributions: dict[Variable, list] = {}
    roots: list[Variable] = []
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise GradientError(
                f"grad: the cost must be a scalar (0-d), but {cost} has type {cost.type}; "
                "reduce it first, e.g. cost.sum() or cost.mean()"
            )
        seed_dtype = cost.dtype if dtypes.is_float(cost.dtype) else "float64"
        # fill(cost, 1), as Theano: the gradient graph keeps its inputs (rewrites fold it to 1)
        contributions[cost] = [math.second(cost, constant(1.0, dtype=seed_dtype))]
        roots.append(cost)
    for var, g in (known_grads or {}).items():
        contributions.setdefault(var, []).append(as_tensor_variable(g))
        roots.append(var)
    if not roots:
        raise GradientError("grad: give a cost or known_grads")
    blockers = set(consider_constant or ())
    topo, connected = _connected_nodes(roots, wrt_list, blockers)
    for node in reversed(topo):
        if not any(o in contributions for o in node.outputs):
            continue
        if not any(i in connected and i not in blockers for i in node.inputs):
            continue
        output_grads = [
            _sum_contributions(contributions[o]) if o in contributions else math.zeros_like(o)
            for o in node.outputs
        ]
        input_grads = _node_input_grads(node, output_grads, connected, blockers, null_gradients)
        for inp, g in zip(node.inputs, input_grads):
            if g is not None and inp in connected and inp not in blockers:
                contributions.setdefault(inp, []).append(g)
    results = [
        _final_grad(w, contributions.get(w), cost, add_names, disconnected_inputs, return_disconnected)
        for w in wrt_list
    ]
    if was_list:
        return type(wrt)(results) if isinstance(wrt, tuple) else results
    return results[0]


def _node_input_grads(node, output_grads, connected, blockers, null_gradients) -> list:
    try:
        input_grads = node.op.L_op(node.inputs, node.outputs, output_grads)
    except NotImplementedError as exc:
        trace = node.outputs[0].trace
        where = f" (created at {trace})" if trace else ""
        raise GradientError(f"{node.op} has no gradient: {exc}; node {node}{where}") from exc
    if len(input_grads) != len(node.inputs):
        raise GradientError(
            f"{node.op}.grad returned {len(input_grads)} gradients for {len(node.inputs)} inputs"
        )
    out = []
    for inp, g in zip(node.inputs, input_grads):
        if isinstance(g, NullGrad):
            if inp in connected and inp not in blockers:
                if null_gradients == "raise":
                    raise NullTypeGradError(f"gradient of {node.op} wrt input {inp} is undefined: {g.why}")
                g = None
            else:
                g = None
        elif g is ZERO:
            g = None
        out.append(g)
    return out


def _final_grad(w, parts, cost, add_names, disconnected_inputs, return_disconnected):
    from labsym.core.ops import math

    if parts is None:
        if disconnected_inputs != "ignore":
            where = f" (created at {w.trace})" if w.trace else ""
            msg = (
                "grad was asked for the gradient with respect to a variable that is not part of "
                f"the computational graph of the cost, or is used only by non-differentiable "
                f"operations: {w}{where}"
            )
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(msg)
            warnings.warn(msg, stacklevel=3)
        if return_disconnected == "None" or return_disconnected == "Disconnected":
            return None
        return math.zeros_like(w, "float64" if dtypes.is_integer(w.dtype) else None)
    g = _sum_contributions(parts)
    if dtypes.is_float(w.dtype) and g.dtype != w.dtype:
        g = math.cast(g, w.dtype)
    if add_names and cost is not None and cost.name is not None and w.name is not None:
        g.name = f"(d{cost.name}/d{w.name})"
    return g


class NullGrad:
    """Returned by an op's grad for an input whose gradient is mathematically undefined."""

    def __init__(self, why: str) -> None:
        self.why = why


def grad_undefined(op: Any, index: int, inp: Any, why: str = "") -> NullGrad:
    """Theano's marker for an undefined gradient (raises only if that input is differentiated)."""
    return NullGrad(f"{op} input {index}: {why or 'not differentiable'}")


def elemwise_rop(op: Any, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
    """Jacobian-vector product of an elementwise op: sum_i d(out)/d(x_i) * v_i."""
    from labsym.core.ops import math

    if all(v is None for v in eval_points):
        return [None]
    out = op(*inputs)
    total = None
    for i, v in enumerate(eval_points):
        if v is None:
            continue
        term = op.scalar_op.grad(math, list(inputs), out, v)[i]
        if term is None or term is ZERO:
            continue
        total = term if total is None else total + term
    if total is None:
        return [math.zeros_like(out)]
    return [math.cast(total, out.dtype) if total.dtype != out.dtype else total]


def Rop(f: Any, wrt: Any, eval_points: Any):
    """Forward-mode product J(f, wrt) @ eval_points, built from each op's R_op."""
    f_list, f_was_list = _as_list(f)
    wrt_list, _ = _as_list(wrt)
    eval_list, _ = _as_list(eval_points)
    if len(wrt_list) != len(eval_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt variables but {len(eval_list)} eval points")
    tangents: dict[Variable, Any] = {}
    for w, v in zip(wrt_list, eval_list):
        if v.type.ndim != w.type.ndim:
            raise ValueError(f"Rop: eval point {v} has type {v.type}, expected ndim of {w.type}")
        tangents[w] = v
    for node in io_toposort(wrt_list + graph_inputs(f_list, wrt_list), f_list):
        points = [tangents.get(i) for i in node.inputs]
        if all(p is None for p in points):
            continue
        try:
            outs = node.op.R_op(node.inputs, points)
        except NotImplementedError as exc:
            raise GradientError(f"Rop: {node.op} has no R_op ({exc})") from exc
        for o, t in zip(node.outputs, outs):
            if t is not None:
                tangents[o] = t
    from labsym.core.ops import math

    results = [tangents.get(o) if o in tangents else math.zeros_like(o) for o in f_list]
    return results if f_was_list else results[0]


def Lop(f: Any, wrt: Any, eval_points: Any, consider_constant=None, disconnected_inputs="raise"):
    """Reverse-mode product eval_points @ J(f, wrt), via grad with known output gradients."""
    f_list, _ = _as_list(f)
    eval_list, _ = _as_list(eval_points)
    known = dict(zip(f_list, eval_list))
    return grad(
        None,
        wrt,
        consider_constant=consider_constant,
        known_grads=known,
        disconnected_inputs=disconnected_inputs,
    )
