"""Fixtures of the real-browser tests: chromium (Debian's package, driven by Playwright), one
JupyterLab server, one tab per test. The server and the browser live as long as this package's
tests: stopped before the rest of the suite runs.

The tests run whenever chromium and Playwright are present; otherwise they skip, unless
LABSYM_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser fails them. Screenshots and the
server's log go to test-artifacts/browser/ (ignored by git, kept by CI).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.lab import LabTab, NotebookTab
from tests.browser.server import LabServer, NotebookServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


_TIMINGS: list[str] = []


def record_timing(line: str) -> None:
    """Keep a measured time for the run's summary and test-artifacts/browser/timings.txt."""
    _TIMINGS.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the browser timings after the run (they are measured, not asserted)."""
    if _TIMINGS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.txt").write_text("\n".join(_TIMINGS) + "\n", encoding="utf-8")
        terminalreporter.section("labsym browser timings")
        for line in _TIMINGS:
            terminalreporter.write_line(line)


def browser_required() -> bool:
    """True when a missing browser must fail the tests (CI), not skip them."""
    return os.environ.get("LABSYM_REQUIRE_BROWSER") == "1"


def find_chromium() -> str | None:
    """The chromium executable: $LABSYM_CHROMIUM, else chromium on PATH."""
    explicit = os.environ.get("LABSYM_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def _unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"LABSYM_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromium path; skips (fails under LABSYM_REQUIRE_BROWSER=1) when it or Playwright is
    missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    path = find_chromium()
    if path is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    return path


def _serve(
    kind: type[LabServer], name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """A started `kind` server whose root holds copies of the tutorial notebooks, with this
    checkout's prebuilt labsym extension; its log is test-artifacts/browser/jupyter-`name`.log."""
    root = tmp_path_factory.mktemp(f"{name}-root")
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(notebook, root / notebook.name)
    server = kind(
        root,
        tmp_path_factory.mktemp(f"{name}-home"),
        ARTIFACTS / f"jupyter-{name}.log",
        extension=ROOT / "labsym" / "labextension",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def lab_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab server on copies of the tutorials, with this checkout's labsym extension."""
    yield from _serve(LabServer, "lab", tmp_path_factory)


@pytest.fixture(scope="package")
def notebook_server(
    chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotebookServer]:
    """A Notebook 7 server set up as `lab_server` is."""
    yield from _serve(NotebookServer, "notebook", tmp_path_factory)


@pytest.fixture(scope="package")
def browser_context(chromium: str) -> Iterator[object]:
    """A headless chromium with a fresh profile, shared by the session's tabs."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="labsym-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def tab(lab_server: LabServer, browser_context: object) -> Iterator[LabTab]:
    """A tab with JupyterLab loaded; closed and its kernels stopped after the test."""
    lab_tab = LabTab(browser_context, lab_server, ARTIFACTS)
    try:
        lab_tab.load()
        yield lab_tab
    finally:
        lab_tab.page.close()
        lab_server.shutdown_kernels()


@pytest.fixture
def notebook_tab(notebook_server: NotebookServer, browser_context: object) -> Iterator[NotebookTab]:
    """A tab on the Notebook 7 server (its test opens a notebook's page); closed and its kernels
    stopped after the test."""
    notebook_tab = NotebookTab(browser_context, notebook_server, ARTIFACTS)
    try:
        yield notebook_tab
    finally:
        notebook_tab.page.close()
        notebook_server.shutdown_kernels()
