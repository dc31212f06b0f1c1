"""Configuration flags for labsym (Theano's ``theano.config``): defaults, rc files, env vars.

This module imports nothing from labsym, only the standard library.
"""

from __future__ import annotations

import configparser
import difflib
import functools
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Config", "ConfigError", "UnknownFlagError", "config"]


class ConfigError(ValueError):
    """A flag was given a bad value, or a flag source could not be read."""


class UnknownFlagError(ConfigError, AttributeError):
    """A flag name that labsym does not know; also an AttributeError so getattr() works."""


_DEVICE_RE = re.compile(r"(cpu|cuda\d*|gpu\d*)")


def _to_bool(value: Any) -> bool:
    """Parse True/False, 1/0 and the strings true/false/1/0/yes/no (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes", "false", "0", "no"):
            return low in ("true", "1", "yes")
    raise ValueError(value)


def _to_device(value: Any) -> str:
    """Accept 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' and keep the string as given."""
    if isinstance(value, str) and _DEVICE_RE.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(value)


def _to_nonneg_int(value: Any) -> int:
    """Accept an int >= 0 (not a bool), or a string spelling one."""
    result = int(value.strip()) if isinstance(value, str) else value
    if type(result) is not int or result < 0:
        raise ValueError(value)
    return result


def _to_str(value: Any) -> str:
    """Accept any string."""
    if isinstance(value, str):
        return value
    raise ValueError(value)


@dataclass(frozen=True)
class _Flag:
    """One row of the flag table: name, default, allowed values or converter, doc."""

    name: str
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None
    convert: Callable[[Any], Any] | None = None
    rule: str = ""

    def parse(self, value: Any) -> Any:
        """Return the validated value, or raise ConfigError naming flag, value and choices."""
        if self.choices is not None:
            text = value.strip() if isinstance(value, str) else value
            if text in self.choices:
                return text
            valid = ", ".join(repr(c) for c in self.choices)
        else:
            try:
                return self.convert(value)  # type: ignore[misc]
            except (TypeError, ValueError):
                valid = self.rule
        raise ConfigError(f"Bad value {value!r} for config flag {self.name!r}; valid: {valid}")


_BOOL = "True, False, 'true', 'false', '1', '0', 'yes', 'no'"
_ANY = "any string"

# fmt: off
_FLAGS: tuple[_Flag, ...] = (
    _Flag("floatX", "float64", "Default float dtype for tensors built from Python floats.",
          ("float64", "float32", "float16")),
    _Flag("device", "cpu", "Device to run on; settable at runtime (Theano forbade this).",
          convert=_to_device, rule="'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' (N an integer)"),
    _Flag("mode", "FAST_RUN", "Default compilation mode for function().",
          ("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "NanGuardMode",
           "ProfileMode", "None", "o0")),
    _Flag("optimizer", "fast_run", "Default graph optimizer set.",
          ("fast_run", "fast_compile", "merge", "o0", "None", "unsafe")),
    _Flag("linker", "auto", "Default linker that turns a graph into a callable.",
          ("auto", "py", "c", "c|py", "c|py_nogc", "cvm", "cvm_nogc", "vm", "vm_nogc")),
    _Flag("compute_test_value", "off", "Evaluate test values eagerly while building graphs.",
          ("off", "ignore", "warn", "raise", "pdb")),
    _Flag("print_test_value", False, "Show test values in printed graphs and errors.",
          convert=_to_bool, rule=_BOOL),
    _Flag("exception_verbosity", "low", "How much graph detail runtime errors include.",
          ("low", "high")),
    _Flag("on_unused_input", "raise", "What function() does with inputs the graph ignores.",
          ("raise", "warn", "ignore")),
    _Flag("allow_gc", True, "Free intermediate results during a call to save memory.",
          convert=_to_bool, rule=_BOOL),
    _Flag("warn_float64", "ignore", "What to do when a float64 variable is created.",
          ("ignore", "warn", "raise", "pdb")),
    _Flag("profile", False, "Collect per-op timing profiles for compiled functions.",
          convert=_to_bool, rule=_BOOL),
    _Flag("deterministic", "default", "Prefer deterministic (possibly slower) implementations.",
          ("default", "more")),
    _Flag("cxx", "gcc", "C++ compiler command used by C linkers ('' disables C code).",
          convert=_to_str, rule=_ANY),
    _Flag("openmp", False, "Allow OpenMP parallelism in generated C code.",
          convert=_to_bool, rule=_BOOL),
    # The real default, <home>/.cache/labsym, is filled in by Config.__init__.
    _Flag("compiledir", "", "Directory that caches compiled modules.", convert=_to_str, rule=_ANY),
    _Flag("traceback__limit", 8, "Stack depth recorded where each graph node is created.",
          convert=_to_nonneg_int, rule="an integer >= 0"),
)
# fmt: on
_BY_NAME: dict[str, _Flag] = {f.name: f for f in _FLAGS}


def _unknown(name: str, where: str = "") -> UnknownFlagError:
    """Build the error for an unknown flag: close matches and the full list of flags."""
    close = [n for n in _BY_NAME if n.lower() == name.lower()]
    close += [n for n in difflib.get_close_matches(name, _BY_NAME, n=3) if n not in close]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    src = f" (in {where})" if where else ""
    msg = f"Unknown config flag {name!r}{src}.{hint} Known flags: {', '.join(_BY_NAME)}"
    return UnknownFlagError(msg)


