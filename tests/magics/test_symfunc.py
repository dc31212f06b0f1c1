"""`%load_ext labsym` and `%%symfunc`, driven through a real IPython InteractiveShell."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import labsym
from labsym.core.testvalue import TestValueError
from labsym.viz import display
from labsym.viz.debugprint import debugprint
from labsym.viz.graphjson import MIME

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def ip():
    """The session's shell with labsym loaded, a clean namespace and an empty %%symfunc cache."""
    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("labsym")
    shell.reset(new_session=False)
    magics(shell).cache.clear()
    shell.run_cell("import labsym as theano\nimport labsym.tensor as T\nimport numpy as np")
    yield shell
    shell.reset(new_session=False)


def magics(shell):
    return shell.magics_manager.registry["LabsymMagics"]


def run(shell, cell: str, store_history: bool = False):
    """Run a cell; return (result, captured output with colours stripped)."""
    with capture_output() as cap:
        result = shell.run_cell(cell, store_history=store_history)
    return result, cap, ANSI.sub("", cap.stdout + cap.stderr)


def symfunc(shell, line: str, body: str = "pass\n"):
    """Call the cell magic directly (raises what it raises)."""
    with capture_output() as cap:
        shell.run_cell_magic("symfunc", line, body)
    return cap


# ---------------------------------------------------------------- loading


def _unload(shell):
    shell.extension_manager.loaded.discard("labsym")
    for kind, names in (("cell", ["symfunc"]), ("line", LINE_MAGICS)):
        for name in names:
            shell.magics_manager.magics[kind].pop(name, None)


LINE_MAGICS = ["symgraph", "debugprint", "symprofile", "symrewrites"]


def test_load_ext_registers_the_cell_and_line_magics(ip):
    _unload(ip)
    assert ip.find_cell_magic("symfunc") is None
    result, _, text = run(ip, "%load_ext labsym")
    assert result.success and text == ""
    assert ip.find_cell_magic("symfunc") is not None
    for name in LINE_MAGICS:
        assert ip.find_line_magic(name) is not None, name


def test_labsym_load_ipython_extension_registers_them_on_a_shell(ip):
    _unload(ip)
    labsym.load_ipython_extension(ip)
    assert ip.find_cell_magic("symfunc") is not None


def test_importing_labsym_magics_does_not_import_ipython():
    code = "import sys, labsym.magics; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- success


def test_symfunc_binds_a_function_that_computes_the_cell(ip):
    result, cap, _ = run(
        ip,
        "%%symfunc f(x: dmatrix, y: dmatrix, a: dscalar = 0.5) -> s, total --show none\n"
        "s = x + a * y\n"
        "total = s.sum()\n",
    )
    assert result.success
    f = ip.user_ns["f"]
    assert isinstance(f, labsym.compile.Function) and f.name == "f"
    x, y = np.arange(4.0).reshape(2, 2), np.ones((2, 2))
    s, total = f(x, y)
    np.testing.assert_array_equal(s, x + 0.5)
    assert total == 8.0
    np.testing.assert_array_equal(f(x, y, 2.0)[0], x + 2.0)  # the default is an In value
    assert [i.name for i in f.maker.inputs] == ["x", "y", "a"]
    assert f.maker.inputs[2].value == 0.5
    assert ip.user_ns["x"].type == labsym.tensor.dmatrix and ip.user_ns["x"].name == "x"
    assert cap.outputs == []


def test_single_output_returns_an_array_and_updates_from_the_body_are_applied(ip):
    ip.run_cell("w = theano.shared(np.zeros(2), name='w')")
    result, _, _ = run(
        ip,
        "%%symfunc step(x: dmatrix, y: dvector, lr: dscalar = 0.5) -> cost --show none\n"
        "p = T.nnet.sigmoid(T.dot(x, w))\n"
        "cost = ((p - y) ** 2).sum()\n"
        "updates = [(w, w - lr * T.grad(cost, w))]\n",
    )
    assert result.success
    x, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 0.0])
    cost = ip.user_ns["step"](x, y)
    assert isinstance(cost, np.ndarray) and cost.shape == ()
    assert cost == pytest.approx(0.5)  # sigmoid(0) = 0.5 on both rows
    # d/dw sum((p - y)^2) = sum_i 2 (p_i - y_i) p_i (1 - p_i) x_i at w = 0
    grad = 2 * np.array([-0.5, 0.5]) * 0.25 @ x
    np.testing.assert_allclose(ip.user_ns["w"].get_value(), -0.5 * grad)


