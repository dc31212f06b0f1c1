"""BLAS kernels (Dot, Gemm, Gemv, Ger) against perform: shapes, views, dtypes, scales, inplace."""

import tracemalloc
import zlib

import numpy as np
import pytest

import labsym as ls
import labsym.tensor as tt
from labsym.backends.c.blas import blas_available
from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.module import compile_nodes
from labsym.core.ops.blas import Dot
from labsym.core.ops.gemm import Gemm, Gemv, Ger
from labsym.core.type import TensorType
from labsym.tensor.blas import GemmInplace

pytestmark = pytest.mark.skipif(
    not (compiler_available() and blas_available()), reason="needs a C compiler and a BLAS"
)
DTYPES = ("float32", "float64")
SHAPES = [(3, 4, 5), (1, 5, 4), (5, 1, 4), (4, 5, 1), (1, 1, 1), (0, 3, 4), (3, 0, 4), (3, 4, 0)]
LAYOUTS = ("c", "f", "rows_sliced", "step", "neg_rows", "neg_cols")


class GemvInplace(Gemv):
    """An inplace Gemv as an inplace rewrite would make one (y's buffer holds the result)."""

    destroy_map = {0: [0]}


class GerInplace(Ger):
    destroy_map = {0: [0]}


def var(dtype, ndim):
    return TensorType(dtype, (None,) * ndim)()


def make_nodes(dtype):
    s, v, m = var(dtype, 0), (lambda: var(dtype, 1)), (lambda: var(dtype, 2))
    return {
        "mm": Dot()(m(), m()).owner,
        "mv": Dot()(m(), v()).owner,
        "vm": Dot()(v(), m()).owner,
        "vv": Dot()(v(), v()).owner,
        "gemm": Gemm()(m(), s, m(), m(), var(dtype, 0)).owner,
        "gemm_inplace": GemmInplace()(m(), s, m(), m(), var(dtype, 0)).owner,
        "gemv": Gemv()(v(), s, m(), v(), var(dtype, 0)).owner,
        "ger": Ger()(m(), s, v(), v(), var(dtype, 0)).owner,
        "gemv_inplace": GemvInplace()(v(), s, m(), v(), var(dtype, 0)).owner,
        "ger_inplace": GerInplace()(m(), s, v(), v(), var(dtype, 0)).owner,
    }


@pytest.fixture(scope="module", params=["auto", "scipy"])
def kernels(request):
    """(node, thunk) by (dtype, name) plus a mixed-dtype Dot, all from one module, for each
    BLAS the kernels can call (auto: NumPy's own here, scipy: SciPy's cython_blas)."""
    nodes = {(dt, name): n for dt in DTYPES for name, n in make_nodes(dt).items()}
    nodes[("mixed", "mm")] = Dot()(var("float32", 2), var("float64", 2)).owner
    nodes[("mixed", "vv")] = Dot()(var("int32", 1), var("float64", 1)).owner
    with ls.config.change_flags(blas__source=request.param):
        thunks = compile_nodes(list(nodes.values()))
    assert all(t is not None for t in thunks)
    return {key: (node, t) for (key, node), t in zip(nodes.items(), thunks, strict=True)}


