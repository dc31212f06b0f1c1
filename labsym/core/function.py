"""function(): from symbolic inputs, outputs and updates to a callable, given a Mode.

Normalizes inputs (Variables or In), outputs (Variable, list or Out), updates (pairs or an
ordered mapping), givens and default updates; builds the FunctionGraph, lets the mode's
rewriter edit it and its linker emit code, and wraps it in a Function. Never imports a
particular optimizer or backend: the Mode is injected. May import the rest of core.
"""

from __future__ import annotations

import copy as copy_module
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labsym.core.errors import raise_runtime_error
from labsym.core.fgraph import FunctionGraph, check_user_inplace
from labsym.core.graph import Constant, Variable, ancestors, clone_graph
from labsym.core.io import CallPlan, In, Mode, Out, Program, convert_function_input
from labsym.core.ops.deepcopy import insert_deepcopy
from labsym.core.profiling import ProfileStats
from labsym.core.shared import Container, SharedVariable, collect_default_updates
from labsym.core.type import exact_int_range


class UnusedInputError(ValueError):
    """An input of function() does not influence any output or update."""


class FunctionMaker:
    """What a Function was built from (Theano's `f.maker`): fgraph, inputs, outputs, mode.

    `updates` holds every (shared, expression) pair, default updates included, as the user's
    graph states them (before givens); `shared` the shared variables the function reads.
    """

    def __init__(
        self,
        fgraph: FunctionGraph,
        inputs: list[In],
        outputs: list[Out],
        mode: Mode,
        spec: dict,
        updates: list[tuple[SharedVariable, Variable]],
        shared: list[SharedVariable],
    ):
        self.fgraph = fgraph
        self.inputs = inputs
        self.outputs = outputs
        self.mode = mode
        self.spec = spec
        self.updates = updates
        self.shared = shared
        # the compile report's numbers (viz/display): set once compiling is done
        self.nodes_before = 0
        self.optimizer_time = 0.0
        self.linker_time = 0.0
        self.compile_time = 0.0


