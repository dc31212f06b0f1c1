"""Tiered compile: a function answers at once on the NumPy engine, then runs its C module.

`link_tiered` links the NumPy engine's program and queues the function's C module for a build
in one background thread (one gcc at a time). The build starts at the function's second call
(a function called once, as `Variable.eval` does, is never compiled), at once when a trusted
or raw call is asked for (a hot loop), or when `wait_native(f)` asks for it. When the module
is built, the C thunks replace the NumPy statements: the Function's `__call__` is regenerated
and swapped in one attribute store, so a call already running finishes on the NumPy engine
and the next one runs C (calls handed out earlier, such as a scan's raw step call, get the C
thunks in their namespace). Results are the same either way (libmvec math within a few ulps).
The NumPy engine cannot run an op with only `c_code`, and a module in the disk cache loads in
milliseconds, so those link synchronously. A failed build warns and the function stays on
the NumPy engine, as do later functions with the same module (no second warning).
May import core, backends.python and backends.c.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from labsym.backends.c.cache import CacheLockTimeout, CCompileError, UnsafeCacheError
from labsym.backends.c.linker import bind_thunks, c_statement, load_module, mark_c_nodes
from labsym.backends.c.module import ModuleSource, NodeEntry, is_cached, render_module
from labsym.backends.python.callgen import generate_call, link_per_node
from labsym.backends.python.vm import PythonLinker
from labsym.core.graph import Apply
from labsym.core.io import CallPlan
from labsym.core.op import c_code_only_message

_FAILED: set[str] = set()  # modules whose build failed in this process: not tried again


def needs_sync(
    nodes: Sequence[Apply], entries: dict[int, NodeEntry], code: ModuleSource | None = None
) -> bool:
    """True if the function must not start on the NumPy engine (or need not)."""
    if any(c_code_only_message(node.op) is not None for node in nodes):
        return True
    return is_cached(list(entries.values()), code=code)


class TieredProgram:
    """A program whose calls run the NumPy engine until its C module is built, then C."""

    def __init__(
        self,
        fgraph: Any,
        plan: CallPlan,
        nodes: Sequence[Apply],
        entries: dict[int, NodeEntry],
        code: ModuleSource,
    ) -> None:
        self.plan = plan
        self.nodes = list(nodes)
        self.entries = entries
        self.code = code
        link_per_node(PythonLinker(), fgraph, plan)
        self.numpy_codes = list(plan.node_codes)
        self.native = False  # True once the C thunks are in
        self.error: BaseException | None = None  # why the build failed, if it did
        self.ready = threading.Event()  # set when the build finished (or failed)
        self._lock = threading.Lock()
        self._started = False
        self._calls: list[weakref.ref] = []
        self._function: weakref.ref | None = None
        self._function_calls: list[weakref.ref] = []  # swapped whole, never patched mid-call

    def make_call(self, trusted: bool = False, raw: bool = False) -> Callable[..., Any]:
        """A `__call__` of the current tier; a trusted or raw call starts the build (hot loop)."""
        with self._lock:
            call = generate_call(self.plan, trusted=trusted, raw=raw)
            if not self.native:
                self._calls.append(weakref.ref(call))
        if trusted or raw:
            self.start()
        return call

    def attach(self, function: Any) -> None:
        """Called by function() with the Function: its second call starts the build."""
        self._function = weakref.ref(function)
        cls = type(function)
        numpy_call = cls.__call__
        self._function_calls.append(weakref.ref(numpy_call))
        program = self

        def step(current: Any, following: Any) -> None:
            with program._lock:  # never over the C call _swap installs under the same lock
                if cls.__call__ is current and not program.native:
                    cls.__call__ = following

        def second_call(fn_self: Any, *args: Any, **kwargs: Any) -> Any:
            step(second_call, numpy_call)
            program.start()
            return numpy_call(fn_self, *args, **kwargs)

        def first_call(fn_self: Any, *args: Any, **kwargs: Any) -> Any:
            step(first_call, second_call)
            return numpy_call(fn_self, *args, **kwargs)

        for wrapper in (first_call, second_call):
            wrapper.__labsym_source__ = numpy_call.__labsym_source__  # type: ignore[attr-defined]
        cls.__call__ = first_call

    def start(self) -> None:
        """Queue the C module's build (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        _submit(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Start the build if needed and wait for it; True if the function now runs C code."""
        self.start()
        self.ready.wait(timeout)
        return self.native

    def build(self) -> None:
        """Build the module and swap the C thunks in (run by the background worker).

        `ready` is set however this ends, so `wait_native` never hangs on a failed build.
        """
        try:
            self._build()
        except Exception as exc:  # the NumPy engine keeps running it
            self.error = exc
            warnings.warn(
                "labsym: a function's C module failed to build, so it keeps running on the "
                f"NumPy engine ({type(exc).__name__}: {str(exc)[:2000]})",
                stacklevel=1,
            )
        finally:
            self.ready.set()

    def _build(self) -> None:
        digest = self.code.digest
        if digest in _FAILED:  # failed for a function linked earlier: warned already
            self.error = RuntimeError("this C module failed to build earlier in this process")
            return
        start = time.perf_counter()
        try:
            lib = load_module(self.entries, self.nodes, self.code)
        except (CCompileError, CacheLockTimeout, UnsafeCacheError):
            _FAILED.add(digest)  # the source or the cache is wrong: not retried in this process
            raise
        except OSError as exc:
            if exc.errno not in _TRANSIENT:
                raise
            # starting the compiler can fail transiently (EAGAIN, EFAULT, ENOMEM): once more
            lib = load_module(self.entries, self.nodes, self.code)
        seconds = time.perf_counter() - start
        self._swap(lib, seconds)

    def _swap(self, lib: Any, seconds: float) -> None:
        thunks = bind_thunks(lib, self.entries, self.nodes, self.plan.profile)
        # calls generated before time each statement in Python: their thunks must not add more
        untimed = (
            thunks if self.plan.profile is None else bind_thunks(lib, self.entries, self.nodes)
        )
        with self._lock:
            self.plan.node_codes = [
                c_statement(self.nodes[i], i, thunks[i]) if i in thunks else code
                for i, code in enumerate(self.numpy_codes)
            ]
            mark_c_nodes(self.plan, list(thunks), seconds)
            namespace = {f"_f{i}": thunk for i, thunk in untimed.items()}
            function = self._function() if self._function is not None else None
            whole = {ref() for ref in self._function_calls}
            if function is not None:
                whole.add(type(function).__call__)
            for ref in self._calls:
                call = ref()
                if call is not None and call not in whole:
                    call.__globals__.update(namespace)  # one dict update: atomic under the GIL
            self._calls = []
            if function is not None:
                cls = type(function)
                trusted = getattr(cls.__call__, "__labsym_trusted__", False)
                call = generate_call(self.plan, trusted=trusted)
                call.__labsym_trusted__ = trusted  # type: ignore[attr-defined]
                cls.__call__ = call
            self.native = True


