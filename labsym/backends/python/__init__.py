"""The NumPy backend: every node runs its op's NumPy implementation."""
