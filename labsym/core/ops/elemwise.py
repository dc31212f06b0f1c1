"""Elemwise (a scalar-table op broadcast over arrays) and DimShuffle (axis permutation/insertion).

May import core.graph, core.op, core.type, core.scalar, core.dtypes, core.variable.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.scalar import ZERO, LazyUfunc, ScalarOp
from labsym.core.type import TensorType

_PERFORM_CALLABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# set while an Elemwise builds its gradient from the scalar table: Theano's gradient graphs
# are made of unnamed Elemwise ops, so they print `Elemwise{mul}`, not `Elemwise{mul,no_inplace}`
_IN_SCALAR_GRAD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "in_scalar_grad", default=False
)


class BroadcastError(ValueError):
    """Shapes that cannot be combined elementwise."""


class DimShuffle(Op):
    """Reorder axes, drop length-1 axes and insert new ones ('x'): `x.dimshuffle(1, 'x', 0)`.

    The output is a view of the input (view_map {0: [0]}).
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int, new_order: Sequence[int | str]) -> None:
        self.input_ndim = int(input_ndim)
        self.new_order = tuple(o if o == "x" else int(o) for o in new_order)
        kept = [o for o in self.new_order if o != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= o < input_ndim for o in kept):
            raise ValueError(
                f"DimShuffle: invalid pattern {self.new_order} for an input of {input_ndim} dims"
            )
        self.drop = tuple(i for i in range(input_ndim) if i not in kept)
        self.shuffle = tuple(kept)
        self.augment = tuple(i for i, o in enumerate(self.new_order) if o == "x")

    def __str__(self) -> str:
        # Theano 1.0's DimShuffle is always a view of its input, and says so in its name
        return "InplaceDimShuffle{" + ",".join(str(o) for o in self.new_order) + "}"

    def make_node(self, x: Any) -> Apply:
        from labsym.core.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"{self}: expected an input of {self.input_ndim} dims, got {x.type}")
        for axis in self.drop:
            if x.type.shape[axis] != 1:
                raise ValueError(
                    f"{self}: cannot drop axis {axis} of {x} ({x.type}): it is not known to have "
                    "length 1 (declare it broadcastable or use specify_shape)"
                )
        shape = tuple(1 if o == "x" else x.type.shape[o] for o in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        # the Ellipsis keeps a 0-d array (not a NumPy scalar) when every axis is dropped
        drop_index = tuple(0 if i in self.drop else slice(None) for i in range(self.input_ndim)) + (
            Ellipsis,
        )
        needs_drop = bool(self.drop)
        remaining = sorted(self.shuffle)  # axes left after dropping, in input order
        transpose = tuple(remaining.index(axis) for axis in self.shuffle)
        needs_transpose = transpose != tuple(range(len(transpose)))
        expand = tuple(None if o == "x" else slice(None) for o in self.new_order)
        needs_expand = bool(self.augment)

        def dimshuffle(x):
            x = np.asarray(x)
            if needs_drop:
                x = x[drop_index]
            if needs_transpose:
                x = x.transpose(transpose)
            if needs_expand:
                x = x[expand]
            return x

        return dimshuffle

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.numpy_callable(node)(inputs[0])

    def infer_shape(self, fgraph, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(1 if o == "x" else shape[o] for o in self.new_order)]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        # undo: drop the inserted axes, invert the permutation, restore dropped axes
        gz_kept = gz.sum(axis=list(self.augment)) if self.augment else gz
        order: list[int | str] = []
        for axis in range(self.input_ndim):
            order.append("x" if axis in self.drop else self.shuffle.index(axis))
        return [
            gz_kept.dimshuffle(order).astype(x.dtype)
            if x.dtype != gz.dtype
            else gz_kept.dimshuffle(order)
        ]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


# Theano's scalar ops that have no `name` print their class name (`GT`, `Switch`); sigmoid and
# softplus print as scalar_sigmoid/scalar_softplus; an op the optimizer made inplace is a new
# instance without a name, so it prints its class name (`Add`, `ScalarSigmoid`).
_UNNAMED_SCALAR = {
    "lt": "LT",
    "gt": "GT",
    "le": "LE",
    "ge": "GE",
    "eq": "EQ",
    "neq": "NEQ",
    "and_": "AND",
    "or_": "OR",
    "xor": "XOR",
    "invert": "Invert",
    "switch": "Switch",
    "abs": "Abs",
    "isnan": "IsNan",
    "isinf": "IsInf",
    "round_half_to_even": "RoundHalfToEven",
    "round_half_away_from_zero": "RoundHalfAwayFromZero",
    "sigmoid": "scalar_sigmoid",
    "softplus": "scalar_softplus",
}
_CLASS_NAMES = {
    **_UNNAMED_SCALAR,
    "sigmoid": "ScalarSigmoid",
    "softplus": "ScalarSoftplus",
    "arcsin": "ArcSin",
    "arccos": "ArcCos",
    "arctan": "ArcTan",
    "arctan2": "ArcTan2",
    "arcsinh": "ArcSinh",
    "arccosh": "ArcCosh",
    "arctanh": "ArcTanh",
    "gammaln": "GammaLn",
}
# tensor-level functions whose Theano name differs from the scalar record's
_FUNCTION_NAMES = {"abs": "abs_"}


def scalar_text(spec: ScalarOp) -> str:
    """How Theano printed this scalar op (inside `Elemwise{...}` and in Composite formulas)."""
    if spec.output == "fixed":
        return f"Cast{{{spec.params[0]}}}"
    return _UNNAMED_SCALAR.get(spec.name, spec.name)


def scalar_class_name(spec: ScalarOp) -> str:
    """Theano's class name of this scalar op (`true_div` -> `TrueDiv`)."""
    if spec.output == "fixed":
        return f"Cast{{{spec.params[0]}}}"
    if spec.name in _CLASS_NAMES:
        return _CLASS_NAMES[spec.name]
    return "".join(part[:1].upper() + part[1:] for part in spec.name.split("_"))


def function_op_name(spec: ScalarOp) -> str:
    """The name of Theano's tensor-level function op: `Elemwise{add,no_inplace}`, `sigmoid`."""
    if spec.name in ("sigmoid", "softplus"):
        return spec.name  # T.nnet.sigmoid = Elemwise(scalar_sigmoid, name='sigmoid')
    return f"Elemwise{{{_FUNCTION_NAMES.get(spec.name, spec.name)},no_inplace}}"


def broadcast_static_shape(op_name: str, types: Sequence[TensorType]) -> tuple[int | None, ...]:
    """The static output shape of an elementwise op; raises on incompatible static lengths."""
    out = []
    for axis in range(types[0].ndim):
        sizes = {t.shape[axis] for t in types} - {1}
        known = sizes - {None}
        if len(known) > 1:
            shapes = ", ".join(str(t.shape) for t in types)
            raise BroadcastError(
                f"{op_name}: incompatible static lengths {sorted(known)} on axis {axis} "
                f"(input shapes {shapes})"
            )
        if known:
            out.append(known.pop())
        elif None in sizes:
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


class Elemwise(Op):
    """A scalar-table operation applied elementwise with NumPy broadcasting.

    Inputs are padded on the left with broadcastable axes to a common ndim, as in Theano. An axis
    of length 1 is only broadcast when its type says so (static length 1); anything else must
    match at run time.
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(
        self,
        scalar_op: ScalarOp,
        inplace_pattern: dict[int, int] | None = None,
        name: str | None = None,
    ) -> None:
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.destroy_map = {out: [inp] for out, inp in self.inplace_pattern}
        self.name = name  # not a prop: `T.mul` and a rewrite's Elemwise{mul} are the same op

    def __str__(self) -> str:
        """Theano's names: `Elemwise{mul,no_inplace}` (T.mul), `Elemwise{mul}` (made by
        gradients), `Elemwise{Mul}[(0, 1)]` (made inplace by the optimizer)."""
        if self.name is not None:
            return self.name
        if self.inplace_pattern:
            return f"Elemwise{{{scalar_class_name(self.scalar_op)}}}{list(self.inplace_pattern)}"
        return f"Elemwise{{{scalar_text(self.scalar_op)}}}"

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        """Apply elementwise; associative ops (add, mul, ...) take any number of terms."""
        spec = self.scalar_op
        if spec.associative and spec.nin == 2 and len(inputs) > 2 and not self.inplace_pattern:
            out = super().__call__(inputs[0], inputs[1])
            for term in inputs[2:]:
                out = super().__call__(out, term)
            return out
        return super().__call__(*inputs, **kwargs)

    def make_node(self, *inputs: Any) -> Apply:
        from labsym.core.variable import align_elemwise_inputs

        spec = self.scalar_op
        if len(inputs) != spec.nin:
            raise TypeError(f"{self} takes {spec.nin} inputs, got {len(inputs)}")
        variables = align_elemwise_inputs(str(self), inputs, spec)
        types = [v.type for v in variables]
        if not spec.accepts_bool and all(t.dtype == "bool" for t in types):
            raise TypeError(
                f"{self} is not defined on booleans (as in NumPy); cast the input first"
            )
        shape = broadcast_static_shape(str(self), types) if types[0].ndim else ()
        out_dtype = spec.output_dtype([t.dtype for t in types])
        return Apply(self._for_new_node(), variables, [TensorType(out_dtype, shape)()])

    def _for_new_node(self) -> Elemwise:
        """This op, or inside a scalar gradient its unnamed twin (equal, printed as Theano)."""
        if self.name is None or not _IN_SCALAR_GRAD.get():
            return self
        twin = self.__dict__.get("_unnamed")
        if twin is None:
            twin = self.__dict__["_unnamed"] = Elemwise(self.scalar_op, dict(self.inplace_pattern))
        return twin

    def numpy_callable(self, node: Apply):
        spec = self.scalar_op
        impl = spec.impl.resolve() if isinstance(spec.impl, LazyUfunc) else spec.impl
        out_dtype = node.outputs[0].dtype
        cast = _natural_dtype(spec, node) != out_dtype
        target = self.inplace_pattern[0][1] if self.inplace_pattern else None
        if target is not None and isinstance(impl, np.ufunc) and _fits_output(node, target):
            impl = _into_input(impl, target, out_dtype if cast else None)
        elif cast:
            if isinstance(impl, np.ufunc):
                impl = partial(impl, dtype=out_dtype)
            else:
                impl = _cast_result(impl, np.dtype(out_dtype))
        check = _runtime_broadcast_check(node)
        if check is None:
            return impl
        return _checked(impl, check)

    def perform(self, node, inputs, output_storage):
        # built once per node: numpy_callable probes dtypes, which test values would repeat
        fast = _PERFORM_CALLABLES.get(node)
        if fast is None:
            fast = _PERFORM_CALLABLES[node] = self.numpy_callable(node)
        out = fast(*inputs)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from labsym.core.ops.shape import broadcast_shape_symbolic

        return [broadcast_shape_symbolic([v.type for v in node.inputs], input_shapes)]

    def L_op(self, inputs, outputs, output_grads):
        from labsym.core.ops import math as m

        (gz,) = output_grads
        raw = None
        if self.scalar_op.grad:
            token = _IN_SCALAR_GRAD.set(True)  # Theano's gradient nodes print `Elemwise{mul}`
            try:
                raw = self.scalar_op.grad(m, list(inputs), outputs[0], gz)
            finally:
                _IN_SCALAR_GRAD.reset(token)
        if raw is None:
            raise NotImplementedError(f"{self} has no gradient")
        return [_reduce_to_input(g, inp, outputs[0]) for g, inp in zip(raw, inputs)]

    def R_op(self, inputs, eval_points):
        from labsym.core.autodiff import elemwise_rop

        return elemwise_rop(self, inputs, eval_points)


def _reduce_to_input(grad: Any, inp: Any, out: Any) -> Any:
    """Sum a gradient over the axes the input was broadcast along, and cast to its dtype."""
    from labsym.core.ops import math as m

    if grad is None:
        return None
    if not (dtypes.is_float(inp.dtype) or inp.dtype in dtypes.COMPLEX_DTYPES):
        return None
    if grad is ZERO:
        return m.zeros_like(inp)
    axes = [a for a, (i, o) in enumerate(zip(inp.type.shape, out.type.shape)) if i == 1 and o != 1]
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.ndim == inp.ndim and not TensorType(grad.dtype, inp.type.shape).is_super(grad.type):
        from labsym.core.ops.shape import specify_shape

        grad = specify_shape(grad, inp.type.shape)
    if grad.dtype != inp.dtype:
        grad = m.cast(grad, inp.dtype)
    return grad


def _natural_dtype(spec: ScalarOp, node: Apply) -> str:
    """The dtype NumPy's implementation produces for these input dtypes."""
    samples = [np.ones((1,), dtype=v.dtype) for v in node.inputs]
    with np.errstate(all="ignore"):
        try:
            return np.asarray(spec.impl(*samples)).dtype.name
        except (TypeError, ValueError):
            return node.outputs[0].dtype


