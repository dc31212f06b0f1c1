"""Test values: run each new node's `perform` on example inputs while the graph is built.

Reads config.compute_test_value (off/ignore/warn/raise/pdb) so that shape and dtype errors
surface at the user's line. May import labsym.config, core.graph.
"""

from __future__ import annotations

import warnings
from typing import Any

from labsym.config import config
from labsym.core.graph import Apply, Constant, Variable


class TestValueError(ValueError):
    """A node failed on its inputs' test values while the graph was being built."""

    __test__ = False  # not a pytest test class


def get_test_value(var: Variable) -> Any:
    """The example value of a variable: constant data, shared value or `tag.test_value`."""
    if isinstance(var, Constant):
        return var.data
    container = getattr(var, "container", None)
    if container is not None:
        return container.value
    if hasattr(var.tag, "test_value"):
        value = var.tag.test_value
        filt = getattr(var.type, "filter", None)
        return filt(value, allow_downcast=True) if filt is not None else value
    raise AttributeError(f"{var} has no test value")


def _input_values(node: Apply, mode: str) -> list | None:
    values = []
    for i, var in enumerate(node.inputs):
        try:
            values.append(get_test_value(var))
        except AttributeError:
            if mode == "ignore":
                return None
            msg = (
                f"input {i} ({var}) of {node.op} has no test value; set "
                f"`{var}.tag.test_value` or turn compute_test_value off"
            )
            if mode == "warn":
                warnings.warn(msg, stacklevel=4)
                return None
            raise AttributeError(msg) from None
    return values


def compute_node_test_value(node: Apply) -> None:
    """Evaluate `node` on its inputs' test values and store them on its outputs."""
    mode = config.compute_test_value
    if mode == "off":
        return
    values = _input_values(node, mode)
    if values is None:
        return
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, values, storage)
    except Exception as exc:
        if mode == "pdb":
            import pdb

            pdb.post_mortem()
        raise TestValueError(describe_failure(node, values, exc)) from exc
    for out, store in zip(node.outputs, storage):
        out.tag.test_value = store[0]


def describe_failure(node: Apply, values: list, exc: BaseException) -> str:
    """Name the op, the inputs' types and shapes, and the user's line that built the node."""
    lines = [f"{type(exc).__name__}: {exc}", f"while computing test values for {node}"]
    for i, (var, value) in enumerate(zip(node.inputs, values)):
        shape = getattr(value, "shape", ())
        lines.append(f"  input {i}: {var} of type {var.type}, test value shape {tuple(shape)}")
    trace = node.outputs[0].trace if node.outputs else None
    if trace is not None:
        lines.append(f"created at {trace}")
    return "\n".join(lines)