def layout(x, how):
    """`x`'s values in an array with the strides `how` names (same shape, same values)."""
    if x.ndim == 1:
        how = {"c": "c", "f": "c", "rows_sliced": "c", "step": "step"}.get(how, "neg")
        if how == "c":
            return x.copy()
        if how == "step":
            buf = np.zeros((2 * x.shape[0],), x.dtype)
            buf[::2] = x
            return buf[::2]
        return x[::-1].copy()[::-1]
    if how == "c":
        return x.copy()
    if how == "f":
        return np.asfortranarray(x)
    if how == "rows_sliced":  # row-major with a leading dimension larger than the row
        buf = np.zeros((x.shape[0], x.shape[1] + 3), x.dtype)
        buf[:, 1 : 1 + x.shape[1]] = x
        return buf[:, 1 : 1 + x.shape[1]]
    if how == "step":  # no unit stride at all: copied
        buf = np.zeros((2 * x.shape[0], 2 * x.shape[1]), x.dtype)
        buf[::2, ::2] = x
        return buf[::2, ::2]
    if how == "neg_rows":
        return x[::-1].copy()[::-1]
    return x[:, ::-1].copy()[:, ::-1]


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def check(node, thunk, inputs, rtol=None):
    dtype = node.outputs[0].dtype
    with np.errstate(invalid="ignore"):
        expect = node.op.numpy_callable(node)(*[np.array(x, copy=True) for x in inputs])
    got = thunk(*inputs)
    assert got.dtype == expect.dtype and got.shape == expect.shape
    tol = rtol or (2e-5 if dtype == "float32" else 1e-12)
    scale = max(1.0, float(np.max(np.abs(expect[np.isfinite(expect)]), initial=0)))
    np.testing.assert_allclose(got, expect, rtol=tol, atol=tol * scale)
    return got


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("how", LAYOUTS)
def test_dot_products(kernels, dtype, shape, how):
    rng = np.random.default_rng(zlib.crc32(repr((shape, how)).encode()))
    m, k, n = shape
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    u, w = rand(rng, (m,), dtype), rand(rng, (k,), dtype)
    la, lb = layout(a, how), layout(b, "c" if how == "f" else how)
    check(*kernels[(dtype, "mm")], [la, lb])
    check(*kernels[(dtype, "mm")], [layout(a, "f"), layout(b, how)])
    check(*kernels[(dtype, "mv")], [la, layout(w, how)])
    check(*kernels[(dtype, "vm")], [layout(u, how), la])
    got = check(*kernels[(dtype, "vv")], [layout(w, how), layout(w[::-1].copy(), how)])
    assert got.ndim == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("how", LAYOUTS)
def test_gemm_gemv_ger(kernels, dtype, shape, how):
    rng = np.random.default_rng(zlib.crc32(repr((shape, how, 1)).encode()))
    m, k, n = shape
    z, x, y = rand(rng, (m, n), dtype), rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    vy, vx = rand(rng, (m,), dtype), rand(rng, (k,), dtype)
    for a, b in [(1.0, 1.0), (-0.5, 2.0), (2.0, 0.0), (0.0, 0.5), (1.0, -1.0)]:
        a_, b_ = np.asarray(a, dtype), np.asarray(b, dtype)
        check(*kernels[(dtype, "gemm")], [layout(z, how), a_, layout(x, how), layout(y, how), b_])
        check(*kernels[(dtype, "gemv")], [layout(vy, how), a_, layout(x, how), layout(vx, how), b_])
        ger_in = [layout(x, how), a_, layout(vy, how), layout(vx, how), b_]
        check(*kernels[(dtype, "ger")], ger_in)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("how", LAYOUTS)
def test_gemm_inplace_writes_into_z(kernels, dtype, how):
    node, thunk = kernels[(dtype, "gemm_inplace")]
    rng = np.random.default_rng(7)
    z, x, y = rand(rng, (4, 6), dtype), rand(rng, (4, 3), dtype), rand(rng, (3, 6), dtype)
    for b in (0.0, 1.0, 0.5):
        target = layout(z, how)
        expect = np.asarray(b, dtype) * z + np.asarray(-1.5, dtype) * (x @ y)
        out = thunk(target, np.asarray(-1.5, dtype), x, layout(y, how), np.asarray(b, dtype))
        assert out is target
        tol = 2e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(target, expect, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_inplace_with_z_also_an_operand(kernels, dtype):
    node, thunk = kernels[(dtype, "gemm_inplace")]
    rng = np.random.default_rng(3)
    z, y = rand(rng, (5, 5), dtype), rand(rng, (5, 5), dtype)
    expect = 0.5 * z + 2 * (z @ y)
    for x_of in (lambda t: t, lambda t: t.T.copy().T):  # z itself: the product must read the old z
        target = z.copy()
        out = thunk(target, np.asarray(2, dtype), x_of(target), y, np.asarray(0.5, dtype))
        assert out is target
        np.testing.assert_allclose(target, expect, rtol=1e-5, atol=1e-5)
    target = z.copy()
    thunk(target, np.asarray(2, dtype), target, y, np.asarray(0.5, dtype))  # same buffer
    np.testing.assert_allclose(target, expect, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_inf_propagate_as_numpy(kernels, dtype):
    rng = np.random.default_rng(5)
    z, x, y = rand(rng, (3, 4), dtype), rand(rng, (3, 2), dtype), rand(rng, (2, 4), dtype)
    x[1, 0] = np.nan
    y[0, 2] = np.inf
    z[2, 3] = np.nan
    vx, vy = rand(rng, (2,), dtype), rand(rng, (3,), dtype)
    vx[1], vy[0] = np.inf, np.nan
    for a, b in [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (2.0, 3.0)]:
        a_, b_ = np.asarray(a, dtype), np.asarray(b, dtype)
        got = check(*kernels[(dtype, "gemm")], [z, a_, x, y, b_])
        assert np.isnan(got[1]).all()  # x's NaN reaches its row even when a == 0
        check(*kernels[(dtype, "gemv")], [vy, a_, x, vx, b_])
        check(*kernels[(dtype, "ger")], [z, a_, vy, y[0], b_])


def test_mixed_dtype_dot_casts_as_numpy(kernels):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3)).astype("float32")
    check(*kernels[("mixed", "mm")], [a, rng.standard_normal((3, 5))])
    check(*kernels[("mixed", "mm")], [a.T.copy().T, rng.standard_normal((5, 3)).T])
    ints = rng.integers(-5, 5, 6).astype("int32")
    check(*kernels[("mixed", "vv")], [ints[::-2], rng.standard_normal(6)[::2]])


