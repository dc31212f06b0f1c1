"""Theano's user rewrite API: local_optimizer, PatternSub, OpSub and register_canonicalize & co.

Tutorial code writes its own rewrites this way; each registration files an optim Rule by name
with optim.user, so re-running a notebook cell replaces the rule. May import core and optim.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op
from labsym.core.ops import math as scalar_functions
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS
from labsym.optim.patterns import Rule, build, match, op_matches
from labsym.optim.rules.canonicalize import PHASE as CANONICAL_PHASES
from labsym.optim.user import register_rule

__all__ = [
    "FromFunctionLocalOptimizer",
    "LocalOptimizer",
    "OpSub",
    "PatternSub",
    "local_optimizer",
    "register_canonicalize",
    "register_specialize",
    "register_stabilize",
]

_N_ARY = ("add", "mul")  # labsym's add(a, b, c) is add(add(a, b), c): patterns nest the same way


def _scalar_function_names() -> dict[Callable, str]:
    """labsym.tensor's elementwise functions (T.exp, T.add, ...) -> their scalar-table names."""
    found: dict[Callable, str] = {scalar_functions.fill: "second"}
    for value in vars(scalar_functions).values():
        name = getattr(value, "__name__", None)
        if (
            callable(value)
            and getattr(value, "__module__", None) == scalar_functions.__name__
            and name in SCALAR_OPS
        ):
            found[value] = name
    return found


_SCALAR_FUNCTIONS = _scalar_function_names()


def op_spec(op: Any) -> Any:
    """What a Theano op object names, as optim.patterns understands it.

    Theano's `T.exp` is an Op; labsym's is a function, so scalar-table functions and plain
    Elemwise instances become scalar names ("exp"), which also match either input order of
    commutative ops. Op classes, other Op instances and scalar names pass through.
    """
    if isinstance(op, str):
        if op not in SCALAR_OPS:
            raise ValueError(
                f"{op!r} is not a scalar operation; known: {', '.join(sorted(SCALAR_OPS))}"
            )
        return op
    if isinstance(op, type) and issubclass(op, Op):
        return op
    if isinstance(op, Elemwise):
        return op if op.inplace_pattern else op.scalar_op.name
    if isinstance(op, Op):
        return op
    if callable(op) and op in _SCALAR_FUNCTIONS:
        return _SCALAR_FUNCTIONS[op]
    raise TypeError(
        f"cannot track or match {op!r}: give an Op instance, an Op class, a scalar name such as "
        "'exp', or an elementwise function of labsym.tensor (T.exp, T.add, ...)"
    )


def _apply_fn(fn: Callable) -> Callable[[Any, Apply], Any]:
    """fn as f(fgraph, node), whether it was written as Theano's fn(node) or fn(fgraph, node)."""
    kinds = [p.kind for p in inspect.signature(fn).parameters.values()]
    positional = [
        k
        for k in kinds
        if k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) == 1 and inspect.Parameter.VAR_POSITIONAL not in kinds:
        return lambda fgraph, node: fn(node)
    return fn


def _as_replacements(name: str, node: Apply, result: Any) -> list | None:
    """A rewrite's answer as one replacement (or None) per output of `node`, or None."""
    if result is None or result is False:
        return None
    if isinstance(result, dict):
        return [result.get(out) for out in node.outputs]
    if isinstance(result, (list, tuple)):
        return list(result)
    raise TypeError(
        f"rewrite {name} returned {type(result).__name__}; return a list with one replacement "
        "per output of the node (or a dict {old_output: new}, or False/None for no change)"
    )


