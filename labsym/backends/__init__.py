"""Backends: turn FunctionGraph nodes into runnable code (NumPy engine, C modules, CUDA)."""
