"""C kernels for labsym's own ops; each module registers renderers with backends.c.kernel.register.

Each helper module is imported here so that kernel_for() sees every renderer."""

from labsym.backends.c.kernels import join, shape, subtensor  # noqa: F401 - C4: views, indexing
from labsym.backends.c.kernels import blas  # noqa: F401, E402 - C3: SciPy BLAS
