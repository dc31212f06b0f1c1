"""pp (infix pretty printing) and min_informative_str (Theano's lettered outline)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.graph import Apply
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops.blas import dot as labsym_dot
from labsym.core.ops.elemwise import Elemwise
from labsym.core.scalar import SCALAR_OPS
from labsym.core.type import TensorType
from labsym.viz.pprint import OPERATORS, min_informative_str, pp


class Dot(Op):
    """A stand-in matrix-vector product whose str() is Theano's `dot`."""

    def __str__(self) -> str:
        return "dot"

    def make_node(self, x, w):
        return Apply(self, [x, w], [TensorType("float64", (None,))()])


# ---------------------------------------------------------------------- min_informative_str
def test_seed_001_min_informative_str():
    x, y = C["scalar"](), C["scalar"]()
    z = x + y
    z.name = "z"
    a = 2.0 * z
    assert min_informative_str(a) == "A. Elemwise{mul,no_inplace}\n B. TensorConstant{2.0}\n C. z"


def test_min_informative_str_labels_repeats_and_indents():
    x, y = C["dscalars"]("x", "y")
    s = x + y
    out = m.exp(s) * s
    assert min_informative_str(out) == (
        "A. Elemwise{mul,no_inplace}\n"
        " B. Elemwise{exp,no_inplace}\n"
        "  C. Elemwise{add,no_inplace}\n"
        "   D. x\n"
        "   E. y\n"
        " <C>"
    )
    assert (
        min_informative_str(s, indent_level=2) == "  A. Elemwise{add,no_inplace}\n   B. x\n   C. y"
    )


def test_min_informative_str_of_leaves():
    assert min_informative_str(C["dvector"]()) == "A. <TensorType(float64, vector)>"
    assert min_informative_str(np.zeros(3)) == "A. <ndarray>"
    named = C["dscalar"]("x") + 1.0
    named.name = "total"
    assert min_informative_str(named) == "A. total"  # a named root is not expanded either


def test_min_informative_str_handles_deep_graphs():
    out = C["dscalar"]("x")
    for _ in range(3000):
        out = m.exp(out)
    lines = min_informative_str(out).splitlines()
    assert len(lines) == 3001 and lines[-1] == " " * 3000 + "ELK. x"


# ---------------------------------------------------------------------- pp: operators
def _operands(name):
    if name in ("and_", "or_", "xor", "invert"):
        return C["iscalars"]("x", "y")
    return C["dscalars"]("x", "y")


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_each_operator_prints_infix_and_parenthesized(name):
    x, y = _operands(name)
    symbol = OPERATORS[name]
    if SCALAR_OPS[name].nin == 1:
        assert pp(getattr(m, name)(x)) == f"({symbol}x)"
    else:
        assert pp(getattr(m, name)(x, y)) == f"(x {symbol} y)"


