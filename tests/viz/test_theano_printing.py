"""The debugprint/pp texts Theano 1.0's documentation and tests show, built the same way.

Each expected text is copied from Theano's docs (doc/library/printing.txt,
doc/tutorial/printing_drawing.txt, shape_info.txt, debug_faq.txt) or its test_printing.py,
with the trailing spaces Theano prints. Where labsym's rewritten graph legitimately differs,
the test says how and why.
"""

from __future__ import annotations

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.compile import Mode
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import io_toposort, theano_toposort
from labsym.core.ops import math as m
from labsym.core.ops.deepcopy import DeepCopyOp
from labsym.core.ops.elemwise import Elemwise
from labsym.core.ops.shape import MakeVector
from labsym.core.scalar import SCALAR_OPS, cast_op
from labsym.core.variable import constant
from labsym.printing import debugprint, pp


# ------------------------------------------------------------------ doc/library/printing.txt
def test_printing_txt_pp_of_a_gradient_and_of_its_optimized_graph():
    x = T.dscalar("x")
    gy = T.grad(x**2, x)
    assert pp(gy) == (
        "((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * "
        "(x ** (TensorConstant{2} - TensorConstant{1})))"
    )
    f = theano.function([x], gy)
    assert pp(f.maker.fgraph.outputs[0]) == "(TensorConstant{2.0} * x)"
    # Theano shows Elemwise{mul,no_inplace}: its canonicalizer rebuilt the product with T.mul;
    # labsym's rewrites keep the gradient's own (unnamed) product node, Elemwise{mul}
    assert debugprint(f.maker.fgraph.outputs[0], file="str") == (
        "Elemwise{mul} [id A] ''   \n |TensorConstant{2.0} [id B]\n |x [id C]\n"
    )


def test_printing_txt_debugprint_of_the_gradient_graph():
    x = T.dscalar("x")
    gy = T.grad(x**2, x)
    # Theano's doc, except its last two lines: Theano's pow gradient subtracts a scalar-level
    # 1 that it pads as InplaceDimShuffle{}(TensorConstant{1}); labsym's reads the constant
    assert debugprint(gy, file="str") == (
        "Elemwise{mul} [id A] ''   \n"
        " |Elemwise{mul} [id B] ''   \n"
        " | |Elemwise{second,no_inplace} [id C] ''   \n"
        " | | |Elemwise{pow,no_inplace} [id D] ''   \n"
        " | | | |x [id E]\n"
        " | | | |TensorConstant{2} [id F]\n"
        " | | |TensorConstant{1.0} [id G]\n"
        " | |TensorConstant{2} [id F]\n"
        " |Elemwise{pow} [id H] ''   \n"
        "   |x [id E]\n"
        "   |Elemwise{sub} [id I] ''   \n"
        "     |TensorConstant{2} [id F]\n"
        "     |TensorConstant{1} [id J]\n"
    )
    assert debugprint(gy, depth=2, file="str") == (
        "Elemwise{mul} [id A] ''   \n |Elemwise{mul} [id B] ''   \n |Elemwise{pow} [id C] ''   \n"
    )


