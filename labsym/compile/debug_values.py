"""DebugMode's comparisons of runtime values and the error reports naming what differed.

Pure functions of a node and NumPy values: equal within a dtype's tolerance, unchanged input
buffers, undeclared aliasing, declared types, finiteness, strides. May import core and
compile.debug_errors.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.compile.debug_errors import (
    BadDestroyMap,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
    InvalidValueError,
)
from labsym.core.graph import Apply

# (rtol, atol) by dtype: an approximate comparison for floats, exact for everything else
_TOLERANCE = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "complex64": (1e-4, 1e-5)}
_DEFAULT_TOLERANCE = (1e-5, 1e-8)


def copy_value(value: Any) -> Any:
    """An independent copy of a runtime value (arrays copied, immutable scalars as they are)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (np.generic, int, float, complex, bool, str, type(None))):
        return value
    return copy.deepcopy(value)


def aliases(a: Any, b: Any) -> bool:
    """Whether two arrays share memory (True when NumPy cannot tell cheaply)."""
    arrays = isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    if not arrays or not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=1 << 20))
    except np.exceptions.TooHardError:
        return True


def _unchanged(before: Any, after: Any) -> bool:
    if not isinstance(before, np.ndarray):
        return True  # only array buffers can be written in place
    after = np.asarray(after)
    if before.shape != after.shape or before.dtype != after.dtype:
        return False
    return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))


def difference(
    expected: Any,
    got: Any,
    dtype: str,
    ignore_nonfinite: bool,
    labels: tuple[str, str] = ("before", "after"),
) -> str | None:
    """Why `got` does not match `expected` (None if it does), with the first differing element.

    With `ignore_nonfinite`, elements where `expected` is nan or inf may take any value: a
    rewrite may make a naive, overflowing form finite (that is what stabilization is for).
    """
    a, b = np.asarray(expected), np.asarray(got)
    if a.shape != b.shape:
        return f"the shapes differ: {a.shape} ({labels[0]}) vs {b.shape} ({labels[1]})"
    if a.dtype.kind in "fc":
        rtol, atol = _TOLERANCE.get(dtype, _DEFAULT_TOLERANCE)
        with np.errstate(all="ignore"):
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if ignore_nonfinite:
            close |= ~np.isfinite(a)
    else:
        close = a == b
    if np.all(close):
        return None
    where = tuple(int(i) for i in np.argwhere(~np.asarray(close))[0])
    count = f"{np.count_nonzero(~close)} of {a.size} elements differ"
    return f"at index {where}: {a[where]!s} ({labels[0]}) vs {b[where]!s} ({labels[1]}); {count}"


def destroyed(node: Apply) -> set[int]:
    """The input indices the node's op declares it overwrites."""
    return {i for ins in (getattr(node.op, "destroy_map", {}) or {}).values() for i in ins}


def run_perform(node: Apply, args: Sequence[Any]) -> list[Any]:
    """The node's outputs computed by its op's `perform` (the reference implementation)."""
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    node.op.perform(node, list(args), storage)
    return [cell[0] for cell in storage]


# ---------------------------------------------------------------------------------- checks
def type_error(node: Apply, impl: str, outputs: Sequence[Any]) -> InvalidValueError | None:
    """An output value that the output's declared type rejects (dtype, ndim, static shape)."""
    for j, (var, value) in enumerate(zip(node.outputs, outputs, strict=True)):
        if impl != "perform" and isinstance(value, np.generic):
            value = np.asarray(value)
        try:
            var.type.filter(value, strict=True)
        except (TypeError, ValueError) as exc:
            return InvalidValueError(
                f"InvalidValueError: {impl} of {node} returned output {j}, which its type "
                f"{var.type} rejects: {exc}"
            )
    return None


def nonfinite_error(
    node: Apply, outputs: Sequence[Any], impl: str = "perform"
) -> InvalidValueError | None:
    """Theano's check_isfinite: a float output holding NaN or Inf is an invalid value."""
    for j, value in enumerate(outputs):
        arr = np.asarray(value)
        if arr.dtype.kind not in "fc" or bool(np.isfinite(arr).all()):
            continue
        nan, inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
        return InvalidValueError(
            f"InvalidValueError: {impl} of {node} returned output {j} with non-finite elements "
            f"(nan: {nan}, inf: {inf}); DebugMode(check_isfinite=False) or the flag "
            "DebugMode.check_finite=False allows them"
        )
    return None


def destroy_error(
    node: Apply, impl: str, before: Sequence[Any], after: Sequence[Any]
) -> BadDestroyMap | None:
    """An input that changed during the call although destroy_map does not list it."""
    gone = destroyed(node)
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        # an input sharing memory with a destroyed one may change with it
        if i in gone or any(aliases(after[d], new) for d in gone):
            continue
        if not _unchanged(old, new):
            declared = getattr(node.op, "destroy_map", {}) or {}
            return BadDestroyMap(
                f"BadDestroyMap: {impl} of {node} modified input {i} ({node.inputs[i]}) in place, "
                f"but {node.op}.destroy_map ({declared}) does not list it. Declare "
                "destroy_map = {output: [input]} or write into a new array."
            )
    return None


