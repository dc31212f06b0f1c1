"""The compile cache: hits, keys, private files, corruption, failed builds, locks, processes."""

import json
import os
import subprocess
import sys
import time

import pytest

from labsym.backends.c import cache
from labsym.backends.c.build import compiler_available

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on PATH")

CDEF = "int add_k(int);"
KWARGS = {"extra_compile_args": ["-O1"]}


def source(k: int) -> str:
    return f"int add_k(int x) {{ return x + {k}; }}"


class Counting:
    """A builder that counts its builds (and otherwise is gcc_build)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return cache.gcc_build(*args)


def load(root, k=1, builder=None, **kw):
    return cache.load_or_build(
        "test", CDEF, source(k), KWARGS, builder or cache.gcc_build, str(root), **kw
    )


def forget():
    """Drop the in-process memo so the next load reads the disk (as a new process would)."""
    cache._LOADED.clear()


def entry_dir(root):
    (name,) = [n for n in os.listdir(root) if n.startswith(cache.ENTRY_PREFIX)]
    return os.path.join(root, name)


def test_build_then_hit_and_nothing_printed(tmp_path, capfd):
    root = tmp_path / "cd"
    b = Counting()
    assert load(root, 3, b).lib.add_k(4) == 7
    assert capfd.readouterr() == ("", "")  # gcc's and cffi's output is captured
    assert os.stat(root).st_mode & 0o777 == 0o700
    forget()
    assert cache.is_cached(CDEF, source(3), KWARGS, str(root))
    assert not cache.is_cached(CDEF, source(4), KWARGS, str(root))
    assert load(root, 3, b).lib.add_k(1) == 4
    assert b.calls == 1
    assert load(root, 5, b).lib.add_k(1) == 6  # another source, another entry
    assert b.calls == 2
    (e1, e2) = cache.list_entries(str(root))
    assert e1.valid and e1.hint == "test" and e1.symbols == ("add_k",) and e1.size > 0
    assert cache.total_size(str(root)) >= e1.size + e2.size


def test_key_covers_source_flags_and_cpu_for_native(monkeypatch):
    base = cache.cache_key(CDEF, source(1), KWARGS, "gcc")
    assert base == cache.cache_key(CDEF, source(1), KWARGS, "gcc")
    assert base != cache.cache_key(CDEF, source(2), KWARGS, "gcc")
    assert base != cache.cache_key(CDEF, source(1), {"extra_compile_args": ["-O2"]}, "gcc")
    assert "flags" in cache.cpu_identity()  # this CPU's model and feature flags
    native = {"extra_compile_args": ["-O3", "-march=native"]}
    first = cache.cache_key(CDEF, source(1), native, "gcc")
    monkeypatch.setattr(cache, "cpu_identity", lambda: "another cpu")
    assert cache.cache_key(CDEF, source(1), native, "gcc") != first
    assert cache.cache_key(CDEF, source(1), KWARGS, "gcc") == base  # only -march=native keys it


def test_refuses_a_directory_others_can_write(tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o777)
    with pytest.raises(cache.UnsafeCacheError, match="writable by other users"):
        load(root)
    os.chmod(root, 0o700)
    load(root)
    os.chmod(tmp_path, 0o777)  # a parent anyone may write, without the sticky bit
    try:
        with pytest.raises(cache.UnsafeCacheError, match="parent of compiledir"):
            load(root)
        os.chmod(tmp_path, 0o1777)  # as /tmp: others cannot rename our directory
        load(root)
    finally:
        os.chmod(tmp_path, 0o700)


@pytest.mark.parametrize("what", ["so", "meta", "dir", "link"])
def test_refuses_entry_files_others_can_write(tmp_path, what):
    root = tmp_path / "cd"
    load(root)
    forget()
    d = entry_dir(root)
    so = next(os.path.join(d, f) for f in os.listdir(d) if f.endswith(cache.EXT_SUFFIX))
    if what == "link":
        os.rename(so, so + ".real")
        os.symlink(so + ".real", so)
        match = "symbolic link"
    else:
        target = {"so": so, "meta": os.path.join(d, cache.META), "dir": d}[what]
        os.chmod(target, 0o664 if what != "dir" else 0o775)
        match = "writable by other users"
    with pytest.raises(cache.UnsafeCacheError, match=match):
        load(root)


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
def test_refuses_files_of_another_user(tmp_path):
    root = tmp_path / "cd"
    load(root)
    forget()
    d = entry_dir(root)
    os.chown(os.path.join(d, cache.META), 65534, 65534)
    with pytest.raises(cache.UnsafeCacheError, match="belongs to uid 65534"):
        load(root)
    os.chown(root, 65534, 65534)
    with pytest.raises(cache.UnsafeCacheError, match="belongs to uid 65534"):
        load(root, 2)


def _so(root):
    d = entry_dir(root)
    return next(os.path.join(d, f) for f in os.listdir(d) if f.endswith(cache.EXT_SUFFIX))


BUILD = """
import sys
from labsym.backends.c import cache
cache.load_or_build("test", %r, sys.argv[2], %r, compiledir=sys.argv[1])
"""


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta", "other_key", "no_so", "import"])
def test_a_damaged_entry_is_rebuilt(tmp_path, damage):
    root = tmp_path / "cd"
    # built by another process: this one must not have the file mapped while it is damaged
    subprocess.run([sys.executable, "-c", BUILD % (CDEF, KWARGS), str(root), source(7)], check=True)
    b = Counting()
    so = _so(root)
    meta_path = os.path.join(entry_dir(root), cache.META)
    if damage == "truncate":
        with open(so, "r+b") as f:
            f.truncate(os.path.getsize(so) // 2)
    elif damage == "flip":  # same size, other bytes
        with open(so, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "meta":
        with open(meta_path, "w") as f:
            f.write("{not json")
    elif damage == "other_key":  # an entry whose name matches but whose full key does not
        with open(meta_path) as f:
            meta = json.load(f)
        meta["key"] = "0" * 64
        with open(meta_path, "w") as f:
            json.dump(meta, f)
    elif damage == "no_so":
        os.remove(so)
    else:  # checksums match, but the file is no shared object: its import fails
        with open(so, "wb") as f:
            f.write(b"garbage" * 100)
        with open(meta_path) as f:
            meta = json.load(f)
        meta.update(size=os.path.getsize(so), sha256=cache._sha256(so))
        with open(meta_path, "w") as f:
            json.dump(meta, f)
    assert not cache.is_cached(CDEF, source(7), KWARGS, str(root)) or damage == "import"
    assert load(root, 7, b).lib.add_k(1) == 8
    assert b.calls == 1
    (entry,) = cache.list_entries(str(root))
    assert entry.valid


def test_a_failed_build_raises_with_the_message_and_keeps_the_source(tmp_path):
    root = tmp_path / "cd"
    bad = "int add_k(int x) { return x + undeclared_name; }"
    with pytest.raises(cache.CCompileError, match="undeclared_name") as info:
        cache.load_or_build("bad", CDEF, bad, KWARGS, compiledir=str(root))
    kept = str(info.value).rsplit("The source is kept in ", 1)[1].strip()
    (c_file,) = [f for f in os.listdir(kept) if f.endswith(".c")]
    with open(os.path.join(kept, c_file)) as f:
        assert "undeclared_name" in f.read()
    assert cache.list_entries(str(root)) == []  # nothing half-built is left as an entry
    many = "int add_k(int x) { return x; }\n" + "".join(f"int e{i} = nope{i};\n" for i in range(80))
    with pytest.raises(cache.CCompileError, match="more lines in compile.log") as info:
        cache.load_or_build("worse", CDEF, many, KWARGS, compiledir=str(root))
    assert len(str(info.value).splitlines()) < cache.MAX_LOG_LINES + 5
    kept = str(info.value).rsplit("The source is kept in ", 1)[1].strip()
    with open(os.path.join(kept, "compile.log")) as f:
        assert "nope79" in f.read()


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b"pid %d on testhost since now (a test holds it)" % os.getpid())
print("held", flush=True)
time.sleep(30)
"""