class Function:
    """A compiled function; call it with values for its inputs (positional or by name)."""

    _plan: CallPlan

    def __init__(
        self,
        maker: FunctionMaker,
        plan: CallPlan,
        program: Program,
        name: str | None,
        profile: Any,
    ) -> None:
        self.maker = maker
        self._plan = plan
        self._program = program
        self.name = name
        self.profile = profile

    def __repr__(self) -> str:
        args = ", ".join(str(i.name or i.variable) for i in self.maker.inputs)
        return f"<labsym.Function {self.name or ''}({args})>"

    # Theano's f[x], f.value[x], f.container[x]: by input index, variable or name
    def _finder(self) -> dict:
        finder = self.__dict__.get("_finder_cache")
        if finder is None:
            entries = [
                (spec.variable, spec.name, container, spec)
                for spec, container in zip(self.maker.inputs, self._plan.bind.containers)
            ] + [(var, var.name, var.container, var) for var in self.maker.shared]
            finder = {}
            for index, (var, name, container, owner) in enumerate(entries):
                finder[index] = finder[var] = (container, owner)
                if name is not None:
                    finder[name] = _DUPLICATE if name in finder else (container, owner)
            self.__dict__["_finder_cache"] = finder
        return finder

    def _lookup(self, key: Any) -> tuple[Container, Any]:
        try:
            found = self._finder()[key]
        except (KeyError, TypeError):
            names = [spec.name for spec in self.maker.inputs if spec.name]
            raise TypeError(
                f"Unknown input or state: {key}. Function {self.name or '<anonymous>'} has "
                f"{len(self.maker.inputs)} inputs (named: {names})"
            ) from None
        if found is _DUPLICATE:
            raise TypeError(
                f"Ambiguous name: {key} - please check the names of the inputs of your function "
                "for duplicates."
            )
        return found

    def __getitem__(self, key: Any) -> Any:
        return self._lookup(key)[0].value

    def __setitem__(self, key: Any, value: Any) -> None:
        container, owner = self._lookup(key)
        if isinstance(owner, SharedVariable):
            owner.set_value(value)
            return
        allow = owner.allow_downcast
        container.value = owner.variable.type.filter(value, owner.strict, allow)

    def __contains__(self, key: Any) -> bool:
        try:
            return key in self._finder()
        except TypeError:  # an unhashable key is no input
            return False

    @property
    def value(self) -> _ValueView:
        """Theano's `f.value[x]`: read or set the value kept for an input or shared variable."""
        return _ValueView(self)

    @property
    def container(self) -> _ContainerView:
        """Theano's `f.container[x]`: the storage cell of an input or shared variable."""
        return _ContainerView(self)

    @property
    def trust_input(self) -> bool:
        """Theano's flag: True skips argument binding and input checks (faster calls)."""
        return getattr(type(self).__call__, "__labsym_trusted__", False)

    @trust_input.setter
    def trust_input(self, value: bool) -> None:
        if bool(value) != self.trust_input:
            call = self._program.make_call(trusted=bool(value))
            call.__labsym_trusted__ = bool(value)
            type(self).__call__ = call

    def raw_call(self) -> Any:
        """A `call(self, *inputs) -> tuple` without checks, copies or updates (for inner loops)."""
        call = self._program.make_call(raw=True)
        return call

    @property
    def source(self) -> str:
        """The generated Python source of `__call__` (what actually runs)."""
        return type(self).__call__.__labsym_source__  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple:
        """Pickled as what it was compiled from; unpickling recompiles (as Theano did)."""
        spec = dict(self.maker.spec)
        mode = spec.pop("mode")
        return (_recompile, (spec, getattr(mode, "by_name", None) or mode))

    def __copy__(self) -> Function:
        return self.copy()

    def copy(
        self,
        share_memory: bool = False,
        swap: Mapping | None = None,
        delete_updates: bool = False,
        name: str | None = None,
        profile: Any = None,
    ) -> Function:
        """A new Function computing the same outputs, as Theano's `Function.copy`.

        `swap={old: new}` makes the copy read and update `new` instead of `old` (the original
        keeps `old`); `delete_updates=True` drops every update; the name defaults to the
        original's plus " copy". As in Theano, the copy returns its outputs as a list, other
        shared variables are the same objects, an input default starts at the original's
        current value and a stateful input (In with update) at its initial value.
        `share_memory` is accepted for Theano's signature: intermediate values live in each
        call's local variables, so two functions never share them whatever its value.
        """
        maker = self.maker
        swap = dict(swap or {})
        _check_swap(swap, maker.shared)
        inputs = []
        for spec, container in zip(maker.inputs, self._plan.bind.containers):
            new = copy_module.copy(spec)
            if spec.update is None and spec.value is not None:
                new.value = container.value
            if delete_updates:
                new.update = None
            inputs.append(new)
        spec = dict(maker.spec)
        givens = spec.get("givens") or []
        givens = list(givens.items()) if isinstance(givens, Mapping) else list(givens)
        if not name and self.name:
            name = self.name + " copy"
        if profile is None:
            profile = self.profile is not None
        if isinstance(profile, str):
            profile = ProfileStats(name=profile)
        spec.update(
            inputs=inputs,
            outputs=list(maker.outputs),
            updates=[] if delete_updates else [(swap.get(t, t), e) for t, e in maker.updates],
            no_default_updates=True,  # maker.updates already holds them
            givens=givens + list(swap.items()),
            name=name,
            profile=profile,
            on_unused_input="ignore",  # an input only the deleted updates used
            accept_inplace=True,
        )
        return function(**spec)


