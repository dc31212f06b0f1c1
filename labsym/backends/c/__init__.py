"""C backend: kernels in Theano's c_code convention (rendered from the scalar table, BLAS, views,
reductions, scan loops, user c_code ops), one CPython extension module per function whose
nodes are METH_FASTCALL builtins, a private disk cache and a tiered (background) build.
Backends may import core, never compile/, viz/ or magics/."""