def link_tiered(
    linker: Any, fgraph: Any, plan: CallPlan, nodes: Sequence[Apply], entries: dict[int, NodeEntry]
) -> Any:
    """The tiered program for a graph with C kernels, or the synchronous C link when needed."""
    code = render_module(list(entries.values()))  # once: hashed, looked up and built
    if needs_sync(nodes, entries, code):
        return linker.link_now(fgraph, plan, nodes, entries, code)
    if code.digest in _FAILED:  # warned once already: stay on the NumPy engine
        return link_per_node(PythonLinker(), fgraph, plan)
    return TieredProgram(fgraph, plan, nodes, entries, code)


def wait_native(function: Any, timeout: float | None = None) -> bool:
    """Build a function's C module now if it is tiered; True if it runs C code afterwards."""
    program = getattr(function, "_program", None)
    if isinstance(program, TieredProgram):
        return program.wait(timeout)
    return bool(getattr(program, "native", False))


_TRANSIENT = (errno.EAGAIN, errno.EFAULT, errno.ENOMEM)
_QUEUE: queue.Queue = queue.Queue()
_WORKER: list[threading.Thread] = []
_WORKER_LOCK = threading.Lock()
_PENDING: weakref.WeakSet = weakref.WeakSet()  # submitted programs not built yet


def _submit(program: TieredProgram) -> None:
    """Queue a program for the worker (a weak reference: a dead function is not built)."""
    _PENDING.add(program)
    _QUEUE.put(weakref.ref(program))
    with _WORKER_LOCK:
        if not _WORKER or not _WORKER[-1].is_alive():  # none yet, or a fork's child
            worker = threading.Thread(target=_work, name="labsym-c-build", daemon=True)
            _WORKER[:] = [worker]
            worker.start()


def _work() -> None:
    while True:
        ref = _QUEUE.get()
        program = ref()
        if program is not None:
            program.build()  # never raises: a failure is warned and leaves the NumPy tier
            _PENDING.discard(program)
        del program


def _after_fork_in_child() -> None:
    """Fresh locks and queue in a forked child, and its own build of every pending program.

    The parent's worker does not exist in the child: a lock it held (the queue's, a
    program's) would stay held forever, and the builds it had queued would never end.
    """
    global _QUEUE, _WORKER_LOCK
    _QUEUE = queue.Queue()
    _WORKER_LOCK = threading.Lock()
    _WORKER.clear()
    for program in list(_PENDING):
        if program.ready.is_set():
            continue
        program._lock = threading.Lock()
        program.ready = threading.Event()
        _submit(program)


os.register_at_fork(after_in_child=_after_fork_in_child)
