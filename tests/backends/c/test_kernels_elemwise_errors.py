"""C elementwise/reduction kernels fail, wrap and warn where NumPy does: integer powers, float ->
int casts of NaN, infinities and out-of-range values."""

import re
import warnings

import numpy as np
import pytest

from labsym.backends.c.build import compiler_available
from labsym.backends.c.fpe import fp_reporter
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.kernels import elemwise as elemwise_kernels
from labsym.config import config
from labsym.core import scalar
from labsym.core.ops import reduce as red
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.core.ops.fused_reduce import FusedReduce
from labsym.core.type import TensorType
from tests.backends.c.kernel_checks import kernel_assembly, perform, thunks_with_openmp

pytestmark = [
    pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH"),
    pytest.mark.filterwarnings("ignore:labsym generates no C code"),
]

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
NEGATIVE_POWER = "Integers to negative integer powers are not allowed."


def _var(dtype, shape=(None, None)):
    return TensorType(dtype, shape)()


def _pow_nodes():
    rec = scalar.SCALAR_OPS["pow"]
    nodes = {f"pow-{d}": Elemwise(rec)(_var(d), _var(d)).owner for d in INT_DTYPES}
    x, y = _var("int32"), _var("int32", (1, None))
    composite = Composite.from_graph([x, y], [(x + 1) ** (y - 3)])
    nodes["pow-composite"] = composite.make_node(x, y)
    a, b = _var("int64"), _var("int64")
    nodes["pow-fused-sum"] = FusedReduce(
        red.Sum((1,), "int64", "int64"), Composite.from_graph([a, b], [a**b])
    ).make_node(a, b)
    return nodes


CAST_TARGETS = [*INT_DTYPES, "bool"]


def _cast_nodes():
    return {
        f"cast-{src}-{dst}": Elemwise(scalar.cast_op(dst))(_var(src)).owner
        for src in ("float64", "float32")
        for dst in CAST_TARGETS
    }


NODES = {**_pow_nodes(), **_cast_nodes()}
SIGNED = [n for n in NODES if not n.startswith("pow-uint")]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the flag's notice from before the C backend existed
    with config.change_flags(openmp=True, openmp_elemwise_minsize=1000):
        OPENMP = {f"omp-{n}": NODES[n] for n in ("pow-int32", "pow-composite", "pow-fused-sum")}
        OPENMP["omp-cast-float64-int32"] = NODES["cast-float64-int32"]
        OPENMP["omp-log"] = Elemwise(scalar.SCALAR_OPS["log"])(_var("float64")).owner
        OPENMP_KERNELS = {name: kernel_for(node) for name, node in OPENMP.items()}
POW = {n: v for n, v in {**NODES, **OPENMP}.items() if "pow" in n}


@pytest.fixture(scope="module")
def thunks():
    # the reporter the C linker gives kernels with fp_flags: warnings come from NumPy's re-run
    return thunks_with_openmp(
        NODES,
        OPENMP,
        OPENMP_KERNELS,
        "err",
        lambda n, node: None if "pow" in n else fp_reporter(node),
    )


def _pow_inputs(node, rng, shape):
    """Bases and exponents of the node's dtypes: exponents up to 70, so most powers wrap."""
    base_dtype, exp_dtype = (v.type.dtype for v in node.inputs)
    info = np.iinfo(base_dtype)
    base = rng.integers(max(info.min, -100), min(info.max, 100) + 1, shape).astype(base_dtype)
    exp_shape = (1, shape[1]) if node.inputs[1].type.shape[0] == 1 else shape
    low = 3 if isinstance(node.op, Composite) else 0  # its exponent is y - 3
    exponent = rng.integers(low, 71, exp_shape).astype(exp_dtype)
    return base, exponent


def _views(a):
    """`a` as contiguous, strided, negative-stride and Fortran-order arrays of one shape."""
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    big[::2, ::2] = a
    return [a, big[::2, ::2], a[::-1, ::-1].copy()[::-1, ::-1], np.asfortranarray(a)]


SHAPES = [(3, 5), (1, 7), (40, 130)]


@pytest.mark.parametrize("name", list(POW))
def test_integer_powers_wrap_as_numpy(thunks, name):
    rng = np.random.default_rng(1)
    node = POW[name]
    for shape in SHAPES:
        base, exponent = _pow_inputs(node, rng, shape)
        for b, e in zip(_views(base), _views(exponent), strict=True):
            with np.errstate(all="ignore"):
                expected = perform(node, b, e)
            got = thunks[name](b, e)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", [n for n in POW if not n.startswith("pow-uint")])
