"""The compile cache: one directory per compiled C module under `compiledir`, safe to share.

An entry is found by a key that hashes everything its machine code depends on: the generated
source, the compiler and its version, the flags (and the CPU when they say -march=native), the
NumPy, Python and cffi versions. Code loaded from the cache runs in this process, so
compiledir and every file read from it must belong to this user and be writable by nobody else.
Builds happen in a temporary directory inside compiledir and are renamed into place (atomic);
a per-entry file lock serialises processes building the same module and a shared lock on the
directory keeps `clear` out while anyone builds. An entry records its shared object's size and
SHA-256: a truncated or altered entry, or one that fails to import, is rebuilt.

`load_or_build` is the one entry point: module.py passes its own builder (a plain CPython
extension); the default builder makes a cffi module (build.py's scalar functions). May import
config and the standard library (cffi inside the default builder).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from labsym.config import config

ENTRY_PREFIX = "lsc_"  # entry directories (compiledir also holds other files, e.g. pydotprint's)
META = "entry.json"
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
MAX_LOG_LINES = 60  # of the compiler's output in a CCompileError; compile.log keeps it all

Builder = Callable[[str, str, str, Mapping[str, Any], str], str]


class UnsafeCacheError(PermissionError):
    """compiledir or a file in it belongs to another user or is writable by others."""


class CacheLockTimeout(TimeoutError):
    """A cache lock was not acquired in time; the message names its holder."""


class CCompileError(RuntimeError):
    """The C compiler failed; the message holds its output and where the source was kept."""


# ------------------------------------------------------------------------------ safety checks
def check_private(path: str) -> None:
    """Raise UnsafeCacheError unless `path` belongs to this user and only it may write it."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeCacheError(f"{path!r} is a symbolic link; labsym loads no code through links")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UnsafeCacheError(
            f"{path!r} belongs to uid {info.st_uid}, not to this user ({os.getuid()}); labsym "
            "refuses to load code from it (set the compiledir flag to a private directory)"
        )
    if info.st_mode & 0o022:
        raise UnsafeCacheError(
            f"{path!r} is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); labsym "
            "refuses to load code from it (chmod go-w it, or set the compiledir flag)"
        )


