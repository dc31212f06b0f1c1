"""`python -m labsym.cache list|clear|size`, run as a user would (a subprocess)."""

import os
import subprocess
import sys

import pytest

from labsym.backends.c import cache
from labsym.backends.c.build import compiler_available

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")


def run(*args, compiledir=None, env_dir=None):
    env = dict(os.environ)
    if env_dir is not None:
        env["LABSYM_FLAGS"] = f"compiledir={env_dir}"
    cmd = [sys.executable, "-m", "labsym.cache", *args]
    if compiledir is not None:
        cmd += ["--compiledir", str(compiledir)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def build(root, k):
    src = f"int add_k(int x) {{ return x + {k}; }}"
    return cache.load_or_build(f"cli test {k}", "int add_k(int);", src, {}, compiledir=str(root))


def test_list_size_clear(tmp_path):
    root = tmp_path / "cd"
    build(root, 1)
    build(root, 2)
    keys = sorted(e.key[:12] for e in cache.list_entries(str(root)))
    out = run("list", env_dir=root)  # the compiledir flag picks the directory
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"2 entries in {root}")
    lines = out.stdout.splitlines()[2:]
    assert sorted(line.split()[0] for line in lines) == keys
    assert all("cli test" in line and "(1 functions)" in line for line in lines)
    size = run("size", compiledir=root)
    total = cache.total_size(str(root))
    assert f"({total} bytes) in 2 entries" in size.stdout and total > 0
    cleared = run("clear", compiledir=root)
    assert cleared.stdout.strip() == f"removed 2 entries from {root}"
    assert run("list", compiledir=root).stdout.startswith(f"0 entries in {root}")
    assert "(0 bytes) in 0 entries" in run("size", compiledir=root).stdout


def test_a_damaged_entry_is_listed_as_such(tmp_path):
    root = tmp_path / "cd"
    build(root, 3)
    (entry,) = cache.list_entries(str(root))
    os.remove(os.path.join(entry.path, cache.META))
    assert "[damaged: rebuilt on next use]" in run("list", compiledir=root).stdout


def test_an_unsafe_directory_is_an_error_not_a_traceback(tmp_path):
    root = tmp_path / "open"
    root.mkdir()
    os.chmod(root, 0o777)
    out = run("list", compiledir=root)
    assert out.returncode == 1
    assert out.stderr.startswith("labsym.cache: ") and "writable by other users" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_command_shows_usage(tmp_path):
    out = run("purge", compiledir=tmp_path)
    assert out.returncode == 2 and "list, clear, size" in out.stderr.replace("'", "")
