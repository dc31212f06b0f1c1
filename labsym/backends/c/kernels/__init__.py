"""C kernels for labsym's own ops; each module registers renderers with backends.c.kernel.register.

Each helper module is imported here so that kernel_for() sees every renderer."""

from labsym.backends.c.kernels import (  # noqa: F401 - imported to register their renderers
    blas,  # C3: SciPy BLAS
    elemwise,  # C1: Elemwise/Composite loops
    join,  # C4: views, indexing (join, shape, subtensor)
    misc,  # ReductionSize, TensorDot
    nnet,  # C1: softmax family
    reduce,  # C1: CAReduce, argmax, FusedReduce
    scan,  # the step loop of a Scan whose inner graph is all C
    shape,
    subtensor,
)
