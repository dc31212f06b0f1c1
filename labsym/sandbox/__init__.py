"""Theano's `theano.sandbox` package: home of rng_mrg (MRG_RandomStreams).

Facade: re-exports only.
"""
