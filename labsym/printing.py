"""Theano's `theano.printing` names: debugprint, pp, min_informative_str.

Facade: re-exports only.
"""

from labsym.viz.debugprint import debugprint
from labsym.viz.pprint import min_informative_str, pp

__all__ = ["debugprint", "min_informative_str", "pp"]
