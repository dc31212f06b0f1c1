"""Rop and Lop against finite differences for every op with an R operator (data-driven), jacobian
and hessian against numeric derivatives, grad's null_gradients, and the gradient-shaping ops."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import labsym.core.ops
from labsym import gradient
from labsym.compile import function
from labsym.core.autodiff import (
    DisconnectedInputError,
    GradientError,
    Lop,
    NullTypeGradError,
    Rop,
    grad,
    grad_not_implemented,
    hessian,
    jacobian,
)
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.graph import Apply, ancestors
from labsym.core.op import Op
from labsym.core.ops import (
    basic,
    blas,
    conv,
    debug,
    extra_ops,
    neighbours,
    nlinalg,
    nnet,
    pool,
    reduce,
)
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops import subtensor as st
from labsym.core.ops.composite import Composite
from labsym.core.ops.ifelse import ifelse
from labsym.core.ops.opfromgraph import OpFromGraph
from labsym.core.ops.recurrence import LinearRecurrence
from labsym.core.scan import scan
from labsym.core.type import TensorType
from tests.op_table import RECORDS, SHAPED

RNG = np.random.default_rng(2024)


@dataclass(frozen=True)
class Case:
    """Inputs of given shapes (float unless listed in `ints`) and a graph built on them."""

    name: str
    build: Callable  # symbolic inputs -> output or list of outputs
    shapes: tuple[tuple[int, ...], ...]
    domain: tuple[float, float] = (-2.0, 2.0)
    ints: dict | None = None  # position -> fixed integer value fed there (no direction)
    # "both"; "adjoint": R_op follows Theano's convention, not the numeric derivative;
    # "fd": the gradient is deliberately not the transpose of R_op (grad_clip)
    check: str = "both"


def _scan_rnn(x, h0, w):
    out, _ = scan(
        lambda xt, h, w_: m.tanh(xt + blas.dot(h, w_)),
        sequences=x,
        outputs_info=h0,
        non_sequences=w,
    )
    return out


_A, _B = C["dscalar"](), C["dscalar"]()
_OFG = OpFromGraph([_A, _B], [_A * _B + m.sin(_A), m.exp(_B)])
_CX, _CY = C["dvector"](), C["dvector"]()
_COMPOSITE = Composite.from_graph([_CX, _CY], [m.tanh(_CX) * _CY + _CX])


def _well_conditioned(x):
    return x + 4.0 * basic.eye(3, dtype="float64")


EXTRA = [
    Case("dimshuffle", lambda x: x.dimshuffle(1, "x", 0), ((3, 4),)),
    Case("broadcast_add", lambda r, x: r + x, ((1, 4), (3, 4))),
    Case("cumsum", lambda x: extra_ops.cumsum(x, axis=1), ((3, 4),)),
    Case("cumprod", lambda x: extra_ops.cumprod(x, axis=0), ((3, 4),), domain=(0.5, 1.5)),
    Case("cumprod_signs", lambda x: extra_ops.cumprod(x, axis=1), ((3, 4),)),
    Case("recurrence", lambda a, b: LinearRecurrence(1)(a, b), ((3, 4), (3, 4))),
    Case("recurrence_reverse", lambda a, b: LinearRecurrence(0, True)(a, b), ((3, 4), (3, 4))),
    Case("sort", lambda x: extra_ops.sort(x, axis=1), ((3, 4),)),
    Case("diff", lambda x: extra_ops.diff(x, axis=1), ((3, 4),)),
    Case("split", lambda x: basic.split(x, [1, 3], 2, axis=1), ((2, 4),)),
    Case(
        "join_with_constant", lambda x: basic.concatenate([x, np.ones((2, 3))], axis=1), ((2, 2),)
    ),
    Case("join_two", lambda x, y: basic.concatenate([x, y], axis=0), ((2, 3), (1, 3))),
    Case("alloc", lambda x: basic.alloc(x, 2, 3), ((3,),)),
    Case("make_vector", lambda a, b: basic.stack([a, b * a]), ((), ())),
    Case("specify_shape", lambda x: sh.specify_shape(x, (3, 4)) * 2, ((3, 4),)),
    Case("unbroadcast", lambda x: sh.unbroadcast(x.dimshuffle("x", 0), 0), ((4,),)),
    Case(
        "shape_uses", lambda x: x * m.cast(sh.shape(x)[0], "float64") + sh.shape_i(x, 1), ((3, 4),)
    ),
    Case("tensor_copy", basic.tensor_copy, ((3,),)),
    Case("prod_axis0", lambda x: reduce.prod(x, axis=0), ((3, 4),)),
    Case("max_all", lambda x: reduce.max(x), ((3, 4),)),
    Case("min_axis0", lambda x: reduce.min(x, axis=0), ((3, 4),)),
    Case("tensordot", lambda a, b: blas.tensordot(a, b, [[1, 2], [0, 1]]), ((2, 3, 4), (3, 4, 2))),
    Case("matmul_broadcast", blas.matmul, ((1, 3, 4), (2, 4, 2))),
    Case("advanced_subtensor", lambda x: x[[0, 2], [1, 3]], ((3, 4),)),
    Case("advanced_inc1", lambda x, y: st.inc_subtensor(x[[0, 2, 0]], y), ((4, 3), (3, 3))),
    Case("advanced_inc", lambda x, y: st.set_subtensor(x[[0, 1], [2, 0]], y), ((3, 4), (2,))),
    Case("matrix_inverse", lambda x: nlinalg.matrix_inverse(_well_conditioned(x)), ((3, 3),)),
    Case("extract_diag", nlinalg.extract_diag, ((3, 4),)),
    Case("alloc_diag", nlinalg.alloc_diag, ((3,),)),
    Case("conv2d", lambda x, w: conv.conv2d(x, w), ((2, 2, 5, 5), (3, 2, 3, 3))),
    Case("max_and_argmax", lambda x: reduce.max_and_argmax(x, axis=1)[0] * 2, ((3, 4),)),
    Case("images2neibs", lambda x: neighbours.images2neibs(x, (2, 2), (1, 1)), ((1, 2, 3, 4),)),
    Case("pool_max", lambda x: pool.pool_2d(x, (2, 2), ignore_border=True), ((1, 2, 4, 5),)),
    Case(
        "pool_average",
        lambda x: pool.pool_2d(x, (2, 2), mode="average_exc_pad", ignore_border=False),
        ((1, 2, 5, 5),),
    ),
    Case("ifelse", lambda x, c: ifelse(m.gt(c, 0), m.sin(x), x * 3), ((4,), ()), ints={1: 1}),
    Case("ifelse_else", lambda x, c: ifelse(m.gt(c, 0), m.sin(x), x * 3), ((4,), ()), ints={1: 0}),
    Case("scan_rnn", _scan_rnn, ((5, 3), (3,), (3, 3)), domain=(-0.5, 0.5)),
    Case("opfromgraph", lambda a, b: _OFG(a, b), ((), ())),
    Case("composite", lambda x, y: _COMPOSITE(x, y), ((4,), (4,))),
    Case(
        "print_assert",
        lambda x: debug.Assert("positive")(
            debug.Print("x", ("shape",), global_fn=lambda op, v: None)(x) * 2, m.gt(x.sum(), -100)
        ),
        ((3,),),
    ),
    Case("ultra_fast_sigmoid", nnet.ultra_fast_sigmoid, ((5,),), check="adjoint"),
    Case("grad_clip", lambda x: gradient.grad_clip(x, -0.1, 0.1) * x, ((4,),), check="fd"),
    Case("zero_grad", lambda x: gradient.zero_grad(m.sin(x)) * x, ((4,),), check="adjoint"),
]


def _table_cases() -> list[Case]:
    cases = [Case(r.name, r.build, ((3, 4),) * r.nin, r.domain) for r in RECORDS if r.grad]
    for r in SHAPED:
        if r.grad:
            ints = {i: None for i in r.int_inputs} or None
            cases += [
                Case(f"{r.name}{k}", r.build, shapes, r.domain, ints)
                for k, shapes in enumerate(r.cases)
            ]
    return cases


CASES = _table_cases() + EXTRA


def _values(case: Case, dtype: str = "float64") -> list:
    lo, hi = case.domain
    values = [RNG.uniform(lo, hi, size=s).astype(dtype) for s in case.shapes]
    for i, fixed in (case.ints or {}).items():
        values[i] = np.asarray(
            RNG.integers(0, 3, size=case.shapes[i]) if fixed is None else fixed, dtype="int64"
        )
    if case.name.startswith("clip"):
        values[1], values[2] = np.minimum(values[1], values[2]), np.maximum(values[1], values[2])
    return values


def _symbols(case: Case, dtype: str = "float64") -> list:
    ints = case.ints or {}
    # length-1 axes are broadcastable, the others unknown
    return [
        TensorType("int64" if i in ints else dtype, tuple(1 if n == 1 else None for n in s))(
            f"x{i}"
        )
        for i, s in enumerate(case.shapes)
    ]


def _as_list(out) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _fd_jvp(forward: Callable, values: list, directions: dict, eps: float = 1e-6) -> list:
    """Central difference of forward along `directions` (position -> direction array)."""

    def shifted(sign):
        return [
            v + sign * eps * directions[i] if i in directions else v for i, v in enumerate(values)
        ]

    plus, minus = forward(*shifted(1)), forward(*shifted(-1))
    return [(p - q) / (2 * eps) for p, q in zip(plus, minus, strict=True)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rop_and_lop_match_finite_differences(case: Case):
    xs = _symbols(case)
    outs = _as_list(case.build(*xs))
    floats = [i for i in range(len(xs)) if i not in (case.ints or {})]
    vs = [xs[i].type("v") for i in floats]
    us = [o.type("u") for o in outs]
    jvp = Rop(outs, [xs[i] for i in floats], vs)
    vjp = Lop(outs, [xs[i] for i in floats], us, disconnected_inputs="ignore")
    f = function(
        xs + vs + us, list(jvp) + list(vjp), allow_input_downcast=True, on_unused_input="ignore"
    )
    values = _values(case)
    directions = [RNG.normal(size=values[i].shape) for i in floats]
    forward = function(xs, outs)
    out_values = forward(*values)
    cotangents = [RNG.normal(size=np.shape(o)) for o in out_values]
    results = f(*values, *directions, *cotangents)
    got_jvp, got_vjp = results[: len(outs)], results[len(outs) : len(outs) + len(floats)]
    for g, o in zip(got_jvp, out_values, strict=True):
        assert np.shape(g) == np.shape(o)
    single = any(o.dtype == "float32" for o in outs)  # a float32 output rounds the numbers
    # <u, J v> == <J^T u, v>: Lop is the adjoint of Rop
    lhs = sum(float(np.sum(u * j)) for u, j in zip(cotangents, got_jvp, strict=True))
    rhs = sum(float(np.sum(g * d)) for g, d in zip(got_vjp, directions, strict=True))
    if case.check != "fd":
        np.testing.assert_allclose(lhs, rhs, rtol=1e-5 if single else 1e-9, atol=1e-9)
    if case.check != "adjoint":
        eps, tol = (1e-3, 1e-3) if single else (1e-6, 1e-6)
        want = _fd_jvp(forward, values, dict(zip(floats, directions, strict=True)), eps)
        for g, w in zip(got_jvp, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _ops_with_r_op() -> set[type]:
    """Every concrete op class of labsym.core that defines (or inherits) an R_op."""
    names = [f"labsym.core.ops.{m_.name}" for m_ in pkgutil.iter_modules(labsym.core.ops.__path__)]
    names += ["labsym.core.scan.op", "labsym.core.gradient_ops"]
    found = set()
    for module in map(importlib.import_module, names):
        for name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, Op)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
                and any("R_op" in vars(c) for c in cls.__mro__ if c is not Op)
            ):
                found.add(cls)
    return found


# R_ops checked by dedicated tests (below and in test_gradient_ops.py), not by a Case;
# MRGUniform's inputs are integer states and sizes only, so no direction reaches its R_op
_ELSEWHERE = {
    "RandomFunction",
    "MRGUniform",
    "MultinomialFromUniform",
    "ChoiceFromUniform",
    "DisconnectedGrad",
    "UndefinedGrad",
    "GradScale",
}


def test_every_op_with_an_r_op_is_checked_against_finite_differences():
    seen: set[type] = set()
    for case in CASES:
        outs = _as_list(case.build(*_symbols(case)))
        seen.update(type(v.owner.op) for v in ancestors(outs) if v.owner is not None)
    missing = {c.__name__ for c in _ops_with_r_op() - seen} - _ELSEWHERE
    assert not missing, f"ops with an R_op but no Case: {sorted(missing)}"


# Theano's ops with an R operator, and the labsym op that plays each one's part
THEANO_R_OPS = {
    "Elemwise": "Elemwise",
    "DimShuffle": "DimShuffle",
    "Sum": "Sum",
    "Dot": "Dot",
    "BatchedDot": "MatMul",
    "Reshape": "Reshape",
    "Flatten": "Reshape",
    "Shape": "Shape",
    "Shape_i": "Shape_i",
    "SpecifyShape": "SpecifyShape",
    "Rebroadcast": "Rebroadcast",
    "MakeVector": "MakeVector",
    "Alloc": "Alloc",
    "Join": "Join",
    "Split": "Split",
    "MaxAndArgmax": "MaxAndArgmax",
    "Subtensor": "Subtensor",
    "IncSubtensor": "IncSubtensor",
    "AdvancedSubtensor1": "AdvancedSubtensor1",
    "AdvancedIncSubtensor1": "AdvancedIncSubtensor1",
    "AdvancedSubtensor": "AdvancedSubtensor",
    "AdvancedIncSubtensor": "AdvancedIncSubtensor",
    "Softmax": "Softmax",
    "LogSoftmax": "LogSoftmax",
    "ConvOp": "Conv2d",
    "Pool": "Pool",
    "SortOp": "SortOp",
    "MatrixInverse": "MatrixInverse",
    "IfElse": "IfElse",
    "Scan": "Scan",
    "OpFromGraph": "OpFromGraph",
    "ViewOp": "TensorCopy",
    "ZeroGrad": "ZeroGrad",
    "DisconnectedGrad": "DisconnectedGrad",
    "UndefinedGrad": "UndefinedGrad",
    "GradClip": "GradClip",
    "GradScale": "GradScale",
    "Print": "Print",
    "Assert": "Assert",
    "RandomFunction": "RandomFunction",
    "mrg_uniform": "MRGUniform",
    "UltraFastSigmoid": "UltraFastSigmoid",
}


def test_every_theano_r_operator_has_a_labsym_counterpart():
    names = {c.__name__ for c in _ops_with_r_op()}
    missing = {t: ours for t, ours in THEANO_R_OPS.items() if ours not in names}
    assert not missing


def test_rop_through_random_draws_follows_only_the_parameters_direction():
    from labsym.core.ops.mrg_streams import MRG_RandomStreams
    from labsym.core.ops.random_streams import RandomStreams

    x, v = C["dvector"]("x"), C["dvector"]("v")
    srng, mrg = RandomStreams(seed=1), MRG_RandomStreams(seed=1)
    p = m.exp(x.dimshuffle("x", 0)) / m.exp(x).sum()
    draws = [
        srng.normal((3,), avg=x),
        m.cast(mrg.multinomial(pvals=p), "float64").sum(),
        m.cast(mrg.choice(size=1, p=p, replace=False), "float64").sum(),
    ]
    for draw in draws:
        with pytest.raises(ValueError, match="does not depend on any of the wrt"):
            Rop(draw, x, v)  # a draw has no direction (Theano: R_op returns None)
    out = x * 2 + mrg.uniform((3,)) + draws[0] + draws[1] + draws[2]
    f = function([x, v], Rop(out, x, v), on_unused_input="ignore")
    np.testing.assert_allclose(f([0.1, 0.2, 0.3], [1.0, 2.0, 3.0]), [2.0, 4.0, 6.0])


# ------------------------------------------------------------------------------ Rop and Lop API
def test_rop_keeps_the_structure_of_f_and_accepts_lists_of_wrt():
    x, y, vx, vy = C["dvector"]("x"), C["dvector"]("y"), C["dvector"]("vx"), C["dvector"]("vy")
    single = Rop(x * y, [x, y], [vx, vy])
    as_list = Rop([x * y, x + 0], (x, y), (vx, vy))
    as_tuple = Rop((x * y,), x, vx)
    assert not isinstance(single, list) and isinstance(as_list, list)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 1
    f = function([x, y, vx, vy], [single, *as_list, as_tuple[0]])
    xv, yv, a, b = (
        np.array([1.0, 2.0]),
        np.array([3.0, -1.0]),
        np.array([0.5, 1.0]),
        np.array([2.0, 0.0]),
    )
    got = f(xv, yv, a, b)
    for g, want in zip(got, [a * yv + xv * b, a * yv + xv * b, a, a * yv], strict=True):
        np.testing.assert_allclose(g, want)


def test_rop_of_a_wrt_variable_is_its_direction():
    x, v = C["dvector"]("x"), C["dvector"]("v")
    np.testing.assert_allclose(
        function([x, v], Rop(x, x, v), on_unused_input="ignore")([1.0, 2.0], [3.0, 4.0]), [3.0, 4.0]
    )


def test_rop_disconnected_outputs_options():
    x, y, v = C["dvector"]("x"), C["dvector"]("y"), C["dvector"]("v")
    # as in Theano, an output computed from other inputs gets zeros (their zeros_like terms)
    # and only an output with no product at all is disconnected
    np.testing.assert_array_equal(function([y], Rop(y * 2, x, v))([1.0, 2.0, 3.0]), np.zeros(3))
    with pytest.raises(DisconnectedInputError, match="does not depend on any of the wrt"):
        Rop(y, x, v)
    with pytest.raises(ValueError, match="does not depend"):
        Rop(x.argmax(), x, v)  # only through a discrete output
    with pytest.warns(UserWarning, match="does not depend"):
        Rop([x * 2, y], x, v, disconnected_outputs="warn")
    zeros = Rop(y * 2, x, v, disconnected_outputs="ignore")
    np.testing.assert_array_equal(function([y], zeros)([1.0, 2.0, 3.0]), np.zeros(3))
    assert Rop(y, x, v, disconnected_outputs="ignore", return_disconnected="None") is None
    with pytest.raises(ValueError, match="disconnected_outputs must be one of ignore/warn/raise"):
        Rop(x, x, v, disconnected_outputs="skip")


def test_rop_checks_and_fits_the_eval_points():
    x, v = C["dvector"]("x"), C["dvector"]("v")
    with pytest.raises(ValueError, match="1 wrt variables but 2 eval points"):
        Rop(x * 2, [x], [v, v])
    with pytest.raises(ValueError, match="must have 1 dimensions"):
        Rop(x * 2, x, C["dmatrix"]("w"))
    fixed = TensorType("float64", (3,))("fixed")
    with pytest.raises(ValueError, match="has length 2 on axis 0"):
        Rop(fixed * 2, fixed, TensorType("float64", (2,))("v2"))
    # a float32 direction is cast; a loose static shape is specified at run time
    vf = C["fvector"]("vf")
    jv = Rop(fixed * 2, fixed, vf)
    assert jv.dtype == "float64" and jv.type.shape == (3,)
    f = function([fixed, vf], jv, on_unused_input="ignore")
    np.testing.assert_allclose(f(np.zeros(3), np.float32([1, 2, 3])), [2.0, 4.0, 6.0])
    with pytest.raises(ValueError, match="expected shape"):
        f(np.zeros(3), np.float32([1, 2]))
    rows = TensorType("float64", (1, None))("rows")
    spread = Rop(rows + C["dmatrix"]("z"), rows, C["dmatrix"]("vr"))
    assert spread.type.shape == (None, None)


def test_rop_with_a_numpy_direction_and_an_op_without_r_op():
    x = C["dmatrix"]("x")
    jv = Rop(x * 3, x, np.ones((2, 2)))
    np.testing.assert_allclose(
        function([x], jv, on_unused_input="ignore")(np.eye(2)), 3 * np.ones((2, 2))
    )
    with pytest.raises(GradientError, match="Rop: .* has no R_op"):
        Rop(nlinalg.det(x), x, x)


def test_lop_checks_counts_and_sums_repeated_outputs():
    x, u = C["dvector"]("x"), C["dvector"]("u")
    y = x * 3
    with pytest.raises(ValueError, match="2 outputs but 1 eval points"):
        Lop([y, y], x, [u])
    both = Lop([y, y], [x], [u, u])
    assert isinstance(both, list)
    np.testing.assert_allclose(
        function([x, u], both[0], on_unused_input="ignore")([1.0, 2.0], [1.0, -1.0]), [6.0, -6.0]
    )
    with pytest.raises(DisconnectedInputError):
        Lop(y, C["dvector"]("other"), u)


# ------------------------------------------------------------------------------ jacobian, hessian
def _numeric_jacobian(fn: Callable, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    cols = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        cols.append((fn(x + step) - fn(x - step)) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(cols[0]) + x.shape)


def test_jacobian_matches_numeric_derivatives_for_each_wrt():
    x, w = C["dvector"]("x"), C["dmatrix"]("w")
    y = m.tanh(blas.dot(w, x)) * x.sum()
    jx, jw = jacobian(y, [x, w])
    f = function([x, w], [jx, jw])
    xv, wv = RNG.normal(size=3), RNG.normal(size=(4, 3))
    got_x, got_w = f(xv, wv)
    forward = function([x, w], y)
    np.testing.assert_allclose(got_x, _numeric_jacobian(lambda a: forward(a, wv), xv), atol=1e-7)
    np.testing.assert_allclose(got_w, _numeric_jacobian(lambda a: forward(xv, a), wv), atol=1e-7)
    assert isinstance(jacobian(y, (x, w)), tuple)
    assert jacobian(y, x).type.shape == (None, None)


def test_jacobian_loops_only_over_the_backward_pass():
    x = C["dvector"]("x")
    (jx,) = jacobian(m.tanh(x * 2), [x])
    scans = [v.owner.op for v in ancestors([jx]) if v.owner and type(v.owner.op).__name__ == "Scan"]
    assert len(scans) == 1
    inner = [str(node.op) for node in scans[0].fgraph.toposort()]
    assert not any("tanh" in name for name in inner), inner  # tanh(2x) is computed once, outside


def test_jacobian_of_a_scalar_is_its_gradient_and_bad_expressions_fail():
    x = C["dvector"]("x")
    g = jacobian((x**2).sum(), x)
    np.testing.assert_allclose(function([x], g)([1.0, 2.0]), [2.0, 4.0])
    with pytest.raises(ValueError, match="must be a scalar or a vector"):
        jacobian(C["dmatrix"]("m") * 2, x)


def test_jacobian_disconnected_inputs_and_float32():
    x, y = C["fvector"]("x"), C["fvector"]("y")
    with pytest.raises(DisconnectedInputError):
        jacobian(x * 2, [x, y])
    jx, jy = jacobian(x * 2, [x, y], disconnected_inputs="ignore")
    f = function([x, y], [jx, jy])
    got_x, got_y = f(np.float32([1, 2, 3]), np.float32([1, 1]))
    assert got_x.dtype == np.float32 and got_y.dtype == np.float32
    np.testing.assert_array_equal(got_x, 2 * np.eye(3))
    np.testing.assert_array_equal(got_y, np.zeros((3, 2)))


def test_hessian_matches_numeric_derivatives():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    cost = (m.exp(x) * x[0]).sum() + (x[:2] * y).sum() ** 2
    hx, hy = hessian(cost, [x, y])
    f = function([x, y], [hx, hy])
    xv, yv = RNG.normal(size=3), RNG.normal(size=2)
    gx = function([x, y], grad(cost, x))
    gy = function([x, y], grad(cost, y))
    got_x, got_y = f(xv, yv)
    np.testing.assert_allclose(got_x, _numeric_jacobian(lambda a: gx(a, yv), xv), atol=1e-6)
    np.testing.assert_allclose(got_y, _numeric_jacobian(lambda a: gy(xv, a), yv), atol=1e-6)
    np.testing.assert_allclose(got_x, got_x.T, atol=1e-10)


def test_hessian_errors_and_linear_costs():
    x, w = C["dvector"]("x"), C["dmatrix"]("w")
    with pytest.raises(ValueError, match="the cost must be a scalar"):
        hessian(x * 2, x)
    with pytest.raises(ValueError, match="each wrt must be a vector"):
        hessian((w**2).sum(), w)
    with pytest.raises(DisconnectedInputError):
        hessian((x * 2).sum(), C["dvector"]("z"))
    # a linear cost: the gradient no longer depends on x, so the hessian is zeros
    h = function([x], hessian((x * 2).sum(), x), on_unused_input="ignore")(np.ones(3))
    np.testing.assert_array_equal(h, np.zeros((3, 3)))


# ------------------------------------------------------------------------------ null gradients
def test_undefined_gradients_raise_or_return_none_for_the_affected_wrt_only():
    x, y = C["dscalar"]("x"), C["dscalar"]("y")
    cost = m.sin(gradient.undefined_grad(x * 2)) + y * x
    with pytest.raises(NullTypeGradError, match="gradient with respect to x is undefined"):
        grad(cost, x)
    gx, gy = grad(cost, [x, y], null_gradients="return_none")
    assert gx is None  # undefined on one path makes the whole gradient undefined
    np.testing.assert_allclose(function([x, y], gy, on_unused_input="ignore")(3.0, 1.0), 3.0)
    with pytest.raises(ValueError, match="null_gradients must be one of raise/return_none"):
        grad(cost, y, null_gradients="skip")


def test_undefined_gradient_behind_consider_constant_is_never_reached():
    x = C["dscalar"]("x")
    hidden = gradient.undefined_grad(x) * 2
    g = grad(hidden + x, x, consider_constant=[hidden])
    np.testing.assert_allclose(function([x], g, on_unused_input="ignore")(3.0), 1.0)


def test_grad_not_implemented_is_a_null_gradient():
    class Half(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0] / 2

        def grad(self, inputs, output_grads):
            return [grad_not_implemented(self, 0, inputs[0], "on purpose")]

    x = C["dvector"]("x")
    with pytest.raises(NullTypeGradError, match="not implemented. on purpose"):
        grad(Half()(x).sum(), x)
    assert grad(Half()(x).sum(), x, null_gradients="return_none") is None
