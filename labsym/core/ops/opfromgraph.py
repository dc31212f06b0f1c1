"""OpFromGraph (an op defined by a graph) and the inner-graph helpers it shares with Scan.

May import labsym.config, core.graph, core.fgraph, core.op, core.autodiff, core.variable.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply, Constant, Variable, ancestors, clone_graph, graph_inputs
from labsym.core.op import Op, call_infer_shape
from labsym.core.shared import SharedVariable
from labsym.core.type import TensorType


# ---------------------------------------------------------------------------------- helpers
def compile_inner(
    inputs: Sequence[Variable], outputs: Sequence[Variable], mode: Any, borrow: bool, name: str
) -> Callable[..., list]:
    """A compiled function of an inner graph, with `mode` (the outer function's Mode).

    A Mode object is compiled here, in core, with its own linker. Only a mode *name* (an op
    built with `mode='FAST_RUN'`, run outside any function) needs the default compiler that
    labsym.compile registers in core.evaluation.
    """
    from labsym.core import evaluation
    from labsym.core.io import Mode, Out

    if isinstance(mode, Mode):
        from labsym.core.function import function

        outs = [Out(o, borrow=borrow) for o in outputs]
        return function(list(inputs), outs, mode=mode, on_unused_input="ignore", name=name)
    if evaluation._compiler is None:
        raise RuntimeError(f"{name}: import labsym (not only labsym.core) to run inner graphs")
    outs = [Out(o, borrow=borrow) for o in outputs]
    return evaluation._compiler(list(inputs), outs, mode=mode, on_unused_input="ignore", name=name)


class InnerFunctions:
    """Compiled inner functions of one op, per outer Mode (held weakly) or mode name."""

    def __init__(self) -> None:
        self._by_mode: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._by_name: dict[Any, Any] = {}

    def get(self, mode: Any) -> Any:
        table = self._by_name if mode is None or isinstance(mode, str) else self._by_mode
        return table.get(mode)

    def put(self, mode: Any, fn: Any) -> None:
        table = self._by_name if mode is None or isinstance(mode, str) else self._by_mode
        table[mode] = fn

    def __getstate__(self) -> dict[str, Any]:
        """Pickled empty: compiled functions are rebuilt on first use after unpickling."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()


def inner_graph_building() -> Any:
    """A context in which test values are off: inner graphs are built on placeholders."""
    from labsym.config import config

    return config.change_flags(compute_test_value="off")


def _static_shape(var: Variable) -> tuple | None:
    if isinstance(var, Constant):
        return tuple(np.shape(var.data))
    shape = getattr(var.type, "shape", None)
    if shape is None or any(d is None for d in shape):
        return None
    return tuple(shape)


def inner_output_shapes(
    fgraph: FunctionGraph, input_shapes: Sequence[Any], substitutions: dict[Variable, Variable]
) -> list[tuple | None]:
    """Symbolic shapes of fgraph.outputs given its inputs' shapes (None where unknown).

    Each node's infer_shape runs on the inner graph; entries that still read inner values are
    rewritten onto outer variables through `substitutions`, or dropped when they cannot be.
    """
    shapes: dict[Variable, tuple | None] = dict(zip(fgraph.inputs, input_shapes))
    for node in fgraph.toposort():
        in_shapes = [shapes[v] if v in shapes else _static_shape(v) for v in node.inputs]
        outs: list = [None] * len(node.outputs)
        if all(s is not None for s in in_shapes):
            try:
                outs = list(call_infer_shape(node.op, fgraph, node, in_shapes))
            except Exception:  # an op without infer_shape: fall back to static shapes
                outs = [None] * len(node.outputs)
        for out, shape in zip(node.outputs, outs):
            shapes[out] = tuple(shape) if shape is not None else _static_shape(out)
    results = [shapes[o] if o in shapes else _static_shape(o) for o in fgraph.outputs]
    inner = {v for v in fgraph.variables if not isinstance(v, Constant)}
    return [_substituted(shape, substitutions, inner) for shape in results]


def _substituted(shape: tuple | None, substitutions: dict, inner: set) -> tuple | None:
    if shape is None:
        return None
    symbolic = [i for i, entry in enumerate(shape) if isinstance(entry, Variable)]
    if not symbolic:
        return tuple(int(e) for e in shape)
    _, replaced, _ = clone_graph(
        [], [shape[i] for i in symbolic], memo=substitutions, copy_inputs=False
    )
    if any(v in inner for v in ancestors(replaced)):
        return None
    out = list(shape)
    for i, new in zip(symbolic, replaced):
        out[i] = new
    return tuple(out)


def free_variables(outputs: Sequence[Variable], bound: Sequence[Variable]) -> list[Variable]:
    """Owner-less, non-constant variables the outputs read that are not in `bound`."""
    bound_set = set(bound)
    return [
        v
        for v in graph_inputs(outputs, bound_set)
        if v not in bound_set and not isinstance(v, Constant)
    ]


def is_zero_gradient(g: Any) -> bool:
    """Whether `g` is None or autodiff's `zeros_like(o)` for an output outside the cost."""
    if g is None:
        return True
    node = g.owner
    if node is None or getattr(getattr(node.op, "scalar_op", None), "name", None) != "second":
        return False
    value = node.inputs[1]
    while value.owner is not None and hasattr(value.owner.op, "new_order"):
        value = value.owner.inputs[0]  # a 0-d constant padded by DimShuffle
    return isinstance(value, Constant) and not np.any(value.data)


def _check_input_types(op: Op, expected: Sequence[Variable], given: Sequence[Variable]) -> None:
    for i, (inner, outer) in enumerate(zip(expected, given)):
        same = inner.type == outer.type or (
            isinstance(inner.type, TensorType)
            and isinstance(outer.type, TensorType)
            and inner.type.dtype == outer.type.dtype
            and inner.type.ndim == outer.type.ndim
        )
        if not same:
            raise TypeError(
                f"{op}: input {i} has type {outer.type}, the inner graph expects {inner.type}"
            )


# ---------------------------------------------------------------------------------- the op
class OpFromGraph(Op):
    """An Op whose computation is a graph: `OpFromGraph([x, y], [x + y * 2])(a, b)`.

    Encapsulating a subgraph keeps big models readable, lets a gradient be overridden, and
    (with `inline=True`) lets the optimizer paste the graph back in to rewrite across it.
    Shared variables the outputs read become implicit inputs, as in Theano.

    Examples
    --------
    >>> x, y = dscalars('x', 'y')
    >>> op = OpFromGraph([x, y], [x + y * 2])
    >>> op(1.0, 2.0).eval()
    array(5.)
    """

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable] | Variable,
        inline: bool = False,
        grad_overrides: Any = "default",
        name: str | None = None,
        mode: Any = None,
    ) -> None:
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        inputs = list(inputs)
        for i, inp in enumerate(inputs):
            if not isinstance(inp, Variable) or isinstance(inp, (SharedVariable, Constant)):
                raise TypeError(
                    f"OpFromGraph: input {i} ({inp!r}) must be a non-shared, non-constant variable"
                )
        free = free_variables(outputs, inputs)
        missing = [v for v in free if not isinstance(v, SharedVariable)]
        if missing:
            raise ValueError(
                f"OpFromGraph: the outputs depend on {missing}, which are not in inputs"
            )
        self.shared_inputs = free
        placeholders = [v.type(v.name) for v in free]
        _, outs, _ = clone_graph([], outputs, memo=dict(zip(free, placeholders)), copy_inputs=False)
        self.fgraph = FunctionGraph(inputs + placeholders, outs, clone=True)
        self.inline = bool(inline)
        self.grad_overrides = grad_overrides
        self.name = name
        self.mode = mode
        self._fns = InnerFunctions()
        self._grad_op: OpFromGraph | None = None

    def __str__(self) -> str:
        return f"OpFromGraph{{{self.name or 'ofg'}{',inline' if self.inline else ''}}}"

    @property
    def n_explicit(self) -> int:
        return len(self.fgraph.inputs) - len(self.shared_inputs)

    def make_node(self, *inputs: Any) -> Apply:
        from labsym.core.variable import as_tensor_variable

        if len(inputs) == len(self.fgraph.inputs) and self.shared_inputs:
            inputs = inputs[: self.n_explicit]  # re-made by a rewrite: shared inputs come again
        if len(inputs) != self.n_explicit:
            raise TypeError(f"{self} takes {self.n_explicit} inputs, got {len(inputs)}")
        converted = [
            inp if isinstance(inp, Variable) else as_tensor_variable(inp, dtype=inner.type.dtype)
            for inp, inner in zip(inputs, self.fgraph.inputs)
        ]
        converted += self.shared_inputs
        _check_input_types(self, self.fgraph.inputs, converted)
        return Apply(self, converted, [o.type() for o in self.fgraph.outputs])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        self.perform_in_mode(None, node, inputs, output_storage)

    def perform_in_mode(
        self, outer_mode: Any, node: Apply, inputs: Sequence[Any], output_storage: list
    ) -> None:
        """`perform`, with the inner graph compiled by the outer function's Mode (the linker
        passes it), unless this op was built with its own mode."""
        mode = self.mode if self.mode is not None else outer_mode
        fn = self._fns.get(mode)
        if fn is None:
            fn = compile_inner(self.fgraph.inputs, self.fgraph.outputs, mode, False, str(self))
            self._fns.put(mode, fn)
        for store, value in zip(output_storage, fn(*inputs)):
            store[0] = value

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence[Any]) -> list:
        subs = dict(zip(self.fgraph.inputs, node.inputs))
        shapes = inner_output_shapes(self.fgraph, input_shapes, subs)
        if any(s is None for s in shapes):
            raise NotImplementedError(f"{self}: an output shape depends on inner values")
        return shapes

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        reached = [set(ancestors([o])) for o in self.fgraph.outputs]
        return [[inp in r for r in reached] for inp in self.fgraph.inputs]

    def inline_expansion(self, inputs: Sequence[Variable]) -> list[Variable]:
        """The inner graph cloned onto `inputs` (all of them, implicit shared ones included)."""
        memo = dict(zip(self.fgraph.inputs, inputs))
        _, outs, _ = clone_graph([], self.fgraph.outputs, memo=memo, copy_inputs=False)
        return outs

    # ------------------------------------------------------------------ derivatives
    def L_op(
        self, inputs: Sequence[Variable], outputs: Sequence[Variable], output_grads: Sequence[Any]
    ) -> list:
        from labsym.core.ops import math

        if not self._differentiable():
            return [None] * len(inputs)
        grad_op = self._gradient_op()
        grads = [
            math.zeros_like(o) if g is None else math.cast(g, o.dtype)
            for o, g in zip(outputs, output_grads)
        ]
        results = grad_op(*inputs[: self.n_explicit], *grads)
        results = results if isinstance(results, list) else [results]
        diff = self._differentiable()
        out, k = [], 0
        for i, _ in enumerate(inputs):
            if i in diff:
                out.append(results[k])
                k += 1
            else:
                out.append(None)
        return out

    def _differentiable(self) -> list[int]:
        return [
            i
            for i, v in enumerate(self.fgraph.inputs)
            if dtypes.is_float(getattr(v.type, "dtype", ""))
        ]

    def _gradient_op(self) -> OpFromGraph:
        """The gradient as an OpFromGraph of (inputs, output gradients), built once."""
        if self._grad_op is None:
            inner_in = [v.type(v.name) for v in self.fgraph.inputs[: self.n_explicit]]
            g_in = [o.type(f"g_{i}") for i, o in enumerate(self.fgraph.outputs)]
            sources = inner_in + list(self.shared_inputs)
            with inner_graph_building():
                grads = self._grads(inner_in, g_in, sources)
            self._grad_op = OpFromGraph(
                inner_in + g_in,
                grads,
                inline=self.inline,
                name=f"{self.name or 'ofg'}_grad",
                mode=self.mode,
            )
        return self._grad_op

    def _custom_grads(self, inner_in: list, g_in: list) -> dict[int, Any]:
        """Gradients given by grad_overrides, by input position."""
        overrides = self.grad_overrides
        if isinstance(overrides, str) and overrides == "default":
            return {}
        if callable(overrides):
            given = list(overrides(inner_in, g_in))
            if len(given) != self.n_explicit:
                raise ValueError(
                    f"{self}: grad_overrides returned {len(given)} gradients "
                    f"for {self.n_explicit} inputs"
                )
            return dict(enumerate(given))
        if isinstance(overrides, (list, tuple)) and len(overrides) == self.n_explicit:
            return {
                i: f(inner_in, g_in)
                for i, f in enumerate(overrides)
                if not (isinstance(f, str) and f == "default")
            }
        raise TypeError(
            f"{self}: grad_overrides must be 'default', a callable "
            "(inputs, output_grads) -> grads, "
            f"or a list of one callable or 'default' per input; got {overrides!r}"
        )

    def _grads(self, inner_in: list, g_in: list, sources: list) -> list:
        from labsym.core.autodiff import grad
        from labsym.core.ops import math
        from labsym.core.variable import as_tensor_variable

        custom = self._custom_grads(inner_in, g_in)
        diff = self._differentiable()
        rest = [i for i in diff if i not in custom]
        known = _known_grads(self.inline_expansion(sources), g_in)
        defaults = (
            grad(None, [sources[i] for i in rest], known_grads=known, disconnected_inputs="ignore")
            if (rest and known)
            else [math.zeros_like(sources[i]) for i in rest]
        )
        by_input = dict(zip(rest, defaults))
        out = []
        for i in diff:
            g = custom.get(i, by_input.get(i))
            g = math.zeros_like(sources[i]) if g is None else as_tensor_variable(g)
            out.append(math.cast(g, sources[i].dtype))
        return out

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        from labsym.core.autodiff import Rop

        outs = self.inline_expansion(list(inputs))
        pairs = [(i, v) for i, v in zip(inputs, eval_points) if v is not None]
        if not pairs:
            return [None] * len(outs)
        wrt, points = [i for i, _ in pairs], [v for _, v in pairs]
        return Rop(outs, wrt, points, disconnected_outputs="ignore")


def _known_grads(outputs: Sequence[Variable], grads: Sequence[Variable]) -> dict:
    """known_grads for autodiff, summing gradients of an output that appears twice."""
    known: dict = {}
    for out, g in zip(outputs, grads):
        if isinstance(out, Constant) or not dtypes.is_float(out.dtype):
            continue
        known[out] = known[out] + g if out in known else g
    return known
