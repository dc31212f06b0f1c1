"""ifelse: values, gradients, and laziness (the branch not taken is never computed)."""

from __future__ import annotations

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops.ifelse import IfElse, ifelse
from labsym.gradient_check import verify_grad


class CountingOp(Op):
    """Identity that counts its evaluations (and can be told to explode)."""

    __props__ = ("tag",)

    def __init__(self, tag: str, explode: bool = False) -> None:
        self.tag = tag
        self.explode = explode
        self.calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        self.calls += 1
        if self.explode:
            raise RuntimeError(f"branch {self.tag} was evaluated")
        output_storage[0][0] = np.array(inputs[0], copy=True)

    def grad(self, inputs, output_grads):
        return output_grads


def test_values_and_lists():
    a, b = T.dscalars("a", "b")
    x, y = T.dvectors("x", "y")
    f = theano.function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.mean(y)))
    assert f(1.0, 2.0, [1.0, 3.0], [10.0, 20.0]) == 2.0
    assert f(3.0, 2.0, [1.0, 3.0], [10.0, 20.0]) == 15.0
    outs = ifelse(T.gt(a, 0), [x, x * 2], [y, y * 3])
    g = theano.function([a, x, y], outs)
    np.testing.assert_array_equal(g(1.0, [1.0], [5.0])[1], [2.0])
    np.testing.assert_array_equal(g(-1.0, [1.0], [5.0])[1], [15.0])


def test_the_branch_not_taken_is_not_computed():
    a = T.dscalar("a")
    x = T.dvector("x")
    expensive = CountingOp("then")
    exploding = CountingOp("else", explode=True)
    out = ifelse(T.gt(a, 0), expensive(T.exp(x)).sum(), exploding(T.log(x)).sum())
    f = theano.function([a, x], out, mode="FAST_COMPILE")
    assert f(1.0, np.ones(3)) == pytest.approx(3 * np.e)
    assert expensive.calls == 1
    with pytest.raises(RuntimeError, match="branch else was evaluated"):
        f(-1.0, np.ones(3))
    assert expensive.calls == 1  # the then branch was not computed on the else call
    g = theano.function([a, x], out)  # FAST_RUN too (rewrites keep the branches lazy)
    assert g(1.0, np.ones(3)) == pytest.approx(3 * np.e)


def test_nested_ifelse_is_lazy_at_every_level():
    a, b = T.dscalars("a", "b")
    x = T.dvector("x")
    boom = CountingOp("boom", explode=True)
    inner = ifelse(T.gt(b, 0), x.sum(), boom(x).sum())
    out = ifelse(T.gt(a, 0), inner, boom(x * 2).sum())
    f = theano.function([a, b, x], out, mode="FAST_COMPILE")
    assert f(1.0, 1.0, np.ones(2)) == 2.0
    with pytest.raises(RuntimeError):
        f(1.0, -1.0, np.ones(2))


def test_gradient_flows_through_the_branch_taken():
    a = T.dscalar("a")
    x = T.dvector("x")
    cost = ifelse(T.gt(a, 0), (x**2).sum(), (x**3).sum())
    gx = theano.grad(cost, x)
    f = theano.function([a, x], gx)
    np.testing.assert_allclose(f(1.0, [1.0, 2.0]), [2.0, 4.0])
    np.testing.assert_allclose(f(-1.0, [1.0, 2.0]), [3.0, 12.0])
    verify_grad(lambda v: ifelse(T.gt(v.sum(), 0), T.tanh(v), v * 3), [np.array([0.3, 0.2])])


def test_type_errors():
    a = T.dscalar("a")
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(T.dvector(), a, a)
    with pytest.raises(TypeError, match="dtype float64 in the then branch but float32"):
        ifelse(a, T.dvector(), T.fvector())
    assert isinstance(ifelse(a, a, 0.0).owner.op, IfElse)
