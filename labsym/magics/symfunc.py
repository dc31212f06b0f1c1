"""`%%symfunc`: a cell that declares typed inputs, builds expressions and binds a compiled function.

The cache: a session keeps every compiled cell keyed by (header line, body text, every config
flag's value); an entry is reused only while each global name the body (or a default, or the
output expressions) reads still refers to the same object -- shared variables and Modes by
identity and type, plain numbers and strings by value -- so a hit skips the body entirely.
May import IPython, labsym.config, labsym.core, labsym.compile and labsym.viz.
"""

from __future__ import annotations

import contextlib
import dis
import os
import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from IPython.core.error import UsageError

from labsym.compile import In, Mode, Out, function, get_mode
from labsym.config import config
from labsym.core.constructors import CONSTRUCTORS
from labsym.core.exceptions import MissingInputError
from labsym.core.function import Function, UnusedInputError
from labsym.core.graph import Variable
from labsym.core.io import Mode as BaseMode
from labsym.magics.signature import Header, Param, parse_header

_MISSING = object()
_LABSYM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# values compared by equality in the cache check; everything else by identity
_BY_VALUE = (int, float, complex, str, bytes, bool, type(None))


@dataclass
class CachedCell:
    """One compiled cell: the function, what the body read and bound, and its shown output."""

    function: Function
    reads: tuple[tuple[str, Any, Any], ...]  # (name, object, its type if a Variable)
    bound: dict[str, Any]
    shown: dict[str, dict] = field(default_factory=dict)  # --show choice -> mime bundle

    def still_valid(self, user_ns: dict) -> bool:
        """Whether every global the cell read still names the same thing."""
        for name, obj, var_type in self.reads:
            now = user_ns.get(name, _MISSING)
            if now is obj:
                if var_type is not None and now.type != var_type:
                    return False
            elif not (type(now) is type(obj) and isinstance(obj, _BY_VALUE) and now == obj):
                return False
        return True


