"""OpFromGraph: values against NumPy, implicit shared inputs, gradients (default and overridden),
R_op, shape inference, inlining by the optimizer rule, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from labsym.backends.python.vm import PythonLinker
from labsym.compile import function
from labsym.core.autodiff import Rop, grad
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.io import Mode as CoreMode
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot
from labsym.core.ops.opfromgraph import OpFromGraph
from labsym.core.scan import scan
from labsym.core.shared import shared
from labsym.gradient_check import verify_grad
from labsym.optim.phases import Rewriter
from labsym.optim.rules import inline

RNG = np.random.default_rng(7)


def ops_of(f):
    return [n.op for n in f.maker.fgraph.toposort()]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_match_numpy_and_the_op_is_reusable(dtype):
    x, y = C["vector"]("x", dtype=dtype), C["vector"]("y", dtype=dtype)
    op = OpFromGraph([x, y], [x + y * 2, m.exp(x) * y], name="pair")
    a, b, c = (C["vector"](n, dtype=dtype) for n in "abc")
    s1, p1 = op(a, b)
    s2, _ = op(s1, c)
    f = function([a, b, c], [s1, p1, s2])
    av, bv, cv = (RNG.normal(size=4).astype(dtype) for _ in range(3))
    got = f(av, bv, cv)
    assert all(g.dtype == dtype for g in got)
    np.testing.assert_allclose(got[0], av + bv * 2, rtol=1e-6)
    np.testing.assert_allclose(got[1], np.exp(av) * bv, rtol=1e-6)
    np.testing.assert_allclose(got[2], av + bv * 2 + cv * 2, rtol=1e-6)
    assert str(op) == "OpFromGraph{pair}"


def test_shared_variables_become_implicit_inputs():
    x = C["dvector"]("x")
    scale = shared(np.array(2.0), name="scale")
    op = OpFromGraph([x], [x * scale])
    z = C["dvector"]("z")
    out = op(z)
    assert out.owner.inputs[-1] is scale
    f = function([z], out)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [2.0, 4.0])
    scale.set_value(np.array(-1.0))
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [-1.0, -2.0])
    g = function([z], grad(out.sum(), scale))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, 3.0)


def test_default_gradient_matches_finite_differences():
    x, W = C["dvector"]("x"), C["dmatrix"]("W")
    op = OpFromGraph([x, W], [m.tanh(dot(x, W)), (x**2).sum()])

    def cost(a, B):
        h, s = op(a, B)
        return (h * h).sum() + s * 0.5

    verify_grad(cost, [RNG.normal(size=3), RNG.normal(size=(3, 2))], rng=np.random.default_rng(0))
    a = C["dvector"]("a")
    B = C["dmatrix"]("B")
    h, s = op(a, B)
    only_h = function([a, B], grad(h.sum(), a))
    av, Bv = RNG.normal(size=3), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(only_h(av, Bv), Bv @ (1 - np.tanh(av @ Bv) ** 2))


def test_gradient_overrides_replace_the_inner_gradient():
    x, y = C["dscalar"]("x"), C["dscalar"]("y")

    def straight_through(inputs, output_grads):
        return [output_grads[0] * 10, output_grads[0] * 0]

    op = OpFromGraph([x, y], [m.floor(x) + y], grad_overrides=straight_through)
    a, b = C["dscalar"]("a"), C["dscalar"]("b")
    ga, gb = function([a, b], grad(op(a, b) * 3, [a, b]))(1.7, 2.0)
    assert (float(ga), float(gb)) == (30.0, 0.0)
    per_input = OpFromGraph([x, y], [x * y], grad_overrides=["default", lambda i, g: g[0] * -1])
    ga, gb = function([a, b], grad(per_input(a, b), [a, b]))(3.0, 5.0)
    assert (float(ga), float(gb)) == (5.0, -1.0)


def test_rop_matches_finite_differences():
    x, W = C["dvector"]("x"), C["dmatrix"]("W")
    op = OpFromGraph([x, W], [m.tanh(dot(x, W)), x * 3])
    a, B, va, vB = C["dvector"]("a"), C["dmatrix"]("B"), C["dvector"]("va"), C["dmatrix"]("vB")
    out, lin = op(a, B)
    jvp = function([a, B, va, vB], Rop([out, lin], [a, B], [va, vB]))
    f = function([a, B], [out, lin])
    av, Bv, da, dB = (
        RNG.normal(size=3),
        RNG.normal(size=(3, 2)),
        RNG.normal(size=3),
        RNG.normal(size=(3, 2)),
    )
    eps = 1e-6
    plus, minus = f(av + eps * da, Bv + eps * dB), f(av - eps * da, Bv - eps * dB)
    for got, p, q in zip(jvp(av, Bv, da, dB), plus, minus):
        np.testing.assert_allclose(got, (p - q) / (2 * eps), rtol=1e-6)


def test_infer_shape_lets_shape_queries_skip_the_op():
    x, W = C["dvector"]("x"), C["dmatrix"]("W")
    op = OpFromGraph([x, W], [dot(x, W)])
    a, B = C["dvector"]("a"), C["dmatrix"]("B")
    f = function([a, B], op(a, B).shape)
    assert not any(isinstance(o, OpFromGraph) for o in ops_of(f))
    np.testing.assert_array_equal(f(np.zeros(3), np.zeros((3, 5))), [5])


def test_inline_rule_pastes_the_inner_graph():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    inlined = OpFromGraph([x, y], [x * y + 1], inline=True)
    opaque = OpFromGraph([x, y], [x * y + 1])
    a, b = C["dvector"]("a"), C["dvector"]("b")
    mode = CoreMode(PythonLinker(), rewriter=Rewriter(["canonicalize"], extra_rules=inline.RULES))
    f = function([a, b], [inlined(a, b), opaque(a, b)], mode=mode)
    kinds = [type(o).__name__ for o in ops_of(f)]
    assert kinds.count("OpFromGraph") == 1 and "Elemwise" in kinds
    av, bv = RNG.normal(size=4), RNG.normal(size=4)
    for value in f(av, bv):
        np.testing.assert_allclose(value, av * bv + 1)
    assert inline.inline_opfromgraph(None, opaque(a, b).owner) is None


def test_used_inside_a_scan_step():
    x, w = C["dscalar"]("x"), C["dscalar"]("w")
    cell = OpFromGraph([x, w], [m.tanh(x * w)])
    seq, h0, wv = C["dvector"]("seq"), C["dscalar"]("h0"), C["dscalar"]("wv")
    out, _ = scan(lambda s, h, w: cell(h + s, w), sequences=seq, outputs_info=h0, non_sequences=wv)
    values = RNG.normal(size=5)
    h, ref = 0.1, []
    for v in values:
        h = np.tanh((h + v) * 0.7)
        ref.append(h)
    np.testing.assert_allclose(function([seq, h0, wv], out)(values, 0.1, 0.7), ref)
    verify_grad(
        lambda s, w: scan(
            lambda s_t, h, w: cell(h + s_t, w),
            sequences=s,
            outputs_info=m.zeros_like(w),
            non_sequences=w,
        )[0],
        [values, np.array(0.7)],
        rng=np.random.default_rng(1),
    )


def test_bad_uses_raise_clear_errors():
    x, y = C["dvector"]("x"), C["dvector"]("y")
    with pytest.raises(ValueError, match=r"outputs depend on \[y\], which are not in inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(TypeError, match="must be a non-shared, non-constant variable"):
        OpFromGraph([shared(np.zeros(2))], [x])
    op = OpFromGraph([x], [x * 2])
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        op(x, y)
    with pytest.raises(TypeError, match=r"input 0 has type TensorType\(float64, matrix\)"):
        op(C["dmatrix"]("M"))
    bad = OpFromGraph([x], [x * 2], grad_overrides=42)
    with pytest.raises(TypeError, match="grad_overrides must be 'default', a callable"):
        grad(bad(y).sum(), y)
