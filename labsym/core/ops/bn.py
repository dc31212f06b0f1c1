"""Batch normalization (Theano's tensor.nnet.bn), built from reductions and elementwise math.

Its gradients come from those ops'. May import core and core.ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.reduce import ReductionSize
from labsym.core.variable import as_tensor_variable

__all__ = ["batch_normalization", "batch_normalization_test", "batch_normalization_train"]

_MIN_EPSILON = 1e-5  # Theano's floor (cuDNN's), kept so models port unchanged


def _normalized_axes(axes: Any, ndim: int) -> tuple[int, ...]:
    """'per-activation' = (0,), 'spatial' = (0, 2, 3, ...), or explicit axes, sorted."""
    if axes == "per-activation":
        out: tuple[int, ...] = (0,)
    elif axes == "spatial":
        out = (0, *range(2, ndim))
    elif isinstance(axes, (tuple, list, np.ndarray)):
        out = tuple(sorted(int(a) for a in axes))
    else:
        raise ValueError(f"batch_normalization: invalid axes {axes!r}")
    if not out:
        raise ValueError("batch_normalization: there should be at least one normalization axis")
    if out[0] < 0 or out[-1] >= ndim:
        raise ValueError(
            f"batch_normalization: axes {out} must be in the range [0, {ndim - 1}] for inputs of "
            f"{ndim} dimensions"
        )
    return out


class _Params:
    """How the per-unit parameters broadcast against the inputs, and back."""

    def __init__(self, inputs: Any, axes: tuple[int, ...], first: Any) -> None:
        self.ndim, self.axes = inputs.ndim, axes
        self.kept = tuple(a for a in range(inputs.ndim) if a not in axes)
        self.full = first.ndim == inputs.ndim
        self.params_ndim = inputs.ndim if self.full else len(self.kept)

    def check(self, names: str, *params: Any) -> None:
        if any(p.ndim != self.params_ndim for p in params):
            got = " and ".join(str(p.ndim) for p in params)
            raise ValueError(
                f"batch_normalization: {names} dimensionality must match the number of "
                f"non-normalized axes, or have the same number of dimensions as the inputs; "
                f"got {got} instead of {self.params_ndim}"
            )

    def broadcast(self, p: Any) -> Any:
        """`p` with length-1 axes where the inputs are normalized."""
        if self.full:
            return sh.addbroadcast(p, *self.axes)
        pattern: list[int | str] = ["x"] * self.ndim
        for i, axis in enumerate(self.kept):
            pattern[axis] = i
        return p.dimshuffle(pattern)

    def back(self, value: Any, like: Any) -> Any:
        """A statistic shaped like the user's parameter `like` (the normalized axes dropped)."""
        if self.full:
            return sh.patternbroadcast(value, like.broadcastable)
        return value.dimshuffle(self.kept)


def _check_epsilon(epsilon: float) -> None:
    if epsilon < _MIN_EPSILON:
        raise ValueError(
            f"batch_normalization: epsilon must be at least {_MIN_EPSILON}, got {epsilon}"
        )


def _unbiased_factor(x: Any, axes: tuple[int, ...]) -> Any:
    """n / (n - 1) for the n elements each statistic averages."""
    lengths = [x.type.shape[a] for a in axes]
    if None not in lengths:
        n = float(np.prod(lengths))
        return n / (n - 1) if n > 1 else np.inf
    n = m.cast(ReductionSize(axes)(x), x.dtype)
    return n / (n - 1)