def test_lock_timeout_names_the_holder(tmp_path):
    root = tmp_path / "cd"
    cache.cache_dir(str(root))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root / ".lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with pytest.raises(cache.CacheLockTimeout, match=f"pid {holder.pid} on testhost"):
            load(root, timeout=0.3)
        assert time.monotonic() - start < 5
        with pytest.raises(cache.CacheLockTimeout, match=f"pid {holder.pid}"):
            cache.clear(str(root), timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
    assert load(root, timeout=5).lib.add_k(1) == 2  # the kernel released the dead holder's lock


WORKER = """
import os, sys, time
from labsym.backends.c import cache
root, log, start = sys.argv[1], sys.argv[2], float(sys.argv[3])

def builder(*args):
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(0.3)  # widen the window in which the others wait
    return cache.gcc_build(*args)

while time.time() < start:
    time.sleep(0.001)
m = cache.load_or_build("race", %r, %r, %r, builder, root, timeout=60)
print(m.lib.add_k(40))
"""


def test_processes_building_the_same_module_at_once(tmp_path):
    root, log = tmp_path / "cd", tmp_path / "builds.log"
    script = WORKER % (CDEF, source(2), KWARGS)
    start = time.time() + 1.5  # every worker imports first, then all start together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root), str(log), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [r[0].strip() for r in results] == ["42"] * 4, [r[1] for r in results]
    assert all(r[1] == "" for r in results)
    assert len(log.read_text().split()) == 1  # one process built, the others loaded its entry
    (entry,) = cache.list_entries(str(root))
    assert entry.valid
    assert os.listdir(root / "tmp") == []


def test_clear_removes_entries_and_loaded_modules_keep_working(tmp_path):
    root = tmp_path / "cd"
    m = load(root, 1)
    load(root, 2)
    assert len(cache.list_entries(str(root))) == 2
    assert cache.clear(str(root)) == 2
    assert cache.list_entries(str(root)) == [] and cache.total_size(str(root)) == 0
    assert m.lib.add_k(1) == 2
    b = Counting()
    assert load(root, 1, b).lib.add_k(1) == 2 and b.calls == 1


def test_default_directory_is_the_compiledir_flag(tmp_path):
    from labsym.config import config

    with config.change_flags(compiledir=str(tmp_path / "flagdir")):
        assert cache.cache_dir() == str(tmp_path / "flagdir")
    with config.change_flags(base_compiledir=str(tmp_path / "base"), compiledir=""):
        path = cache.cache_dir()
    assert path.startswith(str(tmp_path / "base" / "compiledir_"))
    assert os.stat(path).st_mode & 0o777 == 0o700


def test_the_builder_sees_the_build_options(tmp_path):
    seen = {}

    def spy(name, cdef, src, kwargs, workdir):
        seen.update(kwargs)
        return cache.gcc_build(name, cdef, src, kwargs, workdir)

    kw = {"extra_compile_args": ["-O1"], "define_macros": [("K_EXTRA", "5")]}
    src = "int add_k(int x) { return x + K_EXTRA; }"
    m = cache.load_or_build("macro", CDEF, src, kw, spy, str(tmp_path / "cd"))
    assert m.lib.add_k(1) == 6 and seen["define_macros"] == [("K_EXTRA", "5")]


def test_compiler_command_with_arguments_and_a_missing_compiler(tmp_path):
    kw = {"compiler": "gcc -DK_EXTRA=4"}
    src = "int add_k(int x) { return x + K_EXTRA; }"
    assert cache.load_or_build("cmd", CDEF, src, kw, compiledir=str(tmp_path)).lib.add_k(1) == 5
    with pytest.raises(cache.CCompileError, match="not found on PATH"):
        cache.load_or_build("cmd", CDEF, src, {"compiler": "no-such-cc"}, compiledir=str(tmp_path))


def test_a_dead_builders_temporary_directory_is_removed(tmp_path):
    root = tmp_path / "cd"
    key = cache.cache_key(CDEF, source(6), KWARGS, "gcc")
    stale = root / "tmp" / (cache.ENTRY_PREFIX + key[:24] + "-dead")
    stale.mkdir(parents=True)
    (stale / "half.c").write_text("int")
    other = root / "tmp" / "lsc_someone_else-alive"
    other.mkdir()
    assert load(root, 6).lib.add_k(1) == 7
    assert not stale.exists() and other.exists()


def test_a_released_lock_is_free_although_a_forked_child_holds_its_fd(tmp_path):
    import signal

    path = str(tmp_path / "entry.lock")
    with cache._flock(path, True, 1.0, "build"):
        pid = os.fork()
        if pid == 0:  # keeps its copy of the locked descriptor open, never releases it
            time.sleep(30)
            os._exit(0)
    try:
        with cache._flock(path, True, 0.5, "build again"):  # CacheLockTimeout if still held
            pass
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
