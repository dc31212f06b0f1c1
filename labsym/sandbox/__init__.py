"""Theano's `theano.sandbox` package: home of rng_mrg (MRG_RandomStreams).

Facade: re-exports only.
"""

from labsym.sandbox import rng_mrg  # noqa: E402 - `theano.sandbox.rng_mrg` as an attribute

__all__ = ["rng_mrg"]
