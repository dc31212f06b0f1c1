"""Linear algebra on numpy.linalg: inverse, pinv, det, eig, eigh, svd, qr, lstsq and diagonals.

Plus expressions over them (trace, norm, matrix_power, matrix_dot). May import core.graph,
core.op, core.type, core.dtypes, core.variable and the sibling op modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import base, basic, blas, reduce, subtensor
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

Length = int | Variable  # a static length or a symbolic int scalar


# ---------------------------------------------------------------------------------- helpers
def linalg_dtype(dtype: str, who: str) -> str:
    """The float dtype LAPACK computes an input of `dtype` in (ints -> float64, float16 -> 32)."""
    if dtype in dtypes.COMPLEX_DTYPES:
        raise TypeError(f"{who}: complex inputs are not supported, got dtype {dtype}")
    out = dtypes.upgrade_to_float(dtype)
    return "float32" if out == "float16" else out


def as_float_tensor(x: Any, who: str, ndims: tuple[int, ...] = (2,)) -> Variable:
    """`x` as a float tensor of one of the allowed `ndims`, or a TypeError naming the op."""
    x = as_tensor_variable(x)
    if x.ndim not in ndims:
        wanted = " or ".join(f"{n}-d" for n in ndims)
        raise TypeError(f"{who}: expected a {wanted} tensor, got {x} ({x.type})")
    return m.cast(x, linalg_dtype(x.dtype, who))


def square_length(x: Variable, who: str) -> int | None:
    """The static side of a square matrix (None if unknown); ValueError if it is not square."""
    rows, cols = x.type.shape
    if rows is not None and cols is not None and rows != cols:
        raise ValueError(f"{who}: expected a square matrix, got {x} with shape ({rows}, {cols})")
    return rows if rows is not None else cols


def min_length(a: Length, b: Length) -> Length:
    """min(a, b) of two lengths: an int when both are static."""
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return m.minimum(a, b)


def _static_min(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else min(a, b)


class _LinalgOp(base.NumpyOp):
    """A single-output op computed by one NumPy function of its inputs, cast to the output dtype."""

    def numpy_function(self) -> Any:
        raise NotImplementedError

    def numpy_callable(self, node: Apply):
        fn, dtype = self.numpy_function(), np.dtype(node.outputs[0].dtype)

        def compute(*arrays):
            return np.asarray(fn(*arrays), dtype=dtype)

        return compute


# ---------------------------------------------------------------------------------- inverse
class MatrixInverse(_LinalgOp):
    """Inverse of a square matrix (numpy.linalg.inv); gradient -A^-T gz A^-T."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "MatrixInverse")
        n = square_length(x, "MatrixInverse")
        return Apply(self, [x], [TensorType(x.dtype, (n, n))()])

    def numpy_function(self):
        return np.linalg.inv

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        # d(A^-1) = -A^-1 dA A^-1  ->  gA = -A^-T gz A^-T
        xi_t = outputs[0].T
        return [-blas.dot(blas.dot(xi_t, output_grads[0]), xi_t)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        xi = self(inputs[0])
        return [-blas.dot(blas.dot(xi, eval_points[0]), xi)]


class MatrixPinv(_LinalgOp):
    """Moore-Penrose pseudo-inverse (numpy.linalg.pinv); differentiable where rank is constant."""

    __props__ = ("hermitian",)

    def __init__(self, hermitian: bool = False) -> None:
        self.hermitian = bool(hermitian)

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "MatrixPinv")
        rows, cols = x.type.shape
        return Apply(self, [x], [TensorType(x.dtype, (cols, rows))()])

    def numpy_function(self):
        hermitian = self.hermitian

        def pinv(x):
            return np.linalg.pinv(x, hermitian=hermitian)

        return pinv

    def infer_shape(self, fgraph, node, input_shapes):
        rows, cols = input_shapes[0]
        return [(cols, rows)]

    def L_op(self, inputs, outputs, output_grads):
        # Golub & Pereyra: dZ = -Z dA Z + Z Z^T dA^T (I - A Z) + (I - Z A) dA^T Z^T Z, Z = A+
        (a,), (z,), (g,) = inputs, outputs, output_grads
        dot = blas.dot
        left = dot(dot(g.T, z), z.T)  # G^T Z Z^T, then (I - A Z) applied on the left
        right = dot(dot(z.T, z), g.T)  # Z^T Z G^T, then (I - Z A) applied on the right
        term1 = -dot(dot(z.T, g), z.T)
        term2 = left - dot(a, dot(z, left))
        term3 = right - dot(dot(right, z), a)
        return [term1 + term2 + term3]


