"""Linear algebra on scipy.linalg: cholesky, solve, eigvalsh, expm, block_diag, and kron.

scipy is imported inside perform, so `import labsym` stays fast. May import core.graph,
core.op, core.type, core.dtypes, core.variable and the sibling op modules (nlinalg included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import base, basic, blas
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.nlinalg import as_float_tensor, square_length
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


def _triangle(x: Variable, lower: bool, k: int = 0) -> Variable:
    """tril(x, k) (lower) or triu(x, k) of a matrix, as a mask expression."""
    rows = basic.arange(sh.axis_length(x, 0)).dimshuffle(0, "x")
    cols = basic.arange(sh.axis_length(x, 1)).dimshuffle("x", 0)
    keep = m.ge(rows + k, cols) if lower else m.ge(cols, rows + k)
    return m.switch(keep, x, 0)


def _fold_triangle(g: np.ndarray, lower: bool) -> np.ndarray:
    """A symmetric gradient folded onto the triangle a LAPACK routine reads (diagonal once)."""
    if lower:
        return np.tril(g) + np.triu(g, 1).T
    return np.triu(g) + np.tril(g, -1).T


# ---------------------------------------------------------------------------------- cholesky
class Cholesky(Op):
    """Cholesky factor of a symmetric positive-definite matrix, from its lower (or upper) triangle.

    on_error='nan' returns a matrix of NaNs instead of raising when the matrix is not SPD.
    """

    __props__ = ("lower", "on_error")

    def __init__(self, lower: bool = True, on_error: str = "raise") -> None:
        if on_error not in ("raise", "nan"):
            raise ValueError(f"Cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
        self.lower = bool(lower)
        self.on_error = on_error

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "Cholesky")
        n = square_length(x, "Cholesky")
        return Apply(self, [x], [TensorType(x.dtype, (n, n))()])

    def perform(self, node, inputs, output_storage):
        import scipy.linalg

        (x,) = inputs
        try:
            out = scipy.linalg.cholesky(x, lower=self.lower)
        except np.linalg.LinAlgError:
            if self.on_error == "raise":
                raise
            out = np.full_like(x, np.nan)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [CholeskyGrad(self.lower)(inputs[0], outputs[0], output_grads[0])]


class CholeskyGrad(base.NumpyOp):
    """Gradient of Cholesky (Murray 2016): S = L^-T Phi(L^T dL) L^-1, folded onto one triangle."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, x: Any, chol: Any, dz: Any) -> Apply:
        x, chol, dz = (as_tensor_variable(a) for a in (x, chol, dz))
        return Apply(self, [x, chol, dz], [TensorType(x.dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        import scipy.linalg

        lower, dtype = self.lower, node.outputs[0].dtype

        def cholesky_grad(x, chol, dz):
            if not lower:
                chol, dz = chol.T, dz.T
            phi = np.tril(chol.T @ dz)
            phi[np.diag_indices_from(phi)] /= 2
            inner = scipy.linalg.solve_triangular(chol.T, phi.T, lower=False).T
            s = scipy.linalg.solve_triangular(chol.T, inner, lower=False)
            sym = np.tril(s + s.T) if lower else np.triu(s + s.T)
            return np.asarray(sym - np.diag(np.diag(s)), dtype=dtype)

        return cholesky_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


# ---------------------------------------------------------------------------------- solve
_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")
_TRANSPOSED = {"lower_triangular": "upper_triangular", "upper_triangular": "lower_triangular"}


class Solve(base.NumpyOp):
    """x with A x = b (scipy.linalg.solve, or solve_triangular for a triangular A_structure)."""

    __props__ = ("A_structure", "lower")

    def __init__(self, A_structure: str = "general", lower: bool = False) -> None:  # noqa: N803
        if A_structure not in _STRUCTURES:
            raise ValueError(
                f"Solve: A_structure must be one of {_STRUCTURES}, got {A_structure!r}"
            )
        self.A_structure = A_structure
        self.lower = bool(lower)

    def make_node(self, A: Any, b: Any) -> Apply:  # noqa: N803 - the math's name
        A = as_float_tensor(A, "Solve")  # noqa: N806
        b = as_float_tensor(b, "Solve", (1, 2))
        n = square_length(A, "Solve")
        if None not in (n, b.type.shape[0]) and n != b.type.shape[0]:
            raise ValueError(f"Solve: A is {n} x {n} but b has {b.type.shape[0]} rows ({b.type})")
        dtype = dtypes.upcast(A.dtype, b.dtype)
        A, b = m.cast(A, dtype), m.cast(b, dtype)  # noqa: N806
        rows = n if n is not None else b.type.shape[0]
        return Apply(self, [A, b], [TensorType(dtype, (rows,) + b.type.shape[1:])()])

    def numpy_callable(self, node: Apply):
        import scipy.linalg

        structure, dtype = self.A_structure, node.outputs[0].dtype

        def solve(a, b):
            if structure in _TRANSPOSED:
                out = scipy.linalg.solve_triangular(a, b, lower=structure == "lower_triangular")
            else:
                out = scipy.linalg.solve(a, b)
            return np.asarray(out, dtype=dtype)

        return solve

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        # c = A^-1 b: b_bar = A^-T c_bar, A_bar = -b_bar c^T (on A's triangle if triangular)
        a, _ = inputs
        (c,), (c_bar,) = outputs, output_grads
        structure = _TRANSPOSED.get(self.A_structure, self.A_structure)
        b_bar = Solve(structure, not self.lower)(a.T, c_bar)
        a_bar = -blas.outer(b_bar, c) if c.ndim == 1 else -blas.dot(b_bar, c.T)
        if self.A_structure in _TRANSPOSED:
            a_bar = _triangle(a_bar, self.A_structure == "lower_triangular")
        return [a_bar, b_bar]


# ---------------------------------------------------------------------------------- eigvalsh
class Eigvalsh(Op):
    """Eigenvalues of a symmetric matrix a, or of the generalized problem a v = w b v (scipy)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, a: Any, b: Any = None) -> Apply:
        a = as_float_tensor(a, "Eigvalsh")
        n = square_length(a, "Eigvalsh")
        inputs = [a]
        if b is not None:
            b = as_float_tensor(b, "Eigvalsh")
            nb = square_length(b, "Eigvalsh")
            if None not in (n, nb) and n != nb:
                raise ValueError(f"Eigvalsh: a is {n} x {n} but b is {nb} x {nb}")
            dtype = dtypes.upcast(a.dtype, b.dtype)
            inputs = [m.cast(a, dtype), m.cast(b, dtype)]
            n = n if n is not None else nb
        return Apply(self, inputs, [TensorType(inputs[0].dtype, (n,))()])

    def perform(self, node, inputs, output_storage):
        import scipy.linalg

        b = inputs[1] if len(inputs) == 2 else None
        w = scipy.linalg.eigh(inputs[0], b, lower=self.lower, eigvals_only=True)
        output_storage[0][0] = np.asarray(w, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        grads = EigvalshGrad(self.lower)(*inputs, output_grads[0])
        return grads if len(inputs) == 2 else [grads]


class EigvalshGrad(Op):
    """Gradient of Eigvalsh: gA = V diag(gw) V^T, gB = -V diag(gw w) V^T, on the read triangle."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True) -> None:
        self.lower = bool(lower)

    def make_node(self, *inputs: Any) -> Apply:
        inputs = [as_tensor_variable(x) for x in inputs]
        outs = [TensorType(x.dtype, x.type.shape)() for x in inputs[:-1]]
        return Apply(self, inputs, outs)

    def perform(self, node, inputs, output_storage):
        import scipy.linalg

        *matrices, gw = inputs
        b = matrices[1] if len(matrices) == 2 else None
        w, v = scipy.linalg.eigh(matrices[0], b, lower=self.lower)
        grads = [(v * gw) @ v.T, -(v * (gw * w)) @ v.T]
        for store, g, var in zip(output_storage, grads, node.outputs, strict=False):
            store[0] = np.asarray(_fold_triangle(g, self.lower), dtype=var.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return list(input_shapes[:-1])


# ---------------------------------------------------------------------------------- expm
class Expm(base.NumpyOp):
    """Matrix exponential (scipy.linalg.expm); gradient by the Frechet derivative at A^T."""

    __props__ = ()

    def make_node(self, A: Any) -> Apply:  # noqa: N803
        A = as_float_tensor(A, "Expm")  # noqa: N806
        n = square_length(A, "Expm")
        return Apply(self, [A], [TensorType(A.dtype, (n, n))()])

    def numpy_callable(self, node: Apply):
        import scipy.linalg

        dtype = node.outputs[0].dtype

        def expm(a):
            return np.asarray(scipy.linalg.expm(a), dtype=dtype)

        return expm

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        return [ExpmGrad()(inputs[0], output_grads[0])]


class ExpmGrad(base.NumpyOp):
    """Gradient of Expm: <G, d expm(A)> = <L(A^T, G), dA>, L the Frechet derivative."""

    __props__ = ()

    def make_node(self, A: Any, gA: Any) -> Apply:  # noqa: N803
        A, gA = as_tensor_variable(A), as_tensor_variable(gA)  # noqa: N806
        return Apply(self, [A, gA], [TensorType(A.dtype, A.type.shape)()])

    def numpy_callable(self, node: Apply):
        import scipy.linalg

        dtype = node.outputs[0].dtype

        def expm_grad(a, g):
            out = scipy.linalg.expm_frechet(a.T, g, compute_expm=False)
            return np.asarray(out, dtype=dtype)

        return expm_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


# ---------------------------------------------------------------------------------- block_diag
def _running_offsets(lengths: list[Any]) -> list[Any]:
    """[0, l0, l0+l1, ...]: where each block starts, ints while every length is static."""
    offsets: list[Any] = [0]
    for length in lengths:
        last = offsets[-1]
        both_static = isinstance(last, int) and isinstance(length, int)
        offsets.append(last + length if both_static else m.add(last, length))
    return offsets


class BlockDiagonal(base.NumpyOp):
    """The matrices on the diagonal of one matrix, zeros elsewhere (scipy.linalg.block_diag)."""

    __props__ = ("n_inputs",)

    def __init__(self, n_inputs: int) -> None:
        self.n_inputs = int(n_inputs)

    def make_node(self, *matrices: Any) -> Apply:
        if len(matrices) != self.n_inputs or not matrices:
            raise TypeError(f"{self}: expected {self.n_inputs} matrices, got {len(matrices)}")
        matrices = tuple(as_tensor_variable(x) for x in matrices)
        for x in matrices:
            if x.ndim != 2:
                raise TypeError(f"BlockDiagonal: every input must be a matrix, got {x} ({x.type})")
        dtype = dtypes.upcast(*(x.dtype for x in matrices))
        matrices = tuple(m.cast(x, dtype) for x in matrices)
        sides = []
        for axis in (0, 1):
            lengths = [x.type.shape[axis] for x in matrices]
            sides.append(None if None in lengths else sum(lengths))
        return Apply(self, list(matrices), [TensorType(dtype, tuple(sides))()])

    def numpy_callable(self, node: Apply):
        dtype = node.outputs[0].dtype

        def block_diagonal(*arrays):
            rows = sum(a.shape[0] for a in arrays)
            cols = sum(a.shape[1] for a in arrays)
            out = np.zeros((rows, cols), dtype=dtype)
            r = c = 0
            for a in arrays:
                out[r : r + a.shape[0], c : c + a.shape[1]] = a
                r, c = r + a.shape[0], c + a.shape[1]
            return out

        return block_diagonal

    def infer_shape(self, fgraph, node, input_shapes):
        rows = _running_offsets([s[0] for s in input_shapes])[-1]
        cols = _running_offsets([s[1] for s in input_shapes])[-1]
        return [(rows, cols)]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        rows = _running_offsets([sh.axis_length(x, 0) for x in inputs])
        cols = _running_offsets([sh.axis_length(x, 1) for x in inputs])
        return [gz[rows[i] : rows[i + 1], cols[i] : cols[i + 1]] for i in range(len(inputs))]


# ---------------------------------------------------------------------------------- functions
def cholesky(x: Any, lower: bool = True) -> Variable:
    """Cholesky factor L (lower) or U (upper) of an SPD matrix; differentiable.

    Examples
    --------
    >>> x = dmatrix('x'); cholesky(x).eval({x: np.array([[4., 2.], [2., 2.]])})
    array([[2., 0.],
           [1., 1.]])
    """
    return Cholesky(lower)(x)


def solve(a: Any, b: Any, A_structure: str = "general", lower: bool = False) -> Variable:  # noqa: N803
    """x with a x = b (b a vector or a matrix); differentiable in a and b.

    Examples
    --------
    >>> a, b = dmatrix('a'), dvector('b')
    >>> solve(a, b).eval({a: np.array([[2., 0.], [0., 4.]]), b: np.array([2., 2.])})
    array([1. , 0.5])
    """
    return Solve(A_structure, lower)(a, b)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Variable:
    """x with a x = b for a triangular a (only its `lower` or upper triangle is read).

    Examples
    --------
    >>> a, b = dmatrix('a'), dvector('b')
    >>> solve_triangular(a, b, lower=True).eval({a: np.array([[1., 9.], [1., 1.]]),
    ...                                           b: np.array([1., 3.])})
    array([1., 2.])
    """
    return Solve("lower_triangular" if lower else "upper_triangular", lower)(a, b)


def solve_lower_triangular(a: Any, b: Any) -> Variable:
    """x with a x = b, reading a's lower triangle (Theano's name)."""
    return solve_triangular(a, b, lower=True)


def solve_upper_triangular(a: Any, b: Any) -> Variable:
    """x with a x = b, reading a's upper triangle (Theano's name)."""
    return solve_triangular(a, b, lower=False)


def solve_symmetric(a: Any, b: Any) -> Variable:
    """x with a x = b for a symmetric a (Theano's name; solved as a general system)."""
    return Solve("symmetric")(a, b)


def eigvalsh(a: Any, b: Any = None, lower: bool = True) -> Variable:
    """Ascending eigenvalues of symmetric a (or of a v = w b v, b SPD); differentiable.

    Examples
    --------
    >>> a = dmatrix('a'); eigvalsh(a).eval({a: np.array([[2., 1.], [1., 2.]])})
    array([1., 3.])
    """
    if b is None:
        return Eigvalsh(lower)(a)
    return Eigvalsh(lower)(a, b)


def expm(A: Any) -> Variable:  # noqa: N803
    """Matrix exponential; differentiable.

    Examples
    --------
    >>> a = dmatrix('a'); expm(a).eval({a: np.zeros((2, 2))})
    array([[1., 0.],
           [0., 1.]])
    """
    return Expm()(A)


def block_diag(*matrices: Any) -> Variable:
    """The matrices on the diagonal of one larger matrix; differentiable (gradient = blocks).

    Examples
    --------
    >>> a, b = dmatrix('a'), dmatrix('b'); block_diag(a, b).eval({a: np.ones((1, 1)),
    ...                                                          b: np.ones((1, 2))})
    array([[1., 0., 0.],
           [0., 1., 1.]])
    """
    return BlockDiagonal(len(matrices))(*matrices)


def kron(a: Any, b: Any) -> Variable:
    """Kronecker product (numpy.kron: the smaller ndim is padded with leading ones).

    Built from dimshuffle, multiplication and reshape, so it is differentiable.

    Examples
    --------
    >>> a, b = dmatrix('a'), dmatrix('b'); kron(a, b).eval({a: np.eye(2), b: np.ones((1, 2))})
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ndim = max(a.ndim, b.ndim)
    a, b = sh.shape_padleft(a, ndim - a.ndim), sh.shape_padleft(b, ndim - b.ndim)
    # out[(i0, j0), (i1, j1), ...] = a[i0, i1, ...] * b[j0, j1, ...]
    spread_a = a.dimshuffle([k for i in range(ndim) for k in (i, "x")])
    spread_b = b.dimshuffle([k for i in range(ndim) for k in ("x", i)])
    lengths = [base.prod_lengths([sh.axis_length(a, i), sh.axis_length(b, i)]) for i in range(ndim)]
    return sh.reshape(spread_a * spread_b, lengths) if ndim else spread_a * spread_b
