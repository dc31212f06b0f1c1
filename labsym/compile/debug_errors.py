"""The errors DebugMode raises, one class per kind of misbehaviour (Theano's names).

May import nothing from labsym: every DebugMode module and the user's `except` clauses read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DebugModeError(Exception):
    """Base of the errors DebugMode raises: a graph computed something other than it declares."""


class BadOptimization(DebugModeError):
    """A rewrite rule changed the value of the expression it replaced."""


class BadThunkOutput(DebugModeError):
    """Two implementations of one node (perform, C code, numpy_callable) gave different values.

    As in Theano, the exception keeps what it compared: `node`, the output index `output`,
    `thunk1`/`val1` (perform) and `thunk2`/`val2` (the other implementation), `inputs_val`.
    """

    def __init__(
        self,
        message: str,
        node: Any = None,
        output: int = 0,
        thunk1: str = "perform",
        val1: Any = None,
        thunk2: str = "",
        val2: Any = None,
        inputs_val: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.node = node
        self.output = output
        self.r = node.outputs[output] if node is not None else None
        self.thunk1, self.val1 = thunk1, val1
        self.thunk2, self.val2 = thunk2, val2
        self.inputs_val = list(inputs_val)


class BadDestroyMap(DebugModeError):
    """A node modified an input that its op's destroy_map does not list."""


class BadViewMap(DebugModeError):
    """A node returned an output sharing memory with an input its op's view_map does not list."""


class StochasticOrder(DebugModeError):
    """Rewriting the same graph twice gave different graphs: a rewrite is not deterministic."""


class InvalidValueError(DebugModeError):
    """A node produced a value its declared output type rejects (dtype, ndim or static shape)."""