# ------------------------------------------------------------------ printing_drawing.txt
def _logistic_regression():
    rng = np.random.RandomState(0)
    x, y = T.matrix("x"), T.vector("y")
    w = theano.shared(rng.randn(5), name="w")
    b = theano.shared(np.asarray(0.0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    return x, y, w, b, p_1 > 0.5


def test_printing_drawing_pprint_and_pre_compilation_debugprint():
    *_, prediction = _logistic_regression()
    assert theano.printing.pprint(prediction) == (
        "gt((TensorConstant{1} / (TensorConstant{1} + exp(((-(x \\dot w)) - b)))), "
        "TensorConstant{0.5})"
    )
    # the doc's text exactly: one cached TensorConstant{1} [id D], read twice
    assert debugprint(prediction, file="str") == (
        "Elemwise{gt,no_inplace} [id A] ''   \n"
        " |Elemwise{true_div,no_inplace} [id B] ''   \n"
        " | |InplaceDimShuffle{x} [id C] ''   \n"
        " | | |TensorConstant{1} [id D]\n"
        " | |Elemwise{add,no_inplace} [id E] ''   \n"
        " |   |InplaceDimShuffle{x} [id F] ''   \n"
        " |   | |TensorConstant{1} [id D]\n"
        " |   |Elemwise{exp,no_inplace} [id G] ''   \n"
        " |     |Elemwise{sub,no_inplace} [id H] ''   \n"
        " |       |Elemwise{neg,no_inplace} [id I] ''   \n"
        " |       | |dot [id J] ''   \n"
        " |       |   |x [id K]\n"
        " |       |   |w [id L]\n"
        " |       |InplaceDimShuffle{x} [id M] ''   \n"
        " |         |b [id N]\n"
        " |InplaceDimShuffle{x} [id O] ''   \n"
        "   |TensorConstant{0.5} [id P]\n"
    )


def test_printing_drawing_post_compilation_graph_differs_where_labsym_fuses_differently():
    x, *_, prediction = _logistic_regression()
    predict = theano.function([x], prediction)
    # Theano: Elemwise{Composite{GT(scalar_sigmoid((-((-i0) - i1))), i2)}} over a Gemv and the
    # constant (1,) of 0.5 as an input; labsym keeps dot (no Gemv for a matrix-vector product
    # without an accumulator), simplifies the double negation and inlines 0.5 in the formula
    assert debugprint(predict, file="str") == (
        "Elemwise{Composite{GT(scalar_sigmoid((i0 + i1)), 0.5)}} [id A] ''   2\n"
        " |dot [id B] ''   1\n"
        " | |x [id C]\n"
        " | |w [id D]\n"
        " |InplaceDimShuffle{x} [id E] ''   0\n"
        "   |b [id F]\n"
    )


# ------------------------------------------------------------------ shape_info.txt
def test_shape_info_shape_of_a_square_reads_the_input_lengths():
    x = T.matrix("x")
    f = theano.function([x], (x**2).shape)
    assert debugprint(f, file="str") == (
        "MakeVector{dtype='int64'} [id A] ''   2\n"
        " |Shape_i{0} [id B] ''   1\n"
        " | |x [id C]\n"
        " |Shape_i{1} [id D] ''   0\n"
        "   |x [id C]\n"
    )


def test_shape_info_shape_of_a_join_and_the_join_itself():
    x, y = T.matrix("x"), T.matrix("y")
    z = T.join(0, x, y)
    f = theano.function([x, y], z.shape)
    assert debugprint(f, file="str") == (
        "MakeVector{dtype='int64'} [id A] ''   4\n"
        " |Elemwise{Add}[(0, 0)] [id B] ''   3\n"
        " | |Shape_i{0} [id C] ''   2\n"
        " | | |x [id D]\n"
        " | |Shape_i{0} [id E] ''   1\n"
        " |   |y [id F]\n"
        " |Shape_i{1} [id G] ''   0\n"
        "   |x [id D]\n"
    )
    np.testing.assert_array_equal(f(np.ones((5, 4)), np.ones((3, 3))), [8, 4])  # as the doc
    g = theano.function([x, y], z)
    assert debugprint(g, file="str") == (
        "Join [id A] ''   0\n |TensorConstant{0} [id B]\n |x [id C]\n |y [id D]\n"
    )


def test_shape_info_a_specified_shape_is_a_copied_constant():
    x = T.matrix()
    f = theano.function([x], (T.specify_shape(x, (2, 2)) ** 2).shape)
    assert debugprint(f, file="str") == (
        "DeepCopyOp [id A] ''   0\n |TensorConstant{(2,) of 2} [id B]\n"
    )
    assert f(np.ones((2, 2))).tolist() == [2, 2]


def test_shape_ops_are_kept_when_the_shape_rewrite_is_excluded():
    x = T.matrix("x")
    f = theano.function([x], x.shape, mode=Mode().excluding("local_shape_to_shape_i"))
    assert [str(node.op) for node in f.maker.fgraph.toposort()] == ["Shape"]


# ------------------------------------------------------------------ debug_faq.txt
def test_debug_faq_nan_node_is_one_composite():
    x = T.dscalar("x")
    f = theano.function([x], [T.log(x) * x])
    (node,) = f.maker.fgraph.toposort()
    assert debugprint(node, file="str") == (
        "Elemwise{Composite{(log(i0) * i0)}} [id A] ''   \n |x [id B]\n"
    )


def test_debug_faq_print_type_of_the_faulty_node():
    x, y = T.dvector(), T.dvector()
    z = x + x
    assert debugprint(z + y, print_type=True, file="str") == (
        "Elemwise{add,no_inplace} [id A] <TensorType(float64, vector)> ''   \n"
        " |Elemwise{add,no_inplace} [id B] <TensorType(float64, vector)> ''   \n"
        " | |<TensorType(float64, vector)> [id C] <TensorType(float64, vector)>\n"
        " | |<TensorType(float64, vector)> [id C] <TensorType(float64, vector)>\n"
        " |<TensorType(float64, vector)> [id D] <TensorType(float64, vector)>\n"
    )


# ------------------------------------------------------------------ theano/tests/test_printing.py
def _test_printing_graph():
    A, B, D, E = (T.matrix(name=n) for n in "ABDE")
    C = A + B
    C.name = "C"
    return A, B, D, C + (D + E)


def test_test_printing_ids_int_char_stop_on_name_and_none():
    *_, G = _test_printing_graph()
    assert debugprint(G, file="str", ids="int") == (
        "Elemwise{add,no_inplace} [id 0] ''   \n"
        " |Elemwise{add,no_inplace} [id 1] 'C'   \n"
        " | |A [id 2]\n"
        " | |B [id 3]\n"
        " |Elemwise{add,no_inplace} [id 4] ''   \n"
        "   |D [id 5]\n"
        "   |E [id 6]\n"
    )
    assert debugprint(G, file="str", ids="CHAR", stop_on_name=True) == (
        "Elemwise{add,no_inplace} [id A] ''   \n"
        " |Elemwise{add,no_inplace} [id B] 'C'   \n"
        " |Elemwise{add,no_inplace} [id C] ''   \n"
        "   |D [id D]\n"
        "   |E [id E]\n"
    )
    assert debugprint(G, file="str", ids="") == (
        "Elemwise{add,no_inplace}  ''   \n"
        " |Elemwise{add,no_inplace}  'C'   \n"
        " | |A \n"
        " | |B \n"
        " |Elemwise{add,no_inplace}  ''   \n"
        "   |D \n"
        "   |E \n"
    )


def test_test_printing_clients():
    A, B, D, _ = _test_printing_graph()
    f = theano.function([A, B, D], [A + B, A + B - D], mode="FAST_COMPILE")
    assert debugprint(f, file="str", print_clients=True) == (
        "Elemwise{add,no_inplace} [id A] ''   0 clients:[('output', ''), ('[id C]', 1)]\n"
        " |A [id D]\n"
        " |B [id E]\n"
        "Elemwise{sub,no_inplace} [id C] ''   1\n"
        " |Elemwise{add,no_inplace} [id A] ''   0 clients:[('output', ''), ('[id C]', 1)]\n"
        " |D [id F]\n"
    )


# ------------------------------------------------------------------ seed: a constant output
def test_seed_constant_outputs_are_copied():
    x = T.scalar()
    f = theano.function([x], x / x)
    assert debugprint(f.maker.fgraph.outputs[0], file="str") == (
        "DeepCopyOp [id A] ''   \n |TensorConstant{1.0} [id B]\n"
    )


# ------------------------------------------------------------------ names of ops
def test_elemwise_names_as_theano_printed_them():
    x, y = T.dvectors("x", "y")
    assert str((x * y).owner.op) == "Elemwise{mul,no_inplace}"
    assert str(abs(x).owner.op) == "Elemwise{abs_,no_inplace}"
    assert str(T.nnet.sigmoid(x).owner.op) == "sigmoid"
    assert str(T.cast(x, "float32").owner.op) == "Elemwise{Cast{float32}}"
    assert str(Elemwise(SCALAR_OPS["mul"])) == "Elemwise{mul}"
    assert str(Elemwise(SCALAR_OPS["gt"])) == "Elemwise{GT}"
    assert str(Elemwise(SCALAR_OPS["add"], {0: 0})) == "Elemwise{Add}[(0, 0)]"
    assert str(Elemwise(SCALAR_OPS["true_div"], {0: 1})) == "Elemwise{TrueDiv}[(0, 1)]"
    assert str(Elemwise(SCALAR_OPS["sigmoid"], {0: 0})) == "Elemwise{ScalarSigmoid}[(0, 0)]"
    assert str(Elemwise(cast_op("float64"), {0: 0})) == "Elemwise{Cast{float64}}[(0, 0)]"
    assert Elemwise(SCALAR_OPS["mul"]) == m.mul  # the name is not part of the op's identity
    assert str(x.dimshuffle("x", 0).owner.op) == "InplaceDimShuffle{x,0}"


def test_gradient_nodes_are_unnamed_and_inplace_nodes_print_their_pattern():
    x = T.dvector("x")
    gx = T.grad(T.exp(x).sum(), x)
    names = {str(node.op) for node in io_toposort([x], [gx])}
    assert "Elemwise{mul}" in names and "Elemwise{mul,no_inplace}" not in names
    f = theano.function([x], T.exp(x) + T.sin(x), mode=Mode().excluding("fusion"))
    assert [str(node.op) for node in f.maker.fgraph.toposort()] == [
        "Elemwise{sin,no_inplace}",
        "Elemwise{exp,no_inplace}",
        "Elemwise{Add}[(0, 0)]",
    ]


def test_ops_with_props_print_them_by_repr():
    assert str(theano.tensor.arange(3).owner.op) == "ARange{dtype='int64'}"
    assert str(T.dmatrix().sum().owner.op) == "Sum{acc_dtype=float64}"
    assert str(T.dmatrix().reshape((6,)).owner.op) == "Reshape{1}"


def test_tensor_constants_print_as_theano():
    assert str(constant(1)) == "TensorConstant{1}"
    assert str(constant(np.array([1, 2, 3]))) == "TensorConstant{[1 2 3]}"
    assert str(constant(np.array([2, 2]))) == "TensorConstant{(2,) of 2}"
    assert str(constant(np.arange(30))) == "TensorConstant{[ 0  1  2 .. 27 28 29]}"
    assert str(constant(1.5, name="c")) == "TensorConstant{1.5}"  # Theano ignores the name


def test_pp_operators_functions_and_inplace_forms():
    x, y = T.dscalars("x", "y")
    assert pp(T.gt(x, y)) == "gt(x, y)"
    assert pp(x % y) == "mod(x, y)"
    assert pp(T.dot(T.dvector("v"), T.dmatrix("W"))) == "(v \\dot W)"
    assert pp(Elemwise(SCALAR_OPS["mul"], {0: 0})(x, y)) == "(x *= y)"
    assert pp(Elemwise(SCALAR_OPS["exp"], {0: 0})(x)) == "exp=(x)"
    i, j = T.lscalars("i", "j")
    assert pp(MakeVector("int64")(i, j)) == "[i, j]"


# ------------------------------------------------------------------ Python scalars
def test_python_scalars_are_cached_constants_of_the_smallest_dtype():
    x = T.dvector("x")
    one = (x + 1).owner.inputs[1]
    assert str(one.owner.op) == "InplaceDimShuffle{x}" and str(one.owner.inputs[0]) == (
        "TensorConstant{1}"
    )
    assert one.owner.inputs[0].dtype == "int8"
    assert one.owner.inputs[0] is (x * 1).owner.inputs[1].owner.inputs[0]  # one cached constant
    assert [constant(v).dtype for v in (1, 1000, 2**40, 0.5, 0.1, True)] == [
        "int8",
        "int16",
        "int64",
        "float32",
        "float64",
        "bool",
    ]
    with theano.config.change_flags(floatX="float32"):
        assert constant(0.1).dtype == "float32"  # Theano's cast_policy='custom'


@pytest.mark.parametrize(
    ("build", "dtype"),
    [
        (lambda: T.ivector() + 1, "int32"),
        (lambda: T.bvector() + 1000, "int16"),
        (lambda: T.bvector() + 1.5, "float32"),
        (lambda: T.fvector() * 0.1, "float64"),  # floatX=float64: a float64 0.1
        (lambda: T.fvector() + 100000, "float64"),
        (lambda: T.ivector() * 0.5, "float64"),
        (lambda: T.dvector() ** 2, "float64"),
    ],
)
def test_result_dtypes_of_python_scalars_follow_theano(build, dtype):
    assert build().dtype == dtype


def test_bvector_plus_1000_computes_in_int16():
    b = T.bvector("b")
    f = theano.function([b], b + 1000)
    np.testing.assert_array_equal(f(np.array([100, -100], dtype="int8")), [1100, 900])


# ------------------------------------------------------------------ order and copies
def test_toposort_numbers_nodes_as_theano_io_toposort():
    x, y = T.dscalars("x", "y")
    out = (x + y) * T.exp(x)
    order = theano_toposort([x, y], [out, x - y])
    assert [str(n.op) for n in order] == [
        "Elemwise{exp,no_inplace}",
        "Elemwise{add,no_inplace}",
        "Elemwise{mul,no_inplace}",
        "Elemwise{sub,no_inplace}",
    ]
    # the rewriters keep their depth-first order: first input first
    assert [str(n.op) for n in io_toposort([x, y], [out])][:2] == [
        "Elemwise{add,no_inplace}",
        "Elemwise{exp,no_inplace}",
    ]


def test_an_overwriting_node_runs_after_the_other_readers_of_its_buffer():
    x = T.dvector("x")
    view = x.dimshuffle("x", 0)
    inplace = Elemwise(SCALAR_OPS["exp"], {0: 0})(view)
    fgraph = FunctionGraph([x], [inplace, view.sum()], clone=False)
    order = fgraph.toposort()
    assert order.index(inplace.owner) == len(order) - 1  # after the Sum that reads the view


def test_deepcopy_on_inputs_constants_views_and_repeated_outputs_unless_borrowed():
    x = T.dmatrix("x")
    f = theano.function([x], [x, x.T, x + 1, 2 * T.ones_like(x)])
    copies = [
        out.owner is not None and isinstance(out.owner.op, DeepCopyOp)
        for out in f.maker.fgraph.outputs
    ]
    assert copies == [True, True, False, False]
    value = np.ones((2, 2))
    got = f(value)
    assert not np.shares_memory(got[0], value) and not np.shares_memory(got[1], value)
    s = x * 2
    g = theano.function([x], [s, s])
    first, second = g(value)
    assert isinstance(g.maker.fgraph.outputs[0].owner.op, DeepCopyOp) and first is not second
    h = theano.function([x], theano.Out(x, borrow=True))
    assert h.maker.fgraph.toposort() == []
    w = theano.shared(np.zeros(2), name="w")
    u = theano.function([], w, updates=[(w, w + 1)])
    # w's own update overwrites it: Theano puts no DeepCopyOp on it (the call still copies)
    assert [str(n.op) for n in u.maker.fgraph.toposort()] == ["Elemwise{add,no_inplace}"]
    assert u().tolist() == [0.0, 0.0] and u().tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ graphstructures.txt
def test_graphstructures_sum_of_v_plus_one():
    v = T.vector()
    f = theano.function([v], (v + 1).sum())
    # Theano lists the constant first (its canonicalizer put constants at the front of a sum);
    # the constant is float64 in both: an upcast the add would do anyway is done at compile time
    assert debugprint(f, file="str") == (
        "Sum{acc_dtype=float64} [id A] ''   1\n"
        " |Elemwise{add,no_inplace} [id B] ''   0\n"
        "   |<TensorType(float64, vector)> [id C]\n"
        "   |TensorConstant{(1,) of 1.0} [id D]\n"
    )
    topo = f.maker.fgraph.toposort()
    assert str(f.maker.fgraph.clients[topo[0].outputs[0]]) == (
        "[(Sum{acc_dtype=float64}(Elemwise{add,no_inplace}.0), 0)]"
    )
    assert f.maker.fgraph.clients[topo[1].outputs[0]] == [("output", 0)]


def test_constant_inputs_are_upcast_only_where_the_op_upcasts():
    i = T.ivector("i")
    f = theano.function([i], [i + 1, T.gt(i, 1)], mode=Mode().excluding("fusion"))
    add, gt = (out.owner for out in f.maker.fgraph.outputs)
    assert add.inputs[1].dtype == "int32" and gt.inputs[1].dtype == "int8"  # gt compares as is
    assert f(np.array([1, 2], dtype="int32"))[0].tolist() == [2, 3]


def test_pp_of_an_indexed_vector_as_theano_test_printing():
    y = T.dvector()[1]
    assert pp(y) == "<TensorType(float64, vector)>[Constant{1}]"  # theano/tests/test_printing.py
    x, i = T.dvector("x"), T.lscalar("i")
    assert pp(x[i]) == "x[i]"
    assert pp(x[0:i]) == "x[:i]"
    assert pp(T.dmatrix("m")[1, 2:]) == "m[Constant{1}, Constant{2}:]"
    assert pp(x[1:3:2]) == "x[Constant{1}:Constant{3}:Constant{2}]"
