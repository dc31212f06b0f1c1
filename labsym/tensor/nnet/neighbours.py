"""Theano's `theano.tensor.nnet.neighbours`: images2neibs, neibs2images and the Op class.

Facade: re-exports only.
"""

from labsym.core.ops.neighbours import Images2Neibs, Neibs2Images, images2neibs, neibs2images

__all__ = ["Images2Neibs", "Neibs2Images", "images2neibs", "neibs2images"]
