"""Op families: one module each (elemwise, math, shape, basic, subtensor, reduce, blas, nnet)."""
