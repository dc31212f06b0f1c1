"""Indexing: Subtensor (basic, a view), AdvancedSubtensor1/AdvancedSubtensor (integer arrays and
boolean masks), their Inc/Set forms, and getitem, set_subtensor, inc_subtensor and take.

May import core.graph, core.op, core.type, core.variable and core.ops.math; gradients sum
with the tensor methods (core.ops.reduce), take flattens with core.ops.shape.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core.graph import Apply, Constant, Variable
from labsym.core.op import Op
from labsym.core.ops import math
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

# An idx_list entry is a slice (each bound None or a marker), a marker, None (newaxis) or Ellipsis.
# A marker stands for the next index input: its dtype ('int64') for a scalar, and 'int64[:]' or
# 'bool[:,:]' for an array. Basic indexing (Subtensor) holds only slices, scalar markers, None.
FULL = slice(None, None, None)


def _marker(var: Variable) -> str:
    return var.dtype if var.ndim == 0 else f"{var.dtype}[{','.join(':' * var.ndim)}]"


def _is_scalar_marker(entry: Any) -> bool:
    return isinstance(entry, str) and "[" not in entry and entry != "bool"


def _markers(idx_list: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for entry in idx_list:
        if isinstance(entry, slice):
            out.extend(p for p in (entry.start, entry.stop, entry.step) if p is not None)
        elif isinstance(entry, str):
            out.append(entry)
    return out


def _entry_str(entry: Any) -> str:
    if isinstance(entry, slice):
        return ":".join("" if p is None else str(p) for p in (entry.start, entry.stop, entry.step))
    return "..." if entry is Ellipsis else str(entry)


def _check_entries(who: str, idx_list: Sequence[Any], basic: bool) -> tuple:
    """The idx_list as a tuple, after checking each entry has a form `who` understands."""
    for entry in idx_list:
        if isinstance(entry, slice):
            ok = all(
                p is None or _is_scalar_marker(p) for p in (entry.start, entry.stop, entry.step)
            )
        else:
            ok = _is_scalar_marker(entry) or entry is None
            ok = ok or not basic and (entry is Ellipsis or isinstance(entry, str))
        if not ok:
            raise TypeError(f"{who}: invalid idx_list entry {entry!r} in {tuple(idx_list)}")
    return tuple(idx_list)


def _hashable(idx_list: Sequence[Any]) -> tuple:
    # slices are unhashable before Python 3.12
    return tuple((e.start, e.stop, e.step) if isinstance(e, slice) else e for e in idx_list)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


# ---------------------------------------------------------------------------- index conversion
def _index_variable(item: Any) -> Variable:
    """An index (int, list, array or symbolic tensor) as a variable of integer or bool dtype."""
    if isinstance(item, (float, np.floating)):
        raise TypeError(
            f"index {item!r} is a float; indices must be integers, slices, None, Ellipsis, or "
            "integer/boolean arrays"
        )
    if _is_int(item):
        return constant(int(item), dtype="int64")
    if isinstance(item, (list, tuple)) and len(item) == 0:
        return constant(np.zeros(0, dtype="int64"))
    var = as_tensor_variable(item)
    if var.dtype[:3] not in ("int", "uin", "boo"):
        raise TypeError(
            f"index {var} has dtype {var.dtype}; indices must be integers (or booleans for masks)"
        )
    return var


def _template(items: Sequence[Any]) -> tuple[list[Any], list[Variable]]:
    """An index tuple as an idx_list of markers and the flat list of index inputs."""
    idx_list: list[Any] = []
    inputs: list[Variable] = []

    def mark(item: Any, bound: bool = True) -> str | None:
        if item is None:
            return None
        var = _index_variable(item)
        if bound and not _is_scalar_marker(_marker(var)):
            raise TypeError(f"slice bounds must be integer scalars, got {var} ({var.type})")
        inputs.append(var)
        return _marker(var)

    for item in items:
        if isinstance(item, slice):
            idx_list.append(slice(mark(item.start), mark(item.stop), mark(item.step)))
        else:
            idx_list.append(item if item is None or item is Ellipsis else mark(item, False))
    return idx_list, inputs


def _consumed_axes(idx_list: Sequence[Any]) -> int:
    count = 0
    for entry in idx_list:
        if isinstance(entry, slice) or _is_scalar_marker(entry):
            count += 1
        elif isinstance(entry, str):
            count += entry.count(":") if entry.startswith("bool") else 1
    return count


def _check_index_count(who: Any, x: Variable, idx_list: Sequence[Any]) -> None:
    count = _consumed_axes(idx_list)
    if count > x.ndim:
        raise IndexError(
            f"{who}: too many indices: {x} ({x.type}) is {x.ndim}-dimensional, but {count} "
            "were indexed"
        )
    if sum(e is Ellipsis for e in idx_list) > 1:
        raise IndexError(f"{who}: an index can only have a single ellipsis ('...')")


def _index_inputs(op: Op, idx_list: Sequence[Any], inputs: Sequence[Any]) -> list[Variable]:
    """Check (and convert Python ints for) the inputs that fill an op's idx_list markers."""
    markers = _markers(idx_list)
    if len(inputs) != len(markers):
        raise TypeError(f"{op} needs {len(markers)} index inputs, got {len(inputs)}")
    out = []
    for k, (marker, item) in enumerate(zip(markers, inputs, strict=True)):
        if _is_scalar_marker(marker) and _is_int(item):
            var = constant(int(item), dtype=marker)
        else:
            var = _index_variable(item)
        if _marker(var) != marker:
            raise TypeError(f"{op}: index input {k} is {var} ({var.type}); the op expects {marker}")
        out.append(var)
    return out


