"""Theano's `theano.tensor.signal.pool`: pool_2d, max_pool_2d_same_size and the pooling ops.

Facade: re-exports only.
"""

from labsym.core.ops.pool import (
    AveragePoolGrad,
    DownsampleFactorMaxGradGrad,
    MaxPoolGrad,
    Pool,
    max_pool_2d_same_size,
    pool_2d,
)

__all__ = [
    "AveragePoolGrad",
    "DownsampleFactorMaxGradGrad",
    "MaxPoolGrad",
    "Pool",
    "max_pool_2d_same_size",
    "pool_2d",
]
