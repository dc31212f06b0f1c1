"""IfElse: a lazy conditional; only the branch taken is computed.

The op declares `lazy_branches`, and the NumPy engine (backends/python/schedule.py) emits
the nodes that only one branch needs inside that branch's `if` block.
May import core.graph, core.op, core.variable.
"""

from __future__ import annotations

from typing import Any

from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.type import TensorType


class IfElse(Op):
    """outputs = then_branch if condition else else_branch (n outputs, evaluated lazily)."""

    __props__ = ("n_outs", "as_view")

    def __init__(self, n_outs: int, as_view: bool = False, name: str | None = None) -> None:
        self.n_outs = int(n_outs)
        self.as_view = bool(as_view)
        self.name = name
        # the compiled call binds the chosen branch's value itself: outputs are views of it
        self.view_map = {i: [1 + i, 1 + self.n_outs + i] for i in range(self.n_outs)}

    def __str__(self) -> str:
        return f"if{{{self.name or ''}{',inplace' if self.as_view else ''}}}"

    def lazy_branches(self, node: Apply) -> tuple[int, list[int], list[int]]:
        """(condition input, then-inputs, else-inputs): what callgen needs to emit `if` blocks."""
        n = self.n_outs
        return 0, list(range(1, 1 + n)), list(range(1 + n, 1 + 2 * n))

    def make_node(self, condition: Any, *branches: Any) -> Apply:
        from labsym.core.variable import as_tensor_variable

        condition = as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {condition.type}")
        if len(branches) != 2 * self.n_outs:
            raise TypeError(
                f"ifelse: expected {2 * self.n_outs} branch values, got {len(branches)}"
            )
        then_vals = [as_tensor_variable(v) for v in branches[: self.n_outs]]
        else_vals = [as_tensor_variable(v) for v in branches[self.n_outs :]]
        outs = []
        for i, (t, e) in enumerate(zip(then_vals, else_vals)):
            t, e = _match_dtypes(t, e, i)
            then_vals[i], else_vals[i] = t, e
            if t.ndim != e.ndim:
                raise TypeError(
                    f"ifelse: output {i} is {t.type} in the then branch but {e.type} "
                    "in the else branch"
                )
            shape = tuple(a if a == b else None for a, b in zip(t.type.shape, e.type.shape))
            outs.append(TensorType(t.dtype, shape)())
        return Apply(self, [condition, *then_vals, *else_vals], outs)

    def perform(self, node, inputs, output_storage):
        chosen = inputs[1 : 1 + self.n_outs] if inputs[0] else inputs[1 + self.n_outs :]
        for store, value in zip(output_storage, chosen):
            store[0] = value

    def numpy_callable(self, node: Apply):
        return None

    def infer_shape(self, fgraph, node, input_shapes):
        from labsym.core.ops.math import switch

        n = self.n_outs
        cond = node.inputs[0]
        out = []
        for t_shape, e_shape in zip(input_shapes[1 : 1 + n], input_shapes[1 + n :]):
            out.append(
                tuple(switch(cond, a, b) if a is not b else a for a, b in zip(t_shape, e_shape))
            )
        return out

    def grad(self, inputs, output_grads):
        from labsym.core.ops.math import zeros_like

        cond = inputs[0]
        then_vals = inputs[1 : 1 + self.n_outs]
        else_vals = inputs[1 + self.n_outs :]
        grads_then, grads_else = [], []
        for g, t, e in zip(output_grads, then_vals, else_vals):
            grads_then.append(ifelse(cond, g.astype(t.dtype), zeros_like(t)))
            grads_else.append(ifelse(cond, zeros_like(e), g.astype(e.dtype)))
        return [None, *grads_then, *grads_else]

    def R_op(self, inputs, eval_points):
        cond = inputs[0]
        n = self.n_outs
        if any(v is None for v in eval_points[1:]):
            from labsym.core.ops.math import zeros_like

            eval_points = [
                v if v is not None or i == 0 else zeros_like(inputs[i])
                for i, v in enumerate(eval_points)
            ]
        return self.make_node(cond, *eval_points[1 : 1 + n], *eval_points[1 + n :]).outputs


def _match_dtypes(t: Any, e: Any, i: int) -> tuple[Any, Any]:
    """Both branch values in one dtype: weak Python scalars adapt, tensors must already match."""
    from labsym.core.variable import constant

    if t.dtype == e.dtype:
        return t, e
    if getattr(e, "weak", False):
        return t, constant(e.data.item(), dtype=t.dtype)
    if getattr(t, "weak", False):
        return constant(t.data.item(), dtype=e.dtype), e
    raise TypeError(
        f"ifelse: output {i} has dtype {t.dtype} in the then branch but {e.dtype} in the else "
        "branch; cast one of them"
    )


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """Lazy `then_branch if condition else else_branch`: the branch not taken is not computed.

    Branches may be single variables or lists of variables of matching types.

    Example
    -------
    >>> z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    """
    single = not isinstance(then_branch, (list, tuple))
    then_list = [then_branch] if single else list(then_branch)
    else_list = [else_branch] if single else list(else_branch)
    if len(then_list) != len(else_list):
        raise ValueError(f"ifelse: {len(then_list)} then values but {len(else_list)} else values")
    outs = IfElse(len(then_list), name=name)(condition, *then_list, *else_list)
    if not isinstance(outs, list):
        outs = [outs]
    return outs[0] if single else outs
