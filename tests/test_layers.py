"""The architecture rules of DESIGN.md: imports only point down the layers; files stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "labsym"
MAX_LINES = 800

# lower number = lower layer; a module may import its own layer or lower ones
_LAYER_OF_TOP = {
    "config": 0,
    "utils": 0,
    "core": 1,
    "optim": 2,
    "backends": 3,
    "viz": 4,
    "compile": 5,
    "gradient_check": 5,
    "magics": 6,
}
_FACADE = 7


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "labsym":
        return -1
    if len(parts) == 1:
        return _FACADE
    return _LAYER_OF_TOP.get(parts[1], _FACADE)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            for alias in node.names:
                found.append((node.lineno, f"{node.module}.{alias.name}"))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path):
    own = _layer(_module_name(path))
    for lineno, target in _imports(path):
        if not target.startswith("labsym"):
            continue
        # `from labsym.core.ops import math` names a module: judge the module, not the attribute
        layer = _layer(target)
        assert layer <= own, (
            f"{path.name}:{lineno} imports {target} (layer {layer}) from layer {own}"
        )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_files_stay_under_the_size_limit(path: Path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path} has {n} lines (limit {MAX_LINES})"


def test_the_checker_catches_an_upward_import(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from labsym.compile import function\n")
    assert (2, "labsym.compile") in _imports(bad)
    assert _layer("labsym.compile") > _layer("labsym.core.graph")