# ---------------------------------------------------------------------------- shapes
def _static_slice_length(n: Any, start: Any, stop: Any, step: Any) -> int | None:
    if all(p is None or _is_int(p) for p in (start, stop, step)):
        if start is None and stop is None and step in (None, 1, -1):
            return n if _is_int(n) else None
        if _is_int(n):
            return len(range(*slice(start, stop, step).indices(n)))
    return None


def _maximum(a: Any, b: Any) -> Any:
    return max(a, b) if _is_int(a) and _is_int(b) else math.maximum(a, b)


def _minimum(a: Any, b: Any) -> Any:
    return min(a, b) if _is_int(a) and _is_int(b) else math.minimum(a, b)


def _where(cond: Any, a: Any, b: Any) -> Any:
    if isinstance(cond, (bool, np.bool_)):
        return a if cond else b
    return math.switch(cond, a, b)


def _bound(value: Any, n: Any, default: Any, low: Any, high: Any) -> Any:
    """One slice bound clamped as Python's slice.indices does (negatives count from the end)."""
    if value is None:
        return default
    return _where(value < 0, _maximum(value + n, low), _minimum(value, high))


def _symbolic_slice_length(n: Any, start: Any, stop: Any, step: Any) -> Any:
    known = _static_slice_length(n, start, stop, step)
    if known is not None:
        return known
    if start is None and stop is None and step in (None, 1, -1):
        return n
    step = 1 if step is None else step
    # step > 0: len(range(first, end, step)) with first, end clamped to [0, n]
    first, end = _bound(start, n, 0, 0, n), _bound(stop, n, n, 0, n)
    forward = _maximum((end - first + step - 1) // step, 0)
    if _is_int(step) and step > 0:
        return forward
    # step < 0: first, end clamped to [-1, n - 1]
    first, end = _bound(start, n, n - 1, -1, n - 1), _bound(stop, n, -1, -1, n - 1)
    backward = _maximum((first - end - step - 1) // (-step), 0)
    return backward if _is_int(step) else math.switch(step > 0, forward, backward)


def _aligned(shapes: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Per output axis, the lengths that broadcast there (shapes aligned on the right)."""
    ndim = max((len(s) for s in shapes), default=0)
    return [[s[a - ndim + len(s)] for s in shapes if a - ndim + len(s) >= 0] for a in range(ndim)]


def _static_broadcast(shapes: Sequence[Sequence[Any]]) -> list[Any]:
    out = []
    for lengths in _aligned(shapes):
        known = {d for d in lengths if d is not None and d != 1}
        if len(known) > 1:
            raise IndexError(
                "shape mismatch: indexing arrays could not be broadcast together with shapes "
                + " ".join(str(tuple(s)) for s in shapes)
            )
        out.append(known.pop() if known else (None if None in lengths else 1))
    return out


def _symbolic_broadcast(shapes: Sequence[Sequence[Any]]) -> list[Any]:
    out = []
    for lengths in _aligned(shapes):
        lengths = [d for d in lengths if not (_is_int(d) and d == 1)]
        fixed = [d for d in lengths if _is_int(d)]
        if fixed or not lengths:
            out.append(fixed[0] if fixed else 1)
            continue
        acc = lengths[0]
        for d in lengths[1:]:
            acc = math.switch(math.eq(d, 1), acc, d)  # broadcast(acc, d)
        out.append(acc)
    return out


def _merge(static: Sequence[Any], symbolic: Sequence[Any]) -> tuple:
    return tuple(s if s is not None else d for s, d in zip(static, symbolic, strict=True))


def _resolve(idx_list: Sequence[Any], inputs: Sequence[Variable], shapes: Any = None) -> list:
    """Entries for `_indexed_shape`; constants become ints, `shapes` (symbolic) counts masks."""
    position = iter(range(len(inputs)))

    def scalar(marker: Any) -> Any:
        if marker is None:
            return None
        var = inputs[next(position)]
        return int(var.data) if isinstance(var, Constant) else var

    entries: list[tuple] = []
    for entry in idx_list:
        if entry is None or entry is Ellipsis:
            entries.append(("new",) if entry is None else ("ellipsis",))
        elif isinstance(entry, slice):
            entries.append(("slice", scalar(entry.start), scalar(entry.stop), scalar(entry.step)))
        elif _is_scalar_marker(entry):
            entries.append(("int", scalar(entry)))
        else:
            k = next(position)
            var = inputs[k]
            dims = var.type.shape if shapes is None else _merge(var.type.shape, shapes[k])
            if var.dtype != "bool":
                entries.append(("array", dims))
            elif isinstance(var, Constant):
                entries.append(("mask", dims, int(np.count_nonzero(var.data))))
            else:
                count = None if shapes is None else math.cast(var, "int64").sum()
                entries.append(("mask", dims, count))
    return entries


def _indexed_shape(
    dims: Sequence[Any], entries: Sequence[tuple], slice_length: Callable, broadcast: Callable
) -> tuple:
    """Output lengths of NumPy indexing: slices in place, advanced dims together (see NumPy)."""
    ellipsis_len = len(dims) - sum(
        len(e[1]) if e[0] == "mask" else 1 for e in entries if e[0] not in ("new", "ellipsis")
    )
    axis, pieces, advanced, index_shapes = 0, [], [], []
    for pos, entry in enumerate(entries):
        kind = entry[0]
        if kind == "new":
            pieces.append([1])
        elif kind == "ellipsis":
            pieces.append(list(dims[axis : axis + ellipsis_len]))
            axis += ellipsis_len
        elif kind == "slice":
            pieces.append([slice_length(dims[axis], *entry[1:])])
            axis += 1
        else:
            advanced.append(pos)
            pieces.append(None)
            if kind == "int":
                _check_bound(entry[1], dims[axis], axis)
                index_shapes.append(())
            elif kind == "array":
                index_shapes.append(entry[1])
            else:
                _check_mask(entry[1], dims[axis : axis + len(entry[1])], axis)
                index_shapes.append((entry[2],))
            axis += len(entry[1]) if kind == "mask" else 1
    rest = list(dims[axis:])
    if not any(entries[p][0] != "int" for p in advanced):
        return tuple(d for piece in pieces if piece is not None for d in piece) + tuple(rest)
    joined = broadcast(index_shapes)
    if advanced != list(range(advanced[0], advanced[-1] + 1)):
        pieces = [joined] + [p for p in pieces if p is not None]  # separated: NumPy puts them first
    else:
        pieces = [joined if pos == advanced[0] else p for pos, p in enumerate(pieces)]
    return tuple(d for piece in pieces if piece is not None for d in piece) + tuple(rest)


def _static_shape(x: Variable, idx_list: Sequence[Any], index: Sequence[Variable]) -> tuple:
    entries = _resolve(idx_list, index)
    return _indexed_shape(x.type.shape, entries, _static_slice_length, _static_broadcast)


def _check_bound(index: Any, length: Any, axis: int) -> None:
    if _is_int(index) and _is_int(length) and not -length <= index < length:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {length}")


def _check_mask(mask_dims: Sequence[Any], dims: Sequence[Any], axis: int) -> None:
    for k, (m, d) in enumerate(zip(mask_dims, dims, strict=False)):
        if _is_int(m) and _is_int(d) and m != d:
            raise IndexError(
                f"boolean index did not match indexed array along axis {axis + k}; size of axis "
                f"is {d} but size of corresponding boolean axis is {m}"
            )


# ---------------------------------------------------------------------------- runtime indices
def _index_builder(idx_list: Sequence[Any], extra: tuple = ()) -> Callable[[Sequence[Any]], tuple]:
    """f(index values) -> the NumPy index tuple, generated as one expression (the call path).

    Scalars go through operator.index so that basic indexing stays a view; `extra` is appended.
    """
    position = iter(range(len(idx_list) * 3))

    def part(m: Any) -> str:
        if not isinstance(m, str):
            return "..." if m is Ellipsis else "None"
        return f"{'_i' if _is_scalar_marker(m) else '_a'}(v[{next(position)}])"

    items = [
        f"slice({part(e.start)}, {part(e.stop)}, {part(e.step)})"
        if isinstance(e, slice)
        else part(e)
        for e in (*idx_list, *extra)
    ]
    source = f"lambda v: ({''.join(item + ', ' for item in items)})"
    return eval(source, {"_i": operator.index, "_a": np.asarray})  # holds no user text


def _check_value_shape(op: Op, y: np.ndarray, y_type: TensorType, sub_shape: tuple) -> None:
    # NumPy would broadcast a runtime length-1 axis the type does not declare broadcastable
    offset = len(sub_shape) - y.ndim
    for a, static in enumerate(y_type.shape):
        if static is None and y.shape[a] != sub_shape[offset + a]:
            raise ValueError(
                f"{op}: the value has shape {y.shape} but the indexed subtensor has shape "
                f"{sub_shape} (a length-1 axis only broadcasts when its type is broadcastable)"
            )


def _prepare_value(op: Op, x: Variable, y: Any, sub_shape: Sequence[Any]) -> Variable:
    """`y` as a variable of x's dtype that broadcasts to the indexed subtensor's static shape."""
    y = as_tensor_variable(y)
    if y.dtype != x.dtype:
        if not np.can_cast(y.dtype, x.dtype, "same_kind"):
            raise TypeError(f"{op}: cannot store {y.dtype} values into a tensor of dtype {x.dtype}")
        weak = getattr(y, "weak", False)
        y = constant(y.data.item(), dtype=x.dtype) if weak else math.cast(y, x.dtype)
    if y.ndim > len(sub_shape):
        raise ValueError(
            f"{op}: trying to increment a {len(sub_shape)}-dimensional subtensor with a "
            f"{y.ndim}-dimensional value"
        )
    for a, d in enumerate(y.type.shape):
        s = sub_shape[len(sub_shape) - y.ndim + a]
        if d not in (None, 1) and s is not None and d != s:
            raise ValueError(
                f"{op}: a value of shape {y.type.shape} cannot broadcast to the indexed subtensor "
                f"of shape {tuple(sub_shape)}"
            )
    return y


def _sum_to(g: Variable, y_type: TensorType) -> Variable:
    """Sum a gradient over the axes `y` was broadcast along."""
    extra = g.ndim - y_type.ndim
    axes = [extra + a for a, d in enumerate(y_type.shape) if d == 1]
    axes = [a for a in axes if g.type.shape[a] != 1]
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.sum(axis=list(range(extra))) if extra else g


def _differentiable(var: Variable) -> bool:
    return var.dtype.startswith(("float", "complex"))


# ---------------------------------------------------------------------------- ops
class _IndexOp(Op):
    """Shared by the indexing ops: an idx_list whose markers the index inputs fill."""

    idx_list: tuple = ()
    n_values = 1  # inputs before the index inputs: (x,) or (x, y)

    def __hash__(self) -> int:
        rest = tuple(getattr(self, p) for p in self.__props__ if p != "idx_list")
        return hash((type(self), _hashable(self.idx_list), rest))

    def _index_str(self) -> str:
        return ", ".join(_entry_str(e) for e in self.idx_list)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[i < self.n_values] for i in range(len(node.inputs))]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(self.numpy_callable(node)(*inputs))


class _Getter(_IndexOp):
    """x[idx_list]: what Subtensor and AdvancedSubtensor share."""

    __props__ = ("idx_list",)
    basic = False

    def __init__(self, idx_list: Sequence[Any]) -> None:
        self.idx_list = _check_entries(type(self).__name__, idx_list, self.basic)

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{self._index_str()}}}"

    def make_node(self, x: Any, *inputs: Any) -> Apply:
        x = as_tensor_variable(x)
        index = _index_inputs(self, self.idx_list, inputs)
        _check_index_count(self, x, self.idx_list)
        shape = _static_shape(x, self.idx_list, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        index = node.inputs[1:]
        extra = (Ellipsis,) if node.outputs[0].ndim == 0 else ()  # a 0-d view, not a scalar copy
        build = _index_builder(self.idx_list, extra)
        if all(isinstance(v, Constant) for v in index):
            key = build([v.data for v in index])
            return lambda x, *_: x[key]
        return lambda x, *values: x[build(values)]

    def infer_shape(self, fgraph, node, input_shapes):
        x, index = node.inputs[0], node.inputs[1:]
        entries = _resolve(self.idx_list, index, input_shapes[1:])
        dims = _merge(x.type.shape, input_shapes[0])
        shape = _indexed_shape(dims, entries, _symbolic_slice_length, _symbolic_broadcast)
        return [_merge(node.outputs[0].type.shape, shape)]

    def grad(self, inputs, output_grads):
        x, index = inputs[0], inputs[1:]
        if not _differentiable(x):
            return [None] * len(inputs)
        return [self.inc_op(False)(math.zeros_like(x), output_grads[0], *index)] + [None] * len(
            index
        )

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], *inputs[1:])]


class Subtensor(_Getter):
    """Basic indexing (ints, slices, None): `x[1, ::2]`. The output is a view (view_map {0: [0]}).

    Used by `x[...]`; keeping index values as inputs lets one compiled graph take any index.
    """

    view_map = {0: [0]}
    basic = True

    def inc_op(self, set_instead_of_inc: bool) -> Op:
        return IncSubtensor(self.idx_list, set_instead_of_inc)


class AdvancedSubtensor(_Getter):
    """NumPy advanced indexing: integer arrays and boolean masks mixed with slices, None, `...`.

    Covers what Subtensor and AdvancedSubtensor1 do not, e.g. `x[[0, 2], :, idx]`, `x[x > 0]`.
    """

    def inc_op(self, set_instead_of_inc: bool) -> Op:
        return AdvancedIncSubtensor(self.idx_list, set_instead_of_inc)


class AdvancedSubtensor1(_IndexOp):
    """`x[ilist]` for an integer vector on the first axis: Theano's common case `W[idx]`.

    Its own op because its gradient (AdvancedIncSubtensor1) is a simple scatter-add.
    """

    __props__ = ()

    def make_node(self, x: Any, ilist: Any) -> Apply:
        x, ilist = as_tensor_variable(x), _index_variable(ilist)
        if ilist.dtype == "bool" or ilist.ndim != 1:
            raise TypeError(f"{self}: the index must be an integer vector, got {ilist.type}")
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot index into a scalar ({x.type})")
        if isinstance(ilist, Constant) and x.type.shape[0] is not None and ilist.data.size:
            _check_bound(int(ilist.data.max()), x.type.shape[0], 0)
            _check_bound(int(ilist.data.min()), x.type.shape[0], 0)
        shape = (ilist.type.shape[0], *x.type.shape[1:])
        return Apply(self, [x, ilist], [TensorType(x.dtype, shape)()])

    def numpy_callable(self, node: Apply):
        return operator.getitem

    def infer_shape(self, fgraph, node, input_shapes):
        shape = (input_shapes[1][0], *input_shapes[0][1:])
        return [_merge(node.outputs[0].type.shape, shape)]

    def grad(self, inputs, output_grads):
        x, ilist = inputs
        if not _differentiable(x):
            return [None, None]
        return [AdvancedIncSubtensor1()(math.zeros_like(x), output_grads[0], ilist), None]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


class _Setter(_IndexOp):
    """x with x[idx] set to (or incremented by) y; x is copied, never modified."""

    n_values = 2
    set_instead_of_inc = False

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        x, y, index = inputs[0], inputs[1], inputs[2:]
        (gz,) = output_grads
        gx = gy = None
        if _differentiable(x):
            gx = self.setter()(gz, 0, *index) if self.set_instead_of_inc else gz
        if _differentiable(y):
            gy = _sum_to(self.getter()(gz, *index), y.type)
        return [gx, gy] + [None] * len(index)

    def R_op(self, inputs, eval_points):
        ex, ey = eval_points[:2]
        if ex is None and ey is None:
            return [None]
        ex = math.zeros_like(inputs[0]) if ex is None else ex
        ey = math.zeros_like(inputs[1]) if ey is None else ey
        return [self(ex, ey, *inputs[2:])]

    def _runtime(self, node: Apply, advanced: bool) -> Callable:
        """f(x, y, index) -> new array: NumPy assignment, or np.add.at so repeats accumulate."""
        y_type, op, set_ = node.inputs[1].type, self, self.set_instead_of_inc
        check = None in y_type.shape

        def run(x: np.ndarray, y: np.ndarray, index: Any) -> np.ndarray:
            out = x.copy()
            if check:
                _check_value_shape(op, y, y_type, out[index].shape)
            if set_:
                out[index] = y
            elif advanced:
                np.add.at(out, index, y)
            else:
                out[index] += y
            return out

        return run


class _IndexSetter(_Setter):
    """Inc/Set with an idx_list: make_node and the runtime shared by the two idx_list setters."""

    __props__ = ("idx_list", "set_instead_of_inc")
    getter_class: type[_Getter]

    def __init__(self, idx_list: Sequence[Any], set_instead_of_inc: bool = False) -> None:
        getter = self.getter_class.__name__
        self.idx_list = _check_entries(getter, idx_list, self.getter_class.basic)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self) -> str:
        mode = "Set" if self.set_instead_of_inc else "Inc"
        return f"{type(self).__name__}{{{mode};{self._index_str()}}}"

    def getter(self) -> Op:
        return self.getter_class(self.idx_list)

    def setter(self) -> Op:
        return type(self)(self.idx_list, True)

    def make_node(self, x: Any, y: Any, *inputs: Any) -> Apply:
        x = as_tensor_variable(x)
        index = _index_inputs(self, self.idx_list, inputs)
        _check_index_count(self, x, self.idx_list)
        y = _prepare_value(self, x, y, _static_shape(x, self.idx_list, index))
        return Apply(self, [x, y, *index], [x.type()])

    def numpy_callable(self, node: Apply):
        build = _index_builder(self.idx_list)
        run = self._runtime(node, advanced=not self.getter_class.basic)
        return lambda x, y, *values: run(x, y, build(values))


class IncSubtensor(_IndexSetter):
    """`x[idx] += y` (or `= y` with set_instead_of_inc) for basic indices, on a copy of x.

    The gradient of Subtensor, and what set_subtensor/inc_subtensor build for basic indexing.
    """

    getter_class = Subtensor


class AdvancedIncSubtensor(_IndexSetter):
    """`x[idx] += y` / `x[idx] = y` for advanced indices; repeated indices accumulate on inc.

    The gradient of AdvancedSubtensor.
    """

    getter_class = AdvancedSubtensor


class AdvancedIncSubtensor1(_Setter):
    """`x[ilist] += y` (np.add.at: repeats accumulate) or `x[ilist] = y`, on a copy of x.

    The gradient of AdvancedSubtensor1 (e.g. of an embedding lookup `W[idx]`).
    """

    __props__ = ("set_instead_of_inc",)

    def __init__(self, set_instead_of_inc: bool = False) -> None:
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self) -> str:
        return f"{type(self).__name__}{{no_inplace,{'set' if self.set_instead_of_inc else 'inc'}}}"

    def getter(self) -> Op:
        return AdvancedSubtensor1()

    def setter(self) -> Op:
        return type(self)(True)

    def make_node(self, x: Any, y: Any, ilist: Any) -> Apply:
        sub = AdvancedSubtensor1().make_node(x, ilist)
        x, ilist = sub.inputs
        y = _prepare_value(self, x, y, sub.outputs[0].type.shape)
        return Apply(self, [x, y, ilist], [x.type()])

    def numpy_callable(self, node: Apply):
        return self._runtime(node, advanced=True)


_GETTERS = (Subtensor, AdvancedSubtensor, AdvancedSubtensor1)


# ---------------------------------------------------------------------------- user functions
def getitem(x: Any, index: Any) -> Variable:
    """NumPy/Theano indexing of a symbolic tensor; what `x[index]` calls.

    Ints, slices (constant or symbolic bounds), None, Ellipsis give a Subtensor view; integer
    arrays give AdvancedSubtensor1 (`W[idx]`) or AdvancedSubtensor; boolean masks select.

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> x[1:, ::-1], x[:, 0], x[[0, 2]], x[x > 0]  # doctest: +SKIP
    """
    x = as_tensor_variable(x)
    items = index if isinstance(index, tuple) else (index,)
    idx_list, inputs = _template(items)
    _check_index_count("indexing", x, idx_list)
    if all(
        isinstance(e, slice) or _is_scalar_marker(e) or e is None or e is Ellipsis for e in idx_list
    ):
        return _basic_getitem(x, idx_list, inputs)
    first, rest = str(idx_list[0]), idx_list[1:]
    if first.endswith("[:]") and first != "bool[:]" and all(e in (FULL, Ellipsis) for e in rest):
        return AdvancedSubtensor1()(x, inputs[0])  # W[idx]
    return AdvancedSubtensor(idx_list)(x, *inputs)


def _basic_getitem(x: Variable, idx_list: list[Any], inputs: list[Variable]) -> Variable:
    if Ellipsis in idx_list:
        at = idx_list.index(Ellipsis)
        idx_list[at : at + 1] = [FULL] * (x.ndim - _consumed_axes(idx_list))
    return Subtensor(idx_list)(x, *inputs) if idx_list else x


def inc_subtensor(
    x: Any,
    y: Any,
    inplace: bool = False,
    set_instead_of_inc: bool = False,
    tolerate_inplace_aliasing: bool = False,
) -> Variable:
    """The tensor indexed by `x` (an expression `a[idx]`) with `y` added at `idx` (Theano API).

    Returns a new tensor; `a` is never modified. Repeated advanced indices accumulate, as with
    np.add.at. `inplace` and `tolerate_inplace_aliasing` are accepted for Theano compatibility:
    the optimizer, not the caller, decides on in-place updates.

    Examples
    --------
    >>> w = labsym.tensor.dvector('w')
    >>> inc_subtensor(w[[0, 0, 2]], 1.0).eval({w: np.zeros(3)})  # doctest: +SKIP
    array([2., 0., 1.])
    """
    x = as_tensor_variable(x)
    node = x.owner
    if node is None or not isinstance(node.op, _GETTERS):
        made = f"made by {node.op}" if node is not None else "not the result of an operation"
        raise TypeError(
            f"set_subtensor/inc_subtensor: the first argument must be an indexing expression "
            f"such as x[idx]; got {x} ({made})"
        )
    base, index = node.inputs[0], node.inputs[1:]
    if isinstance(node.op, AdvancedSubtensor1):
        return AdvancedIncSubtensor1(set_instead_of_inc)(base, y, *index)
    return node.op.inc_op(set_instead_of_inc)(base, y, *index)


def set_subtensor(
    x: Any, y: Any, inplace: bool = False, tolerate_inplace_aliasing: bool = False
) -> Variable:
    """The tensor indexed by `x` (an expression `a[idx]`) with `y` stored at `idx` (Theano API).

    Returns a new tensor; `a` is never modified. `y` broadcasts to the shape of `a[idx]`.

    Examples
    --------
    >>> a = labsym.tensor.dmatrix('a')
    >>> b = set_subtensor(a[:, 0], 0.0)  # a copy of a, first column zeroed  # doctest: +SKIP
    """
    return inc_subtensor(x, y, inplace, True, tolerate_inplace_aliasing)


def take(a: Any, indices: Any, axis: int | None = None) -> Variable:
    """Elements of `a` at integer `indices` along `axis` (flattened `a` when None), as np.take.

    A convenience over advanced indexing, with NumPy's and Theano's signature.

    Examples
    --------
    >>> take(labsym.tensor.dmatrix('a'), [2, 0], axis=1)  # a[:, [2, 0]]  # doctest: +SKIP
    """
    a, indices = as_tensor_variable(a), _index_variable(indices)
    if indices.dtype == "bool":
        raise TypeError(f"take: indices must be integers, got {indices.type}")
    if axis is None:
        a, axis = (a if a.ndim == 1 else a.flatten()), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for {a} ({a.ndim} dimensions)")
    return getitem(a, (FULL,) * (axis % a.ndim) + (indices,))
