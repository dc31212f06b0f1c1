"""Theano's `theano.compile.mode` names: Mode, get_mode and get_default_mode.

Facade: re-exports only.
"""

from labsym.backends.registry import theano_linker_table
from labsym.compile import _PREDEFINED, Mode, get_default_mode, get_mode
from labsym.optim.phases import OPTIMIZERS, rewriter_for

# Theano's tables of mode, linker and optimizer names, with labsym's objects as values
predefined_modes = {name: get_mode(name) for name in _PREDEFINED}
predefined_linkers = theano_linker_table()
predefined_optimizers = {None: rewriter_for(None)} | {
    name: rewriter_for(name) for name in OPTIMIZERS
}

__all__ = [
    "Mode",
    "get_default_mode",
    "get_mode",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
]