def test_python_operators_and_nesting():
    x, y = C["dscalars"]("x", "y")
    assert pp(x + y) == "(x + y)"
    assert pp(2.0 * (x + y)) == "(TensorConstant{2.0} * (x + y))"
    assert pp((x + y) * (x - y) / -y) == "(((x + y) * (x - y)) / (-y))"
    assert pp(x**2.0 // y) == "((x ** TensorConstant{2.0}) // y)"
    # Theano printed comparisons, mod and the logical ops as calls of their function names
    assert pp(x % 3.0) == "mod(x, TensorConstant{3.0})"
    assert pp((x < y) | (x >= y)) == "or_(lt(x, y), ge(x, y))"
    assert pp(abs(x)) == "|x|"


def test_inplace_elemwise_prints_augmented_operators():
    x, y = C["dscalars"]("x", "y")
    assert pp(Elemwise(SCALAR_OPS["add"], {0: 0})(x, y)) == "(x += y)"
    assert pp(Elemwise(SCALAR_OPS["exp"], {0: 0})(x)) == "exp=(x)"
    assert pp(Elemwise(SCALAR_OPS["add"], {0: 1})(x, y)) == "Elemwise{Add}[(0, 1)](x, y)"


# ---------------------------------------------------------------------- pp: functions and others
def test_functions_print_as_calls():
    x, y = C["dscalars"]("x", "y")
    assert pp(m.exp(x)) == "exp(x)"
    assert pp(m.sigmoid(m.log(x) + y)) == "sigmoid((log(x) + y))"
    assert pp(m.switch(x < y, x, y)) == "switch(lt(x, y), x, y)"
    assert pp(x > y) == "gt(x, y)"
    assert pp(m.cast(x, "float32")) == "float32(x)"
    assert pp(m.ones_like(x)) == "fill(x, TensorConstant{1.0})"


def test_other_ops_print_their_name_and_arguments():
    x, w = C["dvector"]("x"), C["dmatrix"]("W")
    assert pp(m.sigmoid(Dot()(x, w))) == "sigmoid(dot(x, W))"
    assert pp(labsym_dot(x, w)) == "(x \\dot W)"  # Theano's _dot printer: a middle dot
    assert pp(C["dscalar"]("alpha") * x) == "(\\alpha * x)"


def test_dimshuffle_printing():
    a, v = C["dmatrix"]("a"), C["dvector"]("v")
    assert pp(a.dimshuffle(1, 0)) == "a.T"
    assert pp(a + v) == "(a + v)"  # left padding from broadcasting is not shown
    assert pp(v.dimshuffle(0, "x")) == "DimShuffle{0, x}(v)"
    assert pp(C["dtensor3"]("t").dimshuffle(2, 0, 1)) == "DimShuffle{2, 0, 1}(t)"


def test_leaves_and_names():
    x, y = C["dscalars"]("x", "y")
    assert pp(x) == "x"
    assert pp(C["dvector"]() + 1.0) == "(<TensorType(float64, vector)> + TensorConstant{1.0})"
    z = x + y
    z.name = "z"
    assert pp(z) == "(x + y)"
    assert pp(z * 2.0) == "((x + y) * TensorConstant{2.0})"  # as Theano: names do not stop it


def test_deep_graphs_do_not_hit_the_recursion_limit():
    out = C["dscalar"]("x")
    for _ in range(3000):
        out = out + 1.0
    assert pp(out) == "(" * 3000 + "x" + " + TensorConstant{1.0})" * 3000


def test_pp_rejects_non_variables():
    with pytest.raises(TypeError, match="pp prints a symbolic Variable, got int 3"):
        pp(3)


# ---------------------------------------------------------------------- property: text evaluates
_BINARY = {m.add: np.add, m.sub: np.subtract, m.mul: np.multiply, m.true_div: np.divide}
_UNARY = {m.neg: np.negative, m.exp: np.exp, m.tanh: np.tanh}


@st.composite
def _expressions(draw):
    """A random expression and its value at x=0.3, y=-1.7 (computed alongside, with NumPy)."""
    pool = [(C["dscalar"]("x"), 0.3), (C["dscalar"]("y"), -1.7)]
    with np.errstate(all="ignore"):  # x / (y - y) is allowed: both sides give inf or nan
        for _ in range(draw(st.integers(1, 10))):
            if draw(st.booleans()):
                fn = draw(st.sampled_from(sorted(_UNARY, key=str)))
                var, value = draw(st.sampled_from(pool))
                pool.append((fn(var), _UNARY[fn](value)))
            elif draw(st.booleans()):
                fn = draw(st.sampled_from(sorted(_BINARY, key=str)))
                (a, va), (b, vb) = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
                pool.append((fn(a, b), _BINARY[fn](va, vb)))
            else:
                c = draw(st.sampled_from([0.5, 2.0, 3.0]))
                var, value = draw(st.sampled_from(pool))
                pool.append((var * c, value * c))
    return pool[-1]


@settings(max_examples=80, deadline=None)
@given(_expressions())
def test_pp_text_evaluates_to_the_expression_value(expression):
    var, value = expression
    text = re.sub(r"TensorConstant\{([^}]*)\}", r"\1", pp(var))
    with np.errstate(all="ignore"):
        got = eval(
            text, {"exp": np.exp, "tanh": np.tanh, "x": np.float64(0.3), "y": np.float64(-1.7)}
        )
    assert (math.isnan(got) and math.isnan(value)) or got == value
