"""theano.gof linkers on Theano's per-node thunk protocol: wrapper(i, node, fn) per node per call.

Written from theano/gof/link.py's documented contract and the "step through a compiled function"
and NaN/negative-value debugging recipes.
"""

from __future__ import annotations

import numpy as np
import pytest

import labsym as theano
import labsym.tensor as T
from labsym.backends.c.module import c_compiler
from labsym.core.ops.elemwise import Elemwise
from labsym.gof import OpWiseCLinker, PerformLinker, WrapLinker, WrapLinkerMany


def _mode(linker):
    return theano.compile.Mode(linker=linker, optimizer=None)


def test_wrap_linker_many_calls_each_wrapper_with_index_node_and_storage_cells():
    log = []

    def before(i, node, fn):
        log.append(("in", i, type(node.op).__name__, [cell[0].tolist() for cell in fn.inputs]))

    def run_and_show(i, node, fn):
        fn()
        log.append(("out", i, [cell[0].tolist() for cell in fn.outputs]))

    x, y = T.dvectors("x", "y")
    f = theano.function(
        [x, y], (x * y).sum(), mode=_mode(WrapLinkerMany([PerformLinker()], [before, run_and_show]))
    )
    assert float(f(np.array([1.0, 2.0]), np.array([3.0, 3.0]))) == 9.0
    assert log == [
        ("in", 0, "Elemwise", [[1.0, 2.0], [3.0, 3.0]]),
        ("out", 0, [[3.0, 6.0]]),
        ("in", 1, "Sum", [[3.0, 6.0]]),
        ("out", 1, [9.0]),
    ]
    log.clear()
    f(np.array([0.0, 1.0]), np.array([2.0, 2.0]))  # the wrappers run again on every call
    assert [entry[:2] for entry in log] == [("in", 0), ("out", 0), ("in", 1), ("out", 1)]
    assert log[-1] == ("out", 1, [2.0])


def test_thunk_cells_are_one_element_lists_holding_arrays_even_for_scalars():
    seen = []

    def wrapper(i, node, fn):
        fn()
        seen.append((fn.inputs, fn.outputs, fn.node is node))

    x = T.dscalar("x")
    f = theano.function([x], x * x, mode=_mode(WrapLinker([PerformLinker()], wrapper)))
    assert float(f(3.0)) == 9.0
    ((inputs, outputs, same_node),) = seen
    assert same_node
    assert [len(cell) for cell in inputs] == [1, 1] and len(outputs) == 1
    # Theano's storage held 0-d arrays, so recipes print `array(9.0)`, not a NumPy scalar;
    # the cells are emptied after the node ran (the compiled call owns the values)
    assert inputs == [[None], [None]] and outputs == [[None]]


def test_values_seen_inside_the_wrapper_are_zero_d_arrays():
    kinds = []

    def wrapper(i, node, fn):
        fn()
        kinds.append([type(c[0]).__name__ for c in fn.inputs + fn.outputs])

    x = T.dscalar("x")
    f = theano.function([x], T.exp(x) + x, mode=_mode(WrapLinker([PerformLinker()], wrapper)))
    assert np.isclose(f(1.0), np.e + 1)
    assert kinds == [["ndarray", "ndarray"], ["ndarray", "ndarray", "ndarray"]]


def test_wrapper_may_change_an_output_before_the_next_node_reads_it():
    def clip_negative(i, node, fn):
        fn()
        fn.outputs[0][0] = np.maximum(fn.outputs[0][0], 0)

    x = T.dvector("x")
    f = theano.function(
        [x], (x - 2).sum(), mode=_mode(WrapLinker([PerformLinker()], clip_negative))
    )
    # x - 2 = [-1, 0, 1] is clipped to [0, 0, 1] before sum reads it
    assert float(f(np.array([1.0, 2.0, 3.0]))) == 1.0


def test_detect_first_negative_value_recipe_names_the_node_and_index():
    class NegativeFound(Exception):
        pass

    def detect_negative(i, node, fn):
        fn()
        for output in fn.outputs:
            if np.any(output[0] < 0):
                raise NegativeFound(f"node {i}: {type(node.op).__name__} gave {output[0]}")

    x, c = T.dvectors("x", "c")
    y = x * x - c
    f = theano.function([x, c], y * y, mode=_mode(WrapLinker([PerformLinker()], detect_negative)))
    assert f(np.array([3.0]), np.array([5.0])).tolist() == [16.0]
    with pytest.raises(NegativeFound, match=r"node 1: Elemwise gave \[-4.\]"):
        f(np.array([1.0]), np.array([5.0]))


