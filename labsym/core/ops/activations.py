"""Activations and fused losses of tensor.nnet: elu, selu, softsign, crossentropy_softmax_1hot.

Built from existing elementwise and nnet ops, so their gradients are free. May import core.ops.
"""

from __future__ import annotations

from typing import Any

from labsym.core.ops import math as m
from labsym.core.ops import nnet
from labsym.core.ops.nnet_fused import CrossentropySoftmax1Hot
from labsym.core.variable import as_tensor_variable

__all__ = [
    "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias",
    "elu",
    "selu",
    "softsign",
]

# Klambauer et al. (2017), the constants Theano uses
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu(x: Any, alpha: Any = 1) -> Any:
    """Exponential linear unit: x where x > 0, alpha * (exp(x) - 1) elsewhere.

    The exponential sees min(x, 0), so large positive inputs give no inf * 0 in the gradient.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], elu(x))([-1.0, 2.0])
    array([-0.63212056,  2.        ])
    """
    x = as_tensor_variable(x)
    return m.switch(m.gt(x, 0), x, m.mul(m.scalar_like(alpha, x), m.expm1(m.minimum(x, 0))))


def selu(x: Any) -> Any:
    """Scaled exponential linear unit: SELU_SCALE * elu(x, SELU_ALPHA) (self-normalizing nets).

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], selu(x))([1.0])
    array([1.05070099])
    """
    x = as_tensor_variable(x)
    return m.mul(m.scalar_like(SELU_SCALE, x), elu(x, SELU_ALPHA))


def softsign(x: Any) -> Any:
    """x / (1 + |x|): a sigmoid-shaped squashing to (-1, 1) with polynomial tails.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], softsign(x))([-3.0, 1.0])
    array([-0.75,  0.5 ])
    """
    x = as_tensor_variable(x)
    return x / (1 + m.abs(x))


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> tuple[Any, Any]:
    """(crossentropy of softmax(x) with class indices y_idx, softmax(x)) for a matrix of logits.

    The crossentropy is computed from log_softmax, so it stays finite for any finite logits.

    Examples
    --------
    >>> x, y = labsym.tensor.dmatrix('x'), labsym.tensor.lvector('y')
    >>> xent, sm = crossentropy_softmax_1hot(x, y)
    >>> labsym.function([x, y], xent)([[0.0, 0.0]], [1])
    array([0.69314718])
    """
    x = as_tensor_variable(x)
    return CrossentropySoftmax1Hot()(x, y_idx), nnet.softmax(x, axis=-1)


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any) -> tuple[Any, Any]:
    """crossentropy_softmax_1hot(x + b, y_idx), with `b` a bias vector added to every row.

    Examples
    --------
    >>> x, y = labsym.tensor.dmatrix('x'), labsym.tensor.lvector('y')
    >>> xent, sm = crossentropy_softmax_1hot_with_bias(x, [0.0, 1.0], y)
    >>> labsym.function([x, y], [xent, sm])([[0.0, -1.0]], [1])
    [array([0.69314718]), array([[0.5, 0.5]])]
    """
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if b.ndim != 1:
        raise TypeError(f"crossentropy_softmax_1hot_with_bias: b must be a vector, got {b.type}")
    return crossentropy_softmax_1hot(x + b.dimshuffle("x", 0), y_idx)
