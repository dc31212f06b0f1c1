"""The tutorial notebooks: committed without outputs, in sync with notebooks/build.py, and each
runs top to bottom in a fresh kernel with no error and with the rich displays its cells promise.

Each notebook runs in its own kernel, one after the other (the whole set takes well under a minute
here). The kernel is this interpreter (sys.executable), through a kernelspec written to a temporary
JUPYTER_PATH for the test: nothing is installed, and a user's own `python3` kernelspec (which may
point at another Python) cannot stand in. A code cell's `metadata.labsym.expect` (set by
notebooks/build.py) lists mime types its outputs must carry, e.g. image/svg+xml for a drawn graph
or text/html for a profile table.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
TIME_LIMIT_S = 60  # the bound for one notebook on a laptop CPU
KERNEL_NAME = "labsym-tests"


def load_build():
    """notebooks/build.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_nine_tutorials_exist():
    assert NAMES == [
        "01_basics.ipynb",
        "02_more_examples.ipynb",
        "03_gradients.ipynb",
        "04_loops.ipynb",
        "05_conditions.ipynb",
        "06_debugging.ipynb",
        "07_graph_rewrites.ipynb",
        "08_custom_op.ipynb",
        "09_convnet.ipynb",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    raw = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    code_cells = [cell for cell in raw["cells"] if cell["cell_type"] == "code"]
    assert code_cells, f"{name} has no code cell"
    for cell in code_cells:
        assert cell["outputs"] == [], f"{name}: cell {cell['id']} has outputs"
        assert cell["execution_count"] is None, f"{name}: cell {cell['id']} has a count"


def test_notebooks_match_their_build_script(tmp_path):
    """The committed .ipynb files are exactly what `python notebooks/build.py` writes."""
    try:
        written = load_build().build(tmp_path)
    finally:  # the cell modules are notebooks/cells/, not to be found by later imports
        for module in [m for m in sys.modules if m == "cells" or m.startswith("cells.")]:
            del sys.modules[module]
    assert sorted(path.name for path in written) == NAMES
    for path in written:
        committed = (NOTEBOOKS / path.name).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == committed, (
            f"notebooks/{path.name} differs from its cells: run `python notebooks/build.py`"
        )


def output_mimes(cell) -> set[str]:
    """The mime types in a code cell's outputs (display data and execute results)."""
    mimes = set()
    for output in cell.get("outputs", []):
        mimes.update(output.get("data", {}))
    return mimes


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernelspec running ipykernel on this interpreter, found first through JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "labsym tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(root))
        yield KERNEL_NAME


def test_the_kernel_is_this_interpreter(kernel_name):
    from jupyter_client.kernelspec import KernelSpecManager

    assert KernelSpecManager().get_kernel_spec(kernel_name).argv[0] == sys.executable


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_clean_with_rich_outputs(name, kernel_name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=TIME_LIMIT_S,
        kernel_name=kernel_name,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT_S, f"{name} took {elapsed:.1f} s"

    expected_somewhere = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{name} cell {index}: {errors[0].ename}: {errors[0].evalue}"
        for output in cell.outputs:
            if output.output_type == "stream":
                assert "Traceback" not in output.text, f"{name} cell {index}: {output.text}"
        expect = cell.metadata.get("labsym", {}).get("expect", [])
        missing = set(expect) - output_mimes(cell)
        assert not missing, f"{name} cell {index} lacks {sorted(missing)}:\n{cell.source}"
        expected_somewhere += bool(expect)
    # every tutorial shows at least one graph, report, profile or widget richly
    assert expected_somewhere >= 1
    all_mimes = set().union(*(output_mimes(c) for c in nb.cells if c.cell_type == "code"))
    assert "text/html" in all_mimes or "image/svg+xml" in all_mimes