def test_givens_from_the_body_are_used(ip):
    run(
        ip,
        "%%symfunc g(x: dvector) -> out --show none\n"
        "k = T.dscalar('k')\n"
        "out = x * k\n"
        "givens = {k: T.constant(np.float64(3.0))}\n",
    )
    np.testing.assert_array_equal(ip.user_ns["g"]([1.0, 2.0]), [3.0, 6.0])


def test_outputs_may_be_expressions_over_body_variables(ip):
    run(ip, "%%symfunc h(x: dvector) -> y, T.grad(y, x) --show none\ny = (x ** 2).sum()\n")
    y, gy = ip.user_ns["h"]([1.0, 3.0])
    assert y == 10.0
    np.testing.assert_array_equal(gy, [2.0, 6.0])


def test_the_cell_output_is_the_compile_report(ip):
    _, cap, _ = run(ip, "%%symfunc f(x: dvector) -> y\ny = T.exp(x) + 1\n")
    assert len(cap.outputs) == 1
    assert cap.outputs[0].data == display.compile_report(ip.user_ns["f"])
    assert cap.outputs[0].data["text/plain"].startswith("<labsym.Function f(x)>")


# ---------------------------------------------------------------- options


def test_mode_option_by_name_and_by_a_mode_object_in_the_notebook(ip):
    symfunc(ip, "f(x: dvector) -> y --mode FAST_COMPILE --show none", "y = x * 1\n")
    assert ip.user_ns["f"].maker.mode.optimizer == "fast_compile"
    ip.run_cell("hist = theano.Mode(optimizer='fast_run').with_history()")
    symfunc(ip, "g(x: dvector) -> y --mode hist --show none", "y = T.log(1 + x)\n")
    history = ip.user_ns["g"].maker.fgraph.history
    assert ("stabilize", "log1p_from_log") in [(r.phase, r.rule) for r in history]
    assert ip.user_ns["f"].maker.fgraph.history is None
    with pytest.raises(UsageError, match=r"%%symfunc --mode: unknown mode 'FAST'.*a Mode object"):
        symfunc(ip, "h(x: dvector) -> y --mode FAST", "y = x\n")


def test_optimizer_option_alone_and_on_top_of_a_mode(ip):
    symfunc(ip, "f(x: dvector) -> y --optimizer fast_compile --show none", "y = x * 1\n")
    assert ip.user_ns["f"].maker.mode.optimizer == "fast_compile"
    symfunc(ip, "g(x: dvector) -> y --mode FAST_COMPILE --optimizer None --show none", "y = x\n")
    mode = ip.user_ns["g"].maker.mode
    assert (mode.linker_name, mode.optimizer) == ("py", "None")
    with pytest.raises(UsageError, match="Bad value 'fastest' for config flag 'optimizer'"):
        symfunc(ip, "h(x: dvector) -> y --optimizer fastest", "y = x\n")
    with pytest.raises(UsageError, match="unknown optimizer 'fastest'"):
        symfunc(ip, "h(x: dvector) -> y --mode FAST_RUN --optimizer fastest", "y = x\n")


def test_profile_option_profiles_the_calls(ip):
    symfunc(ip, "f(x: dvector) -> y --profile --show none", "y = x + 1\n")
    f = ip.user_ns["f"]
    f([1.0])
    f([2.0])
    assert f.profile is not None and f.profile.call_count == 2


def test_flag_option_is_scoped_to_the_cell(ip):
    assert labsym.config.floatX == "float64"
    symfunc(ip, "f(x: matrix) -> y --flag floatX=float32 --show none", "y = x * 2.0\n")
    assert ip.user_ns["x"].dtype == "float32" and ip.user_ns["y"].dtype == "float32"
    assert labsym.config.floatX == "float64"
    # restored also when the body fails
    result, _, _ = run(ip, "%%symfunc g(x: matrix) -> y --flag floatX=float32\ny = 1 / 0\n")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert labsym.config.floatX == "float64"


