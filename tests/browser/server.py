"""A throw-away JupyterLab server (NotebookServer: Notebook 7) for the browser tests: free port,
token, temporary root and Jupyter dirs, a `python3` kernelspec that runs this interpreter, stopped
(kernels too) at the end.

The server runs `python -m jupyterlab` from this interpreter's environment, so it loads the
labextensions installed there (ipywidgets' for the widgets). labsym's extension is the bundle
committed in this checkout (labsym/labextension), linked into the server's own JUPYTER_PATH, which
JupyterLab searches first: the tests check that bundle whether labsym was installed from a wheel
(which copies it), editable with `jupyter labextension develop`, or editable without it (as
`./run` does, where JupyterLab would otherwise not see it). It is started with
`expose_app_in_browser` so the tests drive the front end through `window.jupyterapp`'s commands
instead of clicking menus.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 90
# the news poll asks with a toast that covers the notebook in screenshots
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
KERNEL_NAME = "python3"  # the tutorials' kernelspec name: the test's spec must win over any other


def free_port() -> int:
    """A TCP port nobody listens on now (the server is told not to retry another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_kernelspec(jupyter_path: Path) -> None:
    """A `python3` kernelspec running ipykernel on sys.executable, under jupyter_path/kernels."""
    spec_dir = jupyter_path / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (labsym tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


class LabServer:
    """`jupyter lab` serving `root` on 127.0.0.1; its log goes to `log_path`."""

    MODULE = "jupyterlab"  # run as `python -m MODULE`

    def __init__(self, root: Path, home: Path, log_path: Path, extension: Path) -> None:
        self.root = root
        self.extension = extension
        self.home = home
        self.log_path = log_path
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """An address on the server, the token attached."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def environment(self) -> dict[str, str]:
        """Jupyter's config, data and runtime dirs in `home`: no user setting leaks in."""
        env = dict(os.environ)
        write_kernelspec(self.home / "path")
        self.link_extension()
        labconfig = self.home / "config" / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG), encoding="utf-8")
        env.update(
            JUPYTER_PATH=str(self.home / "path"),
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            IPYTHONDIR=str(self.home / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        return env

    def link_extension(self) -> None:
        """Make the prebuilt bundle `extension` (a folder with package.json) JupyterLab's copy
        of it, ahead of any installed one; nothing when the bundle is not built."""
        manifest = self.extension / "package.json"
        if not manifest.is_file():
            return
        name = json.loads(manifest.read_text(encoding="utf-8"))["name"]
        link = self.home / "path" / "labextensions" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(self.extension, target_is_directory=True)

    def app_options(self) -> list[str]:
        """The front end's own options: its workspaces in `home`, window.jupyterapp exposed."""
        return [
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
            # no request leaves the machine: no update check, no news feed
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
        ]

    def start(self) -> None:
        """Start the server and wait until its API answers (raises with the log if it dies)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            self.MODULE,
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            *self.app_options(),
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its kernels share its process group, stopped with it
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.MODULE} exited at start:\n{self.log()}")
            try:
                self.api("GET", "api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.MODULE} did not answer in {START_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far (its last 4000 characters)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API; the decoded JSON answer (None when empty)."""
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (between tests: the 2-core CI machine stays free)."""
        for kernel in self.api("GET", "api/kernels"):
            self.api("DELETE", f"api/kernels/{kernel['id']}")

    def stop(self) -> None:
        """Stop the kernels and the server; kill its process group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(urllib.error.URLError, ConnectionError):
            self.shutdown_kernels()
        self.process.send_signal(signal.SIGINT)
        self.process.send_signal(signal.SIGINT)  # the second one skips the "are you sure" prompt
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


class NotebookServer(LabServer):
    """`jupyter notebook` (Notebook 7) set up as LabServer sets up `jupyter lab`: same root,
    Jupyter dirs, kernelspec and linked extension."""

    MODULE = "notebook"

    def app_options(self) -> list[str]:
        """Notebook 7's workspaces in `home` and window.jupyterapp exposed (it checks no updates
        and reads no news feed)."""
        return [
            f"--JupyterNotebookApp.workspaces_dir={self.home / 'workspaces'}",
            "--JupyterNotebookApp.expose_app_in_browser=True",
        ]