def test_updates_givens_and_shared_variables_behave_as_with_the_default_linker():
    def run(i, node, fn):
        fn()

    results = {}
    for label, mode in (("default", None), ("wrap", _mode(WrapLinker([PerformLinker()], run)))):
        w = theano.shared(np.array([1.0, 2.0]), name="w")
        count = theano.shared(np.int64(0), name="count")
        x = T.dvector("x")
        scale = T.dscalar("scale")
        cost = ((w * x) ** 2).sum() * scale
        f = theano.function(
            [x],
            cost,
            updates=[(w, w - 0.1 * T.grad(cost, w)), (count, count + 1)],
            givens=[(scale, theano.shared(0.5, name="half"))],
            mode=mode,
        )
        values = [float(f(np.array([1.0, -1.0]))) for _ in range(3)]
        results[label] = (values, w.get_value().tolist(), int(count.get_value()))
    wrap, default = results["wrap"], results["default"]
    assert np.allclose(wrap[0], [2.5, 2.025, 1.64025]) and np.allclose(wrap[0], default[0])
    assert np.allclose(wrap[1], default[1]) and np.allclose(wrap[1], [0.729, 1.458])  # w *= 0.9
    assert wrap[2] == default[2] == 3


def test_a_failed_call_changes_no_shared_variable_and_names_the_node():
    def fail_on_sum(i, node, fn):
        fn()
        if type(node.op).__name__ == "Sum":
            raise ValueError("stop here")

    w = theano.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    f = theano.function(
        [x],
        (w * x).sum(),
        updates=[(w, w + x)],
        mode=_mode(WrapLinker([PerformLinker()], fail_on_sum)),
    )
    with pytest.raises(ValueError, match="stop here") as info:
        f(np.array([1.0, 1.0]))
    assert "Apply node that caused the error: Sum" in str(info.value)
    assert w.get_value().tolist() == [1.0, 2.0]


def test_a_wrapper_that_never_runs_the_thunk_gets_a_clear_error():
    x = T.dvector("x")
    f = theano.function(
        [x], x + 1, mode=_mode(WrapLinker([PerformLinker()], lambda i, n, fn: None))
    )
    with pytest.raises(RuntimeError, match=r"output 0 of the first linker's thunk is unset"):
        f(np.array([1.0]))


def test_wrap_linker_runs_one_thunk_per_linker_with_separate_storage():
    compared = []

    def compare(i, node, py_thunk, c_thunk):
        py_thunk()
        c_thunk()
        compared.append(
            np.array_equal(py_thunk.outputs[0][0], c_thunk.outputs[0][0])
            and py_thunk.outputs[0] is not c_thunk.outputs[0]
        )
        c_thunk.outputs[0][0] = c_thunk.outputs[0][0] * 0

    x = T.dmatrix("x")
    w = theano.shared(np.eye(2), name="w")
    f = theano.function(
        [x],
        T.tanh(T.dot(x, w)).sum(),
        mode=_mode(WrapLinker([PerformLinker(), OpWiseCLinker()], compare)),
    )
    value = float(f(np.array([[0.5, -0.5], [1.0, 2.0]])))
    assert np.isclose(value, np.tanh([[0.5, -0.5], [1.0, 2.0]]).sum())
    # the second linker computes in its own storage: the zeros it was given flow into its own
    # later nodes (which then disagree) but never into the first linker's values or the result
    assert compared == [True, False, False]


def test_thunks_run_their_node_each_time_they_are_called():
    calls = []

    def twice(i, node, fn):
        fn()
        first = fn.outputs[0][0]
        fn()
        calls.append(np.array_equal(first, fn.outputs[0][0]))

    x = T.dvector("x")
    f = theano.function([x], T.exp(x), mode=_mode(WrapLinker([PerformLinker()], twice)))
    assert np.allclose(f(np.array([0.0, 1.0])), [1.0, np.e])
    assert calls == [True]


@pytest.mark.parametrize("linker", [PerformLinker(), OpWiseCLinker()])
def test_perform_and_opwise_c_linkers_run_functions_directly(linker):
    x = T.dvector("x")
    f = theano.function([x], T.log1p(x) * 2, mode=theano.compile.Mode(linker=linker))
    assert np.allclose(f(np.array([0.0, 1.0])), [0.0, 2 * np.log(2)])
    assert "linker='c|py'" in OpWiseCLinker.__doc__  # where C code per node is


def test_linkers_accept_labsym_linkers_and_reject_other_objects():
    seen = []

    def wrapper(i, node, fn):
        fn()
        seen.append(isinstance(node.op, Elemwise))

    py = theano.compile.get_mode("FAST_COMPILE").linker
    x, y = T.dvectors("x", "y")
    f = theano.function([x, y], x * y, mode=_mode(WrapLinker([py], wrapper)))
    assert f(np.array([1.5]), np.array([2.0])).tolist() == [3.0]
    assert seen == [True]
    with pytest.raises(TypeError, match="is not a linker"):
        WrapLinker(["not a linker"], wrapper)
    with pytest.raises(TypeError, match="non-empty list of linkers"):
        WrapLinker([], wrapper)
    with pytest.raises(TypeError, match="is not callable"):
        WrapLinkerMany([PerformLinker()], [wrapper, 3])


