"""Binary records on every pair of input dtypes: the kernel computes in NumPy's promoted type
(comparisons too) and converts to the output dtype, as Elemwise.perform does."""

import itertools

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS
from labsym.core.type import TensorType

from .conftest import assert_matches, reference

DTYPES = [
    "bool",
    "int8",
    "uint8",
    "int16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float32",
    "float64",
]
RECORDS = ["add", "sub", "mul", "true_div", "int_div", "mod", "maximum", "lt", "eq", "and_", "pow"]


def _values(dtype, rng, positive=False):
    if dtype == "bool":
        return rng.integers(0, 2, 24).astype(bool)
    if dtype.startswith(("int", "uint")):
        lo = 0 if dtype.startswith("uint") or positive else -20
        return rng.integers(lo, 4 if positive else 20, 24).astype(dtype)
    v = rng.normal(0, 10, 24)
    return (np.abs(v) % 4 if positive else v).astype(dtype)


def _cases():
    rng = np.random.default_rng(0)
    for name, (da, db) in itertools.product(RECORDS, itertools.product(DTYPES, DTYPES)):
        x, y = TensorType(da, (None,))(), TensorType(db, (None,))()
        try:
            node = Elemwise(SCALAR_OPS[name])(x, y).owner
        except TypeError:
            continue
        a, b = _values(da, rng), _values(db, rng, positive=name == "pow")
        try:
            reference(node, [a, b])
        except TypeError:
            continue  # NumPy has no loop (bitwise on floats, bool subtraction)
        if kernels.supports(node):
            yield name, node, a, b


CASES = list(_cases())


@pytest.fixture(scope="module")
def built(runtime):
    plans = [
        kernels.plan(n, [kernels.ArrayMeta.of(a), kernels.ArrayMeta.of(b)]) for _, n, a, b in CASES
    ]
    runtime.compile_many(k for p in plans for k in p.kernels)
    return plans


@pytest.mark.parametrize("name", RECORDS)
def test_mixed_dtypes_match_perform(runtime, built, name):
    bad = []
    for (case_name, node, a, b), plan in zip(CASES, built):
        if case_name != name:
            continue
        (got,) = kernels.run_on(runtime, plan, [a, b])
        (want,) = reference(node, [a, b])
        try:
            assert_matches(got, want, context=f"{name}({a.dtype}, {b.dtype}) -> {got.dtype}")
        except AssertionError as exc:
            bad.append(str(exc)[:400])
    assert not bad, "\n".join(bad)


def test_enough_pairs():
    assert len(CASES) > 700
