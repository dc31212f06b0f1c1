"""verify_grad: compare symbolic gradients with central finite differences on random projections.

Sits beside compile.py (it compiles functions). May import core and labsym.compile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labsym.core.autodiff import grad
from labsym.core.type import TensorType


class GradientCheckError(AssertionError):
    """The symbolic gradient disagrees with finite differences."""


_DEFAULT_EPS = {"float64": 1e-7, "float32": 3e-3, "float16": 1e-1}
_DEFAULT_TOL = {"float64": 1e-4, "float32": 1e-2, "float16": 5e-2}


def verify_grad(
    fun: Callable[..., Any],
    pt: Sequence[Any],
    n_tests: int = 2,
    rng: Any = None,
    eps: float | None = None,
    out_type: Any = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    mode: Any = None,
    cast_to_output_type: bool = False,
    no_debug_ref: bool = True,
) -> None:
    """Raise GradientCheckError unless grad(fun) matches finite differences at point `pt`.

    `fun` maps symbolic inputs (one per array in `pt`) to one symbolic output; the output is
    projected on a random tensor so every element's gradient is checked at once.
    """
    from labsym.compile import function

    rng = rng if rng is not None else np.random.default_rng(42)
    pt = [np.array(p) for p in pt]
    for p in pt:
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad: points must be float arrays, got dtype {p.dtype}")
    inputs = [TensorType(p.dtype.name, (None,) * p.ndim)(f"input_{i}") for i, p in enumerate(pt)]
    output = fun(*inputs)
    if isinstance(output, (list, tuple)):
        raise TypeError("verify_grad: fun must return one variable")
    f_out = function(inputs, output, mode=mode, on_unused_input="ignore")
    value = np.asarray(f_out(*pt))
    # the least precise of the inputs and the output sets the step and the tolerances
    candidates = [p.dtype.name for p in pt] + (
        [output.dtype] if output.dtype in _DEFAULT_EPS else []
    )
    dtype = min(candidates, key=lambda d: np.dtype(d).itemsize)
    eps = eps if eps is not None else _DEFAULT_EPS[dtype]
    abs_tol = abs_tol if abs_tol is not None else _DEFAULT_TOL[dtype]
    rel_tol = rel_tol if rel_tol is not None else _DEFAULT_TOL[dtype]
    for _ in range(n_tests):
        projection = rng.uniform(0.5, 1.5, size=value.shape) * rng.choice(
            [-1.0, 1.0], size=value.shape
        )
        projection = np.asarray(
            projection, dtype=output.dtype if output.dtype in ("float32", "float64") else "float64"
        )
        cost = (output * projection).sum()
        f_cost = function(inputs, cost, mode=mode, on_unused_input="ignore")
        g_syms = grad(cost, inputs, disconnected_inputs="ignore")
        f_grad = function(inputs, g_syms, mode=mode, on_unused_input="ignore")
        analytic = [np.asarray(g) for g in f_grad(*pt)]
        numeric = _numeric_grads(f_cost, pt, eps)
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            _compare(i, a, n, abs_tol, rel_tol, fun)


def _numeric_grads(
    f_cost: Callable[..., Any], pt: list[np.ndarray], eps: float
) -> list[np.ndarray]:
    grads = []
    for i, p in enumerate(pt):
        g = np.zeros(p.shape, dtype="float64")
        flat = p.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = float(f_cost(*pt))
            flat[j] = old - eps
            minus = float(f_cost(*pt))
            flat[j] = old
            g.reshape(-1)[j] = (plus - minus) / (2 * eps)
        grads.append(g)
        pt[i] = p
    return grads


def _compare(
    i: int, analytic: np.ndarray, numeric: np.ndarray, abs_tol: float, rel_tol: float, fun: Any
) -> None:
    if analytic.shape != numeric.shape:
        raise GradientCheckError(
            f"verify_grad({getattr(fun, '__name__', fun)}): gradient of input {i} has shape "
            f"{analytic.shape}, the input has shape {numeric.shape}"
        )
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    bad = (abs_err > abs_tol) & (rel_err > rel_tol)
    if np.any(bad):
        k = int(np.argmax(np.where(bad, abs_err, -1)))
        raise GradientCheckError(
            f"verify_grad({getattr(fun, '__name__', fun)}): input {i}, "
            f"element {np.unravel_index(k, analytic.shape)}: "
            f"analytic {analytic.reshape(-1)[k]:.6g} vs numeric {numeric.reshape(-1)[k]:.6g} "
            f"(abs err {abs_err.reshape(-1)[k]:.3g}, rel err {rel_err.reshape(-1)[k]:.3g}, "
            f"tolerances abs {abs_tol} rel {rel_tol})"
        )
