"""Backends: turn FunctionGraph nodes into runnable statements (python VM, C via cffi, CUDA)."""
