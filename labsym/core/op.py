"""The Op contract: __props__, make_node, perform, infer_shape, grad/L_op, R_op, optional c_code.

Ops never read config. May import core.graph, core.testvalue and labsym.utils.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from labsym.core.graph import Apply, Variable


class Op:
    """Base of every operation; subclasses describe a function on typed variables.

    `__props__` names the attributes that define the op: equal props mean equal ops, which is
    what lets the optimizer merge identical computations.
    """

    __props__: tuple[str, ...] = ()
    default_output: int | None = None
    view_map: dict[int, list[int]] = {}
    destroy_map: dict[int, list[int]] = {}
    itypes: Sequence[Any] | None = None
    otypes: Sequence[Any] | None = None

    # ------------------------------------------------------------------ identity
    def _props(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        if not _declares_props(type(self)):
            return self is other
        return self._props() == other._props()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        if not _declares_props(type(self)):
            return id(self)
        return hash((type(self), self._props()))

    def __str__(self) -> str:
        """Theano's default name: `MakeVector{dtype='int64'}`, or the class name without props."""
        if self.__props__:
            shown = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
            return f"{type(self).__name__}{{{shown}}}"
        return type(self).__name__

    def __repr__(self) -> str:
        return str(self)

    # ------------------------------------------------------------------ construction
    def make_node(self, *inputs: Any) -> Apply:
        """Type inference: check inputs and build the Apply with typed outputs."""
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(
                f"{type(self).__name__} must define make_node or itypes/otypes"
            )
        from labsym.core.variable import as_tensor_variable

        if len(inputs) != len(self.itypes):
            raise TypeError(f"{self} takes {len(self.itypes)} inputs, got {len(inputs)}")
        converted = []
        for i, (inp, itype) in enumerate(zip(inputs, self.itypes)):
            var = as_tensor_variable(inp)
            if var.type != itype:
                raise TypeError(f"{self}: input {i} has type {var.type}, expected {itype}")
            converted.append(var)
        return Apply(self, converted, [t() for t in self.otypes])

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        """Apply the op; returns its output variable (or the list of them)."""
        node = self.make_node(*inputs, **kwargs)
        from labsym.core import testvalue

        testvalue.compute_node_test_value(node)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    # ------------------------------------------------------------------ evaluation
    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list[list[Any]]) -> None:
        """Compute the outputs with NumPy: the reference semantics every backend must match."""
        raise NotImplementedError(
            c_code_only_message(self) or f"{type(self).__name__} has no perform"
        )

    def numpy_callable(self, node: Apply) -> Callable[..., Any] | None:
        """A fast `f(*inputs) -> output` for single-output ops, or None to call `perform`."""
        return None

    def do_constant_folding(self, node: Apply) -> bool:
        return True

    # ------------------------------------------------------------------ derivatives
    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        raise NotImplementedError(f"{self} does not define a gradient")

    def L_op(
        self,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        output_grads: Sequence[Variable],
    ) -> list:
        """Vector-Jacobian product; by default the Theano-style `grad(inputs, output_grads)`."""
        return self.grad(inputs, output_grads)

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Variable | None]) -> list:
        raise NotImplementedError(f"{self} does not define an R operator")

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """connection[i][j]: whether output j depends differentiably on input i."""
        return [[True] * len(node.outputs) for _ in node.inputs]

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence[Sequence[Any]]) -> list:
        raise NotImplementedError(f"{self} has no infer_shape")


def c_code_only_message(op: Op) -> str | None:
    """Why `op` cannot run on the NumPy engine (it defines c_code but not perform), or None.

    Theano tutorials write ops with only `c_code`; the C linkers run them, NumPy-only linkers
    (py, vm, FAST_COMPILE, MonitorMode, a perform-based DebugMode check) cannot.
    """
    cls = type(op)
    if cls.perform is not Op.perform or cls.numpy_callable is not Op.numpy_callable:
        return None
    if not callable(getattr(op, "c_code", None)):
        return None
    return (
        f"{cls.__name__} defines c_code but not perform, so only a C linker can run it "
        "(linker='cvm', 'c|py' or 'c', FAST_RUN's default when a C compiler works), not this "
        "NumPy-only one; use such a mode, or give the op a perform(node, inputs, "
        "output_storage) method (NumPy) to run it everywhere"
    )


def call_infer_shape(op: Op, fgraph: Any, node: Apply, input_shapes: Sequence) -> list:
    """Call op.infer_shape whether it has Theano's (node, shapes) or PyTensor's signature."""
    method = op.infer_shape
    try:
        n_params = len(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        n_params = 3
    if n_params == 2:
        return method(node, input_shapes)  # type: ignore[call-arg]
    return method(fgraph, node, input_shapes)


def _declares_props(cls: type) -> bool:
    """Ops without their own __props__ compare by identity, as in Theano."""
    return any(c is not Op and "__props__" in c.__dict__ for c in cls.__mro__)


class _AsOp(Op):
    """An Op made from a Python function by `as_op`."""

    __props__ = ("itypes", "otypes", "fn", "infer_shape_fn")

    def __init__(self, itypes, otypes, fn, infer_shape_fn=None) -> None:
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.fn = fn
        self.infer_shape_fn = infer_shape_fn

    def __str__(self) -> str:
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', 'fn')}}}"

    def perform(self, node, inputs, output_storage):
        outs = self.fn(*inputs)
        if len(self.otypes) == 1:
            outs = [outs]
        for store, value, var in zip(output_storage, outs, node.outputs):
            store[0] = var.type.filter(value, allow_downcast=True)

    def infer_shape(self, fgraph, node, input_shapes):
        if self.infer_shape_fn is None:
            raise NotImplementedError(f"{self} has no infer_shape")
        return self.infer_shape_fn(node, input_shapes)


def as_op(itypes: Sequence[Any], otypes: Sequence[Any], infer_shape: Callable | None = None):
    """Decorator turning a NumPy function into an Op (Theano's `theano.compile.ops.as_op`)."""

    def wrap(fn: Callable) -> Op:
        return _AsOp(itypes, otypes, fn, infer_shape)

    return wrap