def _check_swap(swap: dict, used: list[SharedVariable]) -> None:
    for old, new in swap.items():
        if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
            raise TypeError(
                f"copy(swap=...) maps shared variables to shared variables, got {old!r}: {new!r}"
            )
        if old not in used:
            raise ValueError(f"SharedVariable: {old.name or old} not found in the function")
        if old.type != new.type:
            raise TypeError(
                f"copy(swap=...): {new.name or new} has type {new.type}, but the shared variable "
                f"it replaces ({old.name or old}) has type {old.type}"
            )


class _ValueView:
    """`f.value`: item access to the values a function keeps (Theano's ValueAttribute)."""

    __slots__ = ("_function",)

    def __init__(self, function: Function) -> None:
        self._function = function

    def __getitem__(self, key: Any) -> Any:
        return self._function[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._function[key] = value

    def __contains__(self, key: Any) -> bool:
        return key in self._function


class _ContainerView:
    """`f.container`: item access to the storage cells themselves (Theano's ContainerAttribute)."""

    __slots__ = ("_function",)

    def __init__(self, function: Function) -> None:
        self._function = function

    def __getitem__(self, key: Any) -> Container:
        return self._function._lookup(key)[0]

    def __contains__(self, key: Any) -> bool:
        return key in self._function


_DUPLICATE = object()


class _Binder:
    """Maps positional and keyword arguments (with In defaults) to the argument tuple.

    Every input has a Container (Theano's `f.container[x]`); only inputs with a default value
    or an update may be left out of a call, and then their container's value is used.
    """

    def __init__(self, inputs: list[In], fname: str) -> None:
        self.inputs = inputs
        self.fname = fname
        self.containers: list[Container] = []
        for spec in inputs:
            value = spec.value
            if value is not None:
                value = spec.variable.type.filter(value, allow_downcast=True)
            self.containers.append(Container(spec.variable.type, value, spec.name))
        self.optional = {
            i for i, spec in enumerate(inputs) if spec.value is not None or spec.update is not None
        }
        self.positions = {spec.name: i for i, spec in enumerate(inputs) if spec.name}

    def __call__(self, args: tuple, kwargs: dict) -> tuple:
        n = len(self.inputs)
        if len(args) > n:
            raise TypeError(
                f"function {self.fname} takes {n} inputs, got {len(args)} positional arguments"
            )
        values: list[Any] = list(args) + [_MISSING] * (n - len(args))
        for key, value in kwargs.items():
            if key not in self.positions:
                raise TypeError(
                    f"function {self.fname} has no input named {key!r}; "
                    f"inputs: {list(self.positions)}"
                )
            i = self.positions[key]
            if values[i] is not _MISSING:
                raise TypeError(f"function {self.fname}: input {key!r} given twice")
            values[i] = value
        for i, value in enumerate(values):
            if value is _MISSING:
                if i in self.optional and self.containers[i].value is not None:
                    values[i] = self.containers[i].value
                else:
                    spec = self.inputs[i]
                    raise TypeError(
                        f"function {self.fname}: missing required input "
                        f"{spec.name or spec.variable} (position {i})"
                    )
        return tuple(values)


_MISSING = object()


def _fast_scalar_classes(var: Variable, allow: bool | None, strict: bool) -> dict[type, Any]:
    """Value classes a 0-d input converts with `np.asarray(value, dtype)` alone.

    Exactly the NumPy scalars and Python floats that the type's full filter would convert the
    same way (a safe cast, or any cast when downcasting is allowed): the per-call fast path
    for `f(np.float64(x))` and `f(0.5)`. A Python int's range is checked at the call.
    """
    vtype = var.type
    if strict or getattr(vtype, "ndim", None) != 0 or not hasattr(vtype, "numpy_dtype"):
        return {}
    dtype = vtype.numpy_dtype
    classes: dict[type, Any] = {}
    for scalar_class in {np.dtype(c).type for c in np.typecodes["All"] if c not in "OSUVMm"}:
        if allow or np.can_cast(scalar_class, dtype, casting="safe"):
            classes[scalar_class] = dtype
    if allow or dtype == np.float64 or (dtype.kind == "f" and allow is None):
        classes[float] = dtype
    if allow:
        classes[int] = dtype
    return classes


def _input_filter(spec: In, index: int, fname: str, allow_input_downcast: bool | None):
    var = spec.variable
    allow = spec.allow_downcast if spec.allow_downcast is not None else allow_input_downcast
    where = f"\nThe input variable was created at {var.trace}" if var.trace else ""
    fast = _fast_scalar_classes(var, allow, spec.strict)
    ints = exact_int_range(var.type.numpy_dtype) if fast and not allow else None
    low, high = ints if ints is not None else (1, 0)
    asarray = np.asarray
    dtype = getattr(var.type, "numpy_dtype", None)

    def filter_input(value: Any) -> Any:
        cls = value.__class__
        if cls in fast:
            return asarray(value, fast[cls])
        if cls is int and low <= value <= high:
            return asarray(value, dtype)
        if value is None:
            raise TypeError(
                f"Bad input argument {spec.name or var!s} at index {index} (0-based) to function "
                f"{fname}: the input is missing (None was given), expected a value of type "
                f"{var.type}{where}"
            )
        try:
            return var.type.filter(value, strict=spec.strict, allow_downcast=allow)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Bad input argument {spec.name or var!s} at index {index} (0-based) to function "
                f"{fname}: expected {var.type}: {exc}{where}"
            ) from None

    return filter_input


