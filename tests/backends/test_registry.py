"""The linker registry: Theano's names, the NumPy engine, and clear errors for the rest."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.backends import registry
from labsym.backends.c.linker import CLinker
from labsym.backends.c.module import c_compiler
from labsym.backends.python.vm import PythonLinker
from labsym.backends.registry import C_NAMES, WORKING_NAMES, LinkerUnavailableError, get_linker
from labsym.compile import Mode
from labsym.compile.mode import predefined_linkers
from labsym.config import config

needs_cc = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")


@pytest.mark.parametrize("name", ["py", "vm", "vm_nogc"])
def test_numpy_names_give_the_numpy_engine(name):
    linker = get_linker(name)
    assert isinstance(linker, PythonLinker) and linker.allow_gc == (name != "vm_nogc")
    x = T.dvector("x")
    f = labsym.function([x], x * 2, mode=Mode(linker=name))
    np.testing.assert_allclose(f(np.ones(2)), [2.0, 2.0])


@pytest.mark.parametrize("name", WORKING_NAMES)
def test_every_name_compiles_and_runs(name):
    x = T.dvector("x")
    f = labsym.function([x], T.exp(x) * 2, mode=Mode(linker=name, optimizer=None))
    np.testing.assert_allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)) * 2, rtol=1e-15)


@needs_cc
@pytest.mark.parametrize("name", ["auto", "cvm", "cvm_nogc"])
def test_best_names_are_the_tiered_c_linker_when_a_compiler_works(name):
    linker = get_linker(name)
    assert isinstance(linker, CLinker) and linker.tiered and not linker.strict
    assert linker.allow_gc == (name != "cvm_nogc")


@needs_cc
@pytest.mark.parametrize("name", C_NAMES)
def test_c_names_are_the_waiting_c_linker(name):
    linker = get_linker(name)
    assert isinstance(linker, CLinker) and not linker.tiered
    assert linker.strict == (name == "c") and linker.allow_gc == (name != "c|py_nogc")


@pytest.mark.parametrize("name", C_NAMES)
def test_c_names_without_a_compiler_raise_instead_of_running_numpy(name):
    with (
        config.change_flags(cxx=""),
        pytest.raises(LinkerUnavailableError, match="cxx flag is ''") as info,
    ):
        Mode(linker=name)
    assert "py" in str(info.value) and "cvm" in str(info.value)


def test_best_names_without_a_compiler_run_numpy_with_one_notice(monkeypatch):
    monkeypatch.setattr(registry, "_NOTICED", [])
    with config.change_flags(cxx="no-such-compiler-labsym"):
        with pytest.warns(UserWarning, match="no-such-compiler-labsym.*not found") as record:
            linkers = [get_linker("cvm"), get_linker("auto")]
        x = T.dvector("x")
        f = labsym.function([x], T.exp(x), mode=Mode(linker="cvm"))
        np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])
    assert len(record) == 1
    assert all(isinstance(linker, PythonLinker) for linker in linkers)
    with config.change_flags(cxx=""), warnings.catch_warnings():
        warnings.simplefilter("error")  # cxx='' is a choice: no notice
        assert isinstance(get_linker("auto"), PythonLinker)


@needs_cc
def test_c_names_stay_in_theanos_table():
    assert set(C_NAMES) <= set(predefined_linkers)
    x = T.dvector("x")
    f = labsym.function([x], x + 1, mode=Mode(linker=predefined_linkers["c|py"]))
    np.testing.assert_allclose(f(np.ones(2)), [2.0, 2.0])


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

    with config.change_flags(cxx=""), pytest.raises(LinkerUnavailableError, match="C code"):
        getattr(labsym.compile, mode_class)(linker="c|py")
    with pytest.raises(ValueError, match="unknown linker 'nonsense'"):
        getattr(labsym.compile, mode_class)(linker="nonsense")