def test_repeated_flags_and_a_bad_flag_change_nothing(ip):
    symfunc(
        ip,
        "f(x: vector) -> y --flag floatX=float32 --flag exception_verbosity=high --show none",
        "seen = (theano.config.floatX, theano.config.exception_verbosity)\ny = x\n",
    )
    assert ip.user_ns["seen"] == ("float32", "high")
    assert labsym.config.exception_verbosity == "low"
    with pytest.raises(UsageError, match="%%symfunc: .*'no_such_flag'"):
        symfunc(ip, "g(x: vector) -> y --flag no_such_flag=1", "y = x\n")
    with pytest.raises(UsageError, match="Bad value 'float8' for config flag 'floatX'"):
        symfunc(
            ip, "g(x: vector) -> y --flag exception_verbosity=high --flag floatX=float8", "y = x\n"
        )
    assert labsym.config.exception_verbosity == "low"


def test_show_graph_debugprint_none_and_quiet(ip):
    cap = symfunc(ip, "f(x: dvector) -> y --show graph", "y = x * 2\n")
    f = ip.user_ns["f"]
    assert set(cap.outputs[0].data) == {"text/plain", "image/svg+xml", MIME}
    assert cap.outputs[0].data[MIME] == labsym.viz.graphjson.graph_json(f)
    cap = symfunc(ip, "g(x: dvector) -> y --show debugprint", "y = x * 2\n")
    assert cap.outputs[0].data == {"text/plain": debugprint(ip.user_ns["g"], file="str")}
    assert cap.outputs[0].data["text/plain"].startswith("Elemwise{mul")
    assert symfunc(ip, "h(x: dvector) -> y --show none", "y = x\n").outputs == []
    assert symfunc(ip, "k(x: dvector) -> y --quiet", "y = x\n").outputs == []
    with pytest.raises(UsageError, match="--quiet shows nothing; it contradicts --show graph"):
        symfunc(ip, "k(x: dvector) -> y --quiet --show graph", "y = x\n")


# ---------------------------------------------------------------- test values and errors


def test_declared_shapes_give_test_values_and_compute_test_value_is_restored(ip):
    symfunc(ip, "f(x: dmatrix[3, 4], i: ivector[200]) -> y --show none", "y = x.sum() + i.sum()\n")
    x, i = ip.user_ns["x"], ip.user_ns["i"]
    assert x.tag.test_value.shape == (3, 4) and x.tag.test_value.dtype == np.float64
    np.testing.assert_array_equal(i.tag.test_value, np.zeros(200, dtype="int32"))
    assert ip.user_ns["y"].tag.test_value.shape == ()
    assert labsym.config.compute_test_value == "off"


@pytest.mark.parametrize("store_history", [False, True])  # a kernel stores (and counts) cells
def test_a_shape_error_is_reported_at_the_cell_line(ip, store_history):
    result, _, text = run(
        ip,
        "%%symfunc g(x: dmatrix[3, 4], y: dmatrix[5, 6]) -> z\n"
        "a = x + 1\n"
        "z = T.dot(a, y)\n"
        "w = z * 2\n",
        store_history,
    )
    error = result.error_in_exec
    assert isinstance(error, TestValueError)
    assert f"Cell In[{result.execution_count}], line 3" in text
    assert "----> 3 z = T.dot(a, y)" in text
    assert "shapes (3,4) and (5,6) not aligned" in text
    # labsym's own trace names the cell as IPython does (not a kernel's temporary file path)
    created = str(error).split("created at ")[1]
    assert created == f"Cell In[{result.execution_count}], line 3\n    z = T.dot(a, y)"
    shown = text.split("The above exception was the direct cause of the following exception:")[1]
    assert "labsym/" not in shown  # the cell line, then the message: no frames inside labsym
    assert (
        "----> 3 z = T.dot(a, y)\n      4 w = z * 2\n\nTestValueError: ValueError: shapes" in shown
    )
    assert labsym.config.compute_test_value == "off"


def test_variables_built_in_any_cell_say_which_cell_made_them(ip):
    result, _, _ = run(ip, "a = T.dvector('a')\nb = a + 1\n", store_history=True)
    assert str(ip.user_ns["b"].trace) == f"Cell In[{result.execution_count}], line 2\n    b = a + 1"