def _normalize_updates(updates: Any) -> list[tuple[SharedVariable, Any]]:
    if updates is None:
        return []
    if isinstance(updates, (set, frozenset)):
        raise TypeError(
            "updates must be ordered (a list of (shared, expression) pairs or a dict/OrderedDict): "
            "iterating a set is not deterministic, so the compiled function could differ between "
            "runs"
        )
    pairs = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(
                f"each update must be a (shared_variable, new_expression) pair, got {pair!r}"
            )
        out.append((pair[0], pair[1]))
    return out


def _check_update(target: Any, expr: Any) -> Variable:
    from labsym.core.variable import as_tensor_variable

    if not isinstance(target, SharedVariable):
        raise TypeError(
            f"update target {target} is not a shared variable; only shared variables can be updated"
        )
    value = as_tensor_variable(expr)
    if value.type == target.type or target.type.is_super(value.type):
        return value
    if value.ndim != target.ndim:
        raise TypeError(
            f"update of shared variable {target} ({target.type}) has {value.ndim} dims "
            f"({value.type}); an update must keep the variable's type"
        )
    if value.dtype != target.dtype:
        raise TypeError(
            f"update of shared variable {target} ({target.type}) has dtype {value.dtype} "
            f"({value.type}); cast it with .astype('{target.dtype}') so the shared value keeps "
            "its type"
        )
    from labsym.core.ops.shape import specify_shape

    return specify_shape(value, target.type.shape)


def _apply_givens(variables: list, givens: Any, rebuild_strict: bool) -> list:
    if not givens:
        return variables
    pairs = list(givens.items()) if isinstance(givens, Mapping) else list(givens)
    from labsym.core.variable import as_tensor_variable

    memo = {}
    for old, new in pairs:
        if not isinstance(new, Variable):  # Theano wraps a value in shared(value): its dtype
            new = as_tensor_variable(np.asarray(new))
        if rebuild_strict and old.type != new.type and not old.type.is_super(new.type):
            raise TypeError(
                f"givens: {old} has type {old.type} but its replacement {new} has type {new.type}"
            )
        memo[old] = new
    _, replaced, _ = clone_graph([], variables, memo=memo, copy_inputs=False)
    return replaced


def _collect_default_updates(outputs: list, updates: list, no_default_updates: Any) -> list:
    targets = {t for t, _ in updates}
    skip_all = no_default_updates is True
    skip = set(no_default_updates) if isinstance(no_default_updates, (list, tuple)) else set()
    if skip_all:
        return []
    return collect_default_updates(outputs + [u for _, u in updates], targets, skip)


