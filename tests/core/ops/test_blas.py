"""Products (dot, matmul, tensordot, outer, batched_dot) against NumPy, with gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.graph import io_toposort
from labsym.core.ops import blas as B
from labsym.core.type import TensorType
from labsym.gradient_check import verify_grad
from tests.core.ops.helpers import array_maker

RNG = np.random.default_rng(99)


def tensor(shape, dtype="float64", name=None):
    return TensorType(dtype, shape)(name)


random_array = array_maker(RNG, -4, 5)


def run(build, values, dtypes=None):
    dtypes = dtypes or [str(v.dtype) for v in values]
    inputs = [tensor((None,) * v.ndim, d) for v, d in zip(values, dtypes, strict=True)]
    out = build(*inputs)
    return out, function(inputs, out)(*values)


def _batched_reference(a, b):
    k = max(1, b.ndim - 2)
    return np.stack([np.tensordot(a[i], b[i], [[a.ndim - 2], [k - 1]]) for i in range(len(a))])


PRODUCTS = [
    # (name, build, numpy reference, input shapes)
    ("dot_vv", B.dot, np.dot, [(4,), (4,)]),
    ("dot_mv", B.dot, np.dot, [(3, 4), (4,)]),
    ("dot_vm", B.dot, np.dot, [(4,), (4, 2)]),
    ("dot_mm", B.dot, np.dot, [(3, 4), (4, 2)]),
    ("dot_size1", B.dot, np.dot, [(1, 1), (1, 5)]),
    ("dot_scalar", B.dot, np.dot, [(), (2, 3)]),
    ("dot_scalar_right", B.dot, np.dot, [(3,), ()]),
    ("dot_3d_v", B.dot, np.dot, [(2, 3, 4), (4,)]),
    ("dot_v_3d", B.dot, np.dot, [(3,), (2, 3, 4)]),
    ("dot_3d_m", B.dot, np.dot, [(2, 3, 4), (4, 5)]),
    ("dot_m_3d", B.dot, np.dot, [(2, 3), (4, 3, 5)]),
    ("dot_3d_4d", B.dot, np.dot, [(2, 2, 3), (2, 2, 3, 2)]),
    ("matmul_mm", B.matmul, np.matmul, [(3, 4), (4, 2)]),
    ("matmul_3d_m", B.matmul, np.matmul, [(2, 3, 4), (4, 5)]),
    ("matmul_m_3d", B.matmul, np.matmul, [(3, 4), (2, 4, 5)]),
    ("matmul_3d_3d", B.matmul, np.matmul, [(2, 3, 4), (2, 4, 5)]),
    ("matmul_v_3d", B.matmul, np.matmul, [(4,), (2, 4, 5)]),
    ("matmul_3d_v", B.matmul, np.matmul, [(2, 3, 4), (4,)]),
    ("matmul_4d_3d", B.matmul, np.matmul, [(2, 3, 2, 4), (3, 4, 2)]),
    ("tensordot_2", B.tensordot, np.tensordot, [(2, 3, 4), (3, 4, 2)]),
    (
        "tensordot_1",
        lambda a, b: B.tensordot(a, b, 1),
        lambda a, b: np.tensordot(a, b, 1),
        [(3, 4), (4, 2)],
    ),
    (
        "tensordot_0",
        lambda a, b: B.tensordot(a, b, 0),
        lambda a, b: np.tensordot(a, b, 0),
        [(2, 3), (4,)],
    ),
    (
        "tensordot_pairs",
        lambda a, b: B.tensordot(a, b, [[2, 0], [0, 2]]),
        lambda a, b: np.tensordot(a, b, [[2, 0], [0, 2]]),
        [(2, 3, 4), (4, 5, 2)],
    ),
    (
        "tensordot_crossed",
        lambda a, b: B.tensordot(a, b, [[0, 2], [2, 0]]),
        lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]),
        [(2, 3, 4), (4, 5, 2)],
    ),
    (
        "tensordot_ints",
        lambda a, b: B.tensordot(a, b, (0, -1)),
        lambda a, b: np.tensordot(a, b, (0, -1)),
        [(3, 2), (4, 3)],
    ),
    ("outer", B.outer, np.outer, [(3,), (4,)]),
    ("batched_3_3", B.batched_dot, _batched_reference, [(2, 3, 4), (2, 4, 5)]),
    ("batched_2_2", B.batched_dot, lambda a, b: (a * b).sum(axis=1), [(3, 4), (3, 4)]),
    ("batched_3_2", B.batched_dot, _batched_reference, [(2, 3, 4), (2, 4)]),
    ("batched_2_3", B.batched_dot, _batched_reference, [(2, 4), (2, 4, 3)]),
    ("batched_4_3", B.batched_dot, _batched_reference, [(2, 3, 5, 4), (2, 4, 3)]),
    ("batched_3_4", B.batched_dot, _batched_reference, [(2, 3, 4), (2, 5, 4, 3)]),
    ("batched_1_2", B.batched_dot, lambda a, b: a[:, None] * b, [(2,), (2, 3)]),
    ("batched_3_1", B.batched_dot, lambda a, b: a * b[:, None, None], [(2, 3, 4), (2,)]),
]


@pytest.mark.parametrize(
    ("name", "build", "reference", "shapes"), PRODUCTS, ids=[p[0] for p in PRODUCTS]
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_products_match_numpy(name, build, reference, shapes, dtype):
    values = [random_array(s, dtype) for s in shapes]
    out, got = run(build, values)
    want = reference(*values)
    assert got.shape == want.shape
    assert got.dtype == want.dtype == np.dtype(out.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize(
    ("name", "build", "reference", "shapes"), PRODUCTS, ids=[p[0] for p in PRODUCTS]
)
def test_products_verify_grad(name, build, reference, shapes):
    values = [RNG.normal(size=s) for s in shapes]
    verify_grad(build, values, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("dtypes", "out_dtype"),
    [
        (("int32", "int32"), "int32"),
        (("int64", "int32"), "int64"),
        (("float32", "int32"), "float64"),
        (("float32", "float32"), "float32"),
        (("int8", "float64"), "float64"),
    ],
)
@pytest.mark.parametrize("shapes", [[(3, 4), (4,)], [(3, 4), (4, 2)], [(2, 3, 4), (4, 2)]])
def test_dtype_upcast(dtypes, out_dtype, shapes):
    values = [random_array(s, d) for s, d in zip(shapes, dtypes, strict=True)]
    out, got = run(B.dot, values)
    assert out.dtype == out_dtype and got.dtype == np.dtype(out_dtype)
    np.testing.assert_allclose(got, np.dot(*values), rtol=1e-6)


def test_int_inputs_have_no_gradient_but_float_ones_do():
    x, i = tensor((None, None)), tensor((None,), "int32")
    out = B.dot(x, i)
    gx, gi = out.owner.op.grad([x, i], [tensor((None,))])
    assert gi is None and gx.dtype == "float64"


@pytest.mark.parametrize(
    ("shapes", "want"),
    [
        (((3, None), (None, 5)), (3, 5)),
        (((3, 4), (None,)), (3,)),
        (((None,), (4, 7)), (7,)),
        (((2,), (2,)), ()),
        (((2, 3, 4), (5, 4, 6)), (2, 3, 5, 6)),
        (((None, 3, 4), (4, None)), (None, 3, None)),
    ],
)
def test_static_shapes_propagate(shapes, want):
    a, b = (tensor(s) for s in shapes)
    assert B.dot(a, b).type.shape == want


def test_matmul_static_batch_broadcast():
    a, b = tensor((1, 3, 4)), tensor((5, 4, 2))
    assert B.matmul(a, b).type.shape == (5, 3, 2)
    assert B.matmul(tensor((3, 4)), tensor((None, 4, 2))).type.shape == (None, 3, 2)


@settings(max_examples=30, deadline=None)
@given(
    m=st.integers(1, 3),
    k=st.integers(1, 3),
    n=st.integers(1, 3),
    a_static=st.booleans(),
    b_static=st.booleans(),
    a_vector=st.booleans(),
    b_vector=st.booleans(),
)
def test_dot_shape_rules(m, k, n, a_static, b_static, a_vector, b_vector):
    a_shape = (k,) if a_vector else (m, k)
    b_shape = (k,) if b_vector else (k, n)
    a = tensor(a_shape if a_static else (None,) * len(a_shape))
    b = tensor(b_shape if b_static else (None,) * len(b_shape))
    out = B.dot(a, b)
    av, bv = random_array(a_shape), random_array(b_shape)
    want = np.dot(av, bv)
    assert out.ndim == want.ndim
    for static, actual in zip(out.type.shape, want.shape, strict=True):
        assert static in (None, actual)
    np.testing.assert_allclose(function([a, b], out)(av, bv), want)


@pytest.mark.parametrize(
    ("build", "shapes", "message"),
    [
        (
            B.dot,
            [(3, 4), (5, 2)],
            r"dot: shapes \(3, 4\) and \(5, 2\) are not aligned: "
            r"dim 1 of the first \(4\) != dim 0 of the second \(5\)",
        ),
        (B.dot, [(3,), (4,)], r"dot: shapes \(3,\) and \(4,\) are not aligned"),
        (B.dot, [(2, 3, 4), (5, 2)], r"tensordot: shapes \(2, 3, 4\) and \(5, 2\) are not aligned"),
        (
            B.matmul,
            [(2, 3, 4), (2, 5, 2)],
            r"matmul: shapes \(2, 3, 4\) and \(2, 5, 2\) are not aligned",
        ),
        (
            B.matmul,
            [(2, 3, 4), (3, 4, 2)],
            r"matmul: incompatible static lengths \[2, 3\] on axis 0",
        ),
        (B.matmul, [(), (3,)], "matmul: scalar operands are not allowed"),
        (
            lambda a, b: B.tensordot(a, b, 3),
            [(2, 3), (3, 2)],
            "tensordot: axes=3 needs inputs of at least 3 dims",
        ),
        (lambda a, b: B.tensordot(a, b, [[0], [0, 1]]), [(2, 3), (2, 3)], "pair 1 axes with 2"),
        (
            lambda a, b: B.tensordot(a, b, [[2], [0]]),
            [(2, 3), (2, 3)],
            r"axes \[2\] out of range for an input of 2 dims",
        ),
        (
            lambda a, b: B.tensordot(a, b, [0, 1, 2]),
            [(2, 3), (2, 3)],
            "axes must be an int or a pair",
        ),
        (
            B.batched_dot,
            [(2, 3, 4), (3, 4, 2)],
            r"batched_dot: .* dim 0 of the first \(2\) != dim 0 of the second \(3\)",
        ),
        (B.batched_dot, [(), (3,)], "batched_dot: inputs need a batch axis"),
        (B.Dot(), [(2, 3, 4), (4,)], "Dot takes 1-d or 2-d inputs"),
    ],
)
def test_build_time_errors(build, shapes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build(*(tensor(s) for s in shapes))


def test_runtime_shape_mismatch_is_numpy_error():
    a, b = tensor((None, None)), tensor((None,))
    f = function([a, b], B.dot(a, b))
    with pytest.raises(ValueError, match="not aligned"):
        f(np.ones((2, 3)), np.ones(4))


def test_matmul_refuses_a_runtime_length_1_batch_axis_the_type_does_not_broadcast():
    a, b = tensor((None, None, None)), tensor((None, None, None))
    f = function([a, b], B.matmul(a, b))
    with pytest.raises(ValueError, match="matmul: batch axis 0 has lengths 1 and 3"):
        f(np.ones((1, 2, 3)), np.ones((3, 3, 2)))


def test_outer_flattens_its_inputs():
    x, y = tensor((None, None)), tensor(())
    xv, yv = random_array((2, 3)), np.asarray(1.5)
    out = B.outer(x, y)
    np.testing.assert_allclose(function([x, y], out)(xv, yv), np.outer(xv, yv))


def test_operator_at_and_dot_method():
    x, y, v = tensor((None, None)), tensor((None, None)), tensor((None,))
    xv, yv, vv = random_array((3, 4)), random_array((4, 2)), random_array((3,))
    got = function([x, y, v], [x @ y, v @ x, x.dot(y), vv.tolist() @ x])(xv, yv, vv)
    for g, w in zip(got, [xv @ yv, vv @ xv, xv.dot(yv), vv @ xv], strict=True):
        np.testing.assert_allclose(g, w)


def test_logistic_regression_gradient_graph_stays_small():
    x, w = tensor((None, None), name="x"), tensor((None,), name="w")
    out = B.dot(x, w)
    cost = out.sum()
    gw, gx = grad(cost, [w, x])
    assert isinstance(gw.owner.op, B.Dot)  # dot(x.T, gz)
    assert str(gw.owner.inputs[0].owner.op) == "InplaceDimShuffle{1,0}"
    backward = set(io_toposort([x, w], [gx])) - set(io_toposort([x, w], [cost]))
    gx_ops = {type(n.op).__name__ for n in backward}
    assert gx_ops <= {"Elemwise", "DimShuffle"}  # outer(gz, w): an elementwise product
    xv, wv = random_array((3, 4)), random_array((4,))
    got_w, got_x = function([x, w], [gw, gx])(xv, wv)
    np.testing.assert_allclose(got_w, xv.sum(axis=0))
    np.testing.assert_allclose(got_x, np.tile(wv, (3, 1)))


def test_names_and_equality():
    a, b = tensor((None, None)), tensor((None, None, None))
    assert str(B.dot(a, a).owner.op) == "dot"
    assert B.dot(a, a).owner.op == B.Dot()
    op = B.tensordot(b, b, [[1, 2], [0, 1]]).owner.op
    assert str(op) == "TensorDot{axes=((1, 2), (0, 1))}"
    assert op == B.TensorDot(([1, 2], [0, 1])) and op != B.TensorDot(([1], [0]))
    assert str(B.matmul(b, b).owner.op) == "MatMul"


def test_infer_shape():
    a, b, c = tensor((None, None)), tensor((None,)), tensor((None, None, None))
    assert B.dot(a, b).owner.op.infer_shape(None, B.dot(a, b).owner, [(3, 4), (4,)]) == [(3,)]
    node = B.tensordot(c, a, [[1], [0]]).owner
    assert node.op.infer_shape(None, node, [(2, 3, 4), (3, 5)]) == [(2, 4, 5)]
    node = B.matmul(c, a).owner  # a padded to (1, ?, ?)
    assert node.op.infer_shape(None, node, [(2, 3, 4), (1, 4, 5)]) == [(2, 3, 5)]


def test_dot_rop():
    a, b = tensor((None, None)), tensor((None,))
    va, vb = tensor((None, None)), tensor((None,))
    jvp = Rop(B.dot(a, b), [a, b], [va, vb])
    av, bv, vav, vbv = (random_array(s) for s in [(3, 4), (4,), (3, 4), (4,)])
    got = function([a, b, va, vb], jvp)(av, bv, vav, vbv)
    np.testing.assert_allclose(got, vav @ bv + av @ vbv)


def test_second_order_gradient_through_tensordot():
    a = np.asarray(RNG.normal(size=(2, 3, 4)))
    b = np.asarray(RNG.normal(size=(4, 3)))
    verify_grad(
        lambda x, y: grad((B.tensordot(x, y, [[1, 2], [1, 0]]) ** 2).sum(), x),
        [a, b],
        rng=np.random.default_rng(0),
    )
