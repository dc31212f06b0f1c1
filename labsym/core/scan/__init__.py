"""The scan package: Theano's looping API (scan, map, reduce, foldl, foldr, until) and the Scan op.

May import core.graph, core.shared, core.variable, core.ops and its modules build, op, grad, utils.
"""

from labsym.core.scan.build import foldl, foldr, map, reduce, scan  # noqa: A004 - Theano's names
from labsym.core.scan.checkpoints import scan_checkpoints
from labsym.core.scan.op import Scan
from labsym.core.scan.utils import until

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "scan_checkpoints", "until"]
