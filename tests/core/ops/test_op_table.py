"""Every op record of tests/op_table.py against NumPy (values, dtypes) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labsym.compile import function
from labsym.config import config
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.op_table import BINARY, RECORDS, OpRecord

RNG = np.random.default_rng(1234)


def _inputs(record: OpRecord, shape, dtype, rng):
    lo, hi = record.domain
    if dtype.startswith("int"):
        lo, hi = max(int(lo), 1) if record.name in ("int_div", "mod") else -5, 9
        values = [rng.integers(lo, hi, size=shape).astype(dtype) for _ in range(record.nin)]
    else:
        values = [rng.uniform(lo, hi, size=shape).astype(dtype) for _ in range(record.nin)]
    if record.extra.get("sorted_bounds"):
        a, b = np.minimum(values[1], values[2]), np.maximum(values[1], values[2])
        values[1], values[2] = a, b
    return values


def _cases():
    for record in RECORDS:
        dtypes = list(record.dtypes) + (["int32", "int64"] if record.int_ok else [])
        for dtype in dtypes:
            yield pytest.param(record, dtype, id=f"{record.name}-{dtype}")


@pytest.mark.parametrize("record,dtype", list(_cases()))
def test_values_match_numpy(record: OpRecord, dtype: str):
    for shape in record.shapes:
        values = _inputs(record, shape, dtype, RNG)
        symbols = [TensorType(dtype, (None,) * len(shape))() for _ in values]
        out = record.build(*symbols)
        f = function(symbols, out)
        got = f(*values)
        with np.errstate(all="ignore"):
            want = np.asarray(record.reference(*values))
        assert isinstance(got, np.ndarray)
        assert got.shape == want.shape
        assert got.dtype == out.dtype
        tol = 1e-5 if got.dtype == np.float32 or dtype == "float32" else 1e-10
        np.testing.assert_allclose(
            got.astype("float64"), want.astype("float64"), rtol=tol, atol=tol
        )


@pytest.mark.parametrize("record", [r for r in RECORDS if r.grad], ids=lambda r: r.name)
def test_gradients_match_finite_differences(record: OpRecord):
    rng = np.random.default_rng(7)
    for shape in ((), (3, 2)):
        values = _inputs(record, shape, "float64", rng)
        if record.name in ("maximum", "minimum"):
            values[1] = values[0] + rng.choice([-0.5, 0.5], size=shape)  # avoid ties
        verify_grad(record.build, values, rng=rng)


@pytest.mark.parametrize("dtype", ["float32", "int8", "int32"])
def test_float_valued_ops_promote_ints_like_theano(dtype):
    x = TensorType(dtype, (None,))()
    out = TensorType(dtype, (None,))()
    got = (x / out).dtype
    assert got == ("float32" if dtype in ("float32", "int8") else "float64")


def test_python_scalars_autocast_as_in_theano():
    # Theano's cast_policy='custom': the smallest dtype holding the value, then the usual upcast
    x = TensorType("float32", (None,))()
    assert (x * 0.5).dtype == "float32"  # 0.5 is exact in float32
    assert (x * 0.1).dtype == "float64"  # Theano's float64 leak with floatX=float64
    assert (x * np.float32(0.1)).dtype == "float32"  # NumPy scalars keep their dtype
    assert (x + 1).dtype == "float32"
    i = TensorType("int32", (None,))()
    assert (i + 1).dtype == "int32"
    assert (i * 0.5).dtype == "float64"
    assert (i + 2**40).dtype == "int64"
    assert (TensorType("uint8", (None,))() + 1).dtype == "int16"  # int8 1 meets uint8
    with config.change_flags(floatX="float32"):
        assert (x * 0.1).dtype == "float32"


def test_runtime_broadcast_of_undeclared_axis_is_an_error():
    x = TensorType("float64", (None, None))("x")
    y = TensorType("float64", (None, None))("y")
    f = function([x, y], x + y)
    with pytest.raises(ValueError, match=r"Input dimension mis-match .*shape\[0\] = 1"):
        f(np.ones((1, 3)), np.ones((2, 3)))
    row = TensorType("float64", (1, None))("row")
    g = function([x, row], x + row)
    np.testing.assert_array_equal(g(np.ones((2, 3)), np.ones((1, 3))), np.full((2, 3), 2.0))


@st.composite
def _broadcast_case(draw):
    shapes, result = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
    )
    return shapes, result


@settings(max_examples=60, deadline=None)
@given(
    _broadcast_case(),
    st.sampled_from([b for b in BINARY if b.name in ("add", "mul", "maximum", "sub")]),
)
def test_broadcasting_follows_numpy(case, record):
    (shape_a, shape_b), result = case
    a = np.random.default_rng(0).standard_normal(shape_a)
    b = np.random.default_rng(1).standard_normal(shape_b)
    ta = TensorType("float64", tuple(1 if d == 1 else None for d in shape_a))()
    tb = TensorType("float64", tuple(1 if d == 1 else None for d in shape_b))()
    out = record.build(ta, tb)
    assert out.ndim == len(result)
    got = function([ta, tb], out)(a, b)
    np.testing.assert_allclose(got, record.reference(a, b))
    assert got.shape == tuple(result)


from tests.op_table import SHAPED, ShapedRecord  # noqa: E402


def _shaped_inputs(record: ShapedRecord, shapes, dtype, rng):
    values = []
    for i, shp in enumerate(shapes):
        if i in record.int_inputs:
            values.append(rng.integers(0, 3, size=shp).astype("int64"))
        else:
            values.append(rng.uniform(*record.domain, size=shp).astype(dtype))
    return values


@pytest.mark.parametrize("record", SHAPED, ids=lambda r: r.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_shaped_ops_match_numpy(record: ShapedRecord, dtype: str):
    rng = np.random.default_rng(3)
    for shapes in record.cases:
        values = _shaped_inputs(record, shapes, dtype, rng)
        symbols = [TensorType(v.dtype.name, (None,) * v.ndim)() for v in values]
        out = record.build(*symbols)
        got = function(symbols, out)(*values)
        want = np.asarray(record.reference(*values))
        assert got.shape == want.shape and got.dtype == out.dtype
        tol = 1e-5 if dtype == "float32" else 1e-10
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("record", [r for r in SHAPED if r.grad], ids=lambda r: r.name)
def test_shaped_op_gradients(record: ShapedRecord):
    rng = np.random.default_rng(11)
    for shapes in record.cases:
        values = _shaped_inputs(record, shapes, "float64", rng)
        fixed = {i: values[i] for i in record.int_inputs}
        free = [v for i, v in enumerate(values) if i not in fixed]

        n_inputs = len(values)

        def build(*free_syms, _fixed=fixed, _n=n_inputs):
            syms, it = [], iter(free_syms)
            for i in range(_n):
                syms.append(_fixed[i] if i in _fixed else next(it))
            return record.build(*syms)

        verify_grad(build, free, rng=rng)


def test_incompatible_static_broadcast_is_refused_at_build_time():
    from labsym.core.ops.elemwise import BroadcastError

    a = TensorType("float64", (3, None))("a")
    b = TensorType("float64", (4, None))("b")
    with pytest.raises(
        BroadcastError,
        match=r"Elemwise\{add,no_inplace\}: incompatible static lengths \[3, 4\] on axis 0",
    ):
        a + b  # noqa: B018
    with pytest.raises(TypeError, match="not defined on booleans"):
        -(a > 0)  # noqa: B018
