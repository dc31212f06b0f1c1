"""profile=True with C code: per-node times of C thunks, <type> C/Py, the module's build time."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.c.module import c_compiler
from labsym.compile import Mode
from tests.backends.c.userops import DoubleBoth

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")


@pytest.fixture(scope="module")
def profiled():
    x = T.dvector("x")
    out = DoubleBoth()(T.argsort(DoubleBoth()(x)).astype("float64"))
    f = labsym.function([x], out, mode=Mode(linker="c|py", optimizer=None), profile=True)
    for _ in range(5):
        f(np.random.default_rng(0).standard_normal(1000))
    return f


def _row(text, title, label):
    """The line of table `title` whose name column is `label`."""
    table = text.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0]
    return next(line for line in table.splitlines() if line.rstrip().endswith(label))


def test_c_nodes_are_timed_and_typed_c_in_theanos_tables(profiled):
    stats = profiled.profile
    impls = dict(zip((type(n.op).__name__ for n in stats.nodes), stats.node_impls))
    assert impls["DoubleBoth"] == "C" and impls["ArgSortOp"] == "Py"
    for node, seconds, calls in zip(stats.nodes, stats.node_times, stats.node_calls):
        assert calls == 5 and seconds > 0, node
    text = stats.summary(file=io.StringIO())
    assert re.search(
        r"\s+C\s+10\s+2\s+tests\.backends\.c\.userops\.DoubleBoth$",
        _row(text, "Class", "userops.DoubleBoth"),
    )
    assert re.search(r"\s+Py\s+5\s+1\s+", _row(text, "Class", "ArgSortOp"))
    assert re.search(r"\s+C\s+10\s+2\s+DoubleBoth$", _row(text, "Ops", "DoubleBoth"))


def test_the_module_build_time_is_in_the_summary(profiled):
    stats = profiled.profile
    assert stats.c_compile_time > 0
    text = stats.summary(file=io.StringIO())
    line = next(line for line in text.splitlines() if "C module build time" in line)
    n_c = stats.node_impls.count("C")
    assert f"({n_c} of {len(stats.nodes)} Apply nodes run C code)" in line
    assert stats.c_compile_time <= stats.linker_time  # built while function() linked it


def test_merged_profiles_keep_the_implementation_of_each_node(profiled):
    stats = profiled.profile
    total = stats.merged([stats], "sum")
    assert total.node_impls == stats.node_impls * 2
    assert total.c_compile_time == 2 * stats.c_compile_time