def function(
    inputs: Sequence[Any] = (),
    outputs: Any = None,
    mode: Mode | None = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: Any = False,
    accept_inplace: bool = False,
    name: str | None = None,
    rebuild_strict: bool = True,
    allow_input_downcast: bool | None = None,
    profile: Any = None,
    on_unused_input: str = "raise",
    allow_gc: bool = True,
) -> Function:
    """Compile outputs and updates of symbolic inputs into a Function, using `mode`."""
    if mode is None:
        raise TypeError("core.function.function needs a Mode; use labsym.function")
    spec_args = dict(locals())
    t_start = time.perf_counter()
    if isinstance(inputs, Variable):
        inputs = [inputs]
    in_specs = [convert_function_input(spec, i) for i, spec in enumerate(inputs)]
    structure, out_specs = _normalize_outputs(outputs)
    _check_inputs(in_specs)
    update_pairs = [(t, _check_update(t, e)) for t, e in _normalize_updates(updates)]
    _check_duplicate_targets(update_pairs)
    update_pairs += [
        (t, _check_update(t, e))
        for t, e in _collect_default_updates(
            [o.variable for o in out_specs], update_pairs, no_default_updates
        )
    ]
    # In(x, value=..., update=...): the function keeps x's value and updates it after each call
    stateful = [(i, spec.update) for i, spec in enumerate(in_specs) if spec.update is not None]
    roots = (
        [o.variable for o in out_specs] + [e for _, e in update_pairs] + [u for _, u in stateful]
    )
    roots = _apply_givens(roots, givens, rebuild_strict)
    explicit = [spec.variable for spec in in_specs]
    shared_vars = [
        v for v in ancestors(roots, explicit) if isinstance(v, SharedVariable) and v not in explicit
    ]
    _check_unused(in_specs, roots, on_unused_input)
    fgraph = FunctionGraph(explicit + shared_vars, roots)
    updated_shared = {t for t, _ in update_pairs}  # Theano's In(shared, update=...) is mutable
    mutable = [s.mutable for s in in_specs] + [v in updated_shared for v in shared_vars]
    check_user_inplace(fgraph, accept_inplace, [v for v, m in zip(fgraph.inputs, mutable) if not m])
    fname = name or "<anonymous>"
    prof = ProfileStats(name=fname) if profile is True else profile or None
    if prof is not None and prof.fgraph is not None:
        # its per-node lists belong to the function compiled first (its C code writes them)
        raise ValueError(
            f"function {fname!r}: this ProfileStats ({prof.name!r}) already profiles another "
            "function; labsym keeps one profile per function: pass profile=True or a new "
            "ProfileStats (p.merged([q, ...], title) sums several)"
        )
    nodes_before = len(fgraph.apply_nodes)
    t_rewrite = time.perf_counter()
    if mode.rewriter is not None:
        mode.rewriter(fgraph)
    # Theano's DeepCopyOp on outputs that are an input's or a constant's memory
    shared_inputs = dict(zip(shared_vars, fgraph.inputs[len(explicit) :], strict=True))
    updated = [shared_inputs[t] for t, _ in update_pairs if t in shared_inputs]
    updated += [fgraph.inputs[i] for i, _ in stateful]
    insert_deepcopy(fgraph, [o.borrow for o in out_specs], updated)
    t_link = time.perf_counter()
    binder = _Binder(in_specs, fname)
    n_out = len(out_specs)
    plan = CallPlan(
        fgraph=fgraph,
        explicit=[
            (fgraph.inputs[i], _input_filter(s, i, fname, allow_input_downcast), s)
            for i, s in enumerate(in_specs)
        ],
        shared=[(fgraph.inputs[len(explicit) + k], v.container) for k, v in enumerate(shared_vars)],
        outputs=[(k, o.borrow) for k, o in enumerate(out_specs)],
        updates=[(n_out + k, t.container) for k, (t, _) in enumerate(update_pairs)]
        + [
            (n_out + len(update_pairs) + k, binder.containers[i])
            for k, (i, _) in enumerate(stateful)
        ],
        structure=structure,
        allow_gc=allow_gc,
        profile=prof,
        bind=binder,
        fail=raise_runtime_error,
        mode=mode,
    )
    program = mode.linker.link(fgraph, plan)  # the backend schedules and emits the program
    call = program.make_call()
    cls = type("Function", (Function,), {"__call__": call, "__module__": Function.__module__})
    maker = FunctionMaker(fgraph, in_specs, out_specs, mode, spec_args, update_pairs, shared_vars)
    fn = cls(maker, plan, program, name, prof)
    attach = getattr(program, "attach", None)
    if attach is not None:  # a program that improves later (tiered C) swaps fn's __call__
        attach(fn)
    t_end = time.perf_counter()
    maker.nodes_before = nodes_before
    maker.optimizer_time, maker.linker_time = t_link - t_rewrite, t_end - t_link
    maker.compile_time = t_end - t_start
    if prof is not None:
        prof.optimizer_time, prof.linker_time = maker.optimizer_time, maker.linker_time
        prof.compile_time = maker.compile_time
    return fn


