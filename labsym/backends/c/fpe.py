"""NumPy's floating-point warnings for C kernels.

NumPy's ufuncs test the IEEE flags after each loop and warn, raise or ignore as `np.seterr` /
`np.errstate` say ("invalid value encountered in log"). A C kernel with `fp_flags` reports the
flags it raised; the thunk then calls the reporter made here. For a node that overwrites no
input, the reporter re-runs the node's NumPy code on the same inputs (only when flags were
raised), so the messages, categories and policies are exactly the NumPy engine's. An inplace
node's inputs are already overwritten, so it reports the flags itself under the same policies.
May import core and backends.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.backends.python.vm import perform_thunk
from labsym.core.graph import Apply
from labsym.core.scan.op import Scan

# (our kernels' bit, np.seterr key, message, NumPy's bit as seterrcall handlers receive it)
_FLAGS = (
    (4, "divide", "divide by zero", 1),
    (8, "over", "overflow", 2),
    (16, "invalid", "invalid value", 8),
)


def _silent(code: int) -> bool:
    """True if np.seterr ignores every flag in `code` (nothing to report, no re-run)."""
    policies = np.geterr()
    return all(policies[key] == "ignore" for bit, key, _, _ in _FLAGS if code & bit)


def report_flags(code: int, name: str) -> None:
    """Warn/raise/call for each flag in `code` as np.geterr() says, naming `name`."""
    policies = np.geterr()
    for bit, key, text, numpy_bit in _FLAGS:
        policy = policies[key] if code & bit else "ignore"
        message = f"{text} encountered in {name}"
        if policy == "warn":
            warnings.warn(message, RuntimeWarning, stacklevel=2)  # at the user line: core.errors
        elif policy == "raise":
            raise FloatingPointError(message)
        elif policy == "print":
            print(f"Warning: {message}")
        elif policy in ("call", "log"):
            handler = np.geterrcall()
            if policy == "call":
                handler(text, numpy_bit)
            else:
                handler.write(f"Warning: {message}\n")


def fp_reporter(node: Apply) -> Callable[..., None]:
    """`report(code, *inputs)` for `node`'s C thunk: NumPy's own warnings for the same call."""
    # inplace nodes cannot re-run (their input is overwritten); a scan's re-run would be its
    # whole loop in Python: both report the flags under the op's name
    if getattr(node.op, "destroy_map", None) or isinstance(node.op, Scan):
        name = str(node.op)

        def report_inplace(code: int, *inputs: Any) -> None:
            report_flags(code, name)

        return report_inplace
    fast = node.op.numpy_callable(node) if len(node.outputs) == 1 else None
    rerun = fast if fast is not None else perform_thunk(node)

    def report(code: int, *inputs: Any) -> None:
        if not _silent(code):
            rerun(*inputs)  # the result equals the C kernel's; only NumPy's warnings matter

    return report