def private_dir(path: str) -> str:
    """Create `path` (0700) if needed and check that it is private; returns it."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    check_private(path)
    return path


def cache_dir(compiledir: str | None = None) -> str:
    """The compile cache directory: `compiledir`, or the config's (created 0700, checked).

    Its parent must not let others rename it away and put their own in its place: a parent
    writable by everyone needs the sticky bit (as /tmp has).
    """
    root = os.path.realpath(os.path.expanduser(compiledir or config.compiledir))
    parent = os.stat(os.path.dirname(root)) if os.path.exists(os.path.dirname(root)) else None
    if parent is not None and parent.st_mode & 0o002 and not parent.st_mode & stat.S_ISVTX:
        raise UnsafeCacheError(
            f"{os.path.dirname(root)!r}, the parent of compiledir, is writable by everyone "
            "without the sticky bit: another user could replace the cache (set compiledir)"
        )
    return private_dir(root)


# ------------------------------------------------------------------------------ locks
def _holder_text(paths: list[str]) -> str:
    """Who holds the locks at `paths`, from the lines their holders wrote into them."""
    found = []
    for p in paths:
        with contextlib.suppress(OSError), open(p) as f:
            text = f.read().strip()
            if text:
                found.append(text)
    return "; ".join(found) or "an unknown process (it wrote no lock information)"


@contextlib.contextmanager
def _flock(
    path: str, exclusive: bool, timeout: float, what: str, sharers: Callable[[], list[str]] = list
) -> Iterator[None]:
    """Hold an flock on `path`; raise CacheLockTimeout naming the holder after `timeout` s.

    An exclusive holder writes `pid, host, since, what` into the file and empties it on release
    (the kernel releases the lock itself if the process dies). `sharers()` lists the files
    where shared holders wrote who they are.
    """
    import fcntl  # POSIX only: imported when a build or a clear needs the lock
    import socket

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        check_private(path)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline, delay = time.monotonic() + timeout, 0.002
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CacheLockTimeout(
                        f"could not lock {path!r} within {timeout:g} s to {what}: held by "
                        f"{_holder_text([path, *sharers()])}"
                    ) from None
                time.sleep(delay)
                delay = min(2 * delay, 0.05)
        if exclusive:
            since = time.strftime("%Y-%m-%d %H:%M:%S")
            info = f"pid {os.getpid()} on {socket.gethostname()} since {since} ({what})\n"
            os.ftruncate(fd, 0)
            os.pwrite(fd, info.encode(), 0)
        try:
            yield
        finally:
            if exclusive:
                os.ftruncate(fd, 0)
            # explicitly: a child forked meanwhile holds a copy of fd, so closing would not
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _timeout(timeout: float | None) -> float:
    return float(config.compile__timeout) if timeout is None else timeout


@contextlib.contextmanager
def directory_lock(
    root: str, exclusive: bool, what: str, timeout: float | None = None
) -> Iterator[None]:
    """The lock on the whole cache: shared while building (per-entry locks under locks/ say
    who builds), exclusive to clear it."""
    locks = os.path.join(root, "locks")

    def builders() -> list[str]:
        names = sorted(os.listdir(locks)) if os.path.isdir(locks) else []
        return [os.path.join(locks, n) for n in names]

    with _flock(os.path.join(root, ".lock"), exclusive, _timeout(timeout), what, builders):
        yield


# ------------------------------------------------------------------------------ the key
@functools.lru_cache(maxsize=8)
def compiler_identity(compiler: str) -> str:
    """The compiler command (its program resolved) and the first line of its `--version`."""
    argv = _compiler_argv(compiler)
    out = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=False)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    return f"{' '.join([os.path.realpath(argv[0]), *argv[1:]])} {first}"


def _compiler_argv(compiler: str) -> list[str]:
    """`compiler` (a command, possibly with arguments, e.g. "gcc -m64") as argv, program found."""
    argv = shlex.split(compiler)
    path = shutil.which(argv[0]) if argv else None
    if path is None:
        raise CCompileError(f"C compiler {compiler!r} not found on PATH (the cxx flag names it)")
    return [path, *argv[1:]]


@functools.lru_cache(maxsize=1)
def cpu_identity() -> str:
    """The CPU's model and feature flags (what -march=native compiles for)."""
    import platform

    fields: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            name, _, value = line.partition(":")
            name = name.strip()
            if name in ("model name", "flags", "Features", "CPU part") and name not in fields:
                fields[name] = value.strip()
            if not line.strip() and fields:
                break
    return (
        repr(sorted(fields.items())) if fields else f"{platform.machine()} {platform.processor()}"
    )


@functools.lru_cache(maxsize=1)
def _versions() -> str:
    """NumPy (release and C-API version), Python (build and extension ABI), and cffi's version
    where it is installed (it writes the wrapper of cffi-built modules). labsym's own version
    is not needed: every line of C a module holds is in its hashed source. No
    importlib.metadata: it cost ~15 ms of the first compile or cache load."""
    import numpy as np

    umath = getattr(getattr(np, "_core", np), "_multiarray_umath", None)
    c_api = umath._get_ndarray_c_version() if umath is not None else "?"
    found = [f"numpy {np.__version__} C-API {c_api}", f"python {sys.version} {EXT_SUFFIX}"]
    try:
        import _cffi_backend
    except ImportError:
        found.append("cffi absent")
    else:
        found.append(f"cffi {_cffi_backend.__version__}")
    return "; ".join(found)


