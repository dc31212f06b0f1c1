"""MonitorMode: step through a compiled function, calling pre_func/post_func around every node.

Theano's debugging mode on the per-node thunk protocol (`f(i, node, fn)`, fn.inputs/fn.outputs
are storage cells); `detect_nan` is its documented NaN finder. May import core, backends, viz.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.backends.python.thunks import OpWiseCLinker, WrapLinkerMany
from labsym.compile import Mode
from labsym.viz.debugprint import debugprint

__all__ = ["MonitorMode", "detect_nan"]


class MonitorMode(Mode):
    """Theano's MonitorMode: `pre_func(i, node, fn)` before and `post_func(i, node, fn)` after
    each node runs, where `fn.inputs[j][0]` / `fn.outputs[j][0]` hold the node's values.

    It optimizes like the default mode (pass `optimizer='fast_compile'` or use `excluding`
    to keep nodes recognisable) and always uses its own linker.

    Examples
    --------
    >>> def inspect_outputs(i, node, fn):
    ...     print(i, node, [output[0] for output in fn.outputs])
    >>> f = theano.function([x], 5 * x, mode=MonitorMode(post_func=inspect_outputs))
    >>> f(3)
    0 Elemwise{mul,no_inplace}(TensorConstant{5.0}, x) [array(15.)]
    """

    def __init__(
        self,
        pre_func: Callable[..., Any] | None = None,
        post_func: Callable[..., Any] | None = None,
        optimizer: Any = "default",
        linker: Any = None,
        **mode_options: Any,
    ) -> None:
        if linker is not None and not isinstance(getattr(linker, "mode", None), MonitorMode):
            raise ValueError(
                f"MonitorMode can only use its own linker; do not pass one (got {linker!r})"
            )
        for label, func in (("pre_func", pre_func), ("post_func", post_func)):
            if func is not None and not callable(func):
                raise TypeError(f"MonitorMode: {label} must be callable or None, got {func!r}")
        self.pre_func = pre_func
        self.post_func = post_func
        wrap_linker = WrapLinkerMany([OpWiseCLinker()], [self.eval])
        wrap_linker.mode = self  # type: ignore[attr-defined]
        # including, excluding, record_history...: whatever Mode accepts
        super().__init__(linker=wrap_linker, optimizer=optimizer, **mode_options)
        self.name = "MonitorMode"
        self.provided_optimizer = self.optimizer

    def eval(self, i: int, node: Any, fn: Any) -> None:
        """Run one node: pre_func, the thunk, post_func (the wrapper WrapLinkerMany calls)."""
        if self.pre_func is not None:
            self.pre_func(i, node, fn)
        fn()
        if self.post_func is not None:
            self.post_func(i, node, fn)

    def _derive(self, **changes: Any) -> MonitorMode:
        # Mode._derive passes this mode's linker, which the new MonitorMode accepts and replaces
        derived = super()._derive(**changes)
        derived.pre_func, derived.post_func = self.pre_func, self.post_func
        return derived  # type: ignore[return-value]

    def clone(self, link_kwargs: Any = None, optimizer: Any = "", **kwargs: Any) -> MonitorMode:
        """A new MonitorMode with the same functions (linker arguments are ignored, as Theano)."""
        if optimizer == "":
            optimizer = self.provided_optimizer
        return self._derive(optimizer=optimizer)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("linker", None)  # rebuilt around this instance's eval on unpickling
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.linker = WrapLinkerMany([OpWiseCLinker()], [self.eval])
        self.linker.mode = self


def detect_nan(i: int, node: Any, fn: Any) -> None:
    """Theano's suggested post_func: print the node, inputs and outputs where a NaN appears."""
    for output in fn.outputs:
        value = output[0]
        if not isinstance(value, np.random.RandomState) and np.isnan(value).any():
            print("*** NaN detected ***")
            debugprint(node)
            print(f"Inputs : {[inp[0] for inp in fn.inputs]}")
            print(f"Outputs: {[out[0] for out in fn.outputs]}")
            break