class LocalOptimizer:
    """A rewrite of one node at a time (Theano's LocalOptimizer), registrable in a phase.

    `transform(fgraph, node)` returns replacements for node.outputs or None; `tracks` says
    which ops it can fire on, so the driver only offers it those nodes.
    """

    def __init__(
        self, name: str | None = None, tracks: Sequence[Any] | None = None, math: str = ""
    ) -> None:
        name = name or type(self).__name__  # Theano's subclasses call LocalOptimizer()
        self.name = name
        self.__name__ = name
        self.tracks = (Op,) if tracks is None else tuple(op_spec(t) for t in tracks)
        self.math = math

    def transform(self, fgraph: Any, node: Apply) -> list | None:
        raise NotImplementedError(f"{type(self).__name__} must define transform")

    def to_rule(self, phases: tuple[str, ...], name: str, tags: tuple[str, ...] = ()) -> Rule:
        """The optim Rule running this rewrite in `phases`."""
        apply = _apply_fn(self.transform)  # Theano's subclasses define transform(node)
        return Rule(
            name,
            phases,
            node_rule=lambda fgraph, node: _as_replacements(name, node, apply(fgraph, node)),
            tracks=self.tracks,
            math=self.math,
            extra={"tags": tags, "source": self},
        )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class FromFunctionLocalOptimizer(LocalOptimizer):
    """A LocalOptimizer built by `local_optimizer`; still callable as the function."""

    def __init__(self, fn: Callable, tracks: Sequence[Any] | None) -> None:
        doc = (inspect.getdoc(fn) or "").strip().splitlines()
        super().__init__(getattr(fn, "__name__", "local_optimizer"), tracks, doc[0] if doc else "")
        self.fn = fn
        self._apply = _apply_fn(fn)

    def transform(self, fgraph: Any, node: Apply) -> list | None:
        return _as_replacements(self.name, node, self._apply(fgraph, node))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def local_optimizer(
    tracks: Sequence[Any] | None,
) -> Callable[[Callable], FromFunctionLocalOptimizer]:
    """Decorator turning `fn(node)` or `fn(fgraph, node)` into a rewrite of the ops in `tracks`.

    The function returns a list of replacements for node.outputs, or False/None for no change.
    `tracks=None` offers it every node.

    Examples
    --------
    >>> @register_canonicalize
    ... @local_optimizer([T.log])
    ... def local_log_exp(node):
    ...     (arg,) = node.inputs
    ...     if arg.owner and arg.owner.op == elemwise_op("exp"):
    ...         return [arg.owner.inputs[0]]
    ...     return False
    """
    if tracks is not None and not isinstance(tracks, (list, tuple)):
        raise TypeError(f"local_optimizer: tracks must be a list of ops (or None), got {tracks!r}")

    def decorate(fn: Callable) -> FromFunctionLocalOptimizer:
        return FromFunctionLocalOptimizer(fn, tracks)

    return decorate


def _in_pattern(pattern: Any) -> Any:
    """Theano's input pattern in optim.patterns' grammar (op heads mapped, n-ary ops nested)."""
    if isinstance(pattern, dict):
        if "pattern" not in pattern:
            raise ValueError(f"a dict pattern needs a 'pattern' key, got {pattern!r}")
        return {
            "pattern": _in_pattern(pattern["pattern"]),
            "constraint": pattern.get("constraint", lambda var: True),
        }
    if isinstance(pattern, tuple):
        if not pattern:
            raise ValueError("empty tuple in a pattern")
        head, args = op_spec(pattern[0]), [_in_pattern(a) for a in pattern[1:]]
        if head in _N_ARY and len(args) > 2:
            nested: Any = (head, args[0], args[1])
            for arg in args[2:]:
                nested = (head, nested, arg)
            return nested
        return (head, *args)
    return _leaf(pattern, "input")


def _out_pattern(pattern: Any) -> Any:
    """Theano's output pattern in optim.patterns' grammar."""
    if isinstance(pattern, tuple):
        if not pattern:
            raise ValueError("empty tuple in a pattern")
        head = pattern[0]
        if isinstance(head, type):
            raise TypeError(
                f"output pattern head {head.__name__} is an Op class; "
                "give an Op instance or a function"
            )
        if not (isinstance(head, str) or callable(head)):
            raise TypeError(f"output pattern head {head!r} is not an op")
        return (
            op_spec(head) if isinstance(head, str) else head,
            *[_out_pattern(a) for a in pattern[1:]],
        )
    leaf = _leaf(pattern, "output")
    if isinstance(leaf, Constant):
        return lambda bindings: leaf
    return leaf