def cache_key(cdef: str, source: str, build_kwargs: Mapping[str, Any], compiler: str) -> str:
    """SHA-256 (hex) of everything a module's machine code depends on."""
    flags = [str(a) for a in build_kwargs.get("extra_compile_args", ())]
    parts = {
        "cdef": cdef,
        "source": source,
        "build": sorted((k, repr(v)) for k, v in build_kwargs.items()),
        "compiler": compiler_identity(compiler),
        "versions": _versions(),
        "cpu": cpu_identity()
        if any(f.startswith(("-march=native", "-mcpu=native", "-mtune=native")) for f in flags)
        else "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------ the builder
def gcc_build(
    module_name: str, cdef: str, source: str, build_kwargs: Mapping[str, Any], workdir: str
) -> str:
    """Default builder: cffi writes the module's C file, the compiler makes the shared object.

    The compiler's output is captured: a successful build prints nothing, a failed one raises
    CCompileError with the compiler's message. build_kwargs: include_dirs, define_macros
    ((name, value) pairs), extra_compile_args, libraries, library_dirs, extra_link_args,
    compiler (default: the cxx flag).
    """
    from cffi import FFI
    from cffi.recompiler import recompile

    ffi = FFI()
    ffi.cdef(cdef)
    c_path = os.path.join(workdir, module_name + ".c")
    # ffi.emit_c_code would print "generating ..."; compiler_verbose=0 keeps a build silent
    recompile(
        ffi,
        module_name,
        source,
        c_file=c_path,
        call_c_compiler=False,
        uses_ffiplatform=False,
        compiler_verbose=0,
    )
    return compile_shared(module_name, c_path, build_kwargs, workdir)


def compile_shared(
    module_name: str, c_path: str, build_kwargs: Mapping[str, Any], workdir: str
) -> str:
    """Compile the C file `c_path` into `<workdir>/<module_name><EXT_SUFFIX>`; returns its path.

    The compiler's output goes to compile.log; a failure raises CCompileError with it.
    `build_kwargs` as gcc_build's.
    """
    so_path = os.path.join(workdir, module_name + EXT_SUFFIX)
    includes = [*build_kwargs.get("include_dirs", ()), sysconfig.get_paths()["include"]]
    macros = [
        f"-D{n}" if v is None else f"-D{n}={v}" for n, v in build_kwargs.get("define_macros", ())
    ]
    cmd = [
        *_compiler_argv(_compiler(build_kwargs)),
        "-shared",
        "-fPIC",
        *(f"-I{d}" for d in includes),
        *macros,
        *build_kwargs.get("extra_compile_args", ()),
        c_path,
        "-o",
        so_path,
        *(f"-L{d}" for d in build_kwargs.get("library_dirs", ())),
        *(f"-l{lib}" for lib in build_kwargs.get("libraries", ())),
        *build_kwargs.get("extra_link_args", ()),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=workdir)
    log = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    with open(os.path.join(workdir, "compile.log"), "w") as f:
        f.write(log)
    if proc.returncode != 0 or not os.path.exists(so_path):
        lines = log.splitlines()
        shown = "\n".join(lines[:MAX_LOG_LINES])
        if len(lines) > MAX_LOG_LINES:
            shown += f"\n... ({len(lines) - MAX_LOG_LINES} more lines in compile.log)"
        raise CCompileError(
            f"C compilation of {module_name} failed (exit {proc.returncode}):\n{shown}"
        )
    return so_path


def _compiler(build_kwargs: Mapping[str, Any]) -> str:
    return str(build_kwargs.get("compiler") or config.cxx or "cc")


# ------------------------------------------------------------------------------ entries
@dataclass(frozen=True)
class Entry:
    """One cache entry as `python -m labsym.cache list` shows it."""

    name: str
    path: str
    key: str
    size: int  # bytes on disk, every file of the entry
    created: float  # time.time() when it was built
    hint: str  # the name_hint given by the caller
    symbols: tuple[str, ...]  # the functions the module exports
    valid: bool


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_meta(entry_dir: str, key: str | None = None) -> dict[str, Any] | None:
    """The entry's metadata if the entry is complete, intact (and for `key`), else None.

    Raises UnsafeCacheError if a file that would be loaded is not private.
    """
    meta_path = os.path.join(entry_dir, META)
    try:
        check_private(entry_dir)
        check_private(meta_path)
        with open(meta_path) as f:
            meta = json.load(f)
        if key is not None and meta["key"] != key:  # directories are named by a key prefix
            return None
        so_path = os.path.join(entry_dir, os.path.basename(meta["so"]))
        check_private(so_path)
        if os.path.getsize(so_path) != meta["size"] or _sha256(so_path) != meta["sha256"]:
            return None
    except UnsafeCacheError:
        raise
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return meta


def _import(name: str, so_path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, so_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {so_path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_LOADED: dict[tuple[str, str], ModuleType] = {}


def load_or_build(
    name_hint: str,
    cdef: str,
    source: str,
    build_kwargs: Mapping[str, Any],
    builder: Builder = gcc_build,
    compiledir: str | None = None,
    timeout: float | None = None,
) -> ModuleType:
    """The imported cffi module for (cdef, source, build_kwargs): from the cache, else built.

    `name_hint` says what the module holds (shown by `python -m labsym.cache list`).
    `build_kwargs` are the builder's options (see gcc_build) and part of the key.
    `builder(module_name, cdef, source, build_kwargs, workdir) -> path of the .so in workdir`
    compiles; its output file is moved into the cache. A failed build raises CCompileError
    naming the kept source. `compiledir` defaults to the compiledir flag, `timeout` (seconds
    to wait for a lock) to compile.timeout. Raises UnsafeCacheError for a directory or file
    another user could have written. Safe across threads and processes.
    """
    root = cache_dir(compiledir)
    key = cache_key(cdef, source, build_kwargs, _compiler(build_kwargs))
    if (root, key) in _LOADED:
        return _LOADED[(root, key)]
    name = ENTRY_PREFIX + key[:24]
    entry_dir = os.path.join(root, name)
    meta = _read_meta(entry_dir, key) if os.path.isdir(entry_dir) else None
    broken = None  # the build stamp of an intact entry that failed to import
    if meta is not None:
        try:
            module = _import(name, os.path.join(entry_dir, os.path.basename(meta["so"])))
        except (ImportError, OSError):
            broken = meta["built"]
        else:
            _LOADED[(root, key)] = module
            return module
    with directory_lock(root, False, f"build {name}", timeout):
        lock = os.path.join(private_dir(os.path.join(root, "locks")), name + ".lock")
        with _flock(lock, True, _timeout(timeout), f"build {name}"):
            meta = _read_meta(entry_dir, key) if os.path.isdir(entry_dir) else None
            if meta is None or meta["built"] == broken:
                meta = _build(root, name, key, name_hint, cdef, source, build_kwargs, builder)
            module = _import(name, os.path.join(entry_dir, os.path.basename(meta["so"])))
    _LOADED[(root, key)] = module
    return module


def is_cached(
    cdef: str, source: str, build_kwargs: Mapping[str, Any], compiledir: str | None = None
) -> bool:
    """True if load_or_build would load an intact entry without compiling (or has loaded it)."""
    root = cache_dir(compiledir)
    key = cache_key(cdef, source, build_kwargs, _compiler(build_kwargs))
    if (root, key) in _LOADED:
        return True
    entry_dir = os.path.join(root, ENTRY_PREFIX + key[:24])
    return os.path.isdir(entry_dir) and _read_meta(entry_dir, key) is not None


def _build(
    root: str,
    name: str,
    key: str,
    name_hint: str,
    cdef: str,
    source: str,
    build_kwargs: Mapping[str, Any],
    builder: Builder,
) -> dict[str, Any]:
    """Build the entry in a temporary directory and rename it into place; returns its meta."""
    import tempfile

    tmp_root = private_dir(os.path.join(root, "tmp"))
    for stale in os.listdir(
        tmp_root
    ):  # left by a builder of this entry that died: we hold its lock
        if stale.startswith(name + "-"):
            shutil.rmtree(os.path.join(tmp_root, stale), ignore_errors=True)
    work = tempfile.mkdtemp(prefix=name + "-", dir=tmp_root)
    try:
        stage = os.path.join(work, name)
        os.mkdir(stage, 0o700)
        start = time.perf_counter()
        try:
            so_built = builder(name, cdef, source, build_kwargs, stage)
        except CCompileError as err:
            kept = _keep_failed(root, name, stage)
            raise CCompileError(f"{err}\nThe source is kept in {kept}") from None
        so_name = name + EXT_SUFFIX
        if os.path.realpath(so_built) != os.path.realpath(os.path.join(stage, so_name)):
            shutil.move(so_built, os.path.join(stage, so_name))
        for f in os.listdir(stage):
            os.chmod(os.path.join(stage, f), 0o600 if not f.endswith(EXT_SUFFIX) else 0o700)
        so_path = os.path.join(stage, so_name)
        meta = {
            "key": key,
            "hint": name_hint,
            "symbols": re.findall(r"(\w+)\s*\(", cdef),
            "so": so_name,
            "size": os.path.getsize(so_path),
            "sha256": _sha256(so_path),
            "built": time.time(),
            "build_seconds": round(time.perf_counter() - start, 3),
            "pid": os.getpid(),
        }
        meta_tmp = os.path.join(stage, META + ".tmp")
        with open(meta_tmp, "w") as f:
            json.dump(meta, f, indent=1)
        os.chmod(meta_tmp, 0o600)
        os.replace(meta_tmp, os.path.join(stage, META))
        entry_dir = os.path.join(root, name)
        if os.path.lexists(entry_dir):  # a corrupt entry: out of the way first (rename is atomic)
            os.rename(entry_dir, os.path.join(work, "old"))
        os.rename(stage, entry_dir)
        return meta
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _keep_failed(root: str, name: str, stage: str) -> str:
    """Move a failed build's files to compiledir/failed/<name> and return that path."""
    kept = os.path.join(private_dir(os.path.join(root, "failed")), name)
    shutil.rmtree(kept, ignore_errors=True)
    shutil.move(stage, kept)
    return kept


# ------------------------------------------------------------------------------ maintenance
def _tree_size(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def list_entries(compiledir: str | None = None) -> list[Entry]:
    """Every entry in the cache, oldest first (entries that fail their checks are invalid)."""
    root = cache_dir(compiledir)
    found = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not name.startswith(ENTRY_PREFIX) or not os.path.isdir(path):
            continue
        try:
            meta = _read_meta(path)
        except UnsafeCacheError:
            meta = None
        raw: dict[str, Any] = meta or {}
        created = raw.get("built", os.lstat(path).st_mtime)
        found.append(
            Entry(
                name,
                path,
                raw.get("key", "?"),
                _tree_size(path),
                created,
                raw.get("hint", "?"),
                tuple(raw.get("symbols", ())),
                meta is not None,
            )
        )
    return sorted(found, key=lambda e: e.created)


def total_size(compiledir: str | None = None) -> int:
    """Bytes used by the cache: entries, failed builds, temporary files."""
    root = cache_dir(compiledir)
    return sum(
        _tree_size(os.path.join(root, n)) if os.path.isdir(os.path.join(root, n)) else 0
        for n in os.listdir(root)
        if n.startswith(ENTRY_PREFIX) or n in ("failed", "tmp", "locks")
    )


def clear(compiledir: str | None = None, timeout: float | None = None) -> int:
    """Remove every entry, failed build and temporary file under the exclusive lock; returns
    the number of entries removed. Modules already imported keep working."""
    root = cache_dir(compiledir)
    removed = 0
    with directory_lock(root, True, "clear the cache", timeout):
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if name.startswith(ENTRY_PREFIX) and os.path.isdir(path):
                shutil.rmtree(path)
                removed += 1
            elif name in ("failed", "tmp", "locks"):
                shutil.rmtree(path, ignore_errors=True)
    _LOADED.clear()
    return removed
