"""Symbolic differentiation: `grad` (each op's L_op in reverse), `Rop`/`Lop`, jacobian, hessian.

The result is an ordinary graph, so gradients can be printed, rewritten, compiled or
differentiated again. May import core.graph, core.variable, core.ops and (jacobian) core.scan.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from labsym.core import dtypes
from labsym.core.graph import Variable, graph_inputs, io_toposort
from labsym.core.scalar import ZERO
from labsym.core.type import TensorType


class DisconnectedInputError(ValueError):
    """A `wrt` variable does not influence the cost (or only through non-differentiable ops)."""


class GradientError(TypeError):
    """A gradient was asked of something that has none (non-scalar cost, op without grad)."""


class NullTypeGradError(TypeError):
    """An op in the path declared its gradient undefined for an input."""


def _as_list(wrt: Any) -> list:
    return list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]


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
    variables (cost may then be None); `consider_constant` stops back-propagation. A gradient
    an op declares undefined (`grad_undefined`) raises NullTypeGradError, or with
    `null_gradients='return_none'` makes that wrt's gradient None.

    Example: `gx = grad((x ** 2).sum(), x)` builds `2 * x` as a graph.
    """
    _check_choice("disconnected_inputs", disconnected_inputs, ("ignore", "warn", "raise"))
    _check_choice("return_disconnected", return_disconnected, ("zero", "None", "Disconnected"))
    _check_choice("null_gradients", null_gradients, ("raise", "return_none"))
    wrt_list = _as_list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {w!r}")
    cost, contributions, roots = _seed(cost, known_grads)
    blockers = set(consider_constant or ())
    topo, connected = _connected_nodes(roots, wrt_list, blockers)
    for node in reversed(topo):
        if not any(o in contributions for o in node.outputs):
            continue
        live = [i in connected and i not in blockers for i in node.inputs]
        if not any(live):
            continue
        for inp, g in zip(node.inputs, _backpropagate(node, contributions, live), strict=True):
            if g is not None and inp in connected and inp not in blockers:
                contributions.setdefault(inp, []).append(g)
    results = [
        _final_grad(
            w,
            contributions.get(w),
            cost,
            add_names,
            disconnected_inputs,
            return_disconnected,
            null_gradients,
        )
        for w in wrt_list
    ]
    return _like(results, wrt)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {'/'.join(allowed)}, got {value!r}")


def _like(results: list, structure: Any) -> Any:
    """`results` shaped as `structure` was given: list, tuple or a single variable."""
    if isinstance(structure, tuple):
        return tuple(results)
    if isinstance(structure, list):
        return results
    return results[0]


def _seed(cost: Any, known_grads: dict | None) -> tuple[Any, dict, list]:
    """(cost, gradient contributions of the roots, roots): d cost/d cost = 1 and known_grads."""
    from labsym.core.ops import math
    from labsym.core.variable import as_tensor_variable, constant

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
        contributions.setdefault(var, []).append(
            g if isinstance(g, NullGrad) else as_tensor_variable(g)
        )
        roots.append(var)
    if not roots:
        raise GradientError("grad: give a cost or known_grads")
    return cost, contributions, roots


def _sum_contributions(parts: list) -> Any:
    """The total gradient; undefined (NullGrad) if any part is."""
    for part in parts:
        if isinstance(part, NullGrad):
            return part
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _backpropagate(node: Any, contributions: dict, live: list[bool]) -> list:
    """Gradients of node's inputs from its outputs' totals; undefined ones stay NullGrad.

    As in Theano, an input that reaches an output whose gradient is undefined gets an undefined
    gradient, and op.grad is not called when every live input is in that case.
    """
    from labsym.core.ops import math

    totals = [
        _sum_contributions(contributions[o]) if o in contributions else None for o in node.outputs
    ]
    pattern = node.op.connection_pattern(node)
    nulls = [
        [t for j, t in enumerate(totals) if pattern[i][j] and isinstance(t, NullGrad)]
        for i in range(len(node.inputs))
    ]
    only_null = all(
        not any(
            pattern[i][j] and t is not None and not isinstance(t, NullGrad)
            for j, t in enumerate(totals)
        )
        for i in range(len(node.inputs))
        if live[i]
    )
    if only_null:
        return [found[0] if found else None for found in nulls]
    output_grads = [
        math.zeros_like(o) if t is None or isinstance(t, NullGrad) else t
        for o, t in zip(node.outputs, totals, strict=True)
    ]
    input_grads = _node_input_grads(node, output_grads)
    return [
        found[0] if found and g is not None else g
        for g, found in zip(input_grads, nulls, strict=True)
    ]


