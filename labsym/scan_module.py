"""Theano's `theano.scan_module` names: scan, until, map, reduce, foldl, foldr and the Scan op.

Facade: re-exports only.
"""

from labsym.core.scan import foldl, foldr, map, reduce, scan, until  # noqa: A004 - Theano's names
from labsym.core.scan.op import Scan

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "until"]
