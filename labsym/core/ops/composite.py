"""Composite: scalar-table records and argument refs run as one elementwise op (fusion's output).

May import core (graph, op, type, scalar, dtypes, variable) and core.ops.elemwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Constant, Variable, io_toposort
from labsym.core.op import Op
from labsym.core.ops.elemwise import (
    BroadcastError,
    DimShuffle,
    Elemwise,
    broadcast_static_shape,
    scalar_text,
)
from labsym.core.scalar import ZERO, LazyUfunc, ScalarOp
from labsym.core.type import TensorType

# An argument ref is ("input", k), ("step", j) for an earlier step, or ("constant", ScalarConstant).
Ref = tuple
Step = tuple[ScalarOp, tuple[Ref, ...]]


@dataclass(frozen=True, eq=False)
class ScalarConstant:
    """A constant inlined in a program; equal when dtype and bits are equal (so -0.0 != 0.0)."""

    dtype: str
    value: Any
    key: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "key", (self.dtype, np.asarray(self.value, dtype=self.dtype).tobytes())
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalarConstant) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return str(self.value)

    @property
    def numpy_value(self) -> Any:
        """The value as a NumPy scalar of its dtype (strong in promotion, like the graph's)."""
        return np.dtype(self.dtype).type(self.value)


class Composite(Op):
    """Several scalar-table records fused into one elementwise op over `n_inputs` inputs.

    `program` lists steps `(ScalarOp, argument refs)`; `outputs` names the steps returned;
    `dependencies[j]` is the set of inputs step j reads, directly or through earlier steps.
    Broadcasting, static shapes and dtypes follow Elemwise step by step, so a Composite computes
    exactly what the Elemwise graph it replaces computes, with fewer temporaries.
    `inplace_pattern` {output: input} (set by the inplace phase, as on Elemwise) writes that
    output into the input's buffer: `Elemwise{Composite{...}}[(0, 1)]`.
    """

    __props__ = ("n_inputs", "program", "outputs", "inplace_pattern")

    def __init__(
        self,
        n_inputs: int,
        program: Sequence[Step],
        outputs: Sequence[int],
        inplace_pattern: dict[int, int] | Sequence[tuple[int, int]] | None = None,
    ) -> None:
        self.n_inputs = int(n_inputs)
        self.program = tuple((spec, tuple(args)) for spec, args in program)
        self.outputs = tuple(int(o) for o in outputs)
        # as Elemwise's: output -> the input it is written into (set by the inplace phase)
        self.inplace_pattern = tuple(sorted(dict(inplace_pattern or {}).items()))
        self.destroy_map = {out: [inp] for out, inp in self.inplace_pattern}
        self._check_program()
        self.dependencies = _dependencies(self.program)
        for j in self.outputs:
            if not self.dependencies[j]:
                raise ValueError(f"Composite: output step {j} depends on no input")
        for out, inp in self.inplace_pattern:
            if not (0 <= out < len(self.outputs) and 0 <= inp < self.n_inputs):
                raise ValueError(f"Composite: inplace_pattern {{{out}: {inp}}} is out of range")
        self._text: str | None = None
        self._functions: dict[tuple, Callable[..., Any]] = {}  # per input types

    def _check_program(self) -> None:
        for j, (spec, args) in enumerate(self.program):
            if not isinstance(spec, ScalarOp) or len(args) != spec.nin:
                raise ValueError(
                    f"Composite: step {j} must be a ScalarOp with its "
                    f"{getattr(spec, 'nin', '?')} arguments, got {spec}{args}"
                )
            for ref in args:
                if not _valid_ref(ref, self.n_inputs, j):
                    raise ValueError(
                        f"Composite: step {j} ({spec}) refers to {ref}, "
                        "not an input, an earlier step or a constant"
                    )
        n_steps = len(self.program)
        if (
            not self.outputs
            or len(set(self.outputs)) != len(self.outputs)
            or not all(0 <= j < n_steps for j in self.outputs)
        ):
            raise ValueError(
                f"Composite: outputs must name distinct steps of the {n_steps}-step program, "
                f"got {self.outputs}"
            )

    def __str__(self) -> str:
        if self._text is None:  # rendered on demand: fusion builds many ops it never prints
            inplace = str(list(self.inplace_pattern)) if self.inplace_pattern else ""
            self._text = _render_text(self) + inplace  # Theano's Elemwise{Composite{..}}[(0, 1)]
        return self._text

    def without_inplace(self) -> Composite:
        """The same program allocating its outputs (this op if it already does)."""
        if not self.inplace_pattern:
            return self
        return Composite(self.n_inputs, self.program, self.outputs)

    @classmethod
    def from_graph(cls, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> Composite:
        """The Composite computing `outputs` from `inputs`, for a graph of Elemwise/Composite nodes.

        This is how fusion builds one; size-1 constants are inlined, other leaves must be inputs.
        """
        refs: dict[Variable, Ref] = {v: ("input", k) for k, v in enumerate(inputs)}
        program: list[Step] = []
        for node in io_toposort(list(inputs), list(outputs)):
            if _padded_literal(node.outputs[0]) is not None:
                continue  # `x + 1`'s InplaceDimShuffle{x}(TensorConstant{1}): a literal
            args = tuple(_leaf_ref(v, refs) for v in node.inputs)
            if isinstance(node.op, Composite):
                local = dict(enumerate(args))
                offset = len(program)
                for spec, inner in node.op.program:
                    program.append((spec, tuple(_shift(r, local, offset) for r in inner)))
                for out, j in zip(node.outputs, node.op.outputs, strict=True):
                    refs[out] = ("step", offset + j)
            elif isinstance(node.op, Elemwise) and not node.op.inplace_pattern:
                program.append((node.op.scalar_op, args))
                refs[node.outputs[0]] = ("step", len(program) - 1)
            else:
                raise ValueError(
                    f"Composite.from_graph: {node.op} is not an elementwise op without inplace"
                )
        out_refs = [refs.get(v) for v in outputs]
        if any(r is None or r[0] != "step" for r in out_refs):
            raise ValueError(
                "Composite.from_graph: every output must be computed by an Elemwise node"
            )
        return cls(len(inputs), program, [r[1] for r in out_refs])  # type: ignore[index]

    # ------------------------------------------------------------------ types
    def step_types(self, input_types: Sequence[TensorType]) -> list[TensorType]:
        """The type of every step's result for these input types (Elemwise's rules, per step)."""
        ndim = input_types[0].ndim if input_types else 0
        types: list[TensorType] = []
        for j, (spec, args) in enumerate(self.program):
            arg_types = [_ref_type(r, input_types, types, ndim) for r in args]
            try:
                shape = broadcast_static_shape("", arg_types) if ndim else ()
            except BroadcastError as exc:  # named here: formatting the name per step is costly
                raise BroadcastError(f"{self} step {j}{exc}") from None
            types.append(TensorType(_output_dtype(spec, tuple(t.dtype for t in arg_types)), shape))
        return types

    def make_node(self, *inputs: Any) -> Apply:
        from labsym.core.variable import as_tensor_variable

        if len(inputs) != self.n_inputs:
            raise TypeError(f"{self} takes {self.n_inputs} inputs, got {len(inputs)}")
        variables = [as_tensor_variable(x) for x in inputs]
        if len({v.ndim for v in variables}) > 1:
            shown = ", ".join(str(v.type) for v in variables)
            raise TypeError(f"{self}: inputs must have the same number of dimensions, got {shown}")
        types = self.step_types([v.type for v in variables])
        return Apply(self, variables, [types[j]() for j in self.outputs])

    def infer_shape(self, fgraph, node, input_shapes):
        from labsym.core.ops.shape import broadcast_shape_symbolic

        shapes = []
        for j in self.outputs:
            used = sorted(self.dependencies[j])
            shapes.append(
                broadcast_shape_symbolic(
                    [node.inputs[k].type for k in used], [input_shapes[k] for k in used]
                )
            )
        return shapes

    # ------------------------------------------------------------------ evaluation
    def _function_for(self, node: Apply) -> Callable[..., Any]:
        key = tuple(v.type for v in node.inputs)
        fn = self._functions.get(key)
        if fn is None:
            fn = self._functions[key] = numpy_function(self, key)
        return fn

    def numpy_callable(self, node: Apply) -> Callable[..., Any] | None:
        return self._function_for(node) if len(self.outputs) == 1 else None

    def perform(self, node, inputs, output_storage):
        results = self._function_for(node)(*inputs)
        if len(self.outputs) == 1:
            results = (results,)
        for store, value, var in zip(output_storage, results, node.outputs, strict=True):
            store[0] = np.asarray(value, dtype=var.dtype)

    # ------------------------------------------------------------------ derivatives
    def expand(self, *inputs: Variable) -> list[Variable]:
        """One Elemwise variable per step, applied to `inputs`: the unfused graph of the program."""
        from labsym.core.variable import constant

        ndim = inputs[0].ndim
        values: list[Variable] = []
        for spec, args in self.program:
            arg_vars = []
            for kind, what in args:
                if kind == "input":
                    arg_vars.append(inputs[what])
                elif kind == "step":
                    arg_vars.append(values[what])
                else:
                    arg_vars.append(constant(np.full((1,) * ndim, what.value, dtype=what.dtype)))
            values.append(Elemwise(spec)(*arg_vars))
        return values

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """Input k reaches output j only if the program reads it on the way to that output."""
        return [[k in self.dependencies[j] for j in self.outputs] for k in range(self.n_inputs)]

    def L_op(self, inputs, outputs, output_grads):
        from labsym.core.ops import math as m

        values = self.expand(*inputs)
        parts: dict[Ref, list] = {}
        for j, g in zip(self.outputs, output_grads, strict=True):
            if g is not None:
                parts.setdefault(("step", j), []).append(g)
        for j in reversed(range(len(self.program))):
            if ("step", j) not in parts:
                continue
            node = values[j].owner
            grads = node.op.L_op(node.inputs, node.outputs, [_total(parts[("step", j)])])
            for ref, g in zip(self.program[j][1], grads, strict=True):
                if ref[0] != "constant" and g is not None and g is not ZERO:
                    parts.setdefault(ref, []).append(g)
        result = []
        for k, inp in enumerate(inputs):
            if not (dtypes.is_float(inp.dtype) or inp.dtype in dtypes.COMPLEX_DTYPES):
                result.append(None)
            else:
                result.append(
                    _total(parts[("input", k)]) if ("input", k) in parts else m.zeros_like(inp)
                )
        return result

    def R_op(self, inputs, eval_points):
        values = self.expand(*inputs)
        tangents: dict[Ref, Any] = {
            ("input", k): v for k, v in enumerate(eval_points) if v is not None
        }
        for j, (_, args) in enumerate(self.program):
            points = [tangents.get(r) for r in args]
            if any(p is not None for p in points):
                node = values[j].owner
                tangents[("step", j)] = node.op.R_op(node.inputs, points)[0]
        return [tangents.get(("step", j)) for j in self.outputs]


def _valid_ref(ref: Any, n_inputs: int, step: int) -> bool:
    """Whether `ref` names an input, a step before `step`, or an inlined constant."""
    if not (isinstance(ref, tuple) and len(ref) == 2):
        return False
    kind, what = ref
    if kind == "constant":
        return isinstance(what, ScalarConstant)
    limit = {"input": n_inputs, "step": step}.get(kind, 0)
    return isinstance(what, int) and 0 <= what < limit


def _total(parts: list) -> Any:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _padded_literal(var: Variable) -> Constant | None:
    """The size-1 constant `var` is, possibly seen through the DimShuffles that pad it."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if isinstance(var, Constant) and np.size(var.data) == 1 else None


def _leaf_ref(var: Variable, refs: dict[Variable, Ref]) -> Ref:
    if var in refs:
        return refs[var]
    var = _padded_literal(var) or var
    if isinstance(var, Constant) and np.size(var.data) == 1:
        data = np.asarray(var.data)
        return ("constant", ScalarConstant(data.dtype.name, data.reshape(()).item()))
    raise ValueError(
        f"Composite.from_graph: {var} ({var.type}) is neither an input nor a size-1 constant"
    )


def _shift(ref: Ref, local: dict[int, Ref], offset: int) -> Ref:
    """An inner Composite's ref, seen from the program it is inlined into."""
    if ref[0] == "input":
        return local[ref[1]]
    if ref[0] == "step":
        return ("step", ref[1] + offset)
    return ref


def _ref_type(
    ref: Ref, input_types: Sequence[TensorType], step_types: list[TensorType], ndim: int
) -> TensorType:
    kind, what = ref
    if kind == "input":
        return input_types[what]
    if kind == "step":
        return step_types[what]
    return TensorType(what.dtype, (1,) * ndim)


def _dependencies(program: tuple[Step, ...]) -> list[frozenset[int]]:
    """For each step, the inputs it reads directly or through earlier steps."""
    deps: list[frozenset[int]] = []
    for _, args in program:
        found: set[int] = set()
        for kind, what in args:
            if kind == "input":
                found.add(what)
            elif kind == "step":
                found |= deps[what]
        deps.append(frozenset(found))
    return deps


# ---------------------------------------------------------------------- readable text
# Theano's scalar pprint: these print as parenthesized operators, everything else as a call
_OPERATORS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "true_div": "/",
    "int_div": "//",
    "pow": "**",
    "mod": "%",
    "neg": "-",
}
_LONGEST = 4000  # beyond this, steps read several times print once, as t<j> (Theano's names)


def _render_text(op: Composite) -> str:
    """Theano's `Elemwise{Composite{((-i0) * i1) + exp(i2)}}`: the formula of each output."""
    text = _formula(op, set())
    if len(text) > _LONGEST:  # a shared step repeated in full would blow up the text
        uses: dict[int, int] = {}
        for _, args in op.program:
            for kind, what in args:
                if kind == "step":
                    uses[what] = uses.get(what, 0) + 1
        text = _formula(op, {j for j, n in uses.items() if n > 1})
    return "Elemwise{Composite{" + text + "}}"


def _formula(op: Composite, named: set[int]) -> str:
    texts: list[str] = []
    for spec, args in op.program:
        parts = [_arg_text(ref, texts, named) for ref in args]
        name = spec.name
        if name in _OPERATORS and len(parts) == 1:
            texts.append(f"({_OPERATORS[name]}{parts[0]})")
        elif name in _OPERATORS:
            texts.append("(" + f" {_OPERATORS[name]} ".join(parts) + ")")
        else:
            texts.append(f"{scalar_text(spec)}({', '.join(parts)})")
    lets = "".join(f"t{j}={texts[j]}; " for j in sorted(named))
    return lets + ", ".join(_arg_text(("step", j), texts, set()) for j in op.outputs)


def _arg_text(ref: Ref, texts: list[str], named: set[int]) -> str:
    kind, what = ref
    if kind == "input":
        return f"i{what}"
    if kind == "constant":
        return str(what)
    return f"t{what}" if what in named else texts[what]


# ---------------------------------------------------------------------- NumPy evaluation
_counter = itertools.count()


@lru_cache(maxsize=1024)
def numpy_function(op: Composite, input_types: tuple[TensorType, ...]) -> Callable[..., Any]:
    """One generated Python function evaluating `op` with NumPy ufuncs for these input types.

    Each ufunc writes into a temporary that is dead after it (`out=`), so a fused expression
    allocates fewer large arrays than the same expression written with NumPy operators.
    """
    source, namespace = _NumpyProgram(op, input_types).render()
    exec(compile(source, f"<labsym-composite-{next(_counter)}>", "exec"), namespace)  # noqa: S102 - our code
    fn = namespace["composite"]
    fn.__labsym_source__ = source
    return fn


@lru_cache(maxsize=4096)
def _output_dtype(spec: ScalarOp, arg_dtypes: tuple[str, ...]) -> str:
    return spec.output_dtype(list(arg_dtypes))


@lru_cache(maxsize=4096)
def _natural_dtype(impl: Any, arg_dtypes: tuple[str, ...], fallback: str) -> str:
    """The dtype NumPy's implementation produces for these dtypes (as Elemwise decides casts)."""
    samples = [np.ones((1,), dtype=d) for d in arg_dtypes]
    with np.errstate(all="ignore"):
        try:
            return np.asarray(impl(*samples)).dtype.name
        except (TypeError, ValueError):
            return fallback


def _cast_result(impl: Any, dtype: np.dtype) -> Callable[..., Any]:
    def cast_impl(*args):
        return np.asarray(impl(*args)).astype(dtype, copy=False)

    return cast_impl


def _raise_mismatch(op: Composite, axis: int, members: tuple[int, ...], *arrays: Any) -> None:
    first = arrays[0].shape[axis]
    for k, a in zip(members[1:], arrays[1:], strict=True):
        if a.shape[axis] != first:
            raise ValueError(
                f"Input dimension mis-match in {op}: "
                f"input[{members[0]}].shape[{axis}] = {first}, "
                f"input[{k}].shape[{axis}] = {a.shape[axis]} "
                "(a length-1 axis is only broadcast when its type is broadcastable)"
            )


class _NumpyProgram:
    """Renders a Composite as Python source over NumPy ufuncs, reusing dead temporaries."""

    def __init__(self, op: Composite, input_types: tuple[TensorType, ...]) -> None:
        self.op = op
        self.input_types = input_types
        self.ndim = input_types[0].ndim if input_types else 0
        self.types = op.step_types(input_types)
        self.namespace: dict[str, Any] = {"_mismatch": partial(_raise_mismatch, op)}
        self.signatures, self.checks = self._shape_classes()

    def _shape_classes(self) -> tuple[list[tuple], list[tuple[int, tuple[int, ...]]]]:
        """Per step, a key equal for steps of equal runtime shape; and the runtime checks.

        On each axis, inputs that are not statically 1 and meet in one step must have equal
        lengths (Elemwise checks them node by node); union-find groups them into classes.
        """
        parent: dict[tuple[int, int], tuple[int, int]] = {}

        def find(key: tuple[int, int]) -> tuple[int, int]:
            root = parent.setdefault(key, key)
            while root != parent[root]:
                root = parent[root]
            parent[key] = root
            return root

        deps = self.op.dependencies
        for step_deps in deps:
            for axis in range(self.ndim):
                members = [k for k in sorted(step_deps) if self.input_types[k].shape[axis] != 1]
                for k in members[1:]:
                    parent[find((axis, k))] = find((axis, members[0]))
        signatures = []
        for j, t in enumerate(self.types):
            key: list[Any] = []
            for axis, dim in enumerate(t.shape):
                if dim is not None:
                    key.append(dim)
                else:
                    k = min(k for k in deps[j] if self.input_types[k].shape[axis] != 1)
                    key.append(find((axis, k)))
            signatures.append(tuple(key))
        classes: dict[tuple[int, int], list[int]] = {}
        for axis, k in sorted(parent):
            classes.setdefault(find((axis, k)), []).append(k)
        checks = [
            (axis, tuple(members))
            for (axis, _), members in sorted(classes.items())
            if len(members) > 1 and any(self.input_types[k].shape[axis] is None for k in members)
        ]
        return signatures, checks

    def _step_call(self, j: int, arg_dtypes: list[str]) -> tuple[str, bool]:
        """Namespace name of step j's function and whether it is a ufunc taking `out=`/`dtype=`."""
        spec = self.op.program[j][0]
        impl = spec.impl.resolve() if isinstance(spec.impl, LazyUfunc) else spec.impl
        out_dtype = self.types[j].dtype
        is_ufunc = isinstance(impl, np.ufunc)
        cast = _natural_dtype(impl, tuple(arg_dtypes), out_dtype) != out_dtype
        if cast and not is_ufunc:
            impl = _cast_result(impl, np.dtype(out_dtype))
        self.namespace[f"_f{j}"] = impl
        if cast and is_ufunc:
            self.namespace[f"_d{j}"] = np.dtype(out_dtype)
            return f"_f{j}", True
        return f"_f{j}", is_ufunc

    def render(self) -> tuple[str, dict[str, Any]]:
        op = self.op
        lines = [f"def composite({', '.join(f'i{k}' for k in range(op.n_inputs))}):"]
        for axis, members in self.checks:
            shapes = " == ".join(f"i{k}.shape[{axis}]" for k in members)
            arrays = ", ".join(f"i{k}" for k in members)
            lines.append(f"    if not ({shapes}): _mismatch({axis}, {members}, {arrays})")
        into = dict(op.inplace_pattern).get(0)
        if into is not None:  # the destroyed input, if its buffer can take the result
            self.namespace["_ndarray"] = np.ndarray
            lines.append(
                f"    _out = i{into} if i{into}.__class__ is _ndarray and "
                f"i{into}.flags.writeable else None"
            )
        last_use = {j: j for j in range(len(op.program))}
        for j, (_, args) in enumerate(op.program):
            last_use.update((what, j) for kind, what in args if kind == "step")
        for j in op.outputs:
            last_use[j] = len(op.program)  # outputs stay live: never reused as temporaries
        names: dict[int, str] = {}
        owned: set[int] = set()  # steps whose result is an ndarray this function allocated
        free: list[tuple[str, str, tuple]] = []  # dead temporaries: (name, dtype, shape class)
        for j, (_, args) in enumerate(op.program):
            texts, arg_dtypes = self._arguments(args, names)
            fn, is_ufunc = self._step_call(j, arg_dtypes)
            for kind, what in dict.fromkeys(args):
                if kind == "step" and last_use[what] == j and what in owned:
                    free.append((names[what], self.types[what].dtype, self.signatures[what]))
            kw = f", dtype=_d{j}" if f"_d{j}" in self.namespace else ""
            last = into is not None and j == op.outputs[0] == len(op.program) - 1
            if last and is_ufunc:  # one ufunc call: NumPy handles `out` overlapping its inputs
                names[j] = f"t{j}"
                lines.append(f"    t{j} = {fn}({texts}, out=_out{kw})")
                continue
            if is_ufunc and self._is_array(j):
                owned.add(j)
                target = self._take_buffer(j, free)
                if target is not None:
                    lines.append(f"    {fn}({texts}, out={target}{kw})")
                    names[j] = target
                    continue
            names[j] = f"t{j}"
            lines.append(f"    t{j} = {fn}({texts}{kw})")
        if into is not None and not (is_ufunc and op.outputs[0] == len(op.program) - 1):
            self.namespace["_copyto"] = np.copyto
            result = names[op.outputs[0]]
            lines.append(f"    if _out is not None: _copyto(_out, {result}); {result} = _out")
        results = ", ".join(names[j] for j in op.outputs)
        lines.append(f"    return {results}" + ("," if len(op.outputs) > 1 else ""))
        return "\n".join(lines) + "\n", self.namespace

    def _arguments(self, args: tuple[Ref, ...], names: dict[int, str]) -> tuple[str, list[str]]:
        """The argument list's source text and the arguments' dtypes."""
        texts, arg_dtypes = [], []
        for kind, what in args:
            if kind == "input":
                texts.append(f"i{what}")
                arg_dtypes.append(self.input_types[what].dtype)
            elif kind == "step":
                texts.append(names[what])
                arg_dtypes.append(self.types[what].dtype)
            else:
                key = f"_c{len(self.namespace)}"
                self.namespace[key] = what.numpy_value
                texts.append(key)
                arg_dtypes.append(what.dtype)
        return ", ".join(texts), arg_dtypes

    def _is_array(self, j: int) -> bool:
        """Whether step j's result is an ndarray we own (not a NumPy scalar): a reusable buffer."""
        return self.ndim > 0 and bool(self.op.dependencies[j])

    def _take_buffer(self, j: int, free: list[tuple[str, str, tuple]]) -> str | None:
        want = (self.types[j].dtype, self.signatures[j])
        # the most recently freed first: an argument dying here, so the op runs in place
        for index in reversed(range(len(free))):
            name, dtype, signature = free[index]
            if (dtype, signature) == want:
                del free[index]
                return name
        return None