# ---------------------------------------------------------------------------------- det
class Det(_LinalgOp):
    """Determinant of a square matrix; gradient gz * det(A) * A^-T."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "Det")
        square_length(x, "Det")
        return Apply(self, [x], [TensorType(x.dtype, ())()])

    def numpy_function(self):
        return np.linalg.det

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0] * MatrixInverse()(inputs[0]).T]


# ---------------------------------------------------------------------------------- eigen
class _Eigendecomposition(Op):
    """An op giving eigenvalues w (n,) and eigenvectors v (n, n) of a square matrix.

    Subclasses define make_node (the dtype of w and v) and `decompose(a) -> (w, v)` by NumPy.
    """

    decompose: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

    def perform(self, node, inputs, output_storage):
        w, v = self.decompose(inputs[0])
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.asarray(w, dtype=dtype)
        output_storage[1][0] = np.asarray(v, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]


class Eig(_Eigendecomposition):
    """Eigenvalues w and right eigenvectors v of a square matrix (complex: numpy.linalg.eig)."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "Eig")
        n = square_length(x, "Eig")
        cdtype = "complex64" if x.dtype == "float32" else "complex128"
        return Apply(self, [x], [TensorType(cdtype, (n,))(), TensorType(cdtype, (n, n))()])

    def decompose(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.linalg.eig(a)


class Eigh(_Eigendecomposition):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix from one triangle (UPLO)."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:  # noqa: N803 - numpy's and Theano's name
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "Eigh")
        n = square_length(x, "Eigh")
        return Apply(self, [x], [TensorType(x.dtype, (n,))(), TensorType(x.dtype, (n, n))()])

    def decompose(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.linalg.eigh(a, self.UPLO)

    def L_op(self, inputs, outputs, output_grads):
        w, v = outputs
        return [EighGrad(self.UPLO)(inputs[0], w, v, *output_grads)]


class EighGrad(_LinalgOp):
    """Gradient of Eigh: V (diag(gw) + (F * V^T gV)^T) V^T folded onto the triangle Eigh reads."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L") -> None:  # noqa: N803
        self.UPLO = UPLO

    def make_node(self, x: Any, w: Any, v: Any, gw: Any, gv: Any) -> Apply:
        x, w, v, gw, gv = (as_tensor_variable(a) for a in (x, w, v, gw, gv))
        return Apply(self, [x, w, v, gw, gv], [TensorType(x.dtype, x.type.shape)()])

    def numpy_function(self):
        lower = self.UPLO == "L"

        def eigh_grad(x, w, v, gw, gv):
            diff = w[np.newaxis, :] - w[:, np.newaxis]  # diff[m, n] = w[n] - w[m]
            with np.errstate(divide="ignore"):
                f = np.where(np.eye(len(w), dtype=bool), 0.0, 1.0 / diff)
            coeff = (v.T @ gv) * f
            g = v @ (np.diag(gw) + coeff.T) @ v.T
            # eigh reads one triangle only: fold the symmetric gradient onto it
            return np.tril(g) + np.triu(g, 1).T if lower else np.triu(g) + np.tril(g, -1).T

        return eigh_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


# ---------------------------------------------------------------------------------- svd, qr
class SVD(Op):
    """Singular value decomposition (numpy.linalg.svd): u, s, vt, or s alone (compute_uv=False)."""

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True) -> None:
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "SVD")
        rows, cols = x.type.shape
        k = _static_min(rows, cols)
        s = TensorType(x.dtype, (k,))()
        if not self.compute_uv:
            return Apply(self, [x], [s])
        u_cols, vt_rows = (rows, cols) if self.full_matrices else (k, k)
        u = TensorType(x.dtype, (rows, u_cols))()
        vt = TensorType(x.dtype, (vt_rows, cols))()
        return Apply(self, [x], [u, s, vt])

    def perform(self, node, inputs, output_storage):
        out = np.linalg.svd(inputs[0], self.full_matrices, self.compute_uv)
        values = out if self.compute_uv else [out]
        for store, value, var in zip(output_storage, values, node.outputs, strict=True):
            store[0] = np.asarray(value, dtype=var.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        rows, cols = input_shapes[0]
        k = min_length(rows, cols)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(rows, rows), (k,), (cols, cols)]
        return [(rows, k), (k,), (k, cols)]

    def L_op(self, inputs, outputs, output_grads):
        if self.compute_uv:
            raise NotImplementedError("SVD with compute_uv=True has no gradient (as in Theano)")
        # ds = diag(U^T dA V)  ->  gA = U diag(gs) V^T, with the thin factors
        u, _, vt = SVD(full_matrices=False)(inputs[0])
        return [blas.dot(u * output_grads[0].dimshuffle("x", 0), vt)]


class QRFull(Op):
    """QR decomposition (numpy.linalg.qr) in mode 'reduced', 'complete', 'r' or 'raw'."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "reduced") -> None:
        if mode not in ("reduced", "complete", "r", "raw"):
            raise ValueError(f"QRFull: mode must be reduced, complete, r or raw, got {mode!r}")
        self.mode = mode

    def make_node(self, x: Any) -> Apply:
        x = as_float_tensor(x, "QRFull")
        rows, cols = x.type.shape
        k = _static_min(rows, cols)
        shapes = {
            "reduced": [(rows, k), (k, cols)],
            "complete": [(rows, rows), (rows, cols)],
            "r": [(k, cols)],
            "raw": [(cols, rows), (k,)],
        }[self.mode]
        return Apply(self, [x], [TensorType(x.dtype, s)() for s in shapes])

    def perform(self, node, inputs, output_storage):
        out = np.linalg.qr(inputs[0], self.mode)
        values = [out] if self.mode == "r" else list(out)
        for store, value, var in zip(output_storage, values, node.outputs, strict=True):
            store[0] = np.asarray(value, dtype=var.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        rows, cols = input_shapes[0]
        k = min_length(rows, cols)
        return {
            "reduced": [(rows, k), (k, cols)],
            "complete": [(rows, rows), (rows, cols)],
            "r": [(k, cols)],
            "raw": [(cols, rows), (k,)],
        }[self.mode]


# ---------------------------------------------------------------------------------- lstsq
class Lstsq(Op):
    """Least squares for a x = b (numpy.linalg.lstsq): x, residuals, rank, singular values."""

    __props__ = ("rcond",)

    def __init__(self, rcond: float | None = None) -> None:
        self.rcond = None if rcond is None else float(rcond)

    def make_node(self, a: Any, b: Any) -> Apply:
        a = as_float_tensor(a, "Lstsq")
        b = as_float_tensor(b, "Lstsq", (1, 2))
        if None not in (a.type.shape[0], b.type.shape[0]) and a.type.shape[0] != b.type.shape[0]:
            raise ValueError(f"Lstsq: a has {a.type.shape[0]} rows but b has {b.type.shape[0]}")
        dtype = dtypes.upcast(a.dtype, b.dtype)
        a, b = m.cast(a, dtype), m.cast(b, dtype)
        rows, cols = a.type.shape
        x_shape = (cols,) + b.type.shape[1:]
        outs = [
            TensorType(dtype, x_shape)(),
            TensorType(dtype, (None,))(),
            TensorType("int64", ())(),
            TensorType(dtype, (_static_min(rows, cols),))(),
        ]
        return Apply(self, [a, b], outs)

    def perform(self, node, inputs, output_storage):
        values = np.linalg.lstsq(inputs[0], inputs[1], rcond=self.rcond)
        for store, value, var in zip(output_storage, values, node.outputs, strict=True):
            store[0] = np.asarray(value, dtype=var.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        (rows, cols), b_shape = input_shapes
        residuals = sh.shape_i(node.outputs[1], 0)  # data-dependent: 0, 1 or b's columns
        return [(cols,) + tuple(b_shape[1:]), (residuals,), (), (min_length(rows, cols),)]


# ---------------------------------------------------------------------------------- diagonals
def _diagonal_length(n1: Length, n2: Length, offset: int) -> Length:
    """Length of diagonal `offset` of an n1 x n2 matrix."""
    rows, cols = (n1, n2 - offset) if offset >= 0 else (n1 + offset, n2)
    if isinstance(rows, int) and isinstance(cols, int):
        return max(0, min(rows, cols))
    return m.maximum(min_length(rows, cols), 0)


class ExtractDiag(Op):
    """Diagonal `offset` of the (axis1, axis2) planes, as a last axis (numpy.diagonal view)."""

    __props__ = ("offset", "axis1", "axis2")
    view_map = {0: [0]}

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> None:
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"ExtractDiag: expected a tensor of 2 or more dims, got {x} ({x.type})")
        axes = (self.axis1, self.axis2)
        if self.axis1 == self.axis2 or not all(0 <= a < x.ndim for a in axes):
            raise ValueError(f"ExtractDiag: axes {axes} are not two distinct axes of {x.type}")
        shape = x.type.shape
        n1, n2 = shape[self.axis1], shape[self.axis2]
        k = None if None in (n1, n2) else _diagonal_length(n1, n2, self.offset)
        rest = tuple(d for i, d in enumerate(shape) if i not in axes)
        return Apply(self, [x], [TensorType(x.dtype, rest + (k,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2)

    def infer_shape(self, fgraph, node, input_shapes):
        shape = input_shapes[0]
        rest = tuple(d for i, d in enumerate(shape) if i not in (self.axis1, self.axis2))
        return [rest + (_diagonal_length(shape[self.axis1], shape[self.axis2], self.offset),)]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        order = [i for i in range(x.ndim) if i not in (self.axis1, self.axis2)]
        order += [self.axis1, self.axis2]
        moved = m.zeros_like(x).dimshuffle(order)
        k = sh.axis_length(gz, gz.ndim - 1)
        positions = basic.arange(k)
        rows = positions + max(-self.offset, 0)
        cols = positions + max(self.offset, 0)
        filled = subtensor.set_subtensor(moved[..., rows, cols], gz)
        return [filled.dimshuffle([order.index(i) for i in range(x.ndim)])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]  # linear


class AllocDiag(_LinalgOp):
    """A square matrix with the vector on diagonal `offset` and zeros elsewhere (numpy.diag)."""

    __props__ = ("offset",)

    def __init__(self, offset: int = 0) -> None:
        self.offset = int(offset)

    def make_node(self, v: Any) -> Apply:
        v = as_tensor_variable(v)
        if v.ndim != 1:
            raise TypeError(f"AllocDiag: expected a vector, got {v} ({v.type})")
        n = v.type.shape[0]
        side = None if n is None else n + abs(self.offset)
        return Apply(self, [v], [TensorType(v.dtype, (side, side))()])

    def numpy_function(self):
        offset = self.offset

        def alloc_diag(v):
            return np.diag(v, offset)

        return alloc_diag

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        side = n + abs(self.offset)
        return [(side, side)]

    def grad(self, inputs, output_grads):
        return [ExtractDiag(self.offset)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]  # linear


# ---------------------------------------------------------------------------------- functions
def matrix_inverse(x: Any) -> Variable:
    """Inverse of a square matrix; differentiable.

    Examples
    --------
    >>> x = dmatrix('x'); matrix_inverse(x).eval({x: np.array([[2., 0.], [0., 4.]])})
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return MatrixInverse()(x)


def pinv(x: Any, hermitian: bool = False) -> Variable:
    """Moore-Penrose pseudo-inverse of a matrix; differentiable where the rank is constant.

    Examples
    --------
    >>> x = dmatrix('x'); pinv(x).eval({x: np.array([[1.], [1.]])})
    array([[0.5, 0.5]])
    """
    return MatrixPinv(hermitian)(x)


def det(x: Any) -> Variable:
    """Determinant of a square matrix; differentiable.

    Examples
    --------
    >>> x = dmatrix('x'); det(x).eval({x: np.array([[2., 1.], [1., 3.]])})
    array(5.)
    """
    return Det()(x)


def eig(x: Any) -> list[Variable]:
    """Eigenvalues and right eigenvectors of a square matrix, as complex arrays [w, v].

    Examples
    --------
    >>> x = dmatrix('x'); w, v = eig(x); w.eval({x: np.diag([1., 2.])})
    array([1.+0.j, 2.+0.j])
    """
    return Eig()(x)


def eigh(a: Any, UPLO: str = "L") -> list[Variable]:  # noqa: N803
    """Eigenvalues (ascending) and eigenvectors [w, v] of a symmetric matrix; differentiable.

    Only the triangle named by UPLO is read, so the gradient lives on that triangle.

    Examples
    --------
    >>> x = dmatrix('x'); w, v = eigh(x); w.eval({x: np.array([[2., 1.], [1., 2.]])})
    array([1., 3.])
    """
    return Eigh(UPLO)(a)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """[u, s, vt] with a = u diag(s) vt, or s alone; s is differentiable when compute_uv=False.

    Examples
    --------
    >>> x = dmatrix('x'); svd(x, compute_uv=False).eval({x: np.diag([3., 4.])})
    array([4., 3.])
    """
    return SVD(full_matrices, compute_uv)(a)


def qr(a: Any, mode: str = "reduced") -> Any:
    """QR decomposition: [q, r] ('reduced', 'complete'), r ('r') or [h, tau] ('raw').

    Examples
    --------
    >>> x = dmatrix('x'); q, r = qr(x)  # q @ r == x, q orthonormal, r upper triangular
    """
    return QRFull(mode)(a)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> list[Variable]:
    """[x, residuals, rank, s]: the least-squares solution of a x = b (numpy.linalg.lstsq).

    Examples
    --------
    >>> a, b = dmatrix('a'), dvector('b'); x = lstsq(a, b)[0]
    >>> x.eval({a: np.array([[1.], [1.]]), b: np.array([1., 3.])})
    array([2.])
    """
    return Lstsq(rcond)(a, b)


def extract_diag(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """Diagonal `offset` of x over (axis1, axis2) as a last axis (numpy.diagonal); a view.

    Examples
    --------
    >>> x = dmatrix('x'); extract_diag(x).eval({x: np.arange(4.).reshape(2, 2)})
    array([0., 3.])
    """
    x = as_tensor_variable(x)
    axes = [a % x.ndim if -x.ndim <= a < x.ndim else a for a in (axis1, axis2)]
    return ExtractDiag(offset, *axes)(x)


def alloc_diag(v: Any, offset: int = 0) -> Variable:
    """A square matrix with `v` on diagonal `offset`, zeros elsewhere.

    Examples
    --------
    >>> v = dvector('v'); alloc_diag(v).eval({v: np.array([1., 2.])})
    array([[1., 0.],
           [0., 2.]])
    """
    return AllocDiag(offset)(v)


def diag(x: Any, k: int = 0) -> Variable:
    """numpy.diag: a vector's diagonal matrix, or a matrix's diagonal k.

    Examples
    --------
    >>> diag(dvector('v')).ndim, diag(dmatrix('m')).ndim
    (2, 1)
    """
    x = as_tensor_variable(x)
    if x.ndim == 1:
        return AllocDiag(k)(x)
    if x.ndim == 2:
        return ExtractDiag(k)(x)
    raise ValueError(f"diag: expected a vector or a matrix, got {x} ({x.type})")


def trace(x: Any) -> Variable:
    """Sum of the main diagonal of a matrix; differentiable.

    Examples
    --------
    >>> x = dmatrix('x'); trace(x).eval({x: np.arange(4.).reshape(2, 2)})
    array(3.)
    """
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"trace: expected a matrix, got {x} ({x.type})")
    return reduce.sum(ExtractDiag()(x))


def matrix_dot(*args: Any) -> Variable:
    """The product of the matrices left to right (a shorthand for nested dot).

    Examples
    --------
    >>> a, b, c = dmatrix('a'), dmatrix('b'), dmatrix('c'); y = matrix_dot(a, b, c)
    """
    if not args:
        raise TypeError("matrix_dot: give at least one matrix")
    out = as_tensor_variable(args[0])
    for arg in args[1:]:
        out = blas.dot(out, arg)
    return out


def matrix_power(M: Any, n: int) -> Variable:  # noqa: N803 - Theano's name
    """M raised to the integer power n by repeated squaring (n < 0 inverts M first).

    Examples
    --------
    >>> x = dmatrix('x'); matrix_power(x, 3).eval({x: np.array([[1., 1.], [0., 1.]])})
    array([[1., 3.],
           [0., 1.]])
    """
    M = as_tensor_variable(M)  # noqa: N806
    if M.ndim != 2:
        raise TypeError(f"matrix_power: expected a matrix, got {M} ({M.type})")
    square_length(M, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an int, got {n!r}")
    if n < 0:
        M, n = MatrixInverse()(M), -int(n)  # noqa: N806
    if n == 0:
        return basic.eye(sh.axis_length(M, 0), dtype=M.dtype)
    result, power = None, M
    while n:
        if n & 1:
            result = power if result is None else blas.dot(result, power)
        n >>= 1
        if n:
            power = blas.dot(power, power)
    return result


def _is_inf(ord: Any, sign: int) -> bool:  # noqa: A002 - numpy's name
    text = "inf" if sign > 0 else "-inf"
    return ord == text or (isinstance(ord, float) and ord == sign * np.inf)


def norm(x: Any, ord: Any = None) -> Variable:  # noqa: A002 - numpy's and Theano's name
    """Vector or matrix norm (numpy.linalg.norm's orders), built from differentiable ops.

    Vectors: None/2, inf, -inf, 0 (count of non-zeros), any other p. Matrices: None/'fro',
    inf, -inf, 1, -1, 2, -2, 'nuc'.

    Examples
    --------
    >>> v = dvector('v'); norm(v).eval({v: np.array([3., 4.])})
    array(5.)
    """
    x = as_float_tensor(x, "norm", (1, 2))
    a = m.abs(x)
    if x.ndim == 1:
        if ord is None or ord == 2:
            return m.sqrt(reduce.sum(m.sqr(x)))
        if _is_inf(ord, 1):
            return reduce.max(a)
        if _is_inf(ord, -1):
            return reduce.min(a)
        if ord == 0:
            return m.cast(reduce.sum(m.neq(x, 0)), x.dtype)
        if isinstance(ord, (int, float)) and not isinstance(ord, bool):
            return reduce.sum(a**ord) ** (1.0 / ord)
        raise ValueError(f"norm: invalid order {ord!r} for a vector")
    return _matrix_norm(x, a, ord)


def _matrix_norm(x: Variable, a: Variable, ord: Any) -> Variable:  # noqa: A002
    if ord is None or ord == "fro":
        return m.sqrt(reduce.sum(m.sqr(x)))
    if _is_inf(ord, 1):
        return reduce.max(reduce.sum(a, axis=1))
    if _is_inf(ord, -1):
        return reduce.min(reduce.sum(a, axis=1))
    if ord in (1, -1):
        sums = reduce.sum(a, axis=0)
        return reduce.max(sums) if ord == 1 else reduce.min(sums)
    if ord in (2, -2, "nuc"):
        s = SVD(full_matrices=False, compute_uv=False)(x)
        return {2: reduce.max, -2: reduce.min, "nuc": reduce.sum}[ord](s)
    raise ValueError(f"norm: invalid order {ord!r} for a matrix")