def _normalize_outputs(outputs: Any) -> tuple[str, list[Out]]:
    from labsym.core.variable import as_tensor_variable

    def one(o: Any) -> Out:
        if isinstance(o, Out):
            return Out(as_tensor_variable(o.variable), o.borrow)
        return Out(as_tensor_variable(o))

    if outputs is None:
        return "none", []
    if isinstance(outputs, (list, tuple)):
        return "list", [one(o) for o in outputs]
    return "single", [one(outputs)]


def _check_inputs(in_specs: list[In]) -> None:
    seen: set = set()
    for i, spec in enumerate(in_specs):
        var = spec.variable
        if not isinstance(var, Variable):
            raise TypeError(
                f"function input {i} is {var!r}, not a symbolic variable "
                "(inputs must be a list of variables)"
            )
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"cannot use shared variable {var} as explicit input {i}; shared variables are "
                "implicit inputs. Substitute a non-shared variable via givens if you need to"
            )
        if isinstance(var, Constant):
            raise TypeError(
                f"function input {i} ({var}) is a constant; inputs must be symbolic variables"
            )
        if var in seen:
            raise ValueError(f"variable {var} is given twice in the inputs list")
        seen.add(var)


def _check_duplicate_targets(pairs: list) -> None:
    seen: set = set()
    for target, _ in pairs:
        if target in seen:
            raise ValueError(f"shared variable {target} is updated twice in one function")
        seen.add(target)


def _check_unused(in_specs: list[In], roots: list, on_unused_input: str) -> None:
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be raise, warn or ignore, got {on_unused_input!r}")
    used = set(ancestors(roots, [s.variable for s in in_specs]))
    for i, spec in enumerate(in_specs):
        if spec.variable in used or on_unused_input == "ignore":
            continue
        msg = (
            "function was asked to create a function computing outputs given certain inputs, but "
            f"the provided input variable at index {i} is not part of the computational graph "
            f"needed to compute the outputs: {spec.variable}. To make this error into a warning, "
            "pass on_unused_input='warn'; to disable it, on_unused_input='ignore'."
        )
        if on_unused_input == "raise":
            raise UnusedInputError(msg)
        warnings.warn(msg, stacklevel=4)


def _recompile(spec: dict, mode: Any) -> Function:
    """Rebuild a pickled Function with the compiler labsym.compile injected into core."""
    from labsym.core import evaluation

    if evaluation._compiler is None:
        raise RuntimeError("import labsym before unpickling compiled functions")
    spec = {k: v for k, v in spec.items() if k not in ("allow_gc",)}
    return evaluation._compiler(mode=mode, **spec)