class CompileCache:
    """The compiled `%%symfunc` cells of one IPython session, most recent last (bounded LRU)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple, CachedCell] = OrderedDict()

    @staticmethod
    def key(line: str, cell: str) -> tuple:
        """Cell text plus every flag value (floatX decides `matrix`'s dtype, mode the rewrites)."""
        # config's public getters cost ~1 ms for all flags; the value table itself costs ~4 us
        return (line, cell, tuple(config._values.values()))

    def lookup(self, key: tuple, user_ns: dict) -> CachedCell | None:
        """The entry for `key` if the globals it read are unchanged; counts hits and misses."""
        entry = self._entries.get(key)
        if entry is not None and entry.still_valid(user_ns):
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        self.misses += 1
        return None

    def store(self, key: tuple, entry: CachedCell) -> None:
        """Keep `entry`, dropping the least recently used one beyond `size`."""
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every compiled cell and reset the hit/miss counts."""
        self._entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def run_symfunc(shell: Any, cache: CompileCache, line: str, cell: str) -> Function:
    """Compile (or reuse) the cell's function, bind it in the user namespace and show it."""
    header = parse_header(line)
    user_ns = shell.user_ns
    key = cache.key(line, cell)
    entry = cache.lookup(key, user_ns)
    if entry is None:
        entry = _compile_cell(shell, header, line, cell)
        cache.store(key, entry)
    else:
        user_ns.update(entry.bound)
    user_ns[header.name] = entry.function
    _show(entry, header.options.show)
    return entry.function


def _compile_cell(shell: Any, header: Header, line: str, cell: str) -> CachedCell:
    user_ns = shell.user_ns
    filename = shell.compile.cache(f"%%symfunc {line}\n{cell}", _cell_number(shell))
    # a leading newline keeps body line numbers equal to cell line numbers (line 1 is the header)
    body = _compile_user(shell, "\n" + shell.transform_cell(cell), filename, "exec")
    outputs = _compile_user(shell, header.outputs, filename, "eval")
    defaults = {
        p.name: _compile_user(shell, p.default, filename, "eval")
        for p in header.params
        if p.default
    }
    stored, read = _names_used(body)
    params = {p.name for p in header.params}
    for name in header.output_names:
        if name not in stored | params:  # an earlier cell's variable would compile stale graphs
            raise _undefined_output(name, header)
    for code in [outputs, *defaults.values()]:
        read |= _names_used(code)[1]
    read -= stored | params
    if header.options.mode and header.options.mode.isidentifier():
        read.add(header.options.mode)  # --mode may name a Mode object in the notebook
    reads = tuple(_read_record(name, user_ns) for name in sorted(read))
    before = {name: user_ns.get(name, _MISSING) for name in stored | params}
    with _cell_flags(header):
        inputs = _make_inputs(header.params, defaults, user_ns)
        _run_user(shell, body, user_ns, filename)
        outs = _outputs(shell, header, outputs, user_ns, filename)
        taken = {k: user_ns[k] for k in ("updates", "givens") if k in stored and k in user_ns}
        fn = _compile_function(header, inputs, outs, taken, user_ns)
    bound = {
        name: user_ns[name]
        for name in stored | params
        if name in user_ns and user_ns[name] is not before[name]
    }
    return CachedCell(fn, reads, bound)


def _cell_number(shell: Any) -> int:
    """The prompt number of the running cell (IPython counts a stored cell before running it)."""
    frame = sys._getframe(1)
    while frame is not None:
        label = shell.compile.format_code_name(frame.f_code.co_filename)
        if label is not None:  # ("Cell", "In[7]"): the cell that called the magic
            return int(label[1][3:-1])
        frame = frame.f_back
    return shell.execution_count  # called from Python code (run_cell_magic), not from a cell


def _compile_user(shell: Any, source: str, filename: str, mode: str) -> types.CodeType:
    """Compile user text under the cell's filename, with the shell's __future__ flags."""
    try:
        return compile(source, filename, mode, flags=shell.compile.flags, dont_inherit=True)
    except SyntaxError as exc:
        if mode == "eval":
            raise UsageError(f"%%symfunc: cannot read {source!r}: {exc.msg}") from None
        # a UsageError shows no traceback: the cell line is all the user needs
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        raise UsageError(
            f"%%symfunc: {type(exc).__name__} at line {exc.lineno} of the cell: {exc.msg}\n"
            f"    {(exc.text or '').rstrip()}\n    {caret}"
        ) from None


def _names_used(code: types.CodeType, top: bool = True) -> tuple[set[str], set[str]]:
    """(global names the code binds, global names it reads), nested code objects included.

    A name the cell both reads and binds counts as bound: a hit binds it again anyway.
    """
    binds = ("STORE_NAME", "DELETE_NAME") if top else ()  # class bodies bind class attributes
    stored: set[str] = set()
    read: set[str] = set()
    for ins in dis.get_instructions(code):
        if ins.opname in binds or ins.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            stored.add(ins.argval)
        elif ins.opname in ("LOAD_NAME", "LOAD_GLOBAL"):
            read.add(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # functions, lambdas, comprehensions, classes
            inner_stored, inner_read = _names_used(const, top=False)
            stored |= inner_stored
            read |= inner_read
    return stored, read


def _read_record(name: str, user_ns: dict) -> tuple[str, Any, Any]:
    obj = user_ns.get(name, _MISSING)
    return (name, obj, obj.type if isinstance(obj, Variable) else None)


@contextlib.contextmanager
def _cell_flags(header: Header) -> Iterator[None]:
    """config.change_flags for --flag (and compute_test_value when shapes are declared)."""
    flags: dict[str, Any] = {}
    if header.has_test_values and config.compute_test_value == "off":
        # 'ignore' evaluates every node whose inputs all have test values and raises on failure
        flags["compute_test_value"] = "ignore"
    if header.options.optimizer and header.options.mode is None:
        flags["optimizer"] = header.options.optimizer
    flags.update(header.options.flags)
    scope = config.change_flags(flags)
    try:
        scope.__enter__()  # validates every flag first: a bad one changes nothing
    except Exception as exc:
        raise UsageError(f"%%symfunc: {exc}") from None
    try:
        yield
    finally:
        scope.__exit__(None, None, None)


def _make_inputs(params: tuple[Param, ...], defaults: dict, user_ns: dict) -> list[Any]:
    """Create each input variable (with its test value) in the user namespace."""
    inputs: list[Any] = []
    rng = np.random.default_rng(0)
    for param in params:
        var = CONSTRUCTORS[param.type_name](param.name)
        if param.shape is not None:
            var.tag.test_value = _test_value(param, var.type, rng)
        user_ns[param.name] = var
        if param.name in defaults:
            try:
                value = eval(defaults[param.name], user_ns)  # noqa: S307 - the user's own cell
            except Exception as exc:
                raise UsageError(
                    f"%%symfunc: the default of {param.name!r} ({param.default}) failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            inputs.append(In(var, value=value))
        else:
            inputs.append(var)
    return inputs


def _test_value(param: Param, var_type: Any, rng: np.random.Generator) -> np.ndarray:
    """Random numbers for float/complex dtypes, zeros otherwise (safe as indices)."""
    assert param.shape is not None
    if len(param.shape) != var_type.ndim:
        raise UsageError(
            f"%%symfunc: {param.type_name} is {var_type.ndim}-d but the test-value shape of "
            f"{param.name!r} has {len(param.shape)} dimension(s): {list(param.shape)}"
        )
    kind = np.dtype(var_type.dtype).kind
    data = rng.standard_normal(param.shape) if kind in "fc" else np.zeros(param.shape)
    try:
        return var_type.filter(data.astype(var_type.dtype))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"%%symfunc: test value for {param.name!r}: {exc}") from None


def _run_user(shell: Any, code: types.CodeType, user_ns: dict, filename: str) -> None:
    """Run the cell body in the user namespace; a failure's traceback starts at the cell line."""
    try:
        exec(code, user_ns)  # noqa: S102 - the user's own cell
    except Exception as exc:
        _start_traceback_at(shell, exc, filename)
        raise


def _start_traceback_at(shell: Any, exc: BaseException, filename: str) -> None:
    """Have IPython show `exc`'s traceback from the cell's line on (its documented hook).

    labsym's own frames are left out of the shown traceback (the message names the node and
    the cell line); `%tb` and `%debug` still see the whole traceback.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if tb is None:
        return
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_LABSYM_DIR):
            kept.append(tb)
        tb = tb.tb_next
    shown = None
    for frame_tb in reversed(kept):
        shown = types.TracebackType(shown, frame_tb.tb_frame, frame_tb.tb_lasti, frame_tb.tb_lineno)

    def render() -> list[str]:
        return shell.InteractiveTB.structured_traceback(type(exc), exc, shown)

    exc._render_traceback_ = render  # type: ignore[attr-defined]


def _raised_in(exc: BaseException, filename: str) -> bool:
    """Whether the innermost frame of `exc`'s traceback is the cell's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename == filename


def _undefined_output(name: str, header: Header) -> UsageError:
    return UsageError(
        f"%%symfunc: output {name!r} is not defined by the cell body (outputs: -> {header.outputs})"
    )


def _outputs(shell: Any, header: Header, code: types.CodeType, user_ns: dict, filename: str) -> Any:
    try:
        value = eval(code, user_ns)  # noqa: S307 - the user's own cell
    except NameError as exc:
        if not _raised_in(exc, filename):
            _start_traceback_at(shell, exc, filename)
            raise
        raise _undefined_output(exc.name, header) from None
    except Exception as exc:
        _start_traceback_at(shell, exc, filename)
        raise
    values = list(value) if header.multiple_outputs else [value]
    for out in values:
        if not isinstance(out, (Variable, Out)):
            raise UsageError(
                f"%%symfunc: outputs must be symbolic variables; -> {header.outputs} gave a "
                f"{type(out).__name__}"
            )
    return values if header.multiple_outputs else value


def _compile_function(
    header: Header, inputs: list, outputs: Any, taken: dict, user_ns: dict
) -> Function:
    options = header.options
    try:
        return function(
            inputs,
            outputs,
            mode=_mode(options.mode, options.optimizer, user_ns),
            updates=taken.get("updates"),
            givens=taken.get("givens"),
            name=header.name,
            profile=True if options.profile else None,
        )
    except (MissingInputError, UnusedInputError) as exc:
        raise UsageError(f"%%symfunc {header.name}: {exc}") from None


def _mode(name: str | None, optimizer: str | None, user_ns: dict) -> Any:
    """--mode: a mode name or the name of a Mode in the notebook; --optimizer on top of it."""
    if name is None:
        return None  # config.mode, with --optimizer already set as the optimizer flag
    try:
        mode = get_mode(name)
    except ValueError as exc:
        mode = user_ns.get(name)
        if not isinstance(mode, BaseMode):
            raise UsageError(f"%%symfunc --mode: {exc}, or the name of a Mode object") from None
    if optimizer is None:
        return mode
    if type(mode) is not Mode:
        raise UsageError(f"%%symfunc: --optimizer cannot be combined with --mode {name}")
    try:
        return Mode(linker=mode.linker_name or mode.linker, optimizer=optimizer)
    except ValueError as exc:
        raise UsageError(f"%%symfunc --optimizer: {exc}") from None


def _show(entry: CachedCell, show: str) -> None:
    """Publish the cell's output; the bundle is built once per cache entry and choice."""
    if show == "none":
        return
    bundle = entry.shown.get(show)
    if bundle is None:
        bundle = entry.shown[show] = _bundle(entry.function, show)
    from IPython.display import publish_display_data

    publish_display_data(bundle)


def _bundle(fn: Function, show: str) -> dict:
    if show == "report":
        from labsym.viz.display import compile_report

        return compile_report(fn)
    from labsym.magics.linemagics import debugprint_bundle, graph_bundle

    return graph_bundle(fn) if show == "graph" else debugprint_bundle(fn)
