"""Public names Theano programs import: constructors, grids, classes, compat, op classes, pprint."""

from __future__ import annotations

import collections
import pickle
import sys

import numpy as np
import pytest

import labsym as theano
from labsym import tensor as T
from labsym.compat import install_theano_alias


# ---------------------------------------------------------------------- plural constructors
def test_plural_constructor_splits_a_string_of_one_letter_names():
    x, y, z = T.scalars("xyz")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"]
    assert x.dtype == theano.config.floatX and x.ndim == 0
    a, b = T.dmatrices("ab")
    assert (a.name, b.name, a.dtype, a.ndim) == ("a", "b", "float64", 2)


def test_plural_constructor_other_forms_follow_theano():
    named = T.dvectors("w", "bias")
    assert [v.name for v in named] == ["w", "bias"]
    single = T.scalars("x")  # one one-letter name: a variable, not a list
    assert isinstance(single, T.TensorVariable) and single.name == "x"
    three = T.fvectors(3)
    assert len(three) == 3 and all(v.name is None and v.dtype == "float32" for v in three)
    one = T.iscalars(1)  # an int always gives a list
    assert isinstance(one, list) and len(one) == 1
    listed = T.lscalars(["first", "second"])
    assert [v.name for v in listed] == ["first", "second"]
    assert T.matrices("pq", dtype="int32")[1].dtype == "int32"


# ---------------------------------------------------------------------- stacklists, grids
def test_stacklists_of_scalars_and_matrices():
    a, b, c, d = T.dscalars("abcd")
    X = T.stacklists([[a, b], [c, d]])
    np.testing.assert_array_equal(theano.function([a, b, c, d], X)(1, 2, 3, 4), [[1, 2], [3, 4]])
    m = T.dmatrices("efgh")
    grid = theano.function(m, T.stacklists([[m[0], m[1]], [m[2], m[3]]]))
    values = [np.full((4, 4), k, dtype=float) for k in range(4)]
    got = grid(*values)
    assert got.shape == (2, 2, 4, 4)
    np.testing.assert_array_equal(got, np.array([[values[0], values[1]], [values[2], values[3]]]))
    assert T.stacklists(a) is a


@pytest.mark.parametrize(
    "key",
    [(slice(0, 5), slice(0, 3)), (slice(1, 10, 3), slice(4)), (slice(2), slice(3), slice(1, 3))],
)
def test_mgrid_and_ogrid_match_numpy(key):
    for symbolic, reference in ((T.mgrid, np.mgrid), (T.ogrid, np.ogrid)):
        got = [g.eval() for g in symbolic[key]]
        expected = reference[key]
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape
            np.testing.assert_array_equal(g, e)


def test_mgrid_of_one_slice_and_bad_keys():
    np.testing.assert_array_equal(T.mgrid[0:4][0].eval(), np.arange(4))
    with pytest.raises(TypeError, match="mgrid/ogrid take slices like 0:5, got 3"):
        T.mgrid[0:2, 3]
    with pytest.raises(NotImplementedError, match="slices whose step is complex"):
        T.mgrid[0:1:5j]


# ---------------------------------------------------------------------- classes and modules
def test_tensor_variable_lives_in_tensor_var():
    x = T.dmatrix("x")
    assert repr(type(x)) == "<class 'labsym.tensor.var.TensorVariable'>"
    assert repr(type(T.constant([1, 2, 3]))) == "<class 'labsym.tensor.var.TensorConstant'>"
    var_module = sys.modules["labsym.tensor.var"]  # T.var is the variance, as in Theano
    assert var_module.TensorVariable is type(x) is T.TensorVariable
    assert isinstance(x, var_module._tensor_py_operators) and isinstance(x, T._tensor_py_operators)
    assert theano.function([x], T.var(x))(np.array([[1.0, 3.0]])) == 1.0
    assert pickle.loads(pickle.dumps(x)).type == x.type
    w = theano.shared(np.zeros(2))
    assert isinstance(w, T.sharedvar.TensorSharedVariable) and isinstance(w, T.TensorVariable)


def test_theano_alias_covers_the_new_modules():
    install_theano_alias()
    import theano as th  # noqa: PLC0415 - resolves through the alias

    assert th is theano
    assert th.scalar.upcast("int8", "float32") == "float32"
    assert sys.modules["theano.tensor.var"].TensorVariable is T.TensorVariable
    assert sys.modules["theano.tensor.sharedvar"].TensorSharedVariable is theano.SharedVariable
    assert sys.modules["theano.compat.python2x"].OrderedDict is collections.OrderedDict
    assert sys.modules["theano.tensor.nnet.sigm"].scalar_sigmoid == T.nnet.sigmoid.scalar_op
    for name in (
        "theano.scalar",
        "theano.scalar.basic",
        "theano.tensor.basic",
        "theano.tensor.elemwise",
        "theano.tensor.blas",
        "theano.tensor.subtensor",
    ):
        assert name in sys.modules


