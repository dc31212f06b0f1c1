"""Rules and Theano's tuple pattern grammar.

A pattern is a tuple `(op, *sub_patterns)`, a string (a variable, bound consistently), a
number (a constant whose elements all equal it), or `{"pattern": p, "constraint": fn}`.
`op` is an Op instance, an Op class, or a scalar-table name such as "exp" (matching the
non-inplace Elemwise of that record; commutative records match either input order).
May import core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labsym.core.graph import Apply, Constant, Variable
from labsym.core.ops.elemwise import DimShuffle, Elemwise
from labsym.core.scalar import SCALAR_OPS

NodeRuleFn = Callable[[Any, Apply], "list[Variable] | None"]


def constant_value(var: Variable) -> Any:
    """The single value every element of `var` is known to have, or None.

    Sees through DimShuffle and fill/second, so `1` padded to a vector still reads as 1.
    """
    while True:
        if isinstance(var, Constant):
            data = np.asarray(var.data)
            if data.size == 0:
                return None
            first = data.flat[0]
            return first.item() if np.all(data == first) else None
        node = var.owner
        if node is None:
            return None
        if isinstance(node.op, DimShuffle):
            var = node.inputs[0]
        elif isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second":
            var = node.inputs[1]
        else:
            return None


@dataclass
class Rule:
    """A rewrite: declarative (`pattern` -> `replacement`) or imperative (`node_rule`).

    `phases` names the pipeline phases it runs in; `tracks` the ops it can fire on (derived
    from the pattern for declarative rules). `math` states the rewrite for readers and history.
    """

    name: str
    phases: tuple[str, ...]
    pattern: Any = None
    replacement: Any = None
    node_rule: NodeRuleFn | None = None
    tracks: tuple = ()
    math: str = ""
    constraint: Callable[[dict], bool] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.pattern is None) == (self.node_rule is None):
            raise ValueError(f"rule {self.name}: give a pattern+replacement or a node_rule")
        if self.pattern is not None and not self.tracks:
            self.tracks = (self.pattern[0],)

    def apply(self, fgraph: Any, node: Apply) -> list[Variable] | None:
        """New variables for node.outputs, or None when the rule does not fire."""
        if self.node_rule is not None:
            return self.node_rule(fgraph, node)
        bindings = match(self.pattern, node.outputs[0], {})
        if bindings is None or (self.constraint is not None and not self.constraint(bindings)):
            return None
        try:
            return [build(self.replacement, bindings)]
        except TypeError:
            return None  # the replacement is not defined for these types (e.g. -x of a bool)


def op_matches(spec: Any, op: Any) -> bool:
    """Whether `op` is what a pattern's head names."""
    if isinstance(spec, str):
        return isinstance(op, Elemwise) and op.scalar_op.name == spec and not op.inplace_pattern
    if isinstance(spec, type):
        return isinstance(op, spec)
    return op == spec


def match(pattern: Any, var: Variable, bindings: dict) -> dict | None:
    """Bindings of the pattern's variables if `var` matches `pattern`, else None."""
    if isinstance(pattern, str):
        bound = bindings.get(pattern)
        if bound is None:
            return {**bindings, pattern: var}
        if bound is var or (
            isinstance(bound, Constant)
            and isinstance(var, Constant)
            and bound.signature() == var.signature()
        ):
            return bindings
        return None
    if isinstance(pattern, (int, float)) and not isinstance(pattern, bool):
        value = constant_value(var)
        return bindings if value is not None and value == pattern else None
    if isinstance(pattern, dict):
        found = match(pattern["pattern"], var, bindings)
        if found is None or not pattern["constraint"](var):
            return None
        return found
    if isinstance(pattern, tuple):
        return _match_node(pattern, var, bindings)
    raise TypeError(f"bad pattern element {pattern!r}")


def _match_node(pattern: tuple, var: Variable, bindings: dict) -> dict | None:
    node = var.owner
    head, args = pattern[0], pattern[1:]
    if node is None or not op_matches(head, node.op) or len(node.inputs) != len(args):
        return None
    orders = [node.inputs]
    if isinstance(head, str) and SCALAR_OPS[head].commutative and len(args) == 2:
        orders.append(node.inputs[::-1])
    for inputs in orders:
        current: dict | None = bindings
        for sub, inp in zip(args, inputs):
            current = match(sub, inp, current)
            if current is None:
                break
        if current is not None:
            return current
    return None


def build(template: Any, bindings: dict) -> Any:
    """Instantiate a replacement template with the bound variables."""
    if isinstance(template, str):
        return bindings[template]
    if isinstance(template, (int, float)) and not isinstance(template, bool):
        return template  # a Python scalar: autocast as in user code (Theano's rules)
    if isinstance(template, tuple):
        head, args = template[0], [build(a, bindings) for a in template[1:]]
        if isinstance(head, str):
            from labsym.core.ops.math import elemwise_op

            return elemwise_op(head)(*args)
        return head(*args)
    if callable(template):
        return template(bindings)
    raise TypeError(f"bad replacement element {template!r}")


def rule_key(spec: Any) -> Any:
    """The index key a rule is filed under: a scalar name, an Op class, or the op itself."""
    if isinstance(spec, str):
        return ("scalar", spec)
    if isinstance(spec, type):
        return spec
    return ("op", spec)


def node_keys(node: Apply) -> list:
    """Every key a node can be found under (its scalar name, its op class and MRO, the op)."""
    keys: list = []
    op = node.op
    if isinstance(op, Elemwise):
        keys.append(("scalar", op.scalar_op.name))
    keys.extend(type(op).__mro__)
    keys.append(("op", op))
    return keys
