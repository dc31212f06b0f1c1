"""Gradient-shaping ops: identities forward whose gradient is zero, cut, undefined, clipped, scaled.

May import core.graph, core.op, core.type, core.variable, core.autodiff and core.ops.math.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.autodiff import grad_undefined
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.variable import as_tensor_variable


def _identity(x: np.ndarray) -> np.ndarray:
    return x


class _GradientView(Op):
    """Forward: `x` itself (a view, so it costs nothing); subclasses change only the gradient."""

    __props__: tuple[str, ...] = ()
    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        output_storage[0][0] = inputs[0]

    def numpy_callable(self, node: Apply):
        return _identity

    def infer_shape(self, fgraph: Any, node: Apply, input_shapes: Sequence[Any]) -> list:
        return [tuple(input_shapes[0])]

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        # the function is the identity, so its Jacobian-vector product is the vector
        return [eval_points[0]]


class ZeroGrad(_GradientView):
    """Identity whose gradient (and R operator) is zero: the path still counts as connected."""

    __props__ = ()

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [m.zeros_like(inputs[0])]

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        return [None if eval_points[0] is None else m.zeros_like(eval_points[0])]


class DisconnectedGrad(_GradientView):
    """Identity through which no gradient flows: inputs reached only through it are disconnected."""

    __props__ = ()

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [None]

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        return [None]


class UndefinedGrad(_GradientView):
    """Identity whose gradient is undefined: differentiating through it raises NullTypeGradError."""

    __props__ = ()

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        return [grad_undefined(self, 0, inputs[0], "the graph marked it with undefined_grad")]

    def R_op(self, inputs: Sequence[Variable], eval_points: Sequence[Any]) -> list:
        return [None]


class GradClip(_GradientView):
    """Identity whose gradient is clipped elementwise to [clip_lower_bound, clip_upper_bound]."""

    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound: float, clip_upper_bound: float) -> None:
        for bound in (clip_lower_bound, clip_upper_bound):
            if not isinstance(bound, (int, float, np.integer, np.floating)):
                raise TypeError(f"grad_clip: the bounds must be numbers, got {bound!r}")
        if not clip_upper_bound >= clip_lower_bound:
            raise ValueError(
                f"grad_clip: the upper bound {clip_upper_bound} is below the lower bound "
                f"{clip_lower_bound}"
            )
        self.clip_lower_bound = float(clip_lower_bound)
        self.clip_upper_bound = float(clip_upper_bound)

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        (x,) = inputs
        if not dtypes.is_float(x.dtype):
            return [None]
        g = m.clip(output_grads[0], self.clip_lower_bound, self.clip_upper_bound)
        return [m.cast(g, x.dtype)]


class GradScale(_GradientView):
    """Identity whose gradient is multiplied by `multiplier` (a number or a symbolic scalar).

    A multiplier of -1 is the gradient-reversal layer of domain-adversarial training.
    """

    __props__ = ("multiplier",)

    def __init__(self, multiplier: Any) -> None:
        if isinstance(multiplier, Variable):
            if multiplier.ndim != 0:
                raise TypeError(
                    f"grad_scale: the multiplier must be a scalar, got {multiplier.type}"
                )
        elif isinstance(multiplier, (int, float, np.integer, np.floating)):
            multiplier = float(multiplier)
        else:
            raise TypeError(f"grad_scale: the multiplier must be a number, got {multiplier!r}")
        self.multiplier = multiplier

    def grad(self, inputs: Sequence[Variable], output_grads: Sequence[Variable]) -> list:
        (x,) = inputs
        if not dtypes.is_float(x.dtype):
            return [None]
        return [m.cast(output_grads[0] * self.multiplier, x.dtype)]


_zero_grad = ZeroGrad()
_disconnected_grad = DisconnectedGrad()
_undefined_grad = UndefinedGrad()


def zero_grad(x: Any) -> Variable:
    """`x`, whose gradient is truncated to zero (what flows back through it is 0).

    Unlike consider_constant this is part of the graph, so every later grad respects it.

    Examples
    --------
    >>> x = dscalar('x')
    >>> grad(zero_grad(x ** 2) + x, x).eval({x: 3.0})
    array(1.)
    """
    return _zero_grad(x)


def disconnected_grad(x: Any) -> Variable:
    """`x`, through which no gradient is back-propagated (the path counts as disconnected).

    Cheaper than zero_grad (nothing behind it is differentiated); asking for the gradient of
    a variable reached only through it raises DisconnectedInputError.

    Examples
    --------
    >>> x = dscalar('x')
    >>> grad(disconnected_grad(x ** 2) * x, x).eval({x: 3.0})
    array(9.)
    """
    return _disconnected_grad(x)


def undefined_grad(x: Any) -> Variable:
    """`x`, whose gradient is undefined: grad through it raises NullTypeGradError.

    Marks quantities that must not be differentiated (grad(..., null_gradients='return_none')
    gives None instead).

    Examples
    --------
    >>> x = dscalar('x')
    >>> grad(undefined_grad(x) * x, x)
    Traceback (most recent call last):
    NullTypeGradError: ...
    """
    return _undefined_grad(x)


def grad_clip(x: Any, lower_bound: float, upper_bound: float) -> Variable:
    """`x`, whose gradient is clipped elementwise to [lower_bound, upper_bound].

    Bounds exploding gradients (e.g. in RNNs) at one place of the graph.

    Examples
    --------
    >>> x = dscalar('x')
    >>> grad(grad_clip(x, -1, 1) ** 2, x).eval({x: 2.0})
    array(1.)
    """
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x: Any, multiplier: Any) -> Variable:
    """`x`, whose gradient is multiplied by `multiplier` (-1 reverses it).

    Scales the learning signal of one part of a model without changing its output.

    Examples
    --------
    >>> x = dscalar('x')
    >>> grad(grad_scale(x ** 2, -0.5), x).eval({x: 3.0})
    array(-3.)
    """
    return GradScale(multiplier)(x)
