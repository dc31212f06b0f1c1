"""Exception classes that Theano programs catch by name (theano.gof / theano.compile export them).

Imports nothing from labsym, so every layer may raise them.
"""

from __future__ import annotations


class MissingInputError(ValueError):
    """A graph needs a variable that is neither an input, a constant, a shared variable nor given.

    A `ValueError` subclass, as in Theano, so older `except ValueError` handlers still catch it.
    """


class MethodNotDefined(Exception):
    """An optional interface method (an Op's c_code, ...) is not implemented (Theano's name)."""
