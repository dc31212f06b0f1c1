"""debugprint: Theano's exact tree format, ids, sharing, depth, compiled functions, options."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsym.compile import function
from labsym.core.constructors import CONSTRUCTORS as C
from labsym.core.fgraph import FunctionGraph
from labsym.core.graph import Apply
from labsym.core.io import In, Out
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.shared import shared
from labsym.core.type import TensorType
from labsym.viz.debugprint import char_from_number, debugprint


class Dot(Op):
    """A stand-in matrix-vector product whose str() is Theano's `dot`."""

    def __str__(self) -> str:
        return "dot"

    def make_node(self, x, w):
        return Apply(self, [x, w], [TensorType("float64", (None,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.dot(*inputs)


class MinMax(Op):
    """A two-output op: the minimum and the maximum of a vector."""

    def make_node(self, x):
        return Apply(self, [x], [TensorType(x.dtype, ())(), TensorType(x.dtype, ())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.min(inputs[0])
        output_storage[1][0] = np.max(inputs[0])


def _seed_graph(named: bool):
    """Seed 001: x, y scalars; z = x + y named 'z'; a = 2. * z."""
    x, y = (C["scalar"]("x"), C["scalar"]("y")) if named else (C["scalar"](), C["scalar"]())
    z = x + y
    z.name = "z"
    return x, y, z, 2.0 * z


# ---------------------------------------------------------------------- the seeds' exact text
def test_seed_001_debugprint_of_unnamed_inputs():
    *_, a = _seed_graph(named=False)
    assert debugprint(a, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |TensorConstant{2.0} [id B]\n"
        " |Elemwise{add,no_inplace} [id C] 'z'   \n"
        "   |<TensorType(float64, scalar)> [id D]\n"
        "   |<TensorType(float64, scalar)> [id E]\n"
    )


def test_named_inputs_print_their_names():
    *_, a = _seed_graph(named=True)
    assert debugprint(a, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |TensorConstant{2.0} [id B]\n"
        " |Elemwise{add,no_inplace} [id C] 'z'   \n"
        "   |x [id D]\n"
        "   |y [id E]\n"
    )


def test_seed_000_logistic_regression_out():
    x, b = C["dvector"]("x"), C["dvector"]("b")
    w = C["dmatrix"]("W")
    out = m.sigmoid(Dot()(x, w) + b)
    assert debugprint(out, file="str") == (
        "sigmoid [id A] ''   \n"  # T.nnet.sigmoid is Elemwise(scalar_sigmoid, name='sigmoid')
        " |Elemwise{add,no_inplace} [id B] ''   \n"
        "   |dot [id C] ''   \n"
        "   | |x [id D]\n"
        "   | |W [id E]\n"
        "   |b [id F]\n"
    )


def test_indentation_follows_later_siblings():
    x, y = C["dscalars"]("x", "y")
    out = (x + y) * m.exp(x - y)
    assert debugprint(out, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |Elemwise{add,no_inplace} [id B] ''   \n"
        " | |x [id C]\n"
        " | |y [id D]\n"
        " |Elemwise{exp,no_inplace} [id E] ''   \n"
        "   |Elemwise{sub,no_inplace} [id F] ''   \n"
        "     |x [id C]\n"
        "     |y [id D]\n"
    )


# ---------------------------------------------------------------------- sharing and multi-output
def test_a_shared_node_is_expanded_once_and_keeps_its_id():
    x, y = C["dscalars"]("x", "y")
    z = x + y
    assert debugprint(z * z, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |Elemwise{add,no_inplace} [id B] ''   \n"
        " | |x [id C]\n"
        " | |y [id D]\n"
        " |Elemwise{add,no_inplace} [id B] ''   \n"
    )


def test_multi_output_node_shows_output_index_and_one_id():
    x = C["dvector"]("x")
    low, high = MinMax()(x)
    assert debugprint([high - low, low], file="str") == (
        "Elemwise{sub,no_inplace} [id A] ''   \n"
        " |MinMax.1 [id B] ''   \n"
        " | |x [id C]\n"
        " |MinMax.0 [id B] ''   \n"
        "MinMax.0 [id B] ''   \n"
    )


def test_an_apply_prints_each_of_its_outputs():
    x = C["dvector"]("x")
    low, _ = MinMax()(x)
    assert (
        debugprint(low.owner, file="str")
        == "MinMax.0 [id A] ''   \n |x [id B]\nMinMax.1 [id A] ''   \n"
    )


# ---------------------------------------------------------------------- depth, ids, names
def test_depth_limits_the_levels_printed():
    *_, a = _seed_graph(named=True)
    assert debugprint(a, depth=1, file="str") == "Elemwise{mul,no_inplace} [id A] ''   \n"
    assert debugprint(a, depth=2, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |TensorConstant{2.0} [id B]\n"
        " |Elemwise{add,no_inplace} [id C] 'z'   \n"
    )
    assert debugprint(a, depth=0, file="str") == ""
    assert debugprint(a, depth=-1, file="str") == debugprint(a, depth=3, file="str")


def test_id_modes():
    *_, a = _seed_graph(named=True)
    assert (
        debugprint(a, ids="int", file="str").splitlines()[2]
        == " |Elemwise{add,no_inplace} [id 2] 'z'   "
    )
    assert debugprint(a, ids="", file="str") == (
        "Elemwise{mul,no_inplace}  ''   \n"  # Theano's spacing, kept when the id is empty
        " |TensorConstant{2.0} \n"
        " |Elemwise{add,no_inplace}  'z'   \n"
        "   |x \n"
        "   |y \n"
    )
    first = debugprint(a, ids="id", file="str").splitlines()[0]
    assert first == f"Elemwise{{mul,no_inplace}} [id {id(a.owner)}] ''   "


@pytest.mark.parametrize(
    ("number", "text"), [(0, "A"), (1, "B"), (25, "Z"), (26, "BA"), (27, "BB"), (26 * 26, "BAA")]
)
def test_char_from_number(number, text):
    assert char_from_number(number) == text


def test_char_from_number_rejects_negative():
    with pytest.raises(ValueError, match="non-negative"):
        char_from_number(-1)


def test_char_ids_continue_past_z():
    x = C["dscalar"]("x")
    out = x
    for _ in range(30):
        out = m.exp(out)
    lines = debugprint(out, file="str").splitlines()
    assert lines[25].endswith("[id Z] ''   ") and lines[26].endswith("[id BA] ''   ")
    assert lines[30] == " " * 59 + "|x [id BE]"


def test_stop_on_name_does_not_expand_named_variables():
    *_, a = _seed_graph(named=True)
    assert debugprint(a, stop_on_name=True, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   \n"
        " |TensorConstant{2.0} [id B]\n"
        " |Elemwise{add,no_inplace} [id C] 'z'   \n"
    )


def test_print_type_adds_the_type_after_the_id():
    x, y = C["dvector"]("x"), C["dvector"]()
    assert debugprint(x + y, print_type=True, file="str") == (
        "Elemwise{add,no_inplace} [id A] <TensorType(float64, vector)> ''   \n"
        " |x [id B] <TensorType(float64, vector)>\n"
        " |<TensorType(float64, vector)> [id C] <TensorType(float64, vector)>\n"
    )


def test_print_location_names_the_creating_line():
    x = C["dscalar"]("x")
    y = m.exp(x)
    line = y.trace.lineno
    assert y.trace.filename == __file__
    here = os.path.basename(__file__)
    assert debugprint(y, print_location=True, file="str").splitlines()[0] == (
        f"Elemwise{{exp,no_inplace}} [id A] ''     (created at {here}:{line})"
    )


# ---------------------------------------------------------------------- inputs and outputs
def test_file_modes(capsys):
    *_, a = _seed_graph(named=True)
    text = debugprint(a, file="str")
    assert debugprint(a) is None
    assert capsys.readouterr().out == text
    stream = io.StringIO()
    assert debugprint(a, file=stream) is stream
    assert stream.getvalue() == text


def test_list_input_shares_ids_between_outputs():
    x, y = C["dscalars"]("x", "y")
    s = x + y
    assert debugprint([s, s * x], file="str") == (
        "Elemwise{add,no_inplace} [id A] ''   \n"
        " |x [id B]\n"
        " |y [id C]\n"
        "Elemwise{mul,no_inplace} [id D] ''   \n"
        " |Elemwise{add,no_inplace} [id A] ''   \n"
        " |x [id B]\n"
    )


def test_done_and_used_ids_carry_over_between_calls():
    x, y = C["dscalars"]("x", "y")
    s = x + y
    done, used = {}, {}
    debugprint(s, file="str", done=done, used_ids=used)
    assert done == {s.owner: "[id A]"} and used[x] == "[id B]"
    assert debugprint(s * x, file="str", done=done, used_ids=used) == (
        "Elemwise{mul,no_inplace} [id D] ''   \n"
        " |Elemwise{add,no_inplace} [id A] ''   \n"
        " |x [id B]\n"
    )


def test_compiled_function_appends_toposort_positions():
    x, y = C["dscalars"]("x", "y")
    f = function([x, y], [(x + y) * m.exp(x), x - y], mode="FAST_COMPILE")  # no fusion
    assert debugprint(f, file="str") == (
        "Elemwise{mul,no_inplace} [id A] ''   2\n"  # Theano's io_toposort: last input first
        " |Elemwise{add,no_inplace} [id B] ''   1\n"
        " | |x [id C]\n"
        " | |y [id D]\n"
        " |Elemwise{exp,no_inplace} [id E] ''   0\n"
        "   |x [id C]\n"
        "Elemwise{sub,no_inplace} [id F] ''   3\n"
        " |x [id C]\n"
        " |y [id D]\n"
    )
    fgraph = FunctionGraph([x, y], [(x + y) * m.exp(x), x - y])
    assert debugprint(fgraph, file="str") == debugprint(f, file="str")
    assert f(1.0, 2.0)[1] == -1.0  # printing leaves the function usable


def test_print_storage_shows_constants_shared_values_and_defaults():
    x, k = C["dscalars"]("x", "k")
    w = shared(np.array([1.0, 2.0]), name="w")
    f = function([x, In(k, value=3.0)], w * x * k, updates=[(w, w + 1.0)], mode="FAST_COMPILE")
    expected = (  # Theano's format: an empty cell (an input, a result not kept) is [None]
        "Elemwise{mul,no_inplace} [id A] ''   3 [None]\n"
        " |Elemwise{mul,no_inplace} [id B] ''   2 [None]\n"
        " | |w [id C] [array([W])]\n"
        " | |InplaceDimShuffle{x} [id D] ''   1 [None]\n"
        " |   |x [id E] [None]\n"
        " |InplaceDimShuffle{x} [id F] ''   0 [None]\n"
        "   |k [id G] [array(3.)]\n"
        "Elemwise{add,no_inplace} [id H] ''   4 [None]\n"  # the update is an output of the graph
        " |w [id C] [array([W])]\n"
        " |TensorConstant{(1,) of 1.0} [id I] [array([1.], dtype=float32)]\n"  # float32 1.0
    )
    assert debugprint(f, print_storage=True, file="str") == expected.replace("W", "1., 2.")
    f(1.0)
    assert debugprint(f, print_storage=True, file="str") == expected.replace("W", "2., 3.")
    assert "[array(" not in debugprint(f, file="str")


def test_print_storage_keeps_a_matrix_on_one_line():
    w = shared(np.array([[1.0, 2.0], [3.0, 4.0]]), name="w")
    f = function([], w * 2.0)
    text = debugprint(f, print_storage=True, file="str")
    assert " |w [id B] [array([[1., 2.], [3., 4.]])]\n" in text


def test_print_clients_lists_the_users_of_shared_nodes():
    x, y = C["dscalars"]("x", "y")
    s = x + y
    f = function([x, y], [s * x, s])
    assert debugprint(f, print_clients=True, file="str").splitlines()[:2] == [
        "Elemwise{mul,no_inplace} [id A] ''   1",
        " |Elemwise{add,no_inplace} [id B] ''   0 clients:[('[id A]', 1), ('output', '')]",
    ]


def test_deep_graphs_do_not_hit_the_recursion_limit():
    x = C["dscalar"]("x")
    out = x
    for _ in range(3000):
        out = out + 1.0
    lines = debugprint(out, ids="", file="str").splitlines()
    assert len(lines) == 1 + 2 * 3000
    assert lines[3000] == " |" * 3000 + "x "
    assert lines[-1] == " |TensorConstant{1.0} "


# ---------------------------------------------------------------------- bad arguments
def test_bad_arguments_are_rejected():
    x = C["dscalar"]("x")
    with pytest.raises(ValueError, match="ids must be one of"):
        debugprint(x, ids="hex", file="str")
    with pytest.raises(TypeError, match="depth must be an int"):
        debugprint(x, depth=1.5, file="str")
    with pytest.raises(TypeError, match="cannot print int 3"):
        debugprint([x, 3], file="str")


# ---------------------------------------------------------------------- property: text <-> graph
_BINARY = [m.add, m.sub, m.mul, m.true_div, m.maximum]


@st.composite
def _graphs(draw):
    leaves = [C["dscalar"](name) for name in "xyz"]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            pool.append(m.exp(draw(st.sampled_from(pool))))
        else:
            op = draw(st.sampled_from(_BINARY))
            pool.append(op(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    return pool[-1]


def _parse(text):
    """(depth, label, id, parent line index) per line, from the prefixes alone."""
    rows, last_at_depth = [], {}
    for i, line in enumerate(text.splitlines()):
        body = line.lstrip(" |")
        depth = (len(line) - len(body)) // 2
        label, _, rest = body.partition(" [id ")
        rows.append((depth, label, "[id " + rest.split("]")[0] + "]", last_at_depth.get(depth - 1)))
        last_at_depth[depth] = i
    return rows


def _ancestors(rows, i):
    """Line indices of the ancestors of line i, root first."""
    chain = []
    while rows[i][3] is not None:
        i = rows[i][3]
        chain.append(i)
    return chain[::-1]


@settings(max_examples=60, deadline=None)
@given(_graphs())
def test_the_printed_tree_is_the_graph(out):
    used: dict = {}
    text = debugprint(out, file="str", used_ids=used)
    by_id = {v: k for k, v in used.items()}
    rows, lines = _parse(text), text.splitlines()
    children = {i: [j for j, row in enumerate(rows) if row[3] == i] for i in range(len(rows))}
    expanded: set = set()
    for i, (depth, label, id_str, _) in enumerate(rows):
        obj = by_id[id_str]
        if isinstance(obj, Apply):
            assert label == str(obj.op)
            if obj in expanded:
                assert children[i] == []  # printed again, not expanded
                continue
            expanded.add(obj)
            got = [by_id[rows[j][2]] for j in children[i]]
            assert got == [inp.owner if inp.owner is not None else inp for inp in obj.inputs]
        else:
            assert label == str(obj) and children[i] == []
        # under each ancestor below the root: " |" while it has later siblings, else "  "
        for level, a in enumerate(_ancestors(rows, i)[1:], start=1):
            later = children[rows[a][3]][-1] != a
            assert lines[i][2 * level - 2 : 2 * level] == (" |" if later else "  ")
        assert depth == 0 or lines[i][2 * depth - 2 : 2 * depth] == " |"


def test_inner_graphs_of_scan_are_printed_after_the_outer_graph():
    import labsym
    import labsym.tensor as T

    x = T.dvector("x")
    h0 = T.dscalar("h0")
    out, _ = labsym.scan(lambda xt, h: T.tanh(h * 0.5 + xt), sequences=x, outputs_info=h0)
    text = debugprint(out[-1], file="str")
    outer, inner = text.split("\nInner graphs of the scan ops:\n")  # Theano 1.0's heading
    assert "for{cpu,scan_fn} [id B] ''   " in outer
    lines = inner.strip("\n").splitlines()
    assert lines[0] == "for{cpu,scan_fn} [id B] ''   "  # the scan's own debugprint line
    assert lines[1].startswith(" >Elemwise{tanh,no_inplace}")
    assert all(line.startswith(" >") for line in lines[1:])
    assert "Inner graphs" not in debugprint(x * 2, file="str")


def test_scan_inner_inputs_point_at_their_outer_inputs():
    import labsym
    import labsym.tensor as T

    k, a = T.iscalar("k"), T.dvector("A")
    result, _ = labsym.scan(
        lambda prior, a: prior * a, outputs_info=T.ones_like(a), non_sequences=a, n_steps=k
    )
    text = debugprint(result[-1], file="str")
    # Theano's test_scan_debugprint1: " > |A_copy [id Y] -> [id M]" names the outer input's id
    assert " |A [id G]\n" in text and " |InplaceDimShuffle{x,0} [id E] ''   \n" in text
    assert text.endswith(" > |out[t-1] [id L] -> [id E]\n > |A [id M] -> [id G]\n")


def test_in_and_out_specs_print_the_variable_they_wrap():
    x = C["dscalar"]("x")
    assert debugprint(In(x), file="str") == "x [id A]\n"
    assert (
        debugprint([Out(m.exp(x))], file="str")
        == "Elemwise{exp,no_inplace} [id A] ''   \n |x [id B]\n"
    )
