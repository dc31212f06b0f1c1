"""Checks shared by the op test modules: symbolic inputs, compile-and-compare, shapes, gradients.

May import labsym (the compiler, autodiff, shape ops and gradient checker) and numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.compile import function
from labsym.core.autodiff import Rop
from labsym.core.ops.shape import shape_i
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable
from labsym.gradient_check import verify_grad


def array_maker(rng: np.random.Generator, low: int = 0, high: int = 6) -> Callable[..., np.ndarray]:
    """A `random_array(shape, dtype="float64")` drawing from `rng`, for a test module's inputs.

    Floats are standard normal, ints lie in [low, high) (unsigned ones from max(low, 0)), and
    bools are fair coin flips.
    """

    def random_array(shape: Any, dtype: str = "float64") -> np.ndarray:
        kind = np.dtype(dtype).kind
        if kind == "b":
            return rng.random(shape) > 0.5
        if kind in "iu":
            start = max(low, 0) if kind == "u" else low
            return rng.integers(start, high, size=shape).astype(dtype)
        return rng.normal(size=shape).astype(dtype)

    return random_array


def tensor(dtype: str, ndim: int, name: str = "x", shape: Sequence[int | None] | None = None):
    """A symbolic input of `dtype`, of unknown lengths unless a static `shape` is given."""
    return TensorType(dtype, shape or (None,) * ndim)(name)


def run(build: Callable, *values: np.ndarray) -> Any:
    """Compile `build` over inputs typed like `values`, run it, and check what each output holds.

    Every output must have its declared dtype and agree with its static shape; a list or tuple
    of outputs gives a list of values.
    """
    inputs = [tensor(str(v.dtype), v.ndim, f"in{i}") for i, v in enumerate(values)]
    out = build(*inputs)
    several = isinstance(out, (list, tuple))
    outs = list(out) if several else [out]
    results = function(inputs, outs)(*values)
    for var, value in zip(outs, results, strict=True):
        assert value.dtype == var.dtype
        assert all(s is None or s == n for s, n in zip(var.type.shape, value.shape, strict=True))
    return results if several else results[0]


def check_infer_shape(inputs: list, out: Any, values: list) -> None:
    """The node's infer_shape, compiled, gives the shape of the value it computes."""
    node = out.owner
    in_shapes = [
        tuple(d if d is not None else shape_i(v, k) for k, d in enumerate(v.type.shape))
        for v in node.inputs
    ]
    inferred = node.op.infer_shape(None, node, in_shapes)[out.index]
    assert len(inferred) == out.ndim
    f = function(
        inputs, [as_tensor_variable(s) for s in inferred] + [out], on_unused_input="ignore"
    )
    *lengths, value = f(*values)
    assert tuple(int(n) for n in lengths) == value.shape


def check_grad(fun: Callable, *points: Any) -> None:
    """verify_grad of `fun` at `points` (as float64), with a fixed random projection."""
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in points], rng=np.random.default_rng(0))


def check_rop(
    build: Callable,
    point: np.ndarray,
    direction: np.ndarray,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Rop(build(x), x, v) at (point, direction) equals the central difference of build's value."""
    x, v = tensor(str(point.dtype), point.ndim), tensor(str(point.dtype), point.ndim, "v")
    f = function([x], build(x))
    eps = 1e-6
    numeric = (f(point + eps * direction) - f(point - eps * direction)) / (2 * eps)
    result = function([x, v], Rop(build(x), x, v))(point, direction)
    np.testing.assert_allclose(result, numeric, rtol=rtol, atol=atol)
