"""Theano's `theano.compile.mode` names: Mode, get_mode and get_default_mode.

Facade: re-exports only. Theano's tables of mode, linker and optimizer names (with labsym's
objects as values) are built on first use: building them makes every predefined mode, its
rewriter and its linker, which `import labsym` should not pay for.
"""

from typing import Any

from labsym.compile import _PREDEFINED, Mode, get_default_mode, get_mode

__all__ = [
    "Mode",
    "get_default_mode",
    "get_mode",
    "predefined_linkers",  # noqa: F822 - built on first use (__getattr__)
    "predefined_modes",  # noqa: F822 - built on first use (__getattr__)
    "predefined_optimizers",  # noqa: F822 - built on first use (__getattr__)
]


def _predefined_modes() -> dict:
    return {name: get_mode(name) for name in _PREDEFINED}


def _predefined_linkers() -> dict:
    from labsym.backends.registry import theano_linker_table

    return theano_linker_table()


def _predefined_optimizers() -> dict:
    from labsym.optim.phases import OPTIMIZERS, rewriter_for

    return {None: rewriter_for(None)} | {name: rewriter_for(name) for name in OPTIMIZERS}


_TABLES = {
    "predefined_modes": _predefined_modes,
    "predefined_linkers": _predefined_linkers,
    "predefined_optimizers": _predefined_optimizers,
}


def __getattr__(name: str) -> Any:
    """PEP 562: a predefined table, built once on first use."""
    if name not in _TABLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = _TABLES[name]()
    globals()[name] = table
    return table
