"""Generates a compiled function's `__call__` as straight-line Python over local variables.

Input checks, shared-value reads, the linker's per-node statements, output copies and the
all-or-nothing commit of updates become one code object: no interpreter loop, no per-call
bookkeeping. The NumPy engine's program. May import core and backends.python.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.backends.python.schedule import Statement, statements
from labsym.core.aliasing import alias_roots
from labsym.core.errors import register_generated
from labsym.core.graph import Apply, Constant, Variable
from labsym.core.io import CallPlan, NodeCode

_counter = itertools.count()


def _input_check(name: str, var: Variable, k: int) -> str:
    conds = [
        f"{name}.__class__ is not _nd",
        f"{name}.dtype is not _dt{k}",
        f"{name}.ndim != {var.type.ndim}",
    ]
    for axis, dim in enumerate(var.type.shape):
        if dim is not None:
            conds.append(f"{name}.shape[{axis}] != {dim}")
    return f"    if {' or '.join(conds)}: {name} = _filter{k}({name})"


class _Names:
    def __init__(self) -> None:
        self.names: dict[Variable, str] = {}

    def __getitem__(self, var: Variable) -> str:
        if var not in self.names:
            self.names[var] = f"v{len(self.names)}"
        return self.names[var]


def generate_call(plan: CallPlan, trusted: bool = False, raw: bool = False):
    """Build the `__call__(self, *args, **kwargs)` function for a plan.

    `trusted` (Theano's `f.trust_input`) drops keyword binding and input checks: the caller
    promises positional ndarrays of exactly the declared dtypes, as scan's step loop does.
    `raw` (implies trusted) also returns the output values as computed, in a tuple, without
    copies or 0-d conversion: for callers that copy them into their own storage at once.
    """
    trusted = trusted or raw
    fg = plan.fgraph
    names = _Names()
    ns: dict[str, Any] = {
        "_nd": np.ndarray,
        "_asarray": np.asarray,
        "_copy": np.array,
        "_bind": plan.bind,
    }
    ns["_fail"] = plan.fail
    n_args = len(plan.explicit)
    arg_names = ", ".join(names[v] for v, _, _ in plan.explicit)
    header = (
        f"def __call__(self, {arg_names}):" if trusted else "def __call__(self, *args, **kwargs):"
    )
    lines = [header]
    # before binding: a left-out stateful input's value is read by the binder
    locked = _emit_update_locks(plan, ns, lines, raw)
    if not trusted:
        lines.append(f"    if kwargs or len(args) != {n_args}:")
        lines.append("        args = _bind(args, kwargs)")
        if n_args:
            lines.append(f"    {arg_names}, = args")
        for k, (var, filt, _) in enumerate(plan.explicit):
            ns[f"_dt{k}"] = var.type.numpy_dtype
            ns[f"_filter{k}"] = filt
            lines.append(_input_check(names[var], var, k))
    for k, (var, container) in enumerate(plan.shared):
        ns[f"_c{k}"] = container
        lines.append(f"    {names[var]} = _c{k}.value")
    for var in fg.variables:
        if isinstance(var, Constant):
            key = f"_k{len(ns)}"
            ns[key] = var.data
            names.names[var] = key
    if plan.profile is not None:
        ns["_perf"] = time.perf_counter
        ns["_prof"] = plan.profile
        ns["_pt"] = plan.profile.node_times
        ns["_pc"] = plan.profile.node_calls
        ns["_ps"] = plan.profile.node_run_shapes
        lines.append("    _t_call = _perf()")
    lines.append("    try:")
    for nc in plan.node_codes:
        ns.update(nc.namespace)
        if nc.prologue:
            lines.append("        " + nc.prologue)

    def body_of(index: int, nc: NodeCode) -> list[str]:
        node = nc.node
        fmt = {f"in{i}": names[v] for i, v in enumerate(node.inputs)}
        fmt.update({f"out{i}": names[v] for i, v in enumerate(node.outputs)})
        body = nc.code.format(**fmt).splitlines()
        if plan.profile is not None:
            shapes = "".join(f"getattr({names[v]}, 'shape', None), " for v in node.outputs)
            if index in plan.profile.timed_in_c:  # its C code adds the kernel's time itself
                body = body + [f"_pc[{index}] += 1"]
            else:
                body = ["_t = _perf()"] + body
                body.append(f"_pt[{index}] += _perf() - _t; _pc[{index}] += 1")
            body.append(f"_ps[{index}] = ({shapes})")  # the output shapes of the last call
        return body

    flat = statements(fg, plan.node_codes, names, body_of)
    line_nodes: dict[int, Any] = {}
    last_use = _last_uses(flat)
    keep = set(fg.inputs) | set(fg.outputs)
    for position, stmt in enumerate(flat):
        indent = "        " + "    " * stmt.depth
        for text in stmt.lines:
            lines.append(indent + text)
            line_nodes[len(lines)] = stmt.node
        if plan.allow_gc and stmt.may_free_after:
            dead = [
                v
                for v in last_use.get(position, ())
                if v not in keep and not isinstance(v, Constant)
            ]
            if dead:
                lines.append(indent + "del " + ", ".join(names[v] for v in dead))
    lines.append("        pass")
    lines.append("    except Exception as _exc:")
    lines.append("        _fail(self, _exc, locals())")
    inputs = set(fg.inputs)
    if raw:
        if plan.updates:
            raise ValueError("a raw call cannot commit updates")
        outs = "".join(f"{names[fg.outputs[index]]}, " for index, _ in plan.outputs)
        lines.append(f"    return ({outs})")
        return _finish(plan, names, ns, lines, line_nodes)
    results = _emit_outputs(plan, names, lines, inputs)
    _emit_updates(plan, names, lines, inputs)
    if plan.profile is not None:
        lines.append("    _prof.call_time += _perf() - _t_call; _prof.call_count += 1")
    if plan.structure == "single":
        lines.append(f"    return {results[0]}")
    elif plan.structure == "list":
        lines.append("    return [" + ", ".join(results) + "]")
    else:
        lines.append("    return []")
    ns.update({f"_uc{k}": container for k, (_, container) in enumerate(plan.updates)})
    if locked is not None:  # the lines run while holding the update locks
        start, n_locks = locked
        lines[start:] = ["    " + line for line in lines[start:]]
        lines.append("    finally:")
        lines.append("        " + "; ".join(f"_release{k}()" for k in reversed(range(n_locks))))
    return _finish(plan, names, ns, lines, line_nodes)


def _emit_update_locks(
    plan: CallPlan, ns: dict[str, Any], lines: list[str], raw: bool
) -> tuple[int, int] | None:
    """Acquire the locks of the containers the call updates, then open a `try:` block.

    Holding them from the reads of shared values to the commit makes a call atomic with
    respect to every other call updating one of the same variables. Locks are taken in one
    global order (by the containers' ids, which cannot change while the plans hold them), so
    two functions updating overlapping sets cannot deadlock. A call without updates takes no
    lock. Bound acquire/release methods in try/finally cost half of a `with` statement.
    Returns the index of the block's first line (indented once all are emitted) and the
    number of locks, or None.
    """
    if raw or not plan.updates:
        return None
    containers = {id(container): container for _, container in plan.updates}
    ordered = [containers[key] for key in sorted(containers)]
    for k, container in enumerate(ordered):
        ns[f"_acquire{k}"] = container.lock.acquire
        ns[f"_release{k}"] = container.lock.release
    lines.append("    " + "; ".join(f"_acquire{k}()" for k in range(len(ordered))))
    lines.append("    try:")
    return len(lines), len(ordered)


def _finish(plan: CallPlan, names: _Names, ns: dict[str, Any], lines: list[str], line_nodes: dict):
    """Compile the generated source into the `__call__` function."""
    source = "\n".join(lines) + "\n"
    filename = f"<labsym-function-{next(_counter)}>"
    plan.line_nodes[filename] = line_nodes
    register_generated(filename, plan)
    exec(compile(source, filename, "exec"), ns)  # noqa: S102 - our own generated code
    fn = ns["__call__"]
    fn.__labsym_source__ = source
    plan.local_names = dict(names.names)
    return fn


def _last_uses(flat: list[Statement]) -> dict[int, list[Variable]]:
    """For each statement, the variables nothing after it reads (candidates for `del`)."""
    last: dict[Variable, int] = {}
    for position, stmt in enumerate(flat):
        for v in stmt.uses:
            last[v] = position
        if stmt.node is not None and stmt.may_free_after:
            for v in stmt.node.outputs:
                last.setdefault(v, position)
    by_statement: dict[int, list[Variable]] = {}
    for var, position in last.items():
        if flat[position].may_free_after:
            by_statement.setdefault(position, []).append(var)
    return by_statement


def _emit_outputs(plan: CallPlan, names: _Names, lines: list[str], inputs: set) -> list[str]:
    fg = plan.fgraph
    results = []
    seen: set = set()
    update_vars = {fg.outputs[i] for i, _ in plan.updates}
    for k, (index, borrow) in enumerate(plan.outputs):
        var = fg.outputs[index]
        expr = names[var]
        must_copy = not borrow and (
            bool(alias_roots(var, inputs)) or var in seen or var in update_vars
        )
        seen.add(var)
        if must_copy:
            expr = f"_copy({expr})"
        elif var.type.ndim == 0:
            expr = f"_asarray({expr})"
        lines.append(f"    _r{k} = {expr}")
        results.append(f"_r{k}")
    return results


def _emit_updates(plan: CallPlan, names: _Names, lines: list[str], inputs: set) -> None:
    # all values are computed above; committing last means a failed call changes nothing
    for k, (index, _) in enumerate(plan.updates):
        var = plan.fgraph.outputs[index]
        expr = names[var]
        if alias_roots(var, inputs):
            expr = f"_copy({expr})"
        elif var.type.ndim == 0:
            expr = f"_asarray({expr})"
        lines.append(f"    _u{k}_value = {expr}")
    for k in range(len(plan.updates)):
        lines.append(f"    _uc{k}.value = _u{k}_value")


class NumPyProgram:
    """The NumPy engine's program: straight-line `__call__`s generated from one CallPlan."""

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan

    def make_call(self, trusted: bool = False, raw: bool = False):
        return generate_call(self.plan, trusted=trusted, raw=raw)


def call_statement(node: Apply, key: str, fn: Callable[..., Any]) -> NodeCode:
    """The statement `outs = key(ins)` calling `fn` for `node`: the form every linker emits."""
    args = ", ".join(f"{{in{i}}}" for i in range(len(node.inputs)))
    outs = ", ".join(f"{{out{i}}}" for i in range(len(node.outputs)))
    if len(node.outputs) > 1:
        outs += ","
    return NodeCode(node, f"{outs} = {key}({args})", {key: fn})


def link_per_node(linker: Any, fgraph: Any, plan: CallPlan) -> NumPyProgram:
    """Schedule the graph, ask `linker.node_code` for each node, and build the program.

    The whole-graph link step of every linker that emits Python statements per node (the
    NumPy engine and the DebugMode / NanGuardMode / WrapLinker wrappers around it). Ops with
    inner graphs (scan, OpFromGraph) get the outer Mode, so they run on the same linker.
    """
    nodes = fgraph.toposort()
    plan.node_codes = [
        linker.node_code(fgraph, node, i, outer_mode=plan.mode) for i, node in enumerate(nodes)
    ]
    if plan.profile is not None:
        plan.profile.register_nodes(nodes, fgraph)
    return NumPyProgram(plan)
