"""Theano's `theano.tensor.slinalg` namespace: cholesky, solve, eigvalsh, expm, kron, block_diag.

Facade: re-exports only.
"""

from labsym.core.ops.slinalg import (
    BlockDiagonal,
    Cholesky,
    CholeskyGrad,
    Eigvalsh,
    EigvalshGrad,
    Expm,
    ExpmGrad,
    Solve,
    block_diag,
    cholesky,
    eigvalsh,
    expm,
    kron,
    solve,
    solve_lower_triangular,
    solve_symmetric,
    solve_triangular,
    solve_upper_triangular,
)

__all__ = [
    "BlockDiagonal",
    "Cholesky",
    "CholeskyGrad",
    "Eigvalsh",
    "EigvalshGrad",
    "Expm",
    "ExpmGrad",
    "Solve",
    "block_diag",
    "cholesky",
    "eigvalsh",
    "expm",
    "kron",
    "solve",
    "solve_lower_triangular",
    "solve_symmetric",
    "solve_triangular",
    "solve_upper_triangular",
]
