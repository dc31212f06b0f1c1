"""Every scalar record x dtype as a CUDA Elemwise kernel: compiled to PTX with NVRTC, and run on
the CPU emulator against Elemwise.perform, with broadcasting, negative strides and NaN/Inf."""

import time

import numpy as np
import pytest

from labsym.backends.cuda import kernels
from labsym.backends.cuda.kernels import common
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS, cast_op
from labsym.core.type import TensorType
from tests.backends.params import with_known_failures

from .conftest import assert_matches, ptx_entries, reference, requires_nvrtc

DTYPES = ["bool", *common.INT_DTYPES, *common.FLOAT_DTYPES]
RECORDS = list(SCALAR_OPS.values()) + [cast_op(d) for d in DTYPES]
# libm and scipy.special disagree at these points (the same list as the C backend's test)
KNOWN_MISMATCHES = {
    "gammaln": "lgamma(-inf) is +inf, scipy.special.gammaln(-inf) is -inf",
    "j0": "j0(-inf) is 0, scipy.special.j0(-inf) is nan",
    "j1": "j1(-inf) is -0, scipy.special.j1(-inf) is nan",
}
SHAPE = (6, 7)


def _node(spec, dtype, broadcast):
    """Elemwise(spec) on inputs of `dtype`: input 1 broadcasts rows, input 2 columns."""
    patterns = [(None, None), (1, None), (None, 1)] if broadcast else [(None, None)] * 3
    try:
        ins = [TensorType(dtype, patterns[k])() for k in range(spec.nin)]
        node = Elemwise(spec)(*ins).owner
        reference(node, [np.ones((1, 1), dtype) for _ in ins])
    except TypeError:
        return None  # NumPy has no loop for this dtype (neg, sqr, sign, power on bool, ...)
    return node if kernels.supports(node) else None


def _expected(spec, node, arrays):
    """perform's result, except where the NumPy impl of a float op computes in the integer
    type: small ints in float16 (xlogx) or unsigned -abs(x) wrapping around (softplus gives
    inf for every positive uint); there the impl on inputs cast to the output float type,
    which is what the kernel computes."""
    out_dtype = node.outputs[0].dtype
    small_or_unsigned = arrays[0].dtype.itemsize == 1 or arrays[0].dtype.kind == "u"
    if spec.output == "float" and small_or_unsigned and out_dtype in ("float32", "float64"):
        with np.errstate(all="ignore"):
            return np.asarray(spec.impl(*[a.astype(out_dtype) for a in arrays]), out_dtype)
    (want,) = reference(node, arrays)
    return want


def _values(spec, dtype, shape, rng):
    n = int(np.prod(shape))
    if dtype == "bool":
        v = rng.integers(0, 2, n).astype(bool)
    elif dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        v = rng.integers(max(info.min, -60), min(info.max, 60) + 1, n).astype(dtype)
        v[: n // 8] = 0  # zero divisors
    else:
        special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5])
        v = rng.normal(0, 3, n)
        v[rng.permutation(n)[: len(special)]] = special
        v = v.astype(dtype)
    if spec.name.startswith("convert_to_") and dtype in common.FLOAT_DTYPES:
        v = np.nan_to_num(np.clip(v, 0, 100))  # casts of NaN / out-of-range floats are UB in C
    return v.reshape(shape)


def _inputs(spec, dtype, broadcast, rng):
    """Input arrays; in the broadcast layout input 0 is a negatively strided view."""
    vals = []
    for k in range(spec.nin):
        if broadcast:
            shape = [SHAPE, (1, SHAPE[1]), (SHAPE[0], 1)][k]
            big = _values(spec, dtype, (shape[0] * 2, shape[1] * 3), rng)
            vals.append(big[::-2, ::3] if k == 0 else big[: shape[0], : shape[1]])
        else:
            vals.append(_values(spec, dtype, SHAPE, rng))
    if spec.name == "clip":
        lo, hi = np.minimum(vals[1], vals[2]), np.maximum(vals[1], vals[2])
        vals[1], vals[2] = np.nan_to_num(lo), np.nan_to_num(hi)
    if spec.name == "pow" and dtype.startswith(("int", "uint")):
        vals[1] = np.abs(vals[1]) % 5  # NumPy refuses negative integer powers
    return vals


CASES = [
    (spec, dtype, broadcast, node)
    for spec in RECORDS
    for dtype in DTYPES
    for broadcast in (True, False)
    if (node := _node(spec, dtype, broadcast)) is not None
]
NAMES = sorted({spec.name for spec, *_ in CASES})


def _plans():
    rng = np.random.default_rng(0)
    out = []
    for spec, dtype, broadcast, node in CASES:
        arrays = _inputs(spec, dtype, broadcast, rng)
        metas = [kernels.ArrayMeta.of(a) for a in arrays]
        out.append((spec, dtype, broadcast, node, arrays, kernels.plan(node, metas)))
    return out


@pytest.fixture(scope="module")
def plans(runtime):
    t0 = time.perf_counter()
    planned = _plans()
    runtime.compile_many(k for *_, plan in planned for k in plan.kernels)
    print(f"{len(planned)} kernels built for the emulator in {time.perf_counter() - t0:.1f}s")
    return planned


def test_every_record_is_covered():
    """Every record with a C template has a CUDA kernel for some dtype (no silent gaps)."""
    with_template = {
        spec.name
        for spec in RECORDS
        if spec.c is not None and spec.output != "complex" and spec.name != "angle"
    }
    assert with_template <= set(NAMES), with_template - set(NAMES)
    assert len(CASES) > 600


def test_every_kernel_compiles_to_ptx():
    """Every record x dtype in the strided kernel; the dense kernel (same expressions, plain
    indexing) for float32 only, to keep NVRTC's time down."""
    requires_nvrtc()
    rng = np.random.default_rng(0)
    kernel_list = []
    for spec, dtype, broadcast, node in CASES:
        if not broadcast and dtype != "float32":
            continue
        arrays = _inputs(spec, dtype, broadcast, rng)
        plan = kernels.plan(node, [kernels.ArrayMeta.of(a) for a in arrays])
        kernel_list.extend(plan.kernels)
    found = ptx_entries(kernel_list)
    assert found == {k.name for k in kernel_list} and len(found) > 800


@pytest.mark.parametrize("name", with_known_failures(NAMES, KNOWN_MISMATCHES))
def test_record_matches_perform(runtime, plans, name):
    bad = []
    for spec, dtype, broadcast, node, arrays, plan in plans:
        if spec.name != name:
            continue
        want = _expected(spec, node, arrays)
        (got,) = kernels.run_on(runtime, plan, arrays)
        try:
            assert_matches(got, want, context=f"{name} {dtype} broadcast={broadcast}")
        except AssertionError as exc:
            bad.append(str(exc)[:600])
    assert not bad, "\n".join(bad)
