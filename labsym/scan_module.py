"""Theano's `theano.scan_module` names: scan, until, map, reduce, foldl, foldr and the Scan op.

Facade: re-exports only (with scan_checkpoints and clone, which Theano kept here too).
"""

from labsym.core.scan import (  # noqa: A004 - Theano's names
    foldl,
    foldr,
    map,
    reduce,
    scan,
    scan_checkpoints,
    until,
)
from labsym.core.scan.op import Scan
from labsym.gof.graph import clone_replace as clone

__all__ = [
    "Scan",
    "clone",
    "foldl",
    "foldr",
    "map",
    "reduce",
    "scan",
    "scan_checkpoints",
    "until",
]