def _leaf(pattern: Any, side: str) -> Any:
    if isinstance(pattern, str) or (
        isinstance(pattern, (int, float)) and not isinstance(pattern, bool)
    ):
        return pattern
    if isinstance(pattern, np.number):
        return pattern.item()
    if isinstance(pattern, Constant):
        if side == "output":
            return pattern
        data = np.asarray(pattern.data)
        if data.size and np.all(data == data.flat[0]):
            return data.flat[0].item()
    raise TypeError(
        f"bad {side} pattern element {pattern!r}: expected a tuple, a name, a number or a constant"
    )


def _variable_names(pattern: Any) -> set[str]:
    if isinstance(pattern, str):
        return {pattern}
    if isinstance(pattern, dict):
        return _variable_names(pattern["pattern"])
    if isinstance(pattern, tuple):
        return set().union(*[_variable_names(p) for p in pattern[1:]])
    return set()


def _op_name(op: Any) -> str:
    if isinstance(op, Elemwise) and not op.inplace_pattern:
        return op.scalar_op.name
    return op if isinstance(op, str) else getattr(op, "__name__", None) or str(op)


def _show(pattern: Any) -> str:
    if isinstance(pattern, tuple):
        return f"{_op_name(pattern[0])}({', '.join(_show(p) for p in pattern[1:])})"
    if isinstance(pattern, dict):
        return _show(pattern["pattern"])
    return str(pattern)


def _input_orders(head: Any, node: Apply) -> list[list[Variable]]:
    """The input orders optim.patterns tries for a head (both, for commutative scalar ops)."""
    orders = [node.inputs]
    if isinstance(head, str) and SCALAR_OPS[head].commutative and len(node.inputs) == 2:
        orders.append(node.inputs[::-1])
    return orders


def _sole_use(pattern: Any, var: Variable, bindings: dict, fgraph: Any, root: bool) -> bool:
    """Whether every intermediate node the pattern matched is used only inside the match."""
    if isinstance(pattern, dict):
        pattern = pattern["pattern"]
    if not isinstance(pattern, tuple):
        return True
    if not root and len(fgraph.clients.get(var, ())) > 1:
        return False
    args = pattern[1:]
    for inputs in _input_orders(pattern[0], var.owner):
        if all(
            match(sub, inp, bindings) is not None for sub, inp in zip(args, inputs, strict=True)
        ):
            return all(
                _sole_use(sub, inp, bindings, fgraph, False)
                for sub, inp in zip(args, inputs, strict=True)
            )
    return False


class PatternSub(LocalOptimizer):
    """Replace what matches `in_pattern` by `out_pattern` (Theano's tuple pattern grammar).

    Heads are ops (T.exp, an Op instance or class, a scalar name); strings are variables bound
    consistently; numbers match constants; `{'pattern': p, 'constraint': fn}` adds a test of
    the matched variable. Unless `allow_multiple_clients`, the inner nodes of a match must not
    be used elsewhere (as in Theano: the rewrite would duplicate their work).

    Examples
    --------
    >>> log_exp = PatternSub((T.log, (T.exp, 'x')), 'x', name='log_exp')  # log(exp(x)) -> x
    >>> register_canonicalize(log_exp)
    """

    def __init__(
        self,
        in_pattern: tuple | dict,
        out_pattern: Any,
        allow_multiple_clients: bool = False,
        name: str | None = None,
    ) -> None:
        root = in_pattern.get("pattern") if isinstance(in_pattern, dict) else in_pattern
        if not isinstance(root, tuple) or not root:
            raise TypeError(
                f"PatternSub: the input pattern must be a tuple (op, ...), got {in_pattern!r}"
            )
        self.in_pattern = _in_pattern(in_pattern)
        self.out_pattern = _out_pattern(out_pattern)
        unbound = _variable_names(out_pattern) - _variable_names(self.in_pattern)
        if unbound:
            raise ValueError(
                f"PatternSub: output pattern uses {sorted(unbound)}, "
                "which the input pattern does not bind"
            )
        math = f"{_show(in_pattern)} -> {_show(out_pattern)}"
        super().__init__(name or f"PatternSub({math})", (root[0],), math)
        self.allow_multiple_clients = allow_multiple_clients

    def transform(self, fgraph: Any, node: Apply) -> list | None:
        if len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        bindings = match(self.in_pattern, out, {})
        if bindings is None:
            return None
        if not self.allow_multiple_clients and not _sole_use(
            self.in_pattern, out, bindings, fgraph, True
        ):
            return None
        return [build(self.out_pattern, bindings)]


