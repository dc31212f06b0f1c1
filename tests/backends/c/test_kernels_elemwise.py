"""Elemwise/Composite C kernels vs perform: every record x dtype, mixed dtypes, layouts, inplace."""

import re
import sys
import time
import warnings

import numpy as np
import pytest

from labsym.backends.c import render
from labsym.backends.c.build import compiler_available
from labsym.backends.c.kernel import kernel_for
from labsym.backends.c.kernels import elemwise as elemwise_kernels
from labsym.config import config
from labsym.core import scalar
from labsym.core.ops.composite import Composite
from labsym.core.ops.elemwise import Elemwise
from labsym.core.type import TensorType
from tests.backends.c.kernel_checks import kernel_assembly

pytestmark = [
    pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH"),
    pytest.mark.filterwarnings("ignore:labsym generates no C code"),
]

RECORD_DTYPES = ["float64", "float32", "int64", "int16", "uint8", "bool"]
# C and NumPy disagree only on these special inputs (see test_render_scalar_table)
NO_SPECIALS = {"gammaln": [-np.inf], "j0": [np.inf, -np.inf], "j1": [np.inf, -np.inf]}
NO_SPECIALS["round_half_away_from_zero"] = [-0.0]
# glibc's special functions vs scipy's: a few 1e-13 apart near their zeros
LOOSE = {"gamma", "gammaln", "j0", "j1"}


def _var(dtype, shape=(None, None)):
    return TensorType(dtype, shape)()


def _record_nodes():
    cases = {}
    records = list(scalar.SCALAR_OPS.values()) + [scalar.cast_op(d) for d in render.C_TYPES]
    for rec in records:
        if rec.name in render.skipped():
            continue
        for dtype in RECORD_DTYPES:
            if dtype not in render._dtypes_for(rec):
                continue
            if render.scalar_expr(rec, [dtype] * rec.nin, ["a"] * rec.nin) is None:
                continue
            cases[f"{rec.name}-{dtype}"] = Elemwise(rec)(
                *[_var(dtype) for _ in range(rec.nin)]
            ).owner
    return cases


def _mixed_nodes():
    rec = scalar.SCALAR_OPS
    pairs = [
        ("add", "int8", "float32"),
        ("mul", "int64", "float32"),
        ("add", "uint8", "int8"),
        ("sub", "uint32", "int32"),
        ("true_div", "int32", "int16"),
        ("true_div", "int8", "uint8"),
        ("int_div", "int64", "float64"),
        ("mod", "float32", "int16"),
        ("pow", "float32", "int8"),
        ("maximum", "int16", "float32"),
        ("lt", "int64", "float32"),
        ("eq", "uint8", "int8"),
        ("and_", "bool", "int16"),
        ("arctan2", "int16", "float32"),
        ("second", "float32", "int64"),
    ]
    out = {f"{n}-{a}-{b}": Elemwise(rec[n])(_var(a), _var(b)).owner for n, a, b in pairs}
    for unary, dtype in [
        ("exp", "int8"),
        ("sqrt", "int32"),
        ("sigmoid", "uint16"),
        ("neg", "uint16"),
        ("abs", "int8"),
        ("sqr", "int32"),
    ]:
        out[f"{unary}-{dtype}"] = Elemwise(rec[unary])(_var(dtype)).owner
    out["switch-float-cond"] = Elemwise(rec["switch"])(
        _var("float64"), _var("int32"), _var("float32")
    ).owner
    out["clip-mixed"] = Elemwise(rec["clip"])(_var("float32"), _var("int8"), _var("float64")).owner
    return out


def _composite(inputs, outputs):
    return Composite.from_graph(inputs, outputs).make_node(*inputs)


