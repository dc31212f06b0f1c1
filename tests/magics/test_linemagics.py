"""The line magics `%symgraph`, `%debugprint`, `%symprofile`, `%symrewrites` in a real shell."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from labsym.magics.widgets import RewriteStepper
from labsym.viz import display
from labsym.viz import dot as dot_module
from labsym.viz.debugprint import debugprint
from labsym.viz.graphjson import MIME, graph_json
from labsym.viz.graphviz import render, to_dot

EXPR_DEBUGPRINT = (
    "Elemwise{add,no_inplace} [id A] ''   \n"
    " |Elemwise{mul,no_inplace} [id B] ''   \n"
    " | |a [id C]\n"
    " | |InplaceDimShuffle{x} [id D] ''   \n"
    " |   |TensorConstant{2} [id E]\n"
    " |InplaceDimShuffle{x} [id F] ''   \n"
    "   |Sum{acc_dtype=float64} [id G] ''   \n"
    "     |a [id C]\n"
)


@pytest.fixture
def ip():
    """The shell with labsym loaded and `a`, `b = a * 2 + a.sum()`, `f = function([a], b)`."""
    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("labsym")
    shell.reset(new_session=False)
    shell.run_cell(
        "import numpy as np\nimport labsym as theano\nimport labsym.tensor as T\n"
        "a = T.dvector('a')\nb = a * 2 + a.sum()\nf = theano.function([a], b)\n"
    )
    yield shell
    shell.reset(new_session=False)


def outputs(shell, line: str) -> list[dict]:
    """The mime bundles a line magic published."""
    with capture_output() as cap:
        name, _, rest = line.partition(" ")
        shell.run_line_magic(name, rest)
    return [out.data for out in cap.outputs]


def test_symgraph_publishes_svg_the_graph_json_and_debugprint(ip):
    (bundle,) = outputs(ip, "symgraph b")
    b = ip.user_ns["b"]
    assert set(bundle) == {"text/plain", "image/svg+xml", MIME}
    assert bundle["text/plain"] == EXPR_DEBUGPRINT
    assert bundle[MIME] == graph_json(b)
    assert bundle["image/svg+xml"] == render(to_dot(b, compact=False)).decode("utf-8")
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_symgraph_compact_and_png(ip):
    (bundle,) = outputs(ip, "symgraph b --compact")
    assert bundle["image/svg+xml"] == render(to_dot(ip.user_ns["b"], compact=True)).decode()
    (png,) = outputs(ip, "symgraph b --format png")
    assert set(png) == {"text/plain", "image/png"}
    assert base64.b64decode(png["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    (png2,) = outputs(ip, "symgraph b --format=png --compact")
    assert png2["image/png"] != png["image/png"]


def test_symgraph_of_a_function_and_of_a_list(ip):
    (bundle,) = outputs(ip, "symgraph f")
    assert bundle[MIME] == graph_json(ip.user_ns["f"])
    assert bundle["text/plain"] == debugprint(ip.user_ns["f"], file="str")
    (bundle,) = outputs(ip, "symgraph [a.sum(), b]")
    assert [n["name"] for n in bundle[MIME]["nodes"] if n.get("role") == "input"] == ["a"]
    assert len(bundle[MIME]["outputs"]) == 2


def test_symgraph_without_a_renderer_shows_the_notice_and_the_dot_text(ip, monkeypatch):
    monkeypatch.setattr(dot_module, "find_dot", lambda: None)
    (bundle,) = outputs(ip, "symgraph b")
    assert set(bundle) == {"text/plain", MIME}
    notice, dot_text = bundle["text/plain"].split("; the DOT text:\n")
    assert notice == dot_module.INSTALL_HINT
    assert dot_text == to_dot(ip.user_ns["b"], compact=False)


def test_debugprint_magic_prints_theanos_tree(ip):
    assert outputs(ip, "debugprint b") == [{"text/plain": EXPR_DEBUGPRINT}]
    assert outputs(ip, "debugprint f") == [{"text/plain": debugprint(ip.user_ns["f"], file="str")}]


def _timeless(text: str) -> list[str]:
    """The profile text without Theano's "Time since theano import" line (it grows)."""
    return [line for line in text.splitlines() if not line.startswith("Time since theano")]


def test_symprofile_shows_the_profile_tables(ip):
    ip.run_cell("g = theano.function([a], b, profile=True)\ng(np.ones(3))\ng(np.ones(3))")
    (bundle,) = outputs(ip, "symprofile g")
    expected = display.mimebundle(ip.user_ns["g"].profile)
    assert set(bundle) == set(expected)
    assert bundle["text/html"] == expected["text/html"]
    assert _timeless(bundle["text/plain"]) == _timeless(expected["text/plain"])
    assert "Time in 2 calls to Function.__call__" in bundle["text/plain"]
    assert "text/html" in bundle


def test_symprofile_after_symfunc_profile(ip):
    with capture_output():
        ip.run_cell_magic("symfunc", "h(x: dvector) -> y --profile --quiet", "y = T.exp(x)\n")
    ip.user_ns["h"](np.zeros(2))
    (bundle,) = outputs(ip, "symprofile h")
    assert "Time in 1 calls to Function.__call__" in bundle["text/plain"]


def test_symrewrites_opens_the_rewrite_stepper(ip):
    ip.run_cell("g = theano.function([a], T.log(1 + a), mode=theano.Mode().with_history())")
    (bundle,) = outputs(ip, "symrewrites g")
    stepper = RewriteStepper(ip.user_ns["g"])
    assert bundle["text/plain"] == str(stepper)
    assert [r.rule for r in stepper.records][-1] == "log1p_from_log"
    assert "stabilize    log1p_from_log" in bundle["text/plain"]
    assert "text/html" in bundle


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("symgraph", "%symgraph: missing the expression to show"),
        (
            "symgraph nothere",
            "%symgraph: cannot evaluate 'nothere': NameError: name 'nothere' is not defined",
        ),
        (
            "symgraph 3",
            "%symgraph: 3 is a int; expected a symbolic variable, a list of them, "
            "a compiled function or a FunctionGraph",
        ),
        ("symgraph b --format gif", "%symgraph: --format 'gif' is not one of svg, png"),
        (
            "symgraph b --big",
            "%symgraph: unknown option '--big'; expected --format VALUE, --compact",
        ),
        ("symgraph b --format", "%symgraph: --format needs a value"),
        ("debugprint [1, 2]", "%debugprint: [1, 2] is a list; expected a symbolic variable"),
        ("debugprint b --depth 2", "%debugprint: unknown option '--depth'; expected none"),
        ("symprofile", "%symprofile: missing the compiled function, e.g. %symprofile f"),
        ("symprofile b", "%symprofile: b is a TensorVariable, not a compiled function"),
        (
            "symprofile f",
            "%symprofile: f was compiled without profiling; use %%symfunc ... "
            "--profile or function(..., profile=True)",
        ),
        ("symrewrites b", "%symrewrites: b is a TensorVariable, not a compiled function"),
    ],
)
def test_bad_arguments_are_usage_errors(ip, line, message):
    with pytest.raises(UsageError) as info:
        outputs(ip, line)
    assert str(info.value).startswith(message)


def test_usage_errors_show_no_traceback(ip):
    with capture_output() as cap:
        result = ip.run_cell("%symgraph nothere")
    assert isinstance(result.error_in_exec, UsageError)
    assert "Traceback" not in cap.stdout + cap.stderr
    assert "UsageError: %symgraph: cannot evaluate 'nothere'" in cap.stdout + cap.stderr
