"""NanGuardMode: a Mode that stops at the first node producing nan, inf or a huge value.

Wraps any linker's per-node statements with a check of the node's outputs, so training that
diverges points at the culprit node and its inputs. May import core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.backends.python.callgen import NumPyProgram, link_per_node
from labsym.compile import Mode
from labsym.config import config
from labsym.core.graph import Apply
from labsym.core.io import CallPlan, Linker, NodeCode

__all__ = ["NanGuardError", "NanGuardMode", "summarize"]

BIG = 1e10  # Theano's threshold for "huge" values: |x| above it usually means divergence


class NanGuardError(AssertionError):
    """A node produced nan, inf or a huge value (an AssertionError, as in Theano's NanGuardMode)."""


def summarize(value: Any) -> str:
    """dtype, shape and (for numbers) min/max/mean and nan/inf counts of a runtime value."""
    if not isinstance(value, (np.ndarray, np.generic)):
        return type(value).__name__
    arr = np.asarray(value)
    text = f"{arr.dtype} shape {arr.shape}"
    if arr.size == 0 or arr.dtype.kind not in "iufc":
        return text
    if arr.dtype.kind in "fc":
        finite = arr[np.isfinite(arr)]
        text += f", nan: {int(np.isnan(arr).sum())}, inf: {int(np.isinf(arr).sum())}"
        arr = finite
        if arr.size == 0:
            return text
    if arr.dtype.kind == "c":
        return text + f", max |x|: {np.abs(arr).max():.6g}"
    return text + f", min: {arr.min():.6g}, max: {arr.max():.6g}, mean: {arr.mean():.6g}"


class NodeGuard:
    """The check run after one node: which problems are errors, and the node to name."""

    def __init__(
        self, node: Apply, nan_is_error: bool, inf_is_error: bool, big_is_error: bool
    ) -> None:
        self.node = node
        self.nan_is_error = nan_is_error
        self.inf_is_error = inf_is_error
        self.big_is_error = big_is_error
        self.input_summaries: list[str] | None = None

    def problem(self, value: Any) -> str | None:
        """'NaN', 'Inf' or 'a huge value' if `value` has one that counts as an error, else None."""
        if (
            not isinstance(value, (np.ndarray, np.generic))
            or value.dtype.kind not in "fc"
            or value.size == 0
        ):
            return None
        value = np.asarray(value)
        finite = np.isfinite(value)
        if not finite.all():
            if self.nan_is_error and np.isnan(value).any():
                return "NaN"
            if self.inf_is_error and np.isinf(value).any():
                return "Inf"
            value = value[finite]
        if self.big_is_error and value.size and np.abs(value).max() > BIG:
            return f"a huge value (|x| > {BIG:g})"
        return None

    def remember(self, inputs: Sequence[Any]) -> None:
        """Summarize the inputs before a destructive node overwrites them."""
        self.input_summaries = [summarize(v) for v in inputs]

    def __call__(self, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        summaries, self.input_summaries = self.input_summaries, None
        for j, value in enumerate(outputs):
            found = self.problem(value)
            if found is not None:
                raise NanGuardError(
                    self._message(found, j, summaries or [summarize(v) for v in inputs])
                )

    def _message(self, found: str, index: int, summaries: list[str]) -> str:
        node = self.node
        trace = node.outputs[index].trace
        lines = [f"NanGuardMode: {found} in output {index} of {node}", f"  op: {node.op}"]
        lines.append("  created at: " + (str(trace).replace("\n", "\n  ") if trace else "unknown"))
        lines.append("  inputs:")
        lines += [
            f"    {i}: {var} ({var.type}): {text}"
            for i, (var, text) in enumerate(zip(node.inputs, summaries, strict=True))
        ]
        return "\n".join(lines)


class NanGuardLinker:
    """Appends a NodeGuard call to each statement its base linker emits."""

    def __init__(
        self, base: Linker, nan_is_error: bool, inf_is_error: bool, big_is_error: bool
    ) -> None:
        self.base = base
        self.flags = (nan_is_error, inf_is_error, big_is_error)
        self.name = f"nanguard({getattr(base, 'name', type(base).__name__)})"

    def link(self, fgraph: Any, plan: CallPlan) -> NumPyProgram:
        """The whole-graph link step: this linker's statement per node, as one program."""
        return link_per_node(self, fgraph, plan)

    def node_code(self, fgraph: Any, node: Apply, index: int, outer_mode: Any = None) -> NodeCode:
        code = self.base.node_code(fgraph, node, index, outer_mode)
        key = f"_nanguard{index}"
        ins = "".join(f"{{in{i}}}, " for i in range(len(node.inputs)))
        outs = "".join(f"{{out{i}}}, " for i in range(len(node.outputs)))
        lines = [code.code, f"{key}(({ins}), ({outs}))"]
        if getattr(node.op, "destroy_map", None):
            lines.insert(0, f"{key}.remember(({ins}))")
        guard = NodeGuard(node, *self.flags)
        return NodeCode(node, "\n".join(lines), {**code.namespace, key: guard})


class NanGuardMode(Mode):
    """Theano's NanGuardMode: raise on the first node whose output has nan, inf or |x| > 1e10.

    The error names the node, its op, the user line that created it and a summary of each
    input (dtype, shape, min/max/mean, nan/inf counts).

    Examples
    --------
    >>> f = labsym.function([x], T.log(x), mode=NanGuardMode())
    >>> f(np.array([-1.0]))  # NanGuardError: NaN in output 0 of Elemwise{log,no_inplace}(x) ...
    """

    def __init__(
        self,
        nan_is_error: bool = True,
        inf_is_error: bool = True,
        big_is_error: bool = True,
        optimizer: Any = "default",
        linker: Any = None,
        including: Any = (),
        excluding: Any = (),
        record_history: bool = False,
    ) -> None:
        if not (nan_is_error or inf_is_error or big_is_error):
            raise ValueError(
                "NanGuardMode needs at least one of nan_is_error, inf_is_error, big_is_error"
            )
        if linker is None:  # no C build for this checking mode unless asked for
            linker = "py" if config.linker == "auto" else config.linker
        super().__init__(
            linker=linker,
            optimizer=optimizer,
            name="NanGuardMode",
            including=including,
            excluding=excluding,
            record_history=record_history,
        )
        self.base_linker = self.linker
        self.flags = (nan_is_error, inf_is_error, big_is_error)
        self.linker = NanGuardLinker(self.base_linker, *self.flags)

    def _derive(self, **changes: Any) -> NanGuardMode:
        args = {
            "optimizer": self.optimizer,
            "linker": self.linker_name or self.base_linker,
            "including": self.included,
            "excluding": self.excluded,
            "record_history": self.record_history,
        }
        args.update(changes)
        return NanGuardMode(*self.flags, **args)
