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


class Spin(labsym.Op):
    """Copies x after its C code spins `micros` microseconds of wall time (CLOCK_MONOTONIC)."""

    __props__ = ("micros",)

    def __init__(self, micros):
        self.micros = micros

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return labsym.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0].copy()

    def c_headers(self):
        return ["<time.h>"]

    def c_code(self, node, name, inp, out, sub):
        (x,), (z,), fail = inp, out, sub["fail"]
        return f"""
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do clock_gettime(CLOCK_MONOTONIC, &now);
        while ((now.tv_sec - start.tv_sec) * 1000000.0 + (now.tv_nsec - start.tv_nsec) / 1000.0
               < {self.micros});
        {z} = (PyArrayObject*)PyArray_NewCopy({x}, NPY_ANYORDER);
        if (!{z}) {fail}
        """


def test_c_nodes_are_timed_inside_c_and_the_apply_rows_say_c():
    x = T.dvector("x")
    f = labsym.function(
        [x], T.exp(T.neg(x)) * 2, mode=Mode(linker="c|py", optimizer=None), profile=True
    )
    for _ in range(20):
        f(np.linspace(0.0, 1.0, 7))
    stats = f.profile
    n = len(stats.nodes)
    assert stats.node_impls == ["C"] * n and stats.timed_in_c == set(range(n))
    assert all(t > 0 for t in stats.node_times) and stats.node_calls == [20] * n
    assert sum(stats.node_times) <= stats.call_time
    assert {row.impl for row in stats.rows_by("apply")} == {"C"}
    thunks = [next(iter(code.namespace.values())) for code in f._program.plan.node_codes]
    assert all(type(t).__name__ == "builtin_function_or_method" for t in thunks)
    assert type(f).__call__.__labsym_source__.count("_perf()") == 2  # the call's start and end


def test_a_kernel_spinning_a_known_time_is_reported_with_that_time():
    x = T.dvector("x")
    f = labsym.function(
        [x], Spin(3000)(x) + 1, mode=Mode(linker="c|py", optimizer=None), profile=True
    )
    v, stats = np.arange(3.0), f.profile
    spin = next(i for i, n in enumerate(stats.nodes) if isinstance(n.op, Spin))
    per_call = []
    for _ in range(10):
        before = stats.node_times[spin]
        np.testing.assert_array_equal(f(v), v + 1)
        per_call.append(stats.node_times[spin] - before)
    assert stats.node_impls[spin] == "C" and stats.node_calls[spin] == 10
    assert min(per_call) >= 3e-3  # the spin itself (wall time: a busy machine only adds)
    assert min(per_call) < 3.5e-3  # and not much more: the fastest call's is the spin's
    assert sum(stats.node_times) <= stats.call_time


def test_an_unprofiled_function_reads_no_clock_and_gets_the_modules_builtins():
    x = T.dvector("x")
    f = labsym.function([x], Spin(0)(x) * 3, mode=Mode(linker="c|py", optimizer=None))
    thunks = [next(iter(code.namespace.values())) for code in f._program.plan.node_codes]
    assert [t.__self__[1] for t in thunks] == [None] * len(thunks)  # no times to add to
    assert f.profile is None
    np.testing.assert_array_equal(f(np.arange(4.0)), 3 * np.arange(4.0))


def test_one_profile_object_profiles_one_function():
    # its per-node lists belong to the first function (its C code writes into them): a second
    # function is refused at compile time instead of breaking the first one's calls
    from labsym.core.profiling import ProfileStats

    x = T.dvector("x")
    stats = ProfileStats(name="shared")
    f = labsym.function([x], T.exp(x) + 1, mode=labsym.Mode(linker="c|py"), profile=stats)
    with pytest.raises(ValueError, match="already profiles another function"):
        labsym.function([x], x * 2, profile=stats)
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [2.0, np.e + 1])
    assert stats.call_count == 1
