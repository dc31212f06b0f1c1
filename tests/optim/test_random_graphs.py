"""Random elementwise/reduction/dot graphs: FAST_RUN computes what the unrewritten graph computes.

A program is plain data (hypothesis shrinks and prints it): input kinds, then steps that each
apply one op to earlier values. Denominators and logs get positive operands, exp bounded ones,
so any difference is a rewrite bug, not a legitimate change of inf/nan.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.core.autodiff import grad
from labsym.core.ops import math as m

NAIVE = Mode(optimizer=None)
N = 3  # every axis has length 3, so any two values broadcast together
KINDS = {"scalar": T.dscalar, "vector": T.dvector, "matrix": T.dmatrix}
BINARY = ("add", "sub", "mul", "true_div", "maximum", "dot")
UNARY = ("exp", "log", "sqr", "neg", "tanh", "sigmoid")
REDUCTIONS = ("sum", "mean", "max")
WITH_CONSTANT = ("add_c", "sub_c", "rsub_c", "mul_c", "div_c")  # identities and folding
CONSTANTS = (0.0, 1.0, -1.0, 2.0, 0.5, -3.0)
EXAMPLES = int(os.environ.get("LABSYM_FUZZ_EXAMPLES", "1000"))  # 1000: about 7 s on one core


def _positive(value, how: int):
    """A positive variant of value, at least exp(-3) (for denominators and logs)."""
    return m.exp(m.tanh(value) * 3.0) if how else m.sqr(value) + 0.5


def _binary(name: str, a, b, b_positive: bool, how: int):
    if name == "true_div":
        return a / (b if b_positive else _positive(b, how))
    if name == "maximum":
        return m.maximum(a, b)
    if name == "dot":
        return T.dot(a, b) if a.ndim and b.ndim else a * b
    return {"add": a + b, "sub": a - b, "mul": a * b}[name]


def _unary(name: str, a, a_positive: bool, how: int):
    if name == "exp":
        return m.exp(m.tanh(a) * 3.0)
    if name == "log":
        return m.log(a if a_positive else _positive(a, how))
    return getattr(m, name)(a)


def _with_constant(name: str, a, c: float):
    if name == "div_c":
        return a / (c or 4.0)
    return {"add_c": a + c, "sub_c": a - c, "rsub_c": c - a, "mul_c": c * a}[name]


def _reduce(name: str, a, axis: int | None):
    if a.ndim == 0:
        return -a
    axis = None if axis is None else axis % a.ndim
    return getattr(a, name)(axis=axis)


# ops whose result is positive (and away from 0) when their operands are
_KEEPS_POSITIVE = {"add", "mul", "true_div", "maximum", "add_c", "sum", "mean", "max"}


def build(program: dict):
    """(inputs, outputs) of a program; every step reads earlier values by (wrapped) index.

    Values known positive (exp, sqr + 0.5, and sums/products of positives) divide and take logs
    directly, so the same value can appear above and below a fraction bar and cancel.
    """
    inputs = [KINDS[kind](f"x{i}") for i, kind in enumerate(program["inputs"])]
    values = [(x, False) for x in inputs] + [(_positive(x, 1), True) for x in inputs]
    for op, i, j, extra in program["steps"]:
        (a, a_pos), (b, b_pos) = values[i % len(values)], values[j % len(values)]
        if op in BINARY:
            out = _binary(op, a, b, b_pos, extra % 2)
            positive = a_pos and (b_pos or op == "true_div") and op in _KEEPS_POSITIVE
        elif op in UNARY:
            out, positive = _unary(op, a, a_pos, extra % 2), op in ("exp", "sqr") and a_pos
        elif op in WITH_CONSTANT:
            c = CONSTANTS[extra % len(CONSTANTS)]
            out, positive = _with_constant(op, a, c), a_pos and op in _KEEPS_POSITIVE and c >= 0
        else:
            out = _reduce(op, a, (None, 0, -1)[extra % 3])
            positive = a_pos and op in _KEEPS_POSITIVE and a.ndim > 0
        values.append((out, positive))
    outputs = [values[-1][0]]
    if program["second"] is not None:
        outputs.append(values[program["second"] % len(values)][0])
    if program["grad"]:
        cost = outputs[0].sum() if outputs[0].ndim else outputs[0]
        outputs.append(grad(cost, inputs[0], disconnected_inputs="ignore"))
    return inputs, outputs


PROGRAMS = st.fixed_dictionaries(
    {
        "inputs": st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3),
        "steps": st.lists(
            st.tuples(
                st.sampled_from(BINARY + UNARY + REDUCTIONS + WITH_CONSTANT),
                st.integers(0, 8),
                st.integers(0, 8),
                st.integers(0, 5),
            ),
            min_size=1,
            max_size=10,
        ),
        "second": st.one_of(st.none(), st.integers(0, 8)),
        "grad": st.booleans(),
    }
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=PROGRAMS, seed=st.integers(0, 2**16))
def test_fast_run_matches_the_unrewritten_graph(program, seed):
    inputs, outputs = build(program)
    rng = np.random.default_rng(seed)
    shapes = {"scalar": (), "vector": (N,), "matrix": (N, N)}
    values = [rng.uniform(-2.0, 2.0, size=shapes[kind]) for kind in program["inputs"]]
    fast = function(inputs, outputs, mode="FAST_RUN", on_unused_input="ignore")
    naive = function(inputs, outputs, mode=NAIVE, on_unused_input="ignore")
    with np.errstate(all="ignore"):
        got, want = fast(*values), naive(*values)
    for g, w in zip(got, want, strict=True):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-9, equal_nan=True)
