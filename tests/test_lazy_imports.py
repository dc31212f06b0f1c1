"""`import labsym` leaves the optional parts unimported, and every lazily reached name works.

The import check runs in a fresh interpreter (this test process has imported everything).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import labsym

# modules a training script never needs: imported on first use of the names that need them
LAZY_MODULES = (
    "labsym.backends.cuda",
    "labsym.printing",
    "labsym.viz.graphviz",
    "labsym.viz.doctor",
    "labsym.viz.display",
    "labsym.misc",
    "labsym.sandbox",
    "labsym.core.ops.mrg_streams",
    "labsym.compile.debugmode",
    "labsym.compile.monitormode",
    "labsym.compile.nanguardmode",
    "zipfile",
)
# third-party modules `import labsym` must never import
OPTIONAL_PACKAGES = ("scipy", "cffi", "IPython", "ipywidgets", "graphviz", "hypothesis")


def _fresh_modules(code: str) -> set[str]:
    """sys.modules after running `code` in a new interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_import_labsym_leaves_optional_modules_unimported():
    modules = _fresh_modules("import labsym, labsym.tensor")
    assert "labsym.compile" in modules and "labsym.tensor.basic" in modules
    for name in LAZY_MODULES + OPTIONAL_PACKAGES:
        assert not _loaded(modules, name), f"`import labsym` imported {name}"


def test_host_shared_variables_leave_the_cuda_backend_unimported():
    modules = _fresh_modules(
        "import numpy as np, labsym\n"
        "s = labsym.shared(np.ones((2, 3), 'float32'), name='w')\n"
        "t = labsym.shared(np.arange(3), target='cpu')\n"
        "assert type(s) is labsym.SharedVariable and s.get_value().shape == (2, 3)\n"
        "assert t.get_value().tolist() == [0, 1, 2]"
    )
    assert not _loaded(modules, "labsym.backends.cuda")


def test_a_device_target_still_reaches_the_cuda_constructor():
    modules = _fresh_modules(
        "import numpy as np, labsym\n"
        "try:\n"
        "    labsym.shared(np.ones(3, 'float32'), target='gpu')\n"
        "except TypeError:\n"
        "    raise\n"
        "except Exception:\n"
        "    pass  # no GPU here: the CUDA backend said so, as before"
    )
    assert "labsym.backends.cuda.shared" in modules
    with pytest.raises(ValueError, match="expected 'cpu', 'gpu'"):
        labsym.shared(np.ones(3), target="tpu")


def test_printing_names():
    x = labsym.tensor.dvector("x")
    y = (x * 2).sum()
    assert labsym.pp is labsym.printing.pp
    assert labsym.pprint is labsym.printing.pprint is labsym.tensor.pprint
    assert labsym.tensor.min_informative_str is labsym.printing.min_informative_str
    assert "x" in labsym.pp(y) and "x" in labsym.pprint(y)
    assert "Sum" in labsym.printing.debugprint(y, file="str")


def test_misc_sandbox_and_doctor():
    arr = labsym._asarray([1, 2], dtype="float32")
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32 and arr.tolist() == [1.0, 2.0]
    assert labsym.misc.safe_asarray._asarray is labsym._asarray
    assert callable(labsym.misc.pkl_utils.dump)
    rng = labsym.sandbox.rng_mrg.MRG_RandomStreams(seed=3)
    draw = labsym.function([], rng.uniform((4,)), mode="FAST_COMPILE")()
    assert draw.shape == (4,) and np.all((draw > 0) & (draw < 1))
    assert labsym.doctor is __import__("labsym.viz.doctor", fromlist=["doctor"]).doctor


def test_predefined_tables():
    modes = labsym.predefined_modes
    assert modes is labsym.compile.predefined_modes is labsym.compile.mode.predefined_modes
    assert isinstance(modes["FAST_RUN"], labsym.Mode)
    assert isinstance(modes["DebugMode"], labsym.compile.DebugMode)
    assert isinstance(modes["NanGuardMode"], labsym.compile.NanGuardMode)
    assert {"py", "c|py", "cvm"} <= set(labsym.predefined_linkers)
    assert {None, "fast_run", "fast_compile"} <= set(labsym.predefined_optimizers)


def test_checking_modes_reached_lazily_compile():
    x = labsym.tensor.dvector("x")
    value = np.array([1.0, -2.0, 3.5])
    for mode in (labsym.compile.MonitorMode(), labsym.compile.NanGuardMode(nan_is_error=True)):
        f = labsym.function([x], x * 3, mode=mode)
        np.testing.assert_array_equal(f(value), value * 3)


def test_star_import_dir_and_unknown_names():
    namespace: dict = {}
    exec("from labsym import *", namespace)
    assert namespace["pp"] is labsym.pp and namespace["doctor"] is labsym.doctor
    assert {"pp", "printing", "predefined_modes", "_asarray"} <= set(dir(labsym))
    assert {"DebugMode", "predefined_linkers"} <= set(dir(labsym.compile))
    assert "pprint" in dir(labsym.tensor)
    for module in (labsym, labsym.compile, labsym.compile.mode, labsym.tensor):
        with pytest.raises(AttributeError, match="no_such_name"):
            module.no_such_name  # noqa: B018


def test_checking_mode_submodules_resolve_as_attributes_in_a_fresh_process():
    # Theano's compile/__init__ imported them: `theano.compile.debugmode.BadThunkOutput` works
    code = (
        "import labsym as theano\n"
        "assert theano.compile.debugmode.DebugMode is theano.compile.DebugMode\n"
        "assert theano.compile.debugmode.BadThunkOutput.__name__ == 'BadThunkOutput'\n"
        "assert theano.compile.nanguardmode.NanGuardMode is theano.compile.NanGuardMode\n"
        "assert theano.compile.monitormode.MonitorMode is theano.compile.MonitorMode\n"
        "assert {'debugmode', 'monitormode', 'nanguardmode'} <= set(dir(theano.compile))\n"
    )
    modules = _fresh_modules(code)
    assert _loaded(modules, "labsym.compile.debugmode")
