"""The CUDA backend: kernels rendered from the scalar table, run through a Runtime."""