class OpSub(LocalOptimizer):
    """Replace every application of `op1` by `op2` on the same inputs (Theano's OpSub).

    Examples
    --------
    >>> register_specialize(OpSub(MyExp(), T.exp), name='my_exp_to_exp')  # MyExp(x) -> exp(x)
    """

    def __init__(self, op1: Any, op2: Any, name: str | None = None) -> None:
        self.op1 = op_spec(op1)
        if not callable(op2) and not isinstance(op2, str):
            raise TypeError(f"OpSub: the replacement {op2!r} is not an op")
        self.op2 = op2
        math = f"{_op_name(op1)}(...) -> {_op_name(op2)}(...)"
        super().__init__(name or f"OpSub({math})", (op1,), math)

    def transform(self, fgraph: Any, node: Apply) -> list | None:
        if not op_matches(self.op1, node.op):
            return None
        op2 = self.op2
        if isinstance(op2, str):
            op2 = scalar_functions.elemwise_op(op_spec(op2))
        if isinstance(op2, Op):
            return list(op2.make_node(*node.inputs).outputs)
        result = op2(*node.inputs)
        return list(result) if isinstance(result, (list, tuple)) else [result]


def _register(phases: tuple[str, ...], lopt: Any, tags: tuple, name: str | None) -> Any:
    """Register `lopt` (or, used with tags/name only, return a decorator that will)."""
    if lopt is None or isinstance(lopt, str):
        extra = (lopt, *tags) if isinstance(lopt, str) else tags
        return lambda inner: _register(phases, inner, extra, name)
    if isinstance(lopt, LocalOptimizer):
        rewrite = lopt
    elif callable(lopt):
        rewrite = FromFunctionLocalOptimizer(lopt, None)
    else:
        raise TypeError(
            f"cannot register {lopt!r}: expected a local_optimizer, PatternSub, OpSub or function"
        )
    register_rule(rewrite.to_rule(phases, name or rewrite.name, tuple(tags)))
    return lopt


def register_canonicalize(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Run a rewrite with the canonical forms (canonicalize, and again in stabilize/specialize).

    Registering under a name already used replaces that rule, so re-running a cell is harmless.
    Usable as `register_canonicalize(rewrite)`, `@register_canonicalize` or
    `@register_canonicalize('fast_run', name=...)`; returns what it was given. Tags are kept
    on the rule (`rule.extra['tags']`) and select it as in Theano: FAST_COMPILE runs a user
    rule only when it is tagged 'fast_compile', and including/excluding accept its tags.
    """
    return _register(CANONICAL_PHASES, lopt, tags, name)


def register_stabilize(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Run a rewrite in the stabilize phase (numerically safer forms); see register_canonicalize."""
    return _register(("stabilize",), lopt, tags, name)


def register_specialize(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Run a rewrite in the specialize phase (faster forms); see register_canonicalize."""
    return _register(("specialize",), lopt, tags, name)


def register_useless(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Theano's register_useless (rewrites that only remove nodes): the canonicalize phase."""
    return _register(("canonicalize",), lopt, (*tags, "useless"), name)


def register_uncanonicalize(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Theano's register_uncanonicalize (after specialize): labsym's specialize phase."""
    return _register(("specialize",), lopt, (*tags, "uncanonicalize"), name)


def register_specialize_device(lopt: Any = None, *tags: str, name: str | None = None) -> Any:
    """Theano's register_specialize_device: labsym's specialize phase (one device per graph)."""
    return _register(("specialize",), lopt, (*tags, "specialize_device"), name)