def _cast_result(impl, dtype):
    def cast_impl(*args):
        return np.asarray(impl(*args)).astype(dtype, copy=False)

    return cast_impl


def _fits_output(node: Apply, index: int) -> bool:
    """Whether input `index` has the output's dtype and is never broadcast (same runtime shape)."""
    inp, out = node.inputs[index].type, node.outputs[0].type
    unbroadcast = all(i != 1 or o == 1 for i, o in zip(inp.shape, out.shape, strict=True))
    return inp.dtype == out.dtype and unbroadcast


def _into_input(ufunc: np.ufunc, index: int, dtype: str | None):
    """The ufunc writing its result into input `index` (destroy_map) if it is a writable array."""
    kwargs = {} if dtype is None else {"dtype": dtype}

    def inplace_impl(*arrays):
        target = arrays[index]
        if target.__class__ is np.ndarray and target.flags.writeable:
            return ufunc(*arrays, out=target, **kwargs)
        return ufunc(*arrays, **kwargs)  # a NumPy scalar or read-only view: a new array

    return inplace_impl


def _runtime_broadcast_check(node: Apply):
    """A shape check for axes NumPy would silently broadcast but the types do not allow."""
    ndim = node.outputs[0].ndim
    if ndim == 0 or len(node.inputs) < 2:
        return None
    groups = []
    for axis in range(ndim):
        members = [i for i, v in enumerate(node.inputs) if v.type.shape[axis] != 1]
        static = [node.inputs[i].type.shape[axis] for i in members]
        if len(members) >= 2 and None in static:
            groups.append((axis, tuple(members)))
    if not groups:
        return None
    name = str(node.op)

    def check(*arrays):
        for axis, members in groups:
            first = arrays[members[0]].shape[axis]
            for i in members[1:]:
                if arrays[i].shape[axis] != first:
                    raise ValueError(
                        f"Input dimension mis-match in {name}: input[{members[0]}].shape[{axis}] "
                        f"= {first}, input[{i}].shape[{axis}] = {arrays[i].shape[axis]} "
                        "(a length-1 axis is only broadcast when its type is broadcastable)"
                    )

    return check


def _checked(impl, check):
    def checked_impl(*arrays):
        check(*arrays)
        return impl(*arrays)

    return checked_impl