def view_error(
    node: Apply, impl: str, outputs: Sequence[Any], inputs: Sequence[Any]
) -> BadViewMap | None:
    """An output sharing memory with an input that neither view_map nor destroy_map lists."""
    views = getattr(node.op, "view_map", {}) or {}
    destroys = getattr(node.op, "destroy_map", {}) or {}
    for j, out in enumerate(outputs):
        declared = set(views.get(j, ())) | set(destroys.get(j, ()))
        for i, inp in enumerate(inputs):
            if i in declared or not aliases(out, inp):
                continue
            if any(aliases(inp, inputs[d]) for d in declared):
                continue  # the same buffer reached through a declared input
            return BadViewMap(
                f"BadViewMap: {impl} of {node} returned output {j} sharing memory with input {i} "
                f"({node.inputs[i]}), but {node.op}.view_map ({views}) does not list it. Declare "
                "view_map = {output: [input]} or return a copy."
            )
    return None


def implementation_errors(
    node: Apply, impl: str, before: Sequence[Any], args: Sequence[Any], outputs: Sequence[Any]
) -> DebugModeError | None:
    """The first of: an output of the wrong type, an undeclared input write, an undeclared view."""
    return (
        type_error(node, impl, outputs)
        or destroy_error(node, impl, before, args)
        or view_error(node, impl, outputs, args)
    )


def warn_input_not_reused(
    node: Apply, impl: str, outputs: Sequence[Any], args: Sequence[Any]
) -> None:
    """Theano's warn_input_not_reused: an output that destroy_map says overwrites an input
    (a writable array, so it could have) but that does not share that input's memory."""
    declared = getattr(node.op, "destroy_map", {}) or {}
    for out, ins in declared.items():
        for i in ins:
            arg = args[i]
            if not (isinstance(arg, np.ndarray) and arg.flags.writeable and arg.size):
                continue
            if not aliases(outputs[out], arg):
                warnings.warn(
                    f"DebugMode: {impl} of {node} declares destroy_map {declared}, but output "
                    f"{out} does not reuse the memory of input {i} ({node.inputs[i]}); the flag "
                    "DebugMode.warn_input_not_reused=False silences this",
                    stacklevel=3,
                )


def _shown(value: Any) -> str:
    """A short text of a runtime value: type, shape, strides and (abbreviated) elements."""
    if not isinstance(value, (np.ndarray, np.generic)):
        return repr(value)[:200]
    arr = np.asarray(value)
    text = np.array2string(arr, threshold=24, edgeitems=3, max_line_width=100)
    strides = f", strides {arr.strides}" if isinstance(value, np.ndarray) else ""
    return f"{arr.dtype}{list(arr.shape)}{strides}: {' '.join(text.split())}"


def thunk_output_error(
    node: Apply,
    output: int,
    label: str,
    expected: Any,
    got: Any,
    inputs: Sequence[Any],
) -> BadThunkOutput | None:
    """BadThunkOutput if `got` (from `label`) differs from perform's `expected`, else None.

    The message names the node (op and input variables), the first differing element, the
    input values and both output values, as Theano's report did.
    """
    labels = ("perform", label)
    problem = difference(expected, got, node.outputs[output].type.dtype, False, labels)
    if problem is None:
        return None
    which = f"on output {output} " if len(node.outputs) > 1 else ""
    lines = [f"BadThunkOutput: perform and {label} of {node} disagree {which}{problem}"]
    lines.append(f"  op: {node.op}; output {output}: {node.outputs[output].type}")
    for var, value in zip(node.inputs, inputs, strict=True):
        lines.append(f"  input {var}: {_shown(value)}")
    lines.append(f"  perform: {_shown(expected)}")
    lines.append(f"  {label}: {_shown(got)}")
    a, b = np.asarray(expected), np.asarray(got)
    if a.shape == b.shape and a.dtype.kind in "biufc" and b.dtype.kind in "biufc" and a.size:
        with np.errstate(all="ignore"):
            diff = np.abs(a.astype(np.complex128) - b.astype(np.complex128))
            finite = diff[np.isfinite(diff)]
        lines.append(f"  max abs diff: {finite.max() if finite.size else diff.max()}")
    return BadThunkOutput(
        "\n".join(lines),
        node=node,
        output=output,
        val1=expected,
        thunk2=label,
        val2=got,
        inputs_val=inputs,
    )


def strides_error(
    node: Apply, output: int, label: str, expected: Any, got: Any, level: int
) -> BadThunkOutput | None:
    """Theano's require_matching_strides: level 1 warns, 2 raises when strides differ.

    Axes of length 0 or 1 are ignored: their strides are never used.
    """
    if level <= 0 or not (isinstance(expected, np.ndarray) and isinstance(got, np.ndarray)):
        return None
    if expected.shape != got.shape:
        return None
    used = [d for d, n in enumerate(expected.shape) if n > 1]
    if all(expected.strides[d] == got.strides[d] for d in used):
        return None
    message = (
        f"BadThunkOutput: strides of output {output} of {node} differ: {expected.strides} "
        f"(perform) vs {got.strides} ({label}), shape {expected.shape}"
    )
    if level == 1:
        warnings.warn(message, stacklevel=2)
        return None
    return BadThunkOutput(message, node=node, output=output, val1=expected, thunk2=label, val2=got)
