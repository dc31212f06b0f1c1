"""Write the tutorial notebooks (notebooks/NN_*.ipynb) from the cell sources in notebooks/cells/.

The notebooks are generated so that they stay reviewable (plain Python in the cells/ modules)
and regenerable: edit a cell there and run `python notebooks/build.py`. They are written without
outputs or execution counts (tests/notebooks/test_notebooks.py checks it and runs each one).
A code cell may name the mime types its outputs must carry (`expect=`): the notebook test
asserts them after executing the notebook, so a display that regresses to text/plain fails.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NAMES = (
    "01_basics",
    "02_more_examples",
    "03_gradients",
    "04_loops",
    "05_conditions",
    "06_debugging",
    "07_graph_rewrites",
    "08_custom_op",
    "09_convnet",
)
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebook(cells: list[tuple[str, str, tuple[str, ...]]]) -> nbformat.NotebookNode:
    """A v4 notebook of (kind, source, expected mime types) cells, with stable cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source, expect) in enumerate(cells):
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if expect:
                cell.metadata["labsym"] = {"expect": list(expect)}
        cell.id = f"c{i:02d}"  # stable ids: rebuilding an unchanged notebook changes no byte
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def build(out_dir: Path = HERE) -> list[Path]:
    """Write every notebook into out_dir and return their paths."""
    sys.path.insert(0, str(HERE))
    try:
        paths = []
        for name in NAMES:
            module = importlib.import_module(f"cells.nb{name[:2]}")
            path = out_dir / f"{name}.ipynb"
            nbformat.write(notebook(module.CELLS), str(path))
            paths.append(path)
        return paths
    finally:
        sys.path.remove(str(HERE))


if __name__ == "__main__":
    for written in build():
        print(written.relative_to(HERE.parent))