# ---------------------------------------------------------------------- compat
def test_compat_python2x_names():
    from labsym.compat import python2x

    assert python2x.OrderedDict is collections.OrderedDict
    assert python2x.Counter("abca")["a"] == 2 and python2x.defaultdict is collections.defaultdict
    assert list(python2x.product([1, 2], "ab"))[1] == (1, "b")
    d = python2x.DefaultOrderedDict(list)
    d["z"].append(1)
    d["a"].append(2)
    d["z"].append(3)
    assert list(d.items()) == [("z", [1, 3]), ("a", [2])]
    again = pickle.loads(pickle.dumps(d))
    assert list(again.items()) == [("z", [1, 3]), ("a", [2])] and again.default_factory is list
    copied = d.copy()
    copied["new"].append(0)
    assert "new" not in d and isinstance(copied, python2x.DefaultOrderedDict)
    with pytest.raises(KeyError):
        python2x.DefaultOrderedDict()["missing"]
    with pytest.raises(TypeError, match="first argument must be callable"):
        python2x.DefaultOrderedDict(5)


def test_compat_names_older_programs_import():
    from labsym.compat import (
        PY3,
        OrderedDict,
        b,
        cmp,
        decode,
        exc_message,
        imap,
        izip,
        string_types,
    )

    assert PY3 is True and OrderedDict is collections.OrderedDict
    assert list(izip([1, 2], "xy")) == [(1, "x"), (2, "y")]
    assert list(imap(abs, [-1, 2])) == [1, 2]
    assert isinstance("text", string_types) and b("ab") == b"ab" and decode(b"ab") == "ab"
    assert (cmp(1, 2), cmp(2, 2), cmp(3, 2)) == (-1, 0, 1)
    assert exc_message(ValueError(KeyError("inner"))) == "inner"


# ---------------------------------------------------------------------- op classes
def _ops(f):
    return [node.op for node in f.maker.fgraph.toposort()]


def test_op_classes_match_compiled_graphs():
    x, y = T.dmatrices("xy")
    v = T.dvector("v")
    i = T.lvector("i")
    f = theano.function(
        [x, v, i],
        [
            x[1:],
            x[i],
            T.set_subtensor(x[0], v),
            T.concatenate([x, x]),
            x.reshape((3, 2)),
            x.shape,
            x.sum(axis=0),
            x.T,
        ],
        mode="FAST_COMPILE",
    )
    kinds = (
        T.Subtensor,
        T.AdvancedSubtensor1,
        T.IncSubtensor,
        T.Join,
        T.Reshape,
        T.Shape,
        T.Sum,
        T.DimShuffle,
    )
    ops = _ops(f)
    for kind in kinds:
        assert any(isinstance(op, kind) for op in ops), kind
    assert isinstance(ops[0], T.basic.Subtensor)  # T.basic holds the same op classes
    assert T.basic.Join is T.Join and T.elemwise.CAReduce is T.CAReduce
    assert issubclass(T.Sum, T.CAReduce) and T.elemwise.Elemwise is T.Elemwise
    sm = theano.function([x], T.nnet.softmax(x))
    assert isinstance(_ops(sm)[0], T.nnet.Softmax)
    assert isinstance(_ops(theano.function([x, y], T.dot(x, y)))[0], T.Dot)
    assert isinstance(_ops(theano.function([x, y], T.dot(x, y)))[0], T.blas.Dot22)
    z = T.dmatrix("z")
    assert isinstance(_ops(theano.function([x, y, z], z + T.dot(x, y)))[0], T.blas.Gemm)


def test_elemwise_ops_compare_equal_to_the_tensor_functions():
    x = T.dvector("x")
    (node,) = theano.function([x], T.exp(x), mode="FAST_COMPILE").maker.fgraph.toposort()
    assert node.op == T.exp and isinstance(node.op, T.Elemwise)
    (node,) = theano.function([x], T.nnet.sigmoid(x), mode="FAST_COMPILE").maker.fgraph.toposort()
    assert isinstance(node.op.scalar_op, T.nnet.sigm.ScalarSigmoid)
    assert node.op.scalar_op == T.nnet.sigm.scalar_sigmoid


def test_type_tuples_and_dtype_lists():
    assert T.float_types == (T.fscalar, T.dscalar)
    assert T.dscalar().type in T.float_scalar_types and T.lvector in T.int_vector_types
    assert "uint8" in T.discrete_dtypes and "float16" in T.float_dtypes
    assert T.complex_matrix_types == (T.cmatrix, T.zmatrix)


# ---------------------------------------------------------------------- pprint
def test_pprint_is_callable_like_pp():
    x, y = T.dscalars("xy")
    expr = T.exp(x) * y
    assert theano.printing.pprint(expr) == theano.printing.pp(expr)
    assert T.pprint is theano.printing.pprint