def test_an_error_in_the_body_points_at_the_cell_not_the_magic(ip):
    result, _, text = run(ip, "%%symfunc f(x: dvector) -> y\ny = x + 1\nz = undefined_name\n")
    assert isinstance(result.error_in_exec, NameError)
    assert f"Cell In[{result.execution_count}], line 3" in text
    assert "----> 3 z = undefined_name" in text
    assert "symfunc.py" not in text and "interactiveshell.py" not in text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "f(x: dmatrx) -> y",
            "unknown type name 'dmatrx' for parameter 'x'; expected a "
            "labsym.tensor constructor such as dscalar, fvector, imatrix, tensor3; did you mean "
            "dmatrix",
        ),
        ("f(x: dmatrices) -> y", "unknown type name 'dmatrices'"),
        (
            "f x: dmatrix -> y",
            "malformed signature 'f x: dmatrix -> y': expected NAME(args) -> outputs",
        ),
        ("f(x: dmatrix)", "missing '-> outputs' after the parameters of f"),
        ("f(x: dmatrix) ->", "no outputs after '->'"),
        (
            "f(x: dmatrix) -> y --fast",
            "unknown option '--fast'; expected --mode NAME, "
            "--optimizer NAME, --profile, --flag KEY=VALUE, --show graph|report|debugprint|none, "
            "--quiet",
        ),
        ("f(x) -> y", "parameter 'x' needs a type, e.g. x: dmatrix"),
        ("f(x: dmatrix, x: dvector) -> y", "parameter 'x' is declared twice"),
        ("f(*x: dmatrix) -> y", "'/', '*' and '**' are not supported"),
        (
            "f(x: dmatrix[3]) -> y",
            "dmatrix is 2-d but the test-value shape of 'x' has 1 dimension(s): [3]",
        ),
        ("f(x: dmatrix[3, -1]) -> y", "must be non-negative integers"),
        ("f(x: T.dmatrix) -> y", "must be a constructor name such as dmatrix"),
        ("f(x: dmatrix -> y", "unbalanced parentheses"),
        (
            "f(x: dmatrix) -> y --show svg",
            "--show 'svg' is not one of report, graph, debugprint, none",
        ),
        ("f(x: dmatrix) -> y --mode", "--mode needs a value"),
        ("f(x: dmatrix) -> y --flag floatX", "--flag needs KEY=VALUE, got 'floatX'"),
        ("f(x: dmatrix) -> q", "output 'q' is not defined by the cell body (outputs: -> q)"),
        ("f(x: dmatrix) -> y, 3", "outputs must be symbolic variables; -> y, 3 gave a int"),
        ("f(x: dmatrix) -> y +", "malformed outputs 'y +'"),
        (
            "f(x: dmatrix, lr: dscalar = nope) -> y",
            "the default of 'lr' (nope) failed: NameError: name 'nope' is not defined",
        ),
        ("f(x: dmatrix) -> y + extra", "%%symfunc f: "),  # MissingInputError: extra is an input
        ("f(x: dmatrix, u: dvector) -> y", "%%symfunc f: "),  # UnusedInputError
    ],
)
def test_bad_arguments_are_usage_errors_naming_the_problem(ip, line, message):
    ip.run_cell("extra = T.dmatrix('extra')")
    with pytest.raises(UsageError) as info:
        symfunc(ip, line, "y = x * 2\n")
    assert message in str(info.value)
    assert str(info.value).startswith("%%symfunc")


def test_a_syntax_error_in_the_body_names_the_cell_line(ip):
    result, _, text = run(ip, "%%symfunc f(x: dvector) -> y\ny = x\nz = x +\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert text == (
        "UsageError: %%symfunc: SyntaxError at line 3 of the cell: invalid syntax\n"
        "    z = x +\n"
        "           ^\n"
    )


def test_an_output_left_over_from_an_earlier_cell_is_not_used(ip):
    ip.run_cell("y = T.dvector('old')")
    with pytest.raises(UsageError, match=r"output 'y' is not defined by the cell body"):
        symfunc(ip, "f(x: dvector) -> y", "z = x * 2\n")
    symfunc(ip, "f(x: dvector) -> y --quiet", "y = x * 2\n")  # bound by the body: fine
    with pytest.raises(UsageError, match=r"output 'q' is not defined by the cell body"):
        symfunc(ip, "g(x: dvector) -> x + q", "z = x * 2\n")  # inside an expression