def _composite_nodes():
    from labsym.core.ops import math as m

    out = {}
    for dt in ("float64", "float32"):
        x, y, z = _var(dt), _var(dt), _var(dt)
        e = m.exp(-(x**2)) * m.sin(y) + m.log1p(abs(z)) / (1 + x * x)
        out[f"issue-expr-{dt}"] = _composite([x, y, z], [e])
    x, r, c = _var("float64"), _var("float64", (1, None)), _var("float32", (None, 1))
    out["broadcast-row-col"] = _composite([x, r, c], [m.tanh(x + r) * c - 2])
    a, b = _var("int32"), _var("float32")
    out["mixed-int-float"] = _composite([a, b], [m.switch(m.gt(a, 0), b * a, -b) // 3])
    p, q = _var("float64"), _var("float64")
    out["two-outputs"] = _composite([p, q], [m.exp(p) + q, m.maximum(p, q) * 2.5])
    u = _var("float32")
    out["relu-sigmoid"] = _composite([u], [m.maximum(u, 0) + m.sigmoid(u) * np.float32(-0.5)])
    k = _var("uint8")
    out["int-chain"] = _composite([k], [(k * 7 + 3) % 5 - k // 2])
    t, s = _var("float64", (None, None, None)), _var("float64", (1, None, 1))
    out["3d-broadcast"] = _composite([t, s], [m.log(abs(t) + 1) * s + s * s])
    v, w = _var("float64", ()), _var("float64", ())
    out["0d"] = _composite([v, w], [m.exp(v) - w * 3])
    return out


def _fuzz_nodes():
    from labsym.core.ops import math as m

    a = _var("float64", (None, None, None, None))
    b = _var("float64", (1, None, 1, None))
    c = _var("float32", (None, 1, None, 1))
    return {
        "fuzz-4d": _composite([a, b, c], [a * b + m.exp(c) - b * c]),
        "fuzz-4d-inplace": Elemwise(scalar.SCALAR_OPS["mul"], {0: 0})(a, b).owner,
    }


def _inplace_nodes():
    rec = scalar.SCALAR_OPS
    x, y = _var("float64"), _var("float64", (1, None))
    return {
        "add-inplace": Elemwise(rec["add"], {0: 0})(x, y).owner,
        "exp-inplace": Elemwise(rec["exp"], {0: 0})(_var("float32")).owner,
        # int8 input cannot hold the float32 result: a new array, as perform does
        "exp-inplace-unfit": Elemwise(rec["exp"], {0: 0})(_var("int8")).owner,
    }


RECORDS = _record_nodes()
MIXED = _mixed_nodes()
COMPOSITES = _composite_nodes()
INPLACE = _inplace_nodes()
FUZZ = _fuzz_nodes()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the flag's notice from before the C backend existed
    with config.change_flags(openmp=True, openmp_elemwise_minsize=1000):
        OPENMP = {"openmp": _composite_nodes()["issue-expr-float64"]}
        OPENMP_KERNEL = kernel_for(OPENMP["openmp"])
ALL = {**RECORDS, **MIXED, **COMPOSITES, **INPLACE, **FUZZ}


@pytest.fixture(scope="module")
def thunks():
    names = list(ALL)
    t0 = time.perf_counter()
    # the OpenMP node is rendered under openmp=True: its -fopenmp reaches the whole module
    from labsym.backends.c.module import build_module, make_thunk, node_entry

    entries = [node_entry(ALL[n], f"ew{i}") for i, n in enumerate(names)]
    omp_entry = node_entry(OPENMP["openmp"], "ew_omp")
    omp_entry = type(omp_entry)(omp_entry.symbol, OPENMP_KERNEL, omp_entry.in_dtypes, 1)
    lib = build_module([e for e in entries if e is not None] + [omp_entry])
    print(f"built {len(entries) + 1} elemwise kernels in {time.perf_counter() - t0:.1f}s")
    table = {n: None if e is None else make_thunk(lib, e) for n, e in zip(names, entries)}
    table["openmp"] = make_thunk(lib, omp_entry)
    return table


# ---------------------------------------------------------------------- inputs and checks
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5])


def _values(dtype, shape, rng, rec_name=""):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        v = rng.integers(max(info.min, -100), min(info.max, 100) + 1, shape).astype(dtype)
        if rec_name == "pow":
            v = np.abs(v) % 5  # NumPy refuses negative integer powers
        return v
    v = rng.normal(0, 3, shape)
    if rec_name == "convert_to_uint32":
        # NumPy's SIMD loop casts NaN/out-of-range values unlike its scalar loop (C's answer)
        return np.nan_to_num(np.clip(v, 0, 100)).astype(dtype)
    flat = v.reshape(-1)
    special = [
        s
        for s in SPECIAL
        if not any(
            s is t or s == t and np.signbit(s) == np.signbit(t)
            for t in NO_SPECIALS.get(rec_name, [])
        )
    ]
    k = min(len(special), flat.size // 2)
    flat[rng.permutation(flat.size)[:k]] = special[:k]
    return v.astype(dtype)


def _layouts(arrays_for, rng):
    """(label, inputs) for one shape in several layouts: each a view of a bigger base."""
    yield "contiguous", arrays_for((5, 7), lambda a: a)
    yield "transposed", arrays_for((7, 5), lambda a: a.T)
    yield "step", arrays_for((10, 21), lambda a: a[::2, ::3])
    yield "negative", arrays_for((5, 14), lambda a: a[::-1, ::-2])
    yield "fortran", arrays_for((5, 7), np.asfortranarray)
    yield "empty", arrays_for((0, 7), lambda a: a)
    yield "long-rows", arrays_for((2, 20000), lambda a: a)
    yield "long-strided", arrays_for((3, 40000), lambda a: a[:, ::-2])


def _perform(node, inputs):
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, [np.array(a, copy=True) for a in inputs], storage)
    return [s[0] for s in storage]


def assert_matches(out, ref, where, loose=False):
    """Equal dtype/shape/values: exact for ints and bools; floats within a few ulps (`loose`:
    programs whose terms cancel, where libmvec's ulps show in absolute terms)."""
    assert out.dtype == ref.dtype, f"{where}: dtype {out.dtype} != {ref.dtype}"
    assert out.shape == ref.shape, f"{where}: shape {out.shape} != {ref.shape}"
    if out.dtype.kind != "f":
        bad = out != ref
    else:
        single = out.dtype == np.float32
        rtol = (2e-5 if single else 1e-11) if loose else (2e-6 if single else 1e-13)
        atol = (1e-6 if single else 1e-13) if loose else np.finfo(out.dtype).tiny
        with np.errstate(invalid="ignore"):
            ok = np.isclose(out, ref, rtol=rtol, atol=atol, equal_nan=True)
            zeros = (out == 0) & (ref == 0)
        bad = ~(ok & (~zeros | (np.signbit(out) == np.signbit(ref))))
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(f"{where}: at {i} C gives {out[i]!r}, perform {ref[i]!r}")


def _check_node(thunk, node, rng, shape_of=None, rec_name="", loose=False):
    assert thunk is not None, f"no C kernel for {node.op}"
    types = [v.type for v in node.inputs]

    def arrays_for(shape, view):
        arrays = []
        for t in types:
            s = tuple(1 if st == 1 else d for st, d in zip(t.shape, shape)) if t.ndim else ()
            if len(s) < t.ndim:
                s = s + (1,) * (t.ndim - len(s))
            base = _values(t.dtype, s, rng, rec_name)
            arrays.append(view(base) if base.ndim == 2 else base)
        return arrays

    layouts = list(_layouts(arrays_for, rng)) if shape_of is None else shape_of(arrays_for)
    for label, inputs in layouts:
        with np.errstate(all="ignore"):
            refs = _perform(node, inputs)
            outs = thunk(*inputs)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        for o, r in zip(outs, refs, strict=True):
            assert_matches(o, r, f"{node.op} [{label}]", loose)


@pytest.mark.parametrize("name", list(RECORDS))
def test_record_kernel_matches_perform(thunks, name):
    rec = name.split("-")[0]
    _check_node(
        thunks[name], RECORDS[name], np.random.default_rng(1), rec_name=rec, loose=rec in LOOSE
    )


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_dtypes_match_perform(thunks, name):
    _check_node(thunks[name], MIXED[name], np.random.default_rng(2), rec_name=name.split("-")[0])


def _nd_layouts(node):
    ndim = node.outputs[0].ndim

    def layouts(arrays_for_2d):
        rng = np.random.default_rng(3)
        shapes = {0: [()], 2: [(4, 6), (0, 3), (300, 70)], 3: [(3, 4, 5), (2, 1, 300)]}[ndim]
        for shape in shapes:
            arrays = []
            for v in node.inputs:
                s = tuple(1 if st == 1 else d for st, d in zip(v.type.shape, shape))
                arrays.append(_values(v.type.dtype, s, rng))
            yield f"{shape}", arrays
            if ndim:
                flipped = [a[..., ::-1] if a.ndim else a for a in arrays]
                yield f"{shape} reversed", flipped
                yield f"{shape} transposed", [np.ascontiguousarray(a.T).T for a in arrays]

    return layouts


@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composite_kernel_matches_perform(thunks, name):
    node = COMPOSITES[name]
    _check_node(
        thunks[name], node, np.random.default_rng(4), shape_of=_nd_layouts(node), loose=True
    )


def test_issue_expression_on_two_dims_and_views(thunks):
    node = COMPOSITES["issue-expr-float64"]
    _check_node(thunks["issue-expr-float64"], node, np.random.default_rng(5), loose=True)


def test_integer_division_edges_do_not_trap(thunks):
    a = np.array([[np.iinfo(np.int64).min, 7, -7, 5]], dtype=np.int64)
    b = np.array([[-1, -1, 2, 0]], dtype=np.int64)
    for name in ("int_div-int64", "mod-int64"):
        with np.errstate(all="ignore"):
            ref = _perform(RECORDS[name], [a, b])[0]
        np.testing.assert_array_equal(thunks[name](a, b), ref)


def test_scalars_and_python_numbers(thunks):
    f = thunks["0d"]
    ref = np.exp(np.float64(0.3)) - 2.0 * 3
    assert f(np.float64(0.3), 2.0) == pytest.approx(ref, rel=1e-15)
    out = f(np.array(0.3), 2)
    assert out.shape == () and out.dtype == np.float64


def test_other_input_dtypes_are_converted(thunks):
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    out = thunks["exp-float64"](x)
    np.testing.assert_allclose(out, np.exp(x.astype(np.float64)), rtol=1e-15)
    swapped = x.astype(">f8")
    np.testing.assert_allclose(thunks["exp-float64"](swapped), np.exp(x.astype(float)), rtol=1e-15)


def test_output_order_follows_the_full_inputs(thunks):
    f = np.asfortranarray(np.ones((3, 4)))
    assert thunks["add-float64"](f, f).flags.f_contiguous
    assert thunks["add-float64"](f, np.ones((3, 4))).flags.c_contiguous
    col, row = np.ones((3, 1)), np.ones((1, 4))
    assert thunks["broadcast-row-col"](
        np.ones((3, 4)), row, col.astype(np.float32)
    ).flags.c_contiguous


def _unaligned(values):
    raw = np.zeros(values.nbytes + 1, np.uint8)[1:].view(values.dtype).reshape(values.shape)
    raw[...] = values
    assert not raw.flags.aligned
    return raw


def test_unaligned_inputs(thunks):
    x = _unaligned(np.linspace(-3, 3, 600).reshape(20, 30))
    np.testing.assert_allclose(thunks["exp-float64"](x), np.exp(np.array(x)), rtol=1e-15)
    out = thunks["add-inplace"](x, np.ones((1, 30)))
    np.testing.assert_array_equal(out, np.array(x) + 1)


def test_shape_mismatch_raises_like_perform(thunks):
    a, b = np.ones((3, 4)), np.ones((3, 5))
    with pytest.raises(ValueError, match="Input dimension mis-match"):
        thunks["add-float64"](a, b)
    with pytest.raises(ValueError, match="dimensions"):
        thunks["add-float64"](np.ones(3), np.ones(3))
    row = np.ones((2, 4))  # a (1, None) input given 2 rows
    with pytest.raises(ValueError):
        thunks["add-inplace"](np.ones((2, 4)), row)


def test_inplace_writes_into_its_input(thunks):
    rng = np.random.default_rng(6)
    base = rng.standard_normal((6, 8))
    x = base[::2, ::-1]  # a writable strided view is written in place
    b = rng.standard_normal((1, 8))
    expected = x + b
    out = thunks["add-inplace"](x, b)
    assert out is x
    np.testing.assert_array_equal(x, expected)
    frozen = rng.standard_normal((3, 8))
    frozen.flags.writeable = False
    out = thunks["add-inplace"](frozen, b)
    assert out is not frozen
    np.testing.assert_array_equal(out, frozen + b)
    f = rng.standard_normal((4, 4)).astype(np.float32)
    expected = np.exp(f)
    assert thunks["exp-inplace"](f) is f
    np.testing.assert_allclose(f, expected, rtol=2e-6)
    i = np.arange(6, dtype=np.int8).reshape(2, 3)
    out = thunks["exp-inplace-unfit"](i)
    assert out.dtype == np.float32 and out is not i
    np.testing.assert_array_equal(i, np.arange(6).reshape(2, 3))


def test_references_are_not_leaked(thunks):
    x, b = np.ones((4, 5)), np.ones((1, 5))
    before = sys.getrefcount(x), sys.getrefcount(b)
    for _ in range(50):
        thunks["add-inplace"](x, b)
        thunks["add-float64"](x, x)
    with pytest.raises(ValueError):
        thunks["add-float64"](x, np.ones((4, 6)))
    assert (sys.getrefcount(x), sys.getrefcount(b)) == before


def test_openmp_kernel_matches_perform(thunks):
    assert "-fopenmp" in OPENMP_KERNEL.compile_args
    node = OPENMP["openmp"]
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((300, 1000)) for _ in range(3)]
    views = [arrays[0], arrays[1][::-1], np.asfortranarray(arrays[2])]
    for inputs in (arrays, views):
        assert_matches(thunks["openmp"](*inputs), _perform(node, inputs)[0], "openmp", loose=True)


def _random_view(rng, shape, dtype):
    """A view with `shape` of a bigger array: axes permuted, stepped, some reversed."""
    order = rng.permutation(len(shape))
    steps = rng.choice([1, 2, -1, -3], size=len(shape))
    base_shape = [shape[i] * abs(int(steps[i])) for i in order]
    base = rng.normal(size=base_shape).astype(dtype).transpose(np.argsort(order))
    return base[tuple(slice(None, None, int(st)) for st in steps)]


def test_random_layouts_and_broadcasts(thunks):
    rng = np.random.default_rng(8)
    node = FUZZ["fuzz-4d"]
    for _ in range(150):
        shape = tuple(int(d) for d in rng.integers(1, 6, size=4))
        if rng.random() < 0.1:
            shape = shape[:2] + (0,) + shape[3:]
        inputs = []
        for v in node.inputs:
            s = tuple(1 if st == 1 else d for st, d in zip(v.type.shape, shape))
            inputs.append(_random_view(rng, s, v.type.dtype))
        out, ref = thunks["fuzz-4d"](*inputs), _perform(node, inputs)[0]
        assert out.dtype == ref.dtype and out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-6, atol=2e-6)  # float32 exp: ulps of ~e
        target = inputs[0].copy() if rng.random() < 0.5 else inputs[0]
        expected = target * inputs[1]
        out = thunks["fuzz-4d-inplace"](target, inputs[1])
        assert out is target
        np.testing.assert_array_equal(target, expected)


@pytest.mark.skipif(not elemwise_kernels.MVEC, reason="no libmvec to link")
def test_contiguous_loop_calls_vector_math(tmp_path):
    """The issue expression's loop calls libmvec's vector exp/sin/log1p (it is vectorised)."""
    for name in ("issue-expr-float64", "issue-expr-float32"):
        asm = kernel_assembly(COMPOSITES[name], tmp_path)
        suffix = "f" if name.endswith("32") else ""
        for fn in ("exp", "sin", "log1p"):
            assert re.search(rf"_ZGV[b-e]N\d+v_{fn}{suffix}\b", asm), f"{fn}{suffix} not vectorised"


def test_records_without_c_stay_on_python():
    rec = scalar.SCALAR_OPS
    assert kernel_for(Elemwise(rec["psi"])(_var("float64")).owner) is None
    assert kernel_for(Elemwise(rec["exp"])(_var("float16")).owner) is None
    assert kernel_for(Elemwise(rec["real"])(_var("complex128")).owner) is None