def test_pprint_assign_uses_a_printer_for_an_op():
    from labsym.printing import FunctionPrinter, PPrinter

    class Double(theano.Op):
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0] * 2

    x = T.dvector("x")
    printer = theano.printing.pprint.clone_assign(Double, FunctionPrinter("double"))
    assert isinstance(printer, PPrinter)
    assert printer(Double()(Double()(x))) == "double(double(x))"
    # a claimed subexpression inside pp's text: pp shows it as the printer wrote it
    y = T.dvector("y")
    shown_as = T.dvector("double(double(x))")  # how pp shows the claimed subexpression
    assert printer(T.exp(Double()(Double()(x)) * y)) == theano.printing.pp(T.exp(shown_as * y))
    assert printer(Double()(x) + y) == theano.printing.pp(T.dvector("double(x)") + y)
    half = printer.clone_assign(lambda pstate, var: var.name == "named", FunctionPrinter("half"))
    out = Double()(x)
    out.name = "named"
    assert half.process(out) == "double(x)"  # an op printer wins over a condition
    assert theano.printing.pprint(Double()(x)) != "double(x)"  # the global one is unchanged
    with pytest.raises(TypeError, match="cannot represent a variable that is not the result"):
        FunctionPrinter("f").process(x, theano.printing.PrinterState(pprinter=printer))


def test_advanced_indexing_op_instances_and_consider_constant():
    x, y = T.dmatrices("xy")
    i = T.lvector("i")
    f = theano.function(
        [x, y, i],
        [
            T.advanced_subtensor1(x, i),
            T.advanced_inc_subtensor1(x, y, i),
            T.advanced_set_subtensor1(x, y, i),
        ],
    )
    x_v, y_v = np.arange(6.0).reshape(3, 2), np.ones((2, 2))
    picked, inc, setv = f(x_v, y_v, np.array([2, 2]))
    np.testing.assert_array_equal(picked, [[4.0, 5.0], [4.0, 5.0]])
    np.testing.assert_array_equal(inc, [[0.0, 1.0], [2.0, 3.0], [6.0, 7.0]])
    np.testing.assert_array_equal(setv, [[0.0, 1.0], [2.0, 3.0], [1.0, 1.0]])
    v = T.dvector("v")
    # d/dv sum(c * v) with c = v*v held constant: c, not 3 v^2
    g = theano.function([v], T.grad((T.consider_constant(v * v) * v).sum(), v))
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [1.0, 4.0])


# ---------------------------------------------------------------------- constants in rewrites
def test_get_scalar_constant_value_sees_through_fills_allocs_and_casts():
    from labsym.tensor.opt import NotScalarConstantError, get_scalar_constant_value

    assert get_scalar_constant_value(T.zeros([5])) == 0.0
    assert get_scalar_constant_value(T.ones_like(T.dvector())) == 1.0
    value = get_scalar_constant_value(T.cast(T.constant(2), "float64") * 3 + 1)
    assert value == 7.0 and value.dtype == np.float64 and value.shape == ()
    assert get_scalar_constant_value(T.constant(np.full((2, 3), 4.0))) == 4.0
    assert get_scalar_constant_value(2) == 2 and get_scalar_constant_value(np.array(1.5)) == 1.5
    with pytest.raises(NotScalarConstantError, match="elements differ"):
        get_scalar_constant_value(T.constant([1.0, 2.0]))
    with pytest.raises(NotScalarConstantError, match="is not known to be a scalar constant"):
        get_scalar_constant_value(T.dvector("v"))
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(T.constant(1.0) + 1.0, elemwise=False)
    with pytest.raises(NotScalarConstantError):  # Theano evaluates arithmetic, not exp
        get_scalar_constant_value(T.exp(T.constant(0.0)))
    assert get_scalar_constant_value(T.switch(T.constant(1) > 0, 5.0, 6.0)) == 5.0
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(T.zeros([5]), only_process_constants=True)
    with pytest.raises(T.EmptyConstantError):
        get_scalar_constant_value(T.constant(np.zeros(0)))


class Fibby(theano.Op):
    """The "fibby" op of Theano's extending tutorial."""

    __props__ = ()

    def make_node(self, x):
        x_ = T.as_tensor_variable(x)
        assert x_.ndim == 1
        return theano.Apply(self, inputs=[x_], outputs=[x_.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        y = output_storage[0][0] = x.copy()
        for i in range(2, len(x)):
            y[i] = y[i - 1] * y[i - 2] + x[i]


fibby = Fibby()


def test_fibby_of_zero_rewrite_from_the_tutorial():
    from labsym.tensor.opt import NotScalarConstantError, get_scalar_constant_value

    @T.opt.register_specialize
    @theano.gof.local_optimizer([fibby])
    def fibby_of_zero(node):
        if node.op == fibby:
            x = node.inputs[0]
            try:
                if np.all(get_scalar_constant_value(x) == 0):
                    return [x]
            except NotScalarConstantError:
                pass

    x = T.dvector()
    f = theano.function([x], fibby(x))
    np.testing.assert_allclose(f(np.array([1.0, 1.0, 2.0, 3.0])), [1.0, 1.0, 3.0, 6.0])
    topo = f.maker.fgraph.toposort()
    assert len(topo) == 1 and isinstance(topo[0].op, Fibby)
    f_zero = theano.function([], fibby(T.zeros([5])))
    np.testing.assert_array_equal(f_zero(), np.zeros(5))
    assert not any(isinstance(n.op, Fibby) for n in f_zero.maker.fgraph.toposort())
