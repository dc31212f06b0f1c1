"""Theano's `theano.sandbox.rng_mrg`: MRG_RandomStreams, the MRG31k3p random streams.

Facade: re-exports only.
"""

from labsym.core.ops.mrg_streams import MRG_RandomStreams, guess_n_streams

__all__ = ["MRG_RandomStreams", "guess_n_streams"]