def test_negative_integer_power_raises_numpys_error(thunks, name):
    rng = np.random.default_rng(2)
    node = POW[name]
    for shape in SHAPES:
        base, exponent = _pow_inputs(node, rng, shape)
        if name.endswith("composite"):
            exponent[...] = 3  # y - 3 is 0: allowed
            got = thunks[name](base, exponent)
            np.testing.assert_array_equal(got, perform(node, base, exponent))
            exponent.flat[rng.integers(exponent.size)] = 2  # 2 - 3 < 0
        else:
            exponent.flat[rng.integers(exponent.size)] = -1
        for b, e in zip(_views(base), _views(exponent), strict=True):
            with pytest.raises(ValueError, match=NEGATIVE_POWER):
                perform(node, b, e)
            with pytest.raises(ValueError, match=NEGATIVE_POWER):
                thunks[name](b, e)
        # the flag does not outlive the failed call
        exponent[...] = np.abs(exponent) + (3 if name.endswith("composite") else 0)
        np.testing.assert_array_equal(thunks[name](base, exponent), perform(node, base, exponent))


# x86-64 NumPy's edge cases: NaN, infinities, beyond every range, just inside/outside int32,
# uint32, int64 and uint64, negative values into unsigned types, fractions
CAST_VALUES = [np.nan, np.inf, -np.inf, 1e20, -1e20, 3e9, -3e9, 5e9, 300.0, -300.0, 70000.0]
CAST_VALUES += [-1.0, -129.0, 0.5, -0.7, 2.0**31, 2.0**31 - 0.5, -(2.0**31) - 0.5, -(2.0**31) - 1]
CAST_VALUES += [2.0**32, 2.0**32 - 1, 2.0**63, -(2.0**63), 2.0**64, 1.8e19, -(2.0**63) - 4096]


def _messages(seen):
    return sorted({str(w.message) for w in seen if w.category is RuntimeWarning})


def _one_by_one(x, dst):
    """Each element cast alone (NumPy's scalar loop), and whether any of those casts warned."""
    flat, warned = [], False
    for v in x.reshape(-1):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            flat.append(np.array([v]).astype(dst)[0])
        warned |= bool(seen)
    return np.array(flat, dtype=dst).reshape(x.shape), warned


@pytest.mark.parametrize("name", [n for n in NODES if n.startswith("cast")])
def test_float_to_int_casts_give_numpys_values_and_warnings(thunks, name):
    node = NODES[name]
    src, dst = node.inputs[0].type.dtype, node.outputs[0].type.dtype
    rng = np.random.default_rng(3)
    values = np.array(CAST_VALUES, dtype=src)
    mixed = rng.normal(0, 1e3, (37, 29)).astype(src)
    mixed.flat[rng.permutation(mixed.size)[: len(values)]] = values
    cases = [values[i : i + 1, None] * np.ones((1, 3), src) for i in range(len(values))]
    cases += _views(mixed) + [mixed[:, ::-3], rng.normal(0, 50, (4, 6)).astype(src)]
    for x in cases:
        expected, warned = _one_by_one(x, dst)
        with warnings.catch_warnings(record=True) as numpy_seen:
            warnings.simplefilter("always")
            performed = perform(node, x)
        if dst != "uint32":  # NumPy's uint32 SIMD loop differs from its scalar loop
            np.testing.assert_array_equal(performed, expected)
            assert bool(numpy_seen) == warned
        with warnings.catch_warnings(record=True) as c_seen:
            warnings.simplefilter("always")
            got = thunks[name](x)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected, err_msg=f"{x}")
        # the C kernel raised FE_INVALID exactly when a cast was invalid; the reporter's NumPy
        # re-run then warned with NumPy's message
        assert bool(c_seen) == (warned or bool(numpy_seen))
        if c_seen:
            assert _messages(c_seen) == ["invalid value encountered in cast"]
    if not name.endswith("bool"):  # NaN -> True is exact
        with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="in cast"):
            thunks[name](np.array([[np.nan]], src))


@pytest.mark.skipif(not elemwise_kernels.MVEC, reason="no libmvec to link")
def test_a_loop_with_a_float_to_int_cast_stays_vectorised(tmp_path):
    """The casts are branch-free: cast(exp(x) * 100) still calls libmvec's vector exp."""
    from labsym.core.ops import math as m

    x = _var("float64")
    node = Composite.from_graph([x], [m.cast(m.exp(x) * 100, "int32")]).make_node(x)
    asm = kernel_assembly(node, tmp_path)
    assert re.search(r"_ZGV[b-e]N\d+v_exp\b", asm), "the loop is not vectorised"


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("omp-cast-float64-int32", np.nan, "invalid value encountered in cast"),
        ("omp-log", -1.0, "invalid value encountered in log"),
        ("omp-log", 0.0, "divide by zero encountered in log"),
    ],
)
def test_openmp_worker_threads_flags_reach_the_caller(thunks, name, bad, message):
    """A bad value in the last rows (another OpenMP thread's share) still warns."""
    x = np.random.default_rng(4).uniform(1, 2, (400, 300))
    assert thunks[name](x).shape == x.shape
    x[-1, -1] = bad
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = thunks[name](x)
    assert message in _messages(seen)
    with np.errstate(all="ignore"):
        expected = perform(OPENMP[name], x)
    np.testing.assert_allclose(got[:-1], expected[:-1], rtol=1e-13)  # libmvec's log: ulps