def _node_input_grads(node: Any, output_grads: list) -> list:
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
    return [None if g is ZERO else g for g in input_grads]


def _final_grad(
    w, parts, cost, add_names, disconnected_inputs, return_disconnected, null_gradients
):
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
    if isinstance(g, NullGrad):
        if null_gradients == "raise":
            raise NullTypeGradError(f"grad: the gradient with respect to {w} is undefined: {g.why}")
        return None
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


def grad_not_implemented(op: Any, index: int, inp: Any, why: str = "") -> NullGrad:
    """Theano's marker for a gradient nobody wrote yet; behaves like grad_undefined."""
    return NullGrad(f"the gradient of {op} for input {index} is not implemented. {why}".strip())


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
    if any(t == 1 and o != 1 for t, o in zip(total.type.shape, out.type.shape, strict=True)):
        total = math.second(out, total)  # a direction along a broadcast input spreads
    return [math.cast(total, out.dtype) if total.dtype != out.dtype else total]


def Rop(
    f: Any,
    wrt: Any,
    eval_points: Any,
    disconnected_outputs: str = "raise",
    return_disconnected: str = "zero",
):
    """Forward-mode product J(f, wrt) @ eval_points, built from each op's R_op.

    One pass in graph order carries a tangent per variable, so the cost is one forward
    evaluation whatever the number of outputs. As in Theano, an input without an eval point
    contributes a `zeros_like` term, so the result still references every input of `f`'s
    graph (`Rop(dot(x, W), W, V)` is `dot(zeros_like(x), W) + dot(x, V)`). Returns the
    structure of `f`.

    Parameters
    ----------
    f : output variable or list of them.
    wrt, eval_points : a variable and its direction, or two lists of equal length.
    disconnected_outputs : 'raise' (DisconnectedInputError), 'warn' or 'ignore' when an
        output of `f` gets no product: it is an input other than `wrt`, or the last ops on its
        path have none (a random draw, `undefined_grad`). Its product is then zeros ('zero')
        or None. An output computed from other inputs or constants gets zeros, as in Theano.

    Examples
    --------
    >>> x, v = dvector('x'), dvector('v')
    >>> function([x, v], Rop(x ** 2, x, v))([1.0, 2.0], [1.0, 1.0])
    array([2., 4.])
    """
    _check_choice("disconnected_outputs", disconnected_outputs, ("ignore", "warn", "raise"))
    _check_choice("return_disconnected", return_disconnected, ("zero", "None", "none"))
    f_list = _as_list(f)
    wrt_list = _as_list(wrt)
    eval_list = _as_list(eval_points)
    if len(wrt_list) != len(eval_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt variables but {len(eval_list)} eval points")
    tangents: dict[Variable, Any] = {
        w: _fit_point("Rop", w, v) for w, v in zip(wrt_list, eval_list, strict=True)
    }
    for node in io_toposort(wrt_list + graph_inputs(f_list, wrt_list), f_list):
        points = [tangents.get(i, _zero_if_leaf(i)) for i in node.inputs]
        pattern = node.op.connection_pattern(node)
        reaching = [p for i, p in enumerate(points) if p is not None and any(pattern[i])]
        if not any(p is not ZERO for p in reaching):
            # no direction reaches this node. Theano's zeros_like terms for other inputs make
            # its float outputs zero products (made into graphs only where read); with no
            # such term either, its outputs have none (the R_op would return None).
            if reaching:
                tangents.update((o, ZERO) for o in node.outputs if isinstance(o.type, TensorType))
            continue
        # R_op takes zeros for float inputs; integer inputs have no direction (None)
        points = [
            _zeros_for(i, p) if p is not ZERO or _differentiable(i) else None
            for i, p in zip(node.inputs, points, strict=True)
        ]
        try:
            outs = node.op.R_op(node.inputs, points)
        except NotImplementedError as exc:
            raise GradientError(f"Rop: {node.op} has no R_op ({exc})") from exc
        if len(outs) != len(node.outputs):
            raise GradientError(
                f"Rop: {node.op}.R_op returned {len(outs)} products for {len(node.outputs)} outputs"
            )
        for o, t in zip(node.outputs, outs, strict=True):
            if t is not None:
                tangents[o] = _fit_point(f"{node.op}.R_op", o, t)
    results = []
    for o in f_list:
        point = _zeros_for(o, tangents.get(o))
        if point is None:
            point = _disconnected_output(o, disconnected_outputs, return_disconnected)
        results.append(point)
    return _like(results, f)


def _zero_if_leaf(var: Variable) -> Any:
    """Theano's direction for a graph input that is not in wrt: zeros (None for rng states)."""
    return ZERO if var.owner is None and isinstance(var.type, TensorType) else None


def _differentiable(var: Variable) -> bool:
    return dtypes.is_float(var.dtype) or var.dtype in dtypes.COMPLEX_DTYPES


def _zeros_for(var: Variable, point: Any) -> Any:
    """A tangent as a graph: the ZERO marker becomes zeros_like(var)."""
    from labsym.core.ops import math

    return math.zeros_like(var) if point is ZERO else point


def _fit_point(who: str, var: Variable, point: Any) -> Variable:
    """`point` as a direction for `var`: same ndim, cast to var's dtype, var's static shape."""
    from labsym.core.ops import math
    from labsym.core.ops.shape import specify_shape
    from labsym.core.variable import as_tensor_variable

    point = as_tensor_variable(point)
    if point.ndim != var.ndim:
        raise ValueError(
            f"{who}: the direction {point} ({point.type}) for {var} must have {var.ndim} "
            f"dimensions like {var.type}"
        )
    if point.dtype != var.dtype and dtypes.is_float(var.dtype):
        point = math.cast(point, var.dtype)
    for axis, (p, n) in enumerate(zip(point.type.shape, var.type.shape, strict=True)):
        if p is not None and n is not None and p != n:
            raise ValueError(
                f"{who}: the direction {point} has length {p} on axis {axis}, but {var} has "
                f"static shape {var.type.shape}"
            )
    if any(
        p is None and n is not None for p, n in zip(point.type.shape, var.type.shape, strict=True)
    ):
        point = specify_shape(point, var.type.shape)
    return point


def _disconnected_output(out: Variable, disconnected_outputs: str, return_disconnected: str):
    from labsym.core.ops import math

    if disconnected_outputs != "ignore":
        msg = (
            f"Rop: the output {out} does not depend on any of the wrt variables (or only "
            "through non-differentiable operations); pass disconnected_outputs='ignore' to get "
            "zeros"
        )
        if disconnected_outputs == "raise":
            raise DisconnectedInputError(msg)
        warnings.warn(msg, stacklevel=3)
    return math.zeros_like(out) if return_disconnected == "zero" else None


def Lop(
    f: Any,
    wrt: Any,
    eval_points: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """Reverse-mode product eval_points @ J(f, wrt), via grad with known output gradients.

    The cost is one backward pass whatever the number of wrt variables. Returns the
    structure of `wrt`.

    Examples
    --------
    >>> x, u = dvector('x'), dvector('u')
    >>> function([x, u], Lop(x ** 2, x, u))([1.0, 2.0], [1.0, 1.0])
    array([2., 4.])
    """
    f_list = _as_list(f)
    eval_list = _as_list(eval_points)
    if len(f_list) != len(eval_list):
        raise ValueError(f"Lop: {len(f_list)} outputs but {len(eval_list)} eval points")
    known: dict[Variable, Any] = {}
    for out, u in zip(f_list, eval_list, strict=True):
        u = _fit_point("Lop", out, u)
        known[out] = known[out] + u if out in known else u
    return grad(
        None,
        wrt,
        consider_constant=consider_constant,
        known_grads=known,
        disconnected_inputs=disconnected_inputs,
    )


def jacobian(
    expression: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """Jacobian of a vector `expression`: J[i] = grad(expression[i], wrt), for each wrt.

    As in Theano the rows come from a scan over the expression's entries; each step runs only
    the backward pass (a vector-Jacobian product with a basis vector), the forward values
    being computed once outside the loop. A scalar expression gives its gradient.

    Examples
    --------
    >>> x = dvector('x')
    >>> function([x], jacobian(x ** 2, x))([1.0, 2.0])
    array([[2., 0.],
           [0., 4.]])
    """
    from labsym.core.variable import as_tensor_variable

    expression = as_tensor_variable(expression)
    if expression.ndim > 1:
        raise ValueError(
            f"jacobian: the expression must be a scalar or a vector, got {expression.type}; "
            "flatten it first"
        )
    wrt_list = _as_list(wrt)
    if expression.ndim == 0:
        g = grad(expression, wrt_list, consider_constant, disconnected_inputs=disconnected_inputs)
        return _like(g, wrt)
    dtype = expression.dtype if dtypes.is_float(expression.dtype) else "float64"
    direction = expression.type.clone(dtype=dtype)("u")
    rows = Lop(expression, wrt_list, direction, consider_constant, disconnected_inputs)
    return _like(_rows_by_scan(expression, direction, rows), wrt)


def hessian(
    cost: Any,
    wrt: Any,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """Hessian of a scalar `cost` with respect to each vector in `wrt` (Theano's restriction).

    It is the jacobian of the gradient, so it costs one backward pass per entry of wrt.

    Examples
    --------
    >>> x = dvector('x')
    >>> function([x], hessian((x ** 3).sum(), x))([1.0, 2.0])
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    from labsym.core.variable import as_tensor_variable

    cost = as_tensor_variable(cost)
    if cost.ndim != 0:
        raise ValueError(f"hessian: the cost must be a scalar, got {cost} of type {cost.type}")
    wrt_list = _as_list(wrt)
    results = []
    for w in wrt_list:
        if not isinstance(w, Variable) or w.ndim != 1:
            raise ValueError(f"hessian: each wrt must be a vector, got {w!r}")
        g = grad(cost, w, consider_constant, disconnected_inputs=disconnected_inputs)
        # w may be disconnected from the gradient even when it is connected to the cost
        results.append(jacobian(g, w, consider_constant, disconnected_inputs="ignore"))
    return _like(results, wrt)


def _rows_by_scan(expression: Variable, direction: Variable, rows: list) -> list:
    """Stack rows(direction = e_i) over i with one scan; rows not using direction are zeros."""
    from labsym.core.graph import clone_graph
    from labsym.core.ops import basic
    from labsym.core.ops.shape import shape_i, specify_shape
    from labsym.core.scan import scan

    n = expression.type.shape[0]
    n = shape_i(expression, 0) if n is None else n
    looped = [i for i, r in enumerate(rows) if direction in graph_inputs([r])]
    out = [basic.zeros((n, *_lengths(r)), dtype=r.dtype) for r in rows]
    if not looped:
        return out
    held = _loop_invariants([rows[i] for i in looped], direction)

    def step(basis_row, *inner):
        memo = dict(zip(held, inner, strict=True))
        memo[direction] = specify_shape(basis_row, direction.type.shape)
        _, cloned, _ = clone_graph([], [rows[i] for i in looped], memo=memo, copy_inputs=False)
        return cloned

    stacked, updates = scan(
        step,
        sequences=[basic.eye(n, dtype=direction.dtype)],
        non_sequences=held,
        return_list=True,
    )
    if updates:
        raise GradientError(f"jacobian: the loop over rows updates {list(updates)}")
    for i, s in zip(looped, stacked, strict=True):
        out[i] = s
    return out


def _lengths(var: Variable) -> list:
    from labsym.core.ops.shape import shape_i

    return [n if n is not None else shape_i(var, a) for a, n in enumerate(var.type.shape)]


def _loop_invariants(outputs: list, source: Variable) -> list[Variable]:
    """Non-constant variables that feed nodes depending on `source` without depending on it.

    They are what a loop over values of `source` reads from outside: computed once.
    """
    from labsym.core.graph import Constant

    depends = {source}
    held: dict[Variable, None] = {}
    for node in io_toposort(graph_inputs(outputs), outputs):
        if any(i in depends for i in node.inputs):
            depends.update(node.outputs)
            for i in node.inputs:
                if i not in depends and not isinstance(i, Constant):
                    held[i] = None
    return list(held)
