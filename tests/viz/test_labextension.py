"""The prebuilt JupyterLab extension: what the package ships, what it renders, the doctor's row."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import labsym
import labsym.tensor as T
from labsym.compile import Mode, function
from labsym.viz import display, doctor, graphjson, history

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "labsym" / "labextension"
SOURCE = ROOT / "jupyter-extension"
NAME = "labsym-jupyter"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _labsym_mime_keys(bundle: dict) -> set[str]:
    return {key for key in bundle if key.startswith("application/vnd.labsym.")}


def test_built_bundle_is_a_prebuilt_mime_extension_of_this_version():
    meta = _json(BUILT / "package.json")
    assert meta["name"] == NAME == doctor.LAB_EXTENSION
    assert meta["version"] == labsym.__version__
    build = meta["jupyterlab"]["_build"]
    assert meta["jupyterlab"]["mimeExtension"] is True
    assert build["mimeExtension"] == "./mimeExtension"
    entry = BUILT / build["load"]
    assert entry.is_file() and entry.name.startswith("remoteEntry.")
    # the built package.json is the source one plus the builder's _build record
    source = _json(SOURCE / "package.json")
    del meta["jupyterlab"]["_build"]
    assert meta == source


def test_bundle_mime_types_are_the_ones_the_displays_emit():
    mime_types = _json(BUILT / "package.json")["labsym"]["mimeTypes"]
    assert mime_types == [graphjson.MIME, history.MIME]
    code = "".join(p.read_text(encoding="utf-8") for p in (BUILT / "static").glob("*.js"))
    for mime in mime_types:
        assert f'"{mime}"' in code, mime
    # the renderer is declared safe: no HTML parsing sink anywhere in what the browser loads
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in code, sink

    x = T.dvector("x")
    f = function([x], T.log(1 + T.exp(x)).sum(), mode=Mode(linker="py").with_history())
    g = function([x], T.exp(x).sum(), profile=True, mode=Mode(linker="py"))
    g(np.ones(3))
    emitted = set()
    for obj in (x * 2, f, g.profile, f.maker.fgraph.history):
        bundle = display.mimebundle(obj)
        keys = _labsym_mime_keys(bundle)
        assert len(keys) == 1, (type(obj).__name__, sorted(bundle))
        # other front ends (VS Code, nbconvert) draw the SVG or HTML of the same bundle
        assert {"text/plain"} | keys < set(bundle), sorted(bundle)
        emitted |= keys
    assert emitted == set(mime_types)


def test_pyproject_installs_every_built_file_into_the_extension_folder():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = config["tool"]["setuptools"]["data-files"]
    dest = f"share/jupyter/labextensions/{NAME}"
    installed = set()
    for folder, patterns in data_files.items():
        assert folder in (dest, f"{dest}/static"), folder
        for pattern in patterns:
            matches = sorted(ROOT.glob(pattern))
            assert matches, pattern
            installed |= {f"{folder}/{m.name}" for m in matches}
    built = {f"{dest}/{p.relative_to(BUILT)}" for p in BUILT.rglob("*") if p.is_file()}
    assert built <= installed
    assert f"{dest}/install.json" in installed
    assert _json(SOURCE / "install.json")["packageName"] == config["project"]["name"]
    # `jupyter-builder develop` (editable installs) links the same folder
    [paths] = labsym._jupyter_labextension_paths()
    assert paths == {"src": "labextension", "dest": NAME}
    assert (Path(labsym.__file__).parent / paths["src"]) == BUILT


def test_source_and_lockfile_are_committed_and_node_modules_is_not():
    tracked = subprocess.run(
        ["git", "ls-files", "jupyter-extension", "labsym/labextension"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    if not tracked:
        pytest.skip("not a git checkout")
    for path in ("package.json", "package-lock.json", "tsconfig.json", "src/index.ts"):
        assert f"jupyter-extension/{path}" in tracked
    assert not [p for p in tracked if "node_modules" in p or p.startswith("jupyter-extension/lib/")]
    assert "labsym/labextension/package.json" in tracked


def _installed(tmp_path: Path, version: str) -> Path:
    folder = tmp_path / "labextensions" / NAME
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": NAME, "version": version}))
    return folder


def test_doctor_reports_the_installed_extension_and_its_version(monkeypatch, tmp_path):
    folder = _installed(tmp_path, labsym.__version__)
    monkeypatch.setattr(doctor, "_lab_extension_dirs", lambda: [tmp_path / "nowhere", folder])
    assert doctor.probe_lab_extension() == doctor.Check(
        "labsym lab extension", "ok", f"{NAME} {labsym.__version__} at {folder}"
    )


def test_doctor_warns_about_an_extension_of_another_version(monkeypatch, tmp_path):
    folder = _installed(tmp_path, "0.0.1")
    monkeypatch.setattr(doctor, "_lab_extension_dirs", lambda: [folder])
    check = doctor.probe_lab_extension()
    assert check.status == "warning"
    assert check.found == f"{NAME} 0.0.1 at {folder}; labsym is {labsym.__version__}"


def test_doctor_names_the_fix_when_the_extension_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "_lab_extension_dirs", lambda: [tmp_path / NAME])
    check = doctor.probe_lab_extension()
    assert (check.status, check.found) == (
        "missing",
        f"no {NAME} in JupyterLab's extension folders",
    )
    # this checkout is a source tree: an editable install links the bundle with develop
    assert check.fix == f"jupyter-builder develop --overwrite {ROOT}"
    assert "static SVG" in check.cost


def test_doctor_row_matches_jupyter_labextension_list():
    check = labsym.doctor()["labsym lab extension"]
    listing = subprocess.run(
        [sys.executable, "-m", "jupyterlab.labextensions", "list"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    text = listing.stdout + listing.stderr
    shown = f"{NAME} v{labsym.__version__}" in text
    assert shown == (check.status == "ok"), (check, text)
    if shown:
        line = next(row for row in text.splitlines() if NAME in row)
        assert "enabled" in line and "OK" in line, line