def batch_normalization_train(
    inputs: Any,
    gamma: Any,
    beta: Any,
    axes: Any = "per-activation",
    epsilon: float = 1e-4,
    running_average_factor: float = 0.1,
    running_mean: Any = None,
    running_var: Any = None,
) -> tuple:
    """Normalize `inputs` with the batch's statistics over `axes`, then scale and shift.

    Returns (out, mean, invstd), plus (new_running_mean, new_running_var) when running
    averages are given; the running variance uses the unbiased batch variance. Parameters
    have either the inputs' ndim or one dim per non-normalized axis; 'spatial' = (0, 2, 3).

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> out, mean, invstd = batch_normalization_train(x, np.ones(2), np.zeros(2))
    >>> labsym.function([x], out)([[1.0, 2.0], [3.0, 6.0]])
    array([[-0.99995  , -0.9999875],
           [ 0.99995  ,  0.9999875]])
    """
    inputs, gamma, beta = (as_tensor_variable(v) for v in (inputs, gamma, beta))
    axes_ = _normalized_axes(axes, inputs.ndim)
    params = _Params(inputs, axes_, gamma)
    params.check("gamma and beta", gamma, beta)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "batch_normalization: running_mean and running_var must either both be given or "
            "both be None"
        )
    _check_epsilon(epsilon)
    mean = inputs.mean(axis=axes_, keepdims=True)
    var = inputs.var(axis=axes_, keepdims=True)
    invstd = m.scalar_like(1.0, var) / m.sqrt(var + m.scalar_like(epsilon, var))
    out = (inputs - mean) * (params.broadcast(gamma) * invstd) + params.broadcast(beta)
    results = [out, params.back(mean, gamma), params.back(invstd, gamma)]
    if running_mean is not None:
        running_mean, running_var = (
            as_tensor_variable(running_mean),
            as_tensor_variable(running_var),
        )
        params.check("running_mean and running_var", running_mean, running_var)
        keep = m.scalar_like(1.0 - running_average_factor, mean)
        factor = m.scalar_like(running_average_factor, mean)
        new_mean = params.broadcast(running_mean) * keep + mean * factor
        unbiased = var * m.scalar_like(_unbiased_factor(inputs, axes_), var)
        new_var = params.broadcast(running_var) * keep + unbiased * factor
        results += [params.back(new_mean, running_mean), params.back(new_var, running_var)]
    return tuple(results)


def batch_normalization_test(
    inputs: Any,
    gamma: Any,
    beta: Any,
    mean: Any,
    var: Any,
    axes: Any = "per-activation",
    epsilon: float = 1e-4,
) -> Any:
    """Normalize `inputs` with given statistics (e.g. running averages) for inference.

    (inputs - mean) * gamma / sqrt(var + epsilon) + beta, parameters shaped as in training.

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> out = batch_normalization_test(x, np.ones(1), np.zeros(1), np.ones(1), np.full(1, 4.0))
    >>> labsym.function([x], out)([[3.0]])
    array([[0.99998...]])
    """
    inputs, gamma, beta, mean, var = (
        as_tensor_variable(v) for v in (inputs, gamma, beta, mean, var)
    )
    params = _Params(inputs, _normalized_axes(axes, inputs.ndim), gamma)
    params.check("gamma, beta, mean and var", gamma, beta, mean, var)
    _check_epsilon(epsilon)
    gamma, beta, mean, var = (params.broadcast(p) for p in (gamma, beta, mean, var))
    return (inputs - mean) * (gamma / m.sqrt(var + m.scalar_like(epsilon, var))) + beta


def batch_normalization(
    inputs: Any, gamma: Any, beta: Any, mean: Any, std: Any, mode: str = "low_mem"
) -> Any:
    """(inputs - mean) * (gamma / std) + beta, with the caller's broadcasting (Theano's old API).

    `mode` ('low_mem' or 'high_mem') chose a Theano kernel; both give the same values here.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], batch_normalization(x, 2.0, 1.0, 3.0, 0.5))([4.0])
    array([5.])
    """
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(
            f'batch_normalization: mode must be either "low_mem", "high_mem"; got {mode!r}'
        )
    inputs, gamma, beta, mean, std = (
        as_tensor_variable(v) for v in (inputs, gamma, beta, mean, std)
    )
    return (inputs - mean) * (gamma / std) + beta