class VectorTimesScalar(theano.gof.Op):
    """The c_code-only op of Theano's "Extending Theano with a C Op" tutorial (no perform)."""

    __props__ = ()

    def make_node(self, x, y):
        if x.type.ndim != 1:
            raise TypeError("x must be a 1-d vector")
        if y.type.ndim != 0:
            raise TypeError("y must be a scalar")
        return theano.gof.Apply(self, [x, y], [x.type()])

    def c_code_cache_version(self):
        return (1, 0)

    def c_code(self, node, name, inp, out, sub):
        x, y = inp
        (z,) = out
        return f"/* {z} = {x} * {y} elementwise */ {sub['fail']}"


_C_ONLY = (
    r"VectorTimesScalar defines c_code but not perform, so only a C linker can run it "
    r"\(linker='cvm', 'c\|py' or 'c'.*not this NumPy-only one"
)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "monitor"])
def test_an_op_with_only_c_code_is_refused_when_the_function_is_compiled(mode):
    if mode == "monitor":
        mode = theano.compile.MonitorMode(post_func=lambda i, node, fn: None)
    x = T.dvector("x")
    y = T.dscalar("y")
    z = VectorTimesScalar()(x, y)
    with pytest.raises(NotImplementedError, match=_C_ONLY) as info:
        theano.function([x, y], z, mode=mode)
    assert str(info.value).startswith("cannot compile VectorTimesScalar(x, y): ")


@pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
def test_an_op_with_only_c_code_runs_its_c_code_in_fast_run():
    x = T.dvector("x")
    y = T.dscalar("y")
    f = theano.function([x, y], VectorTimesScalar()(x, y))  # its stub C code only fails
    with pytest.raises(RuntimeError, match="C kernel failed without setting an error"):
        f(np.ones(2), 3.0)


def test_an_op_with_c_code_and_perform_runs_its_perform_on_the_numpy_engine():
    class Doubler(VectorTimesScalar):
        def perform(self, node, inputs, output_storage):
            x, y = inputs
            output_storage[0][0] = x * y

    x = T.dvector("x")
    y = T.dscalar("y")
    # FAST_COMPILE's linker is the NumPy engine; C linkers run c_code (a stub here), as Theano's
    f = theano.function([x, y], Doubler()(x, y), mode="FAST_COMPILE")
    assert f(np.array([1.0, 2.0]), 3.0).tolist() == [3.0, 6.0]


DEBUGGER_PROGRAM = """
import numpy
import theano
import theano.tensor as T
from theano.gof.link import WrapLinkerMany

def print_eval(i, node, fn):
    print(i, type(node.op).__name__, [input[0].tolist() for input in fn.inputs])
    fn()

def detect_negative(i, node, fn):
    for output in fn.outputs:
        if (output[0] < 0).any():
            print("negative value after node", i, ":", output[0].tolist())

linker = WrapLinkerMany([theano.gof.OpWiseCLinker()], [print_eval, detect_negative])
mode = theano.compile.mode.Mode(optimizer=None, linker=linker)
a, b = T.dvectors('a', 'b')
f = theano.function([a, b], (a - b).sum(), mode=mode)
print(f(numpy.array([1., 2.]), numpy.array([3., 1.])))
"""


def test_a_wrap_linker_many_debugger_program_runs_unchanged(capsys):
    from labsym.compat import install_theano_alias

    install_theano_alias()
    exec(compile(DEBUGGER_PROGRAM, "<debugger>", "exec"), {"__name__": "__main__"})  # noqa: S102
    assert capsys.readouterr().out.splitlines() == [
        "0 Elemwise [[1.0, 2.0], [3.0, 1.0]]",
        "negative value after node 0 : [-2.0, 1.0]",
        "1 Sum [[-2.0, 1.0]]",
        "negative value after node 1 : -1.0",
        "-1.0",
    ]


def test_an_error_inside_a_thunk_names_the_node_as_the_default_linker_does():
    x, y = T.dvectors("x", "y")
    f = theano.function(
        [x, y], (x * y).sum(), mode=_mode(WrapLinker([PerformLinker()], lambda i, n, fn: fn()))
    )
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(2))
    message = str(info.value)
    assert "Apply node that caused the error: Elemwise{mul,no_inplace}(x, y)" in message
    assert "Inputs shapes: [(3,), (2,)]" in message
