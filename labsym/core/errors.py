"""Runtime error reports: which Apply node failed, on what inputs, created where.

Also points NumPy's warnings raised inside generated call code at the node and the user's
line. Reads config.exception_verbosity. May import core.graph.
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core.graph import Apply


def failing_node(exc: BaseException, plan: Any) -> Apply | None:
    """The node whose statement raised, from the generated code's line in the traceback."""
    tb = exc.__traceback__
    node = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in plan.line_nodes:
            node = plan.line_nodes[filename].get(tb.tb_lineno, node)
        tb = tb.tb_next
    return node


def _small(value: Any) -> str:
    arr = np.asarray(value)
    if arr.size <= 10:
        return repr(value)
    return "not shown (more than 10 elements)"


def _fused_producer(node: Apply, values: list) -> Apply | None:
    """The elementwise node a C backend ran inside `node` (its only client, a reduction), or
    None: the fused reduction's input value is then the tuple of that node's inputs."""
    if len(values) != 1 or type(values[0]) is not tuple or len(node.inputs) != 1:
        return None
    if getattr(node.inputs[0].type, "ndim", None) is None:  # a tensor's value is never a tuple
        return None
    producer = node.inputs[0].owner
    if producer is None or len(producer.inputs) != len(values[0]):
        return None
    return producer


def describe_node_failure(
    node: Apply, values: list, exc: BaseException, describe: Any = None, index: int | None = None
) -> str:
    """The report: error, node, inputs' types/shapes/strides/values, creation line, hints."""
    fused = _fused_producer(node, values)
    if fused is None:
        lines = [f"{exc}", f"Apply node that caused the error: {node}"]
    else:  # report the elementwise node's own inputs: that is what the fused code read
        lines = [f"{exc}", f"Apply node that caused the error: {node}, run fused with {fused}"]
        node, values = fused, list(values[0])
    if index is not None:
        lines.append(f"Toposort index: {index}")
    lines.append(f"Inputs types: [{', '.join(str(v.type) for v in node.inputs)}]")
    shapes = [tuple(np.shape(v)) if v is not _MISSING else "?" for v in values]
    lines.append(f"Inputs shapes: {shapes}")
    strides = [getattr(v, "strides", ()) if v is not _MISSING else "?" for v in values]
    lines.append(f"Inputs strides: {strides}")
    lines.append(
        f"Inputs values: [{', '.join(_small(v) if v is not _MISSING else '?' for v in values)}]"
    )
    trace = node.outputs[0].trace if node.outputs else None
    if trace is not None:
        lines.append("The node was created at:")
        lines.append(f"  {trace}".replace("\n", "\n  "))
    if config.exception_verbosity == "high":
        if describe is not None:
            lines.append("Debugprint of the apply node:")
            lines.append(describe(node))
        lines.append("Storage map footprint:")
        for var, value in zip(node.inputs, values):
            if value is _MISSING:
                continue
            arr = np.asarray(value)
            lines.append(
                f"  - {var}, Shape: {arr.shape}, ElemSize: {arr.itemsize} Byte(s), "
                f"TotalSize: {arr.nbytes} Byte(s)"
            )
    else:
        lines.append(
            "HINT: set the flag exception_verbosity=high for a debugprint and the storage map "
            "footprint of this node."
        )
    return "\n".join(lines)


_MISSING = object()


def raise_runtime_error(function: Any, exc: BaseException, local_values: dict[str, Any]) -> None:
    """Re-raise `exc` (same type when possible) with the failing node's report."""
    plan = function._plan
    node = failing_node(exc, plan)
    if node is None:
        raise exc
    names = plan.local_names
    values = [local_values.get(names.get(v, ""), _MISSING) for v in node.inputs]
    for i, v in enumerate(node.inputs):
        if values[i] is _MISSING and hasattr(v, "data"):
            values[i] = v.data
    order = [nc.node for nc in plan.node_codes]
    message = describe_node_failure(
        node,
        values,
        exc,
        function.maker.mode.describe_node,
        order.index(node) if node in order else None,
    )
    try:
        new = type(exc)(message)
        new.__dict__.update(getattr(exc, "__dict__", {}))  # e.g. BadThunkOutput's val1, val2
    except Exception:
        new = RuntimeError(message)
    raise new.with_traceback(exc.__traceback__) from None


# ---------------------------------------------------------------- warnings inside a call
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_GENERATED: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_REGISTRIES: dict[str, dict] = {}  # per user file, as a module's __warningregistry__
_original_show: Any = None


def register_generated(filename: str, plan: Any) -> None:
    """Remember which plan a generated file belongs to, so its warnings can be located."""
    _GENERATED[filename] = plan
    _install_warning_hook()


def _install_warning_hook() -> None:
    """Wrap `warnings._showwarnmsg`, the one hook both display and recording go through.

    `warnings.showwarning` would be simpler, but `catch_warnings(record=True)` (and so
    `pytest.warns`) bypasses it. The wrapper costs nothing until a warning is shown; catching
    warnings around every call instead would cost microseconds per call.
    """
    global _original_show
    if _original_show is None and callable(getattr(warnings, "_showwarnmsg", None)):
        _original_show = warnings._showwarnmsg  # type: ignore[attr-defined]
        warnings._showwarnmsg = _show_at_user_line  # type: ignore[attr-defined]


def _is_ours(filename: str) -> bool:
    return filename.startswith(("<labsym-", _PACKAGE_DIR))


def _node_being_run(filename: str) -> Any:
    """The node whose statement the innermost running generated call is executing, if any."""
    if not _is_ours(filename):
        return None
    frame = sys._getframe(2)
    while frame is not None:
        plan = _GENERATED.get(frame.f_code.co_filename)
        if plan is not None:
            return plan.line_nodes[frame.f_code.co_filename].get(frame.f_lineno)
        frame = frame.f_back
    return None


def _show_at_user_line(msg: Any) -> None:
    """Re-issue a warning from generated code at the user's line, naming the Apply node."""
    node = _node_being_run(msg.filename)
    trace = node.outputs[0].trace if node is not None and node.outputs else None
    if trace is None or _is_ours(trace.filename):  # the latter would come back here forever
        _original_show(msg)
        return
    registry = _REGISTRIES.setdefault(trace.filename, {})
    text = f"{msg.message} (in Apply node {node})"
    # goes through the filters again, now with the user's location, then back to this hook
    warnings.warn_explicit(text, msg.category, trace.filename, trace.lineno, registry=registry)
