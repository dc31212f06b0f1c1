"""The linker registry: Theano's names, the NumPy engine, and clear errors for the rest."""

import os
import subprocess
import sys

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends.python.vm import PythonLinker
from labsym.backends.registry import C_NAMES, WORKING_NAMES, LinkerUnavailableError, get_linker
from labsym.compile import Mode
from labsym.compile.mode import predefined_linkers


@pytest.mark.parametrize("name", WORKING_NAMES)
def test_working_names_give_the_numpy_engine(name):
    assert isinstance(get_linker(name), PythonLinker)
    x = T.dvector("x")
    f = labsym.function([x], x * 2, mode=Mode(linker=name))
    np.testing.assert_allclose(f(np.ones(2)), [2.0, 2.0])


@pytest.mark.parametrize("name", C_NAMES)
def test_c_names_raise_instead_of_running_numpy(name):
    with pytest.raises(LinkerUnavailableError, match="C backend is not built yet") as info:
        Mode(linker=name)
    assert "py" in str(info.value) and "cvm" in str(info.value)


def test_c_names_stay_in_theanos_table_and_raise_when_used():
    assert set(C_NAMES) <= set(predefined_linkers)
    x = T.dvector("x")
    with pytest.raises(LinkerUnavailableError, match="not built yet"):
        labsym.function([x], x + 1, mode=Mode(linker=predefined_linkers["c|py"]))


@pytest.mark.parametrize("name", ["numba", "jax", "pytorch"])
def test_other_projects_backends_are_refused(name):
    with pytest.raises(LinkerUnavailableError, match="PyTensor/Aesara backend"):
        Mode(linker=name)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown linker 'nonsense'.*py, vm"):
        Mode(linker="nonsense")


def test_unknown_name_in_theano_flags_lists_the_valid_ones():
    env = dict(os.environ, THEANO_FLAGS="linker=nonsense")
    code = "import labsym"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode != 0
    assert "nonsense" in run.stderr and "cvm" in run.stderr


class CountingLinker(PythonLinker):
    """The NumPy engine, counting the graphs it links."""

    def __init__(self):
        self.linked = []

    def link(self, fgraph, plan):
        self.linked.append(fgraph)
        return super().link(fgraph, plan)


def test_opfromgraph_inner_graph_is_linked_by_the_outer_linker():
    from labsym.compile import OpFromGraph

    a = T.dvector("a")
    double = OpFromGraph([a], [a * 2])
    x = T.dvector("x")
    linker = CountingLinker()
    f = labsym.function([x], double(x) + 1, mode=Mode(linker=linker, optimizer=None))
    assert len(linker.linked) == 1
    np.testing.assert_allclose(f(np.ones(2)), [3.0, 3.0])
    assert len(linker.linked) == 2  # the inner graph, compiled on first call, same linker
    f(np.ones(2))
    assert len(linker.linked) == 2


def test_scan_inner_graph_is_linked_by_the_outer_linker():
    x = T.dvector("x")
    out, _ = labsym.scan(lambda v: v * 2, sequences=[x])
    linker = CountingLinker()
    f = labsym.function([x], out, mode=Mode(linker=linker, optimizer=None))
    np.testing.assert_allclose(f(np.ones(3)), [2.0, 2.0, 2.0])
    assert len(linker.linked) == 2  # the outer graph and the scan step


class OffByOneLinker:
    """A linker (not the NumPy engine) whose code for every one-output node adds 1."""

    name = "off_by_one"

    def node_code(self, fgraph, node, index, outer_mode=None):
        code = PythonLinker().node_code(fgraph, node, index, outer_mode)
        if len(node.outputs) == 1:
            code.code += "\n{out0} = {out0} + 1"
        return code


def test_debugmode_wraps_the_linker_it_is_given():
    from labsym.compile import DebugMode
    from labsym.compile.debugmode import BadThunkOutput

    x = T.dvector("x")
    f = labsym.function([x], x * 2, mode=DebugMode(linker=OffByOneLinker(), optimizer=None))
    with pytest.raises(BadThunkOutput, match="perform and linker off_by_one"):
        f(np.ones(2))
    g = labsym.function([x], x * 2, mode=DebugMode(linker="cvm"))
    np.testing.assert_allclose(g(np.ones(2)), [2.0, 2.0])


@pytest.mark.parametrize("mode_class", ["DebugMode", "NanGuardMode"])
def test_debug_and_nanguard_modes_take_linkers_from_the_registry(mode_class):
    import labsym.compile

    with pytest.raises(LinkerUnavailableError, match="C backend is not built yet"):
        getattr(labsym.compile, mode_class)(linker="c|py")
    with pytest.raises(ValueError, match="unknown linker 'nonsense'"):
        getattr(labsym.compile, mode_class)(linker="nonsense")
