"""LinearRecurrence: y[i] = b[i] + a[i] * y[i-1] along an axis, the exact derivatives of cumprod.

May import core.graph, core.op, core.type, core.dtypes, core.variable and sibling op modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops import subtensor
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant


def _along(ndim: int, axis: int, entry: slice) -> tuple:
    return (slice(None),) * axis + (entry,) + (slice(None),) * (ndim - axis - 1)


def shift(x: Variable, axis: int, step: int, fill: Any) -> Variable:
    """x moved one place along `axis` (step=1: out[i] = x[i-1]; step=-1: out[i] = x[i+1]).

    The entry left empty holds `fill`; the shape does not change.
    """
    head, tail = _along(x.ndim, axis, slice(None, -1)), _along(x.ndim, axis, slice(1, None))
    target, source = (tail, head) if step == 1 else (head, tail)
    return subtensor.set_subtensor(m.fill(x, constant(fill, dtype=x.dtype))[target], x[source])


class LinearRecurrence(Op):
    """y[i] = b[i] + a[i] * y[i-1] along `axis` (y[i+1] and from the end when `reverse`).

    Division-free, so the derivatives of cumprod built from it stay exact where x has zeros
    (an O(n) loop along the axis, vectorised over the other axes). Closed under derivatives:
    its gradient and R_op are recurrences of the same kind.
    """

    __props__ = ("axis", "reverse")

    def __init__(self, axis: int, reverse: bool = False) -> None:
        self.axis, self.reverse = int(axis), bool(reverse)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim != b.ndim or [d == 1 for d in a.type.shape] != [d == 1 for d in b.type.shape]:
            raise ValueError(
                f"{self}: the coefficients {a} ({a.type}) and terms {b} ({b.type}) must have "
                "the same number of dimensions and broadcast pattern"
            )
        if not 0 <= self.axis < a.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {b} ({b.type})")
        shape = tuple(x if x is not None else y for x, y in zip(a.type.shape, b.type.shape))
        out = TensorType(dtypes.upcast(a.dtype, b.dtype), shape)()
        return Apply(self, [a, b], [out])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        a, b = inputs
        if a.shape != b.shape:
            raise ValueError(f"{self}: coefficients of shape {a.shape}, terms of shape {b.shape}")
        dtype = node.outputs[0].dtype
        coef = np.moveaxis(a, self.axis, 0)
        y = np.array(np.moveaxis(b, self.axis, 0), dtype=dtype)
        n = y.shape[0]
        if self.reverse:
            for i in range(n - 2, -1, -1):
                y[i] += coef[i] * y[i + 1]
        else:
            for i in range(1, n):
                y[i] += coef[i] * y[i - 1]
        output_storage[0][0] = np.ascontiguousarray(np.moveaxis(y, 0, self.axis))

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        (a, b), (y,), (gy,) = inputs, outputs, output_grads
        step = -1 if self.reverse else 1
        # adjoint: lam[i] = gy[i] + a[i+step] * lam[i+step], run the other way
        lam = LinearRecurrence(self.axis, not self.reverse)(shift(a, self.axis, -step, 0), gy)
        grad_a = lam * shift(y, self.axis, step, 0)
        return [m.cast(grad_a, a.dtype), m.cast(lam, b.dtype)]

    def R_op(self, inputs, eval_points):
        (a, b), (va, vb) = inputs, eval_points
        if va is None and vb is None:
            return [None]
        y = self(a, b)
        step = -1 if self.reverse else 1
        # dy[i] = db[i] + da[i] * y[i-step] + a[i] * dy[i-step]
        terms = m.zeros_like(y) if vb is None else vb
        if va is not None:
            terms = terms + va * shift(y, self.axis, step, 0)
        return [self(a, terms)]


def cumprod_grad(x: Variable, out: Variable, gz: Variable, axis: int) -> Variable:
    """d sum(gz * cumprod(x)) / dx, exact with zeros in x (no division by x).

    grad[i] = prod(x[:i]) * s[i] with s[i] = gz[i] + x[i+1] * s[i+1].
    """
    exclusive = shift(out, axis, 1, 1)  # prod(x[:i])
    later = LinearRecurrence(axis, reverse=True)(shift(x, axis, -1, 0), gz)
    return exclusive * later


def cumprod_r_op(x: Variable, out: Variable, v: Variable, axis: int) -> Variable:
    """The directional derivative of cumprod(x) along v, exact with zeros in x.

    d out[j] = x[j] * d out[j-1] + v[j] * prod(x[:j]).
    """
    return LinearRecurrence(axis)(x, v * shift(out, axis, 1, 1))