def test_dot_of_integers_stays_on_numpy():
    assert kernel_for(Dot()(var("int64", 2), var("int64", 2)).owner) is None
    assert kernel_for(Dot()(var("int8", 1), var("int16", 1)).owner) is None
    assert kernel_for(Dot()(var("float32", 2), var("float32", 1)).owner) is not None


def test_shape_mismatch_raises_like_perform(kernels):
    node, thunk = kernels[("float64", "gemm")]
    with pytest.raises(ValueError, match="Gemm.*shapes do not match"):
        thunk(np.zeros((2, 3)), 1.0, np.zeros((2, 4)), np.zeros((4, 2)), 1.0)
    with pytest.raises(ValueError, match="Gemv.*shapes do not match"):
        kernels[("float64", "gemv")][1](np.zeros(3), 1.0, np.zeros((2, 4)), np.zeros(4), 1.0)
    with pytest.raises(ValueError, match="not aligned"):
        kernels[("float32", "mv")][1](np.zeros((2, 4), "float32"), np.zeros(3, "float32"))
    with pytest.raises(ValueError, match="Ger.*shapes do not match"):
        kernels[("float64", "ger")][1](np.zeros((2, 3)), 1.0, np.zeros(2), np.zeros(4), 1.0)


def test_inputs_are_not_modified_by_the_non_inplace_ops(kernels):
    rng = np.random.default_rng(9)
    z, x, y = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    saved = [z.copy(), x.copy(), y.copy()]
    kernels[("float64", "gemm")][1](z, 2.0, x, y, 3.0)
    kernels[("float64", "ger")][1](z, 2.0, x[0], y[1], 3.0)
    for before, after in zip(saved, (z, x, y), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("how", LAYOUTS)
def test_gemv_and_ger_inplace_write_into_their_first_input(kernels, dtype, how):
    rng = np.random.default_rng(11)
    vy, a, vx = rand(rng, (4,), dtype), rand(rng, (4, 3), dtype), rand(rng, (3,), dtype)
    for scale_a, b in [(1.0, 1.0), (-2.0, 0.0), (0.0, 0.5)]:
        sa, sb = np.asarray(scale_a, dtype), np.asarray(b, dtype)
        for name, inputs in [("gemv", [vy, sa, a, vx, sb]), ("ger", [a, sa, vy, vx, sb])]:
            node, thunk = kernels[(dtype, name + "_inplace")]
            target = layout(inputs[0], how)
            expect = node.op.numpy_callable(node)(*[np.array(x) for x in inputs])
            rest = [layout(x, how) if x.ndim else x for x in inputs[1:]]
            assert thunk(target, *rest) is target
            tol = 2e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(target, expect, rtol=tol, atol=tol * 10)


def test_inplace_into_a_read_only_array_raises(kernels):
    z = np.zeros((2, 2))
    z.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels[("float64", "gemm_inplace")][1](z, 1.0, np.ones((2, 2)), np.ones((2, 2)), 1.0)


def test_scales_of_another_dtype_convert_and_non_scalars_raise(kernels):
    node, thunk = kernels[("float32", "gemm")]
    rng = np.random.default_rng(4)
    z, x, y = (rand(rng, (3, 3), "float32") for _ in range(3))
    got = thunk(z, np.asarray(0.5), x, y, np.asarray(2, "int64"))  # as float(a) in perform
    expect = node.op.numpy_callable(node)(z, np.asarray(0.5), x, y, np.asarray(2, "int64"))
    np.testing.assert_allclose(got, expect, rtol=2e-5)
    assert got.dtype == np.float32
    with pytest.raises(TypeError, match="b must be a scalar"):
        thunk(z, np.float32(1), x, y, np.ones(2, "float32"))


def test_strict_c_linker_runs_the_blas_nodes_the_rewrites_make():
    a, x, y, g = tt.dmatrix("A"), tt.dvector("x"), tt.dvector("y"), tt.dvector("g")
    z, b = tt.fmatrix("Z"), tt.fmatrix("B")
    mode = ls.Mode(linker="c", optimizer="fast_run")  # strict: every node must have C code
    f = ls.function([a, x, y, g], [tt.dot(a, x), y - 0.1 * tt.dot(a.T, g)], mode=mode)
    h = ls.function([z, b], 2 * tt.dot(z, b) + z, mode=mode)
    ops = {type(n.op) for fn in (f, h) for n in fn.maker.fgraph.apply_nodes}
    assert {Dot, Gemv, Gemm} <= ops
    rng = np.random.default_rng(8)
    av = rng.standard_normal((6, 5))[::-1, ::2]  # a view with negative and stepped strides
    xv, yv, gv = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(6)[::-1]
    o1, o2 = f(av, xv, yv, gv)
    np.testing.assert_allclose(o1, av @ xv, rtol=1e-12)
    np.testing.assert_allclose(o2, yv - 0.1 * (av.T @ gv), rtol=1e-12)
    zv, bv = rand(rng, (4, 4), "float32"), rand(rng, (4, 4), "float32").T
    np.testing.assert_allclose(h(zv, bv), 2 * (zv @ bv) + zv, rtol=2e-5, atol=2e-5)


def traced_peak(fn, *args):
    """(result, peak bytes NumPy allocated during fn(*args))."""
    tracemalloc.start()
    try:
        result = fn(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_views_go_to_blas_without_copies(kernels, dtype):
    """Dot/Gemm of transposed (and row-sliced) views use BLAS's trans flags and leading
    dimensions: the only allocation is the result (Gemm: b*z written into it in one pass)."""
    rng = np.random.default_rng(12)
    a, b = rand(rng, (300, 200), dtype), rand(rng, (300, 250), dtype)
    z = rand(rng, (200, 250), dtype)
    out_bytes = z.nbytes
    got, peak = traced_peak(kernels[(dtype, "mm")][1], a.T, b)
    np.testing.assert_allclose(got, a.T @ b, rtol=1e-4, atol=1e-3)
    assert out_bytes <= peak < out_bytes + a.nbytes // 4
    sa, sb = np.asarray(-0.5, dtype), np.asarray(0.75, dtype)
    got, peak = traced_peak(kernels[(dtype, "gemm")][1], z, sa, a.T, b[:, :], sb)
    np.testing.assert_allclose(got, 0.75 * z - 0.5 * (a.T @ b), rtol=1e-4, atol=1e-3)
    assert out_bytes <= peak < out_bytes + a.nbytes // 4
    got = kernels[(dtype, "mm")][1](b.T, a[:, ::-1])  # a negative stride: copied, same values
    np.testing.assert_allclose(got, b.T @ a[:, ::-1], rtol=1e-4, atol=1e-3)


def test_inplace_gemv_on_a_byteswapped_output_computes_into_it():
    # BLAS cannot write a non-native-endian vector: the kernel computes into a new one and
    # copies back (it once handed BLAS a freed temporary and left z unchanged)
    node = GemvInplace()(var("float64", 1), var("float64", 0), var("float64", 2),
                         var("float64", 1), var("float64", 0)).owner  # fmt: skip
    (thunk,) = compile_nodes([node])
    a, x = np.arange(6.0).reshape(2, 3), np.ones(3)
    for _ in range(3):
        z = np.array([10.0, 20.0]).astype(">f8")
        out = thunk(z, np.array(1.0), a, x, np.array(1.0))
        np.testing.assert_array_equal(out, [13.0, 32.0])
        np.testing.assert_array_equal(z, [13.0, 32.0])