def test_a_usage_error_shows_no_traceback(ip):
    result, _, text = run(ip, "%%symfunc f(x: dmatrx) -> y\ny = x\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert text.startswith("UsageError: %%symfunc: unknown type name 'dmatrx'")
    assert "Traceback" not in text


# ---------------------------------------------------------------- cache


CELL = (
    "%%symfunc step(x: dvector, lr: dscalar = 0.1) -> cost{opts}\n"
    "cost = ((x - w) ** 2).sum()\n"
    "updates = [(w, w + lr * T.grad(cost, w))]\n"
)


def test_rerunning_an_unchanged_cell_reuses_the_function(ip):
    ip.run_cell("w = theano.shared(np.zeros(2), name='w')")
    run(ip, CELL.format(opts=""))
    first, cost = ip.user_ns["step"], ip.user_ns["cost"]
    first([1.0, 1.0])  # values change, identity does not
    ip.run_cell("cost = None; x = None")
    _, cap, _ = run(ip, CELL.format(opts=""))
    assert ip.user_ns["step"] is first
    assert ip.user_ns["cost"] is cost and ip.user_ns["x"] is first.maker.inputs[0].variable
    assert (magics(ip).cache.hits, magics(ip).cache.misses) == (1, 1)
    assert cap.outputs[0].data == display.compile_report(first)  # the report is shown again
    run(ip, CELL.format(opts=" --quiet"))  # a changed header is another cell
    assert ip.user_ns["step"] is not first


def test_a_changed_body_shared_variable_or_flag_recompiles(ip):
    ip.run_cell("w = theano.shared(np.zeros(2), name='w')")
    run(ip, CELL.format(opts=" --quiet"))
    first = ip.user_ns["step"]
    run(ip, CELL.format(opts=" --quiet") + "# a comment\n")
    assert ip.user_ns["step"] is not first
    run(ip, CELL.format(opts=" --quiet"))
    assert ip.user_ns["step"] is first  # both versions stay cached
    ip.run_cell("w = theano.shared(np.zeros(2), name='w')")  # a new shared variable
    run(ip, CELL.format(opts=" --quiet"))
    second = ip.user_ns["step"]
    assert second is not first
    with labsym.config.change_flags(optimizer="fast_compile"):
        run(ip, CELL.format(opts=" --quiet"))
        assert ip.user_ns["step"] is not second
    run(ip, CELL.format(opts=" --quiet"))
    assert ip.user_ns["step"] is second


def test_numbers_read_by_the_body_are_compared_by_value(ip):
    body = "%%symfunc f(x: dvector) -> y --quiet\ny = x * scale\n"
    ip.run_cell("scale = 1000.5")
    run(ip, body)
    first = ip.user_ns["f"]
    ip.run_cell("scale = 1000.5")  # a new float object, the same value
    run(ip, body)
    assert ip.user_ns["f"] is first
    ip.run_cell("scale = 2.0")
    run(ip, body)
    assert ip.user_ns["f"] is not first
    np.testing.assert_array_equal(ip.user_ns["f"]([1.0]), [2.0])


def test_globals_read_inside_functions_of_the_body_are_checked_too(ip):
    body = "%%symfunc f(x: dvector) -> y --quiet\ndef times(v):\n    return v * k\ny = times(x)\n"
    ip.run_cell("k = T.constant(np.float64(2.0))")
    run(ip, body)
    first = ip.user_ns["f"]
    run(ip, body)
    assert ip.user_ns["f"] is first
    ip.run_cell("k = T.constant(np.float64(5.0))")
    run(ip, body)
    assert ip.user_ns["f"] is not first
    np.testing.assert_array_equal(ip.user_ns["f"]([1.0]), [5.0])


def test_the_cache_keeps_the_most_recent_cells(ip):
    cache = magics(ip).cache
    cache.size = 2
    try:
        for name in "abc":
            symfunc(ip, f"{name}(x: dvector) -> y --quiet", "y = x\n")
        assert len(cache) == 2
    finally:
        cache.size = 64


def test_the_benchmark_measures_a_cache_hit():
    from benchmarks import magics as bench

    rows = bench.measure(min_time=1e-3, repeats=2)
    assert [r.label for r in rows] == [
        "cache hit, magic only",
        "cache hit, whole run_cell",
        "cache hit, report shown (captured)",
        "cache miss (compile)",
    ]
    assert all(r.median > 0 for r in rows)
