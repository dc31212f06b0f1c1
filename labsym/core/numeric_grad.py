"""Theano's numeric_grad: one-sided finite differences of a NumPy function, and error measures.

Programs and tests written for Theano import `theano.gradient.numeric_grad` / `T.numeric_grad`
to check their own gradients. May import numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class numeric_grad:  # noqa: N801 - Theano's name
    """The gradient of the scalar function f at pt, by one-sided differences of step eps.

    `gf` holds one array per point (or one array when `pt` is a single array). The step
    defaults to the largest of the points' dtype steps (`type_eps`); all points are
    perturbed in the most precise of their dtypes, as Theano did.

    Examples
    --------
    >>> g = numeric_grad(lambda x: (x ** 2).sum(), np.array([1.0, 2.0]))
    >>> np.round(g.gf, 5)
    array([2., 4.])
    """

    type_eps = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}

    def __init__(
        self, f: Callable[..., Any], pt: Any, eps: float | None = None, out_type: Any = None
    ) -> None:
        packed = not isinstance(pt, (list, tuple))
        points = [np.array(p) for p in ([pt] if packed else pt)]
        dtypes = [str(p.dtype) for p in points]
        unknown = [d for d in dtypes if d not in self.type_eps]
        if unknown:
            raise TypeError(f"numeric_grad: points must be float arrays, got dtypes {unknown}")
        working = min((self.type_eps[d], d) for d in dtypes)[1]
        if eps is None:
            eps = max(self.type_eps[d] for d in dtypes)
        total = sum(p.size for p in points)
        flat = np.empty(total, dtype=working)
        out_dtype = out_type if out_type and str(out_type).startswith("complex") else working
        grads = np.empty(total, dtype=out_dtype)
        views, self.gf = [], []
        start = 0
        for p in points:
            # every point is a view into one flat vector that the loop perturbs
            views.append(flat[start : start + p.size].reshape(p.shape))
            self.gf.append(grads[start : start + p.size].reshape(p.shape))
            views[-1][...] = p
            start += p.size
        f_x = f(*[v.copy() for v in views])
        original = flat.copy()
        for i in range(total):
            flat[:] = original
            flat[i] += eps
            grads[i] = (f(*views) - f_x) / eps
        if packed:
            self.gf = self.gf[0]

    @staticmethod
    def abs_rel_err(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """(|a - b|, |a - b| / max(|a| + |b|, 1e-8)): small when a and b are close."""
        abs_err = abs(a - b)
        rel_err = abs_err / np.maximum(abs(a) + abs(b), [1e-8])
        return np.asarray(abs_err), np.asarray(rel_err)

    def abs_rel_errors(self, g_pt: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """abs_rel_err of each array of g_pt against the matching numeric gradient."""
        if len(g_pt) != len(self.gf):
            raise ValueError("argument has wrong number of elements", len(g_pt))
        errors = []
        for i, (a, b) in enumerate(zip(g_pt, self.gf)):
            if a.shape != b.shape:
                raise ValueError(f"argument element {i} has wrong shape {(a.shape, b.shape)}")
            errors.append(self.abs_rel_err(a, b))
        return errors

    def max_err(
        self, g_pt: Sequence[np.ndarray], abs_tol: float, rel_tol: float
    ) -> tuple[int, int, float, float]:
        """(array index, flat position, abs error, rel error) of the worst tolerance violation.

        Violation is min(abs_err / abs_tol, rel_err / rel_tol): above 1, both are exceeded.
        """
        worst = []
        for abs_err, rel_err in self.abs_rel_errors(g_pt):
            if not np.all(np.isfinite(abs_err)):
                raise ValueError("abs_err not finite", repr(abs_err))
            if not np.all(np.isfinite(rel_err)):
                raise ValueError("rel_err not finite", repr(rel_err))
            scaled = np.minimum(abs_err / abs_tol, rel_err / rel_tol).reshape(-1)
            k = int(scaled.argmax())
            worst.append((scaled[k], k, abs_err.reshape(-1)[k], rel_err.reshape(-1)[k]))
        index = int(np.argmax([w[0] for w in worst]))
        _, position, abs_err, rel_err = worst[index]
        return index, position, abs_err, rel_err
