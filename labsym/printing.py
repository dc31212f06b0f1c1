"""Theano's `theano.printing` names: debugprint, pp, min_informative_str, Print.

Facade: re-exports only.
"""

from labsym.core.ops.debug import Print
from labsym.viz.debugprint import debugprint
from labsym.viz.pprint import min_informative_str, pp

__all__ = ["Print", "debugprint", "min_informative_str", "pp"]
