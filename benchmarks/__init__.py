"""Benchmarks: labsym against hand-written NumPy and, when installed, PyTensor and JAX."""