def _parse(name: str, value: Any) -> Any:
    """Validate `value` for flag `name`, raising UnknownFlagError or ConfigError."""
    if name not in _BY_NAME:
        raise _unknown(name)
    return _BY_NAME[name].parse(value)


def _canon(name: str) -> str:
    """Map Theano's dotted flag names ('traceback.limit') to attribute names."""
    return name.strip().replace(".", "__")


def _split_flags(text: str, where: str) -> Iterator[tuple[str, str]]:
    """Yield (name, value) from a 'name=value, name2=value2' flag string."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise ConfigError(f"Malformed entry {item!r} in {where}: expected name=value")
        key, value = item.split("=", 1)
        yield _canon(key), value.strip()


class Config:
    """Theano-style flag holder: validated attributes with layered sources.

    Values come from defaults < rc files < THEANO_FLAGS < LABSYM_FLAGS < runtime assignment.
    """

    def __init__(self, home: str | None = None) -> None:
        """Build a config holding only defaults; `home` roots the default compiledir."""
        home = os.path.expanduser("~") if home is None else home
        values = {f.name: f.default for f in _FLAGS}
        values["compiledir"] = os.path.join(home, ".cache", "labsym")
        object.__setattr__(self, "_values", values)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, home: str | None = None
    ) -> Config:
        """Build a config from rc files and env vars; arguments allow isolated tests."""
        env = os.environ if environ is None else environ
        home = os.path.expanduser("~") if home is None else home
        cfg = cls(home=home)
        # Legacy Theano sources only warn about unknown flags; labsym's own sources raise.
        for rc, var, strict in ((".theanorc", "THEANORC", False), (".labsymrc", "LABSYMRC", True)):
            paths = [os.path.join(home, rc), *env.get(var, "").split(os.pathsep)]
            for path in filter(None, paths):
                cfg._load_rc(path, strict)
        for var, strict in (("THEANO_FLAGS", False), ("LABSYM_FLAGS", True)):
            for name, value in _split_flags(env.get(var, ""), var):
                cfg._set_from(name, value, var, strict)
        return cfg

    def _set_from(self, name: str, value: str, where: str, strict: bool) -> None:
        """Set one flag read from a source; unknown names raise if strict, else warn."""
        if name not in _BY_NAME:
            if strict:
                raise _unknown(name, where)
            warnings.warn(f"Ignoring unknown config flag {name!r} in {where}", stacklevel=3)
            return
        try:
            self._values[name] = _BY_NAME[name].parse(value)
        except ConfigError as err:
            raise ConfigError(f"{err} (in {where})") from None

    def _load_rc(self, path: str, strict: bool) -> None:
        """Apply an INI rc file: [global] keys are flags, [sec] key k is flag sec__k."""
        if not os.path.isfile(path):
            return
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as err:
            raise ConfigError(f"Cannot parse config file {path!r}: {err}") from None
        for section in parser.sections():
            for key, value in parser.items(section):
                name = _canon(key) if section == "global" else f"{_canon(section)}__{key}"
                self._set_from(name, value, path, strict)

    def __getattr__(self, name: str) -> Any:
        """Return a flag value; unknown names raise UnknownFlagError (an AttributeError)."""
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name) if name.startswith("_") else _unknown(name)

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate and set a flag; bad values raise ConfigError and change nothing."""
        self._values[name] = _parse(name, value)

    def __dir__(self) -> list[str]:
        """Include flag names so tab completion lists them."""
        return sorted(set(super().__dir__()) | set(_BY_NAME))

    @classmethod
    def flag_names(cls) -> tuple[str, ...]:
        """Return all flag attribute names, in table order (dotted names use '__')."""
        return tuple(_BY_NAME)

    @classmethod
    def describe(cls, name: str) -> str:
        """Return the one-line doc of a flag; accepts dotted names like 'traceback.limit'."""
        if _canon(name) not in _BY_NAME:
            raise _unknown(_canon(name))
        return _BY_NAME[_canon(name)].doc

    def change_flags(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> _ChangeFlags:
        """Return a context manager/decorator that sets flags and restores them on exit.

        Validation happens on entry and is all-or-nothing, so a bad value changes nothing.
        """
        updates = {_canon(k): v for k, v in {**(mapping or {}), **kwargs}.items()}
        return _ChangeFlags(self, updates)

    def __str__(self) -> str:
        """Return every flag as a 'name = value' line, like print(theano.config)."""
        return "\n".join(f"{name} = {value!r}" for name, value in self._values.items())

    __repr__ = __str__


class _ChangeFlags:
    """Context manager and decorator created by Config.change_flags; re-entrant."""

    def __init__(self, cfg: Config, updates: dict[str, Any]) -> None:
        self._cfg = cfg
        self._updates = updates
        self._saved: list[dict[str, Any]] = []

    def __enter__(self) -> Config:
        values = self._cfg._values
        parsed = {name: _parse(name, value) for name, value in self._updates.items()}
        self._saved.append({name: values[name] for name in parsed})
        values.update(parsed)
        return self._cfg

    def __exit__(self, *exc: object) -> None:
        self._cfg._values.update(self._saved.pop())

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate `func` so each call runs with the flags changed."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


config: Config = Config.from_environment()
