"""Neural-network ops of Theano's `tensor.nnet`: softmax (+bias), log_softmax, crossentropies, relu.

May import core.graph, core.op, core.type, core.dtypes, core.variable and core.ops.math.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply
from labsym.core.ops import base
from labsym.core.ops import math as m
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

__all__ = [
    "CrossentropyCategorical1Hot",
    "CrossentropyCategorical1HotGrad",
    "LogSoftmax",
    "Softmax",
    "SoftmaxGrad",
    "SoftmaxWithBias",
    "UltraFastSigmoid",
    "binary_crossentropy",
    "categorical_crossentropy",
    "crossentropy_categorical_1hot",
    "hard_sigmoid",
    "log_softmax",
    "relu",
    "sigmoid_binary_crossentropy",
    "softmax",
    "softmax_with_bias",
    "ultra_fast_sigmoid",
]


# ---------------------------------------------------------------------- shared checks
def _float_input(op: Any, x: Any, role: str = "input") -> Any:
    """`x` as a tensor variable; a TypeError naming the op and the dtype unless it is float."""
    x = as_tensor_variable(x)
    if x.dtype not in dtypes.FLOAT_DTYPES:
        raise TypeError(
            f"{op}: {role} must be a float tensor, got dtype {x.dtype} ({x.type}); "
            f"cast it first, e.g. x.astype('floatX')"
        )
    return x


def _reduced_axes(op: Any, axis: int | None, ndim: int, type_: Any) -> tuple[int, ...]:
    """The non-negative axes an axis-wise op reduces over (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an input of {ndim} dims ({type_})")
    return (axis % ndim,)


def _merge_static(op: Any, first: Any, second: Any) -> tuple[int | None, ...]:
    """The static shape of two variables that must have the same runtime shape."""
    if first.ndim != second.ndim:
        raise TypeError(f"{op}: inputs must have the same ndim, got {first.type} and {second.type}")
    shape = []
    for axis, (a, b) in enumerate(zip(first.type.shape, second.type.shape, strict=True)):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"{op}: static lengths {a} and {b} differ on axis {axis} "
                f"({first.type}, {second.type})"
            )
        shape.append(a if a is not None else b)
    return tuple(shape)


def _work(x: np.ndarray) -> np.ndarray:
    # float16 loses too much in exp/sum: compute in float32, store in the declared dtype
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _sum_keep(x: Any, axes: tuple[int, ...]) -> Any:
    return x.sum(axis=list(axes), keepdims=True)


class _AxisOp(base.NumpyOp):
    """Base of the ops that act along one axis (or all axes when `axis` is None)."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = -1) -> None:
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: axis must be an int or None, got {axis!r}")
        self.axis = None if axis is None else int(axis)

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axis={self.axis}}}"


class _FloatAxisOp(_AxisOp):
    """An axis op of one float input whose output has the input's type (softmax, log-softmax).

    Subclasses name their NumPy kernel, `kernel(axes, dtype)`, which gives the array function.
    """

    kernel: Callable[[tuple[int, ...], np.dtype], Callable[[np.ndarray], np.ndarray]]

    def make_node(self, x: Any) -> Apply:
        x = _float_input(self, x)
        _reduced_axes(self, self.axis, x.ndim, x.type)
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        x = node.inputs[0]
        return self.kernel(_reduced_axes(self, self.axis, x.ndim, x.type), np.dtype(x.dtype))

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


# ---------------------------------------------------------------------- softmax
def _np_softmax(axes: tuple[int, ...], dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    def softmax(x):
        work = _work(np.asarray(x))
        if work.size == 0:
            return np.empty(work.shape, dtype)
        # exp(x - max) / sum(exp(x - max)): exp never sees a positive argument
        e = np.exp(work - work.max(axis=axes, keepdims=True))
        return np.asarray(e / e.sum(axis=axes, keepdims=True), dtype=dtype)

    return softmax


class Softmax(_FloatAxisOp):
    """exp(x) / sum(exp(x)) along `axis`, computed after subtracting the maximum (no overflow).

    The gradient is the op SoftmaxGrad, so it reuses the forward output instead of recomputing.
    """

    kernel = staticmethod(_np_softmax)

    def L_op(self, inputs, outputs, output_grads):
        return [SoftmaxGrad(self.axis)(output_grads[0], outputs[0])]

    def R_op(self, inputs, eval_points):
        # J is symmetric: J v = sm * (v - sum(sm * v)), which is SoftmaxGrad(v, sm)
        if eval_points[0] is None:
            return [None]
        return [SoftmaxGrad(self.axis)(eval_points[0], self(inputs[0]))]


class SoftmaxGrad(_AxisOp):
    """The input gradient of softmax: (dy - sum(dy * sm, axis)) * sm, from dy and the output sm.

    A separate op so the backward pass of softmax is one fused, stable computation.
    """

    def make_node(self, dy: Any, sm: Any) -> Apply:
        dy = _float_input(self, dy, "dy")
        sm = _float_input(self, sm, "sm")
        shape = _merge_static(self, dy, sm)
        _reduced_axes(self, self.axis, sm.ndim, sm.type)
        return Apply(self, [dy, sm], [TensorType(dtypes.upcast(dy.dtype, sm.dtype), shape)()])

    def numpy_callable(self, node: Apply):
        sm_var = node.inputs[1]
        axes = _reduced_axes(self, self.axis, sm_var.ndim, sm_var.type)
        dtype = np.dtype(node.outputs[0].dtype)
        name = str(self)

        def softmax_grad(dy, sm):
            if dy.shape != sm.shape:
                raise ValueError(f"{name}: dy has shape {dy.shape} but sm has shape {sm.shape}")
            dy, sm = _work(dy), _work(sm)
            return np.asarray((dy - (dy * sm).sum(axis=axes, keepdims=True)) * sm, dtype=dtype)

        return softmax_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def grad(self, inputs, output_grads):
        dy, sm = inputs
        (g,) = output_grads
        axes = _reduced_axes(self, self.axis, sm.ndim, sm.type)
        tmp = g - _sum_keep(g * sm, axes)
        return [tmp * sm, tmp * dy - g * _sum_keep(dy * sm, axes)]


class _RowsOfTheano:
    """The default `axis` of softmax/log_softmax: Theano's rows (a vector becomes a 1 x n row)."""

    def __repr__(self) -> str:
        return "-1"


THEANO_ROWS: Any = _RowsOfTheano()


def _rows(x: Any, axis: Any) -> tuple[Any, int | None]:
    """Theano 1.0 padded a vector to a row (shape_padleft) when no axis is named."""
    if axis is not THEANO_ROWS:
        return x, axis
    x = as_tensor_variable(x)
    return (x.dimshuffle("x", 0) if x.ndim == 1 else x), -1


def softmax(x: Any, axis: Any = THEANO_ROWS) -> Any:
    """The softmax of `x` along `axis` (None: over all elements), stable for large inputs.

    Without `axis`, as in Theano 1.0, rows are normalised and a vector gives a 1 x n row;
    naming an axis keeps the input's ndim.

    Examples
    --------
    >>> x = labsym.tensor.dmatrix('x')
    >>> labsym.function([x], softmax(x))([[1000.0, 0.0]])
    array([[1., 0.]])
    """
    x, axis = _rows(x, axis)
    return Softmax(axis)(x)


# ---------------------------------------------------------------------- log-softmax
def _np_log_softmax(axes: tuple[int, ...], dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    def log_softmax(x):
        work = _work(np.asarray(x))
        if work.size == 0:
            return np.empty(work.shape, dtype)
        # x - max - log(sum(exp(x - max))): finite wherever the naive log(softmax) underflows
        shifted = work - work.max(axis=axes, keepdims=True)
        return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=axes, keepdims=True)), dtype)

    return log_softmax


class LogSoftmax(_FloatAxisOp):
    """log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max))).

    Finite where log(softmax(x)) would underflow to log(0) = -inf.
    """

    kernel = staticmethod(_np_log_softmax)

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        axes = _reduced_axes(self, self.axis, inputs[0].ndim, inputs[0].type)
        return [gz - m.exp(outputs[0]) * _sum_keep(gz, axes)]

    def R_op(self, inputs, eval_points):
        # d out_i = v_i - sum_j softmax_j v_j
        (v,) = eval_points
        if v is None:
            return [None]
        x = inputs[0]
        axes = _reduced_axes(self, self.axis, x.ndim, x.type)
        return [v - _sum_keep(Softmax(self.axis)(x) * v, axes)]


def log_softmax(x: Any, axis: Any = THEANO_ROWS) -> Any:
    """log(softmax(x)) along `axis`, finite even where softmax underflows to 0.

    Use it for log-likelihoods instead of log(softmax(x)). Without `axis` a vector gives a
    1 x n row, as Theano's logsoftmax.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], log_softmax(x))([1000.0, 0.0])
    array([[    0., -1000.]])
    """
    x, axis = _rows(x, axis)
    return LogSoftmax(axis)(x)


# ---------------------------------------------------------------------- softmax with bias
class SoftmaxWithBias(base.NumpyOp):
    """softmax(x + b) over the rows of a matrix x, with b a vector of one bias per column.

    Theano's op for the output layer of a classifier; its gradient reuses the forward output.
    """

    def make_node(self, x: Any, b: Any) -> Apply:
        x = _float_input(self, x, "x")
        b = _float_input(self, b, "b")
        if x.ndim != 2 or b.ndim != 1:
            raise ValueError(
                f"{self}: x must be a matrix and b a vector, got {x.type} and {b.type}"
            )
        dtype = dtypes.upcast(x.dtype, b.dtype)
        return Apply(self, [x, b], [TensorType(dtype, x.type.shape)()])

    def numpy_callable(self, node: Apply):
        softmax_rows = _np_softmax((1,), np.dtype(node.outputs[0].dtype))
        name = str(self)

        def softmax_with_bias(x, b):
            if b.shape[0] != x.shape[1]:
                raise ValueError(
                    f"{name}: b has {b.shape[0]} entries for x with {x.shape[1]} columns"
                )
            return softmax_rows(x + b[None, :])

        return softmax_with_bias

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        dx = SoftmaxGrad(-1)(output_grads[0], outputs[0])
        return [m.cast(dx, inputs[0].dtype), m.cast(dx.sum(axis=0), inputs[1].dtype)]


softmax_with_bias = SoftmaxWithBias()


# ---------------------------------------------------------------------- categorical crossentropy
def _int_vector(op: Any, targets: Any) -> Any:
    targets = as_tensor_variable(targets)
    if targets.ndim != 1 or targets.dtype not in dtypes.INT_DTYPES + dtypes.UINT_DTYPES:
        raise TypeError(
            f"{op}: the targets must be an integer vector of class indices, got {targets.type}"
        )
    return targets


def _check_targets(name: str, coding: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The rows 0..n-1 for gathering coding[row, target]; raises on a bad length or index."""
    n_rows, n_classes = coding.shape
    if targets.shape != (n_rows,):
        raise ValueError(
            f"{name}: {targets.shape[0]} targets for a coding distribution of {n_rows} rows "
            f"(shape {coding.shape})"
        )
    bad = (targets < 0) | (targets >= n_classes)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise IndexError(
            f"{name}: target {int(targets[row])} in row {row} is out of range for "
            f"{n_classes} classes (valid: 0..{n_classes - 1})"
        )
    return np.arange(n_rows)


def _static_rows(op: Any, coding: Any, *vectors: Any) -> int | None:
    """The static row count shared by a matrix and per-row vectors; raises if they disagree."""
    known = {v.type.shape[0] for v in (coding, *vectors)} - {None}
    if len(known) > 1:
        shown = ", ".join(str(v.type.shape) for v in (coding, *vectors))
        raise ValueError(f"{op}: inputs disagree on the number of rows (static shapes {shown})")
    return known.pop() if known else None


class CrossentropyCategorical1Hot(base.NumpyOp):
    """-log(coding_dist[i, true_one_of_n[i]]) per row: crossentropy with class-index targets.

    Theano's op; it gathers one probability per row instead of building a one-hot matrix.
    """

    __props__ = ()

    def make_node(self, coding_dist: Any, true_one_of_n: Any) -> Apply:
        coding = _float_input(self, coding_dist, "coding_dist")
        if coding.ndim != 2:
            raise TypeError(f"{self}: coding_dist must be a matrix, got {coding.type}")
        targets = _int_vector(self, true_one_of_n)
        rows = _static_rows(self, coding, targets)
        return Apply(self, [coding, targets], [TensorType(coding.dtype, (rows,))()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)
        name = str(self)

        def crossentropy(coding, targets):
            rows = _check_targets(name, coding, targets)
            with np.errstate(divide="ignore"):  # -log(0) = inf is the right answer
                return np.asarray(-np.log(coding[rows, targets]), dtype=dtype)

        return crossentropy

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def grad(self, inputs, output_grads):
        coding, targets = inputs
        return [crossentropy_categorical_1hot_grad(output_grads[0], coding, targets), None]

    def R_op(self, inputs, eval_points):
        (coding, targets), v = inputs, eval_points[0]
        if v is None:
            return [None]
        # d out_i = -v[i, y_i] / p[i, y_i]: v against the gradient matrix of unit output grads
        unit = m.ones_like(self(coding, targets))
        return [(v * crossentropy_categorical_1hot_grad(unit, coding, targets)).sum(axis=1)]


class CrossentropyCategorical1HotGrad(base.NumpyOp):
    """Gradient of CrossentropyCategorical1Hot wrt coding_dist: -g_y / p at each true index.

    Zeros elsewhere; the scatter is done in place in one array, with no one-hot matrix.
    """

    __props__ = ()

    def make_node(self, g_y: Any, coding_dist: Any, true_one_of_n: Any) -> Apply:
        g_y = _float_input(self, g_y, "g_y")
        coding = _float_input(self, coding_dist, "coding_dist")
        if coding.ndim != 2 or g_y.ndim != 1:
            raise TypeError(
                f"{self}: expected a vector g_y and a matrix coding_dist, got {g_y.type} and "
                f"{coding.type}"
            )
        targets = _int_vector(self, true_one_of_n)
        _static_rows(self, coding, targets, g_y)
        out_type = TensorType(dtypes.upcast(g_y.dtype, coding.dtype), coding.type.shape)
        return Apply(self, [g_y, coding, targets], [out_type()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)
        name = str(self)

        def crossentropy_grad(g_y, coding, targets):
            rows = _check_targets(name, coding, targets)
            if g_y.shape != targets.shape:
                raise ValueError(f"{name}: g_y has shape {g_y.shape}, targets {targets.shape}")
            out = np.zeros(coding.shape, dtype=dtype)
            out[rows, targets] = -g_y / coding[rows, targets]
            return out

        return crossentropy_grad

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def L_op(self, inputs, outputs, output_grads):
        # out[i, t_i] = -g_y[i] / p[i, t_i]; mask[i, t_i] = -1 / p[i, t_i] (0 elsewhere)
        g_y, coding, targets = inputs
        (h,) = output_grads
        mask = self(m.ones_like(g_y), coding, targets)
        return [(h * mask).sum(axis=1), h * outputs[0] * mask, None]


crossentropy_categorical_1hot = CrossentropyCategorical1Hot()
crossentropy_categorical_1hot_grad = CrossentropyCategorical1HotGrad()


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Any:
    """Crossentropy between predicted distributions and targets, one value per row.

    `true_dist` is either distributions of coding_dist's shape (e.g. one-hot rows) or a
    vector of integer class indices, which uses the gather op CrossentropyCategorical1Hot.

    Examples
    --------
    >>> p, y = labsym.tensor.dmatrix('p'), labsym.tensor.lvector('y')
    >>> labsym.function([p, y], categorical_crossentropy(p, y))([[0.5, 0.5], [0.1, 0.9]], [0, 1])
    array([0.69314718, 0.10536052])
    """
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -(true_dist * m.log(coding_dist)).sum(axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(
        f"categorical_crossentropy: rank mismatch between coding_dist ({coding_dist.type}) and "
        f"true_dist ({true_dist.type}); true_dist must have the same ndim or one less"
    )


# ---------------------------------------------------------------------- elementwise activations
def relu(x: Any, alpha: Any = 0) -> Any:
    """Rectified linear unit: max(x, 0), or x where x > 0 and alpha * x elsewhere (leaky).

    Computed with maximum/switch rather than Theano's 0.5 * (x + abs(x)) so values are exact.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], relu(x, alpha=0.1))([-2.0, 3.0])
    array([-0.2,  3. ])
    """
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return m.maximum(x, 0)
    return m.switch(m.gt(x, 0), x, m.mul(m.scalar_like(alpha, x), x))


def binary_crossentropy(output: Any, target: Any) -> Any:
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise.

    `output` are probabilities in (0, 1); for logits use sigmoid_binary_crossentropy.

    Examples
    --------
    >>> p = labsym.tensor.dvector('p')
    >>> labsym.function([p], binary_crossentropy(p, 1.0))([0.5])
    array([0.69314718])
    """
    output = as_tensor_variable(output)
    target = as_tensor_variable(target)
    return -(target * m.log(output) + (1.0 - target) * m.log(1.0 - output))


def sigmoid_binary_crossentropy(output: Any, target: Any) -> Any:
    """binary_crossentropy(sigmoid(output), target) for logits `output`, without overflow.

    softplus(-output) * target + softplus(output) * (1 - target) stays finite for any logit.

    Examples
    --------
    >>> z = labsym.tensor.dvector('z')
    >>> labsym.function([z], sigmoid_binary_crossentropy(z, 0.0))([1000.0])
    array([1000.])
    """
    output = as_tensor_variable(output)
    target = as_tensor_variable(target)
    return m.softplus(-output) * target + m.softplus(output) * (1.0 - target)


def hard_sigmoid(x: Any) -> Any:
    """clip(0.2 * x + 0.5, 0, 1): a piecewise-linear sigmoid, computed in x's float dtype.

    Cheaper than sigmoid; Theano's definition, so trained models behave the same.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], hard_sigmoid(x))([-5.0, 0.0, 1.0])
    array([0. , 0.5, 0.7])
    """
    x = as_tensor_variable(x)
    dtype = dtypes.upgrade_to_float(x.dtype)
    out = x * constant(0.2, dtype=dtype) + constant(0.5, dtype=dtype)
    return m.clip(out, 0, 1)


# tanh(u) ~ 1.5 u / (1 + u) below 1.7, a line up to 3, then a constant (Theano's constants)
_UFS_BREAK1, _UFS_BREAK2 = 1.7, 3.0
_UFS_OFFSET, _UFS_SLOPE, _UFS_TOP = 0.935409070603099, 0.0458812946797165, 0.99505475368673


def _np_ultra_fast_sigmoid(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    half = 0.5 * np.asarray(x, dtype=dtype)
    u = np.abs(half)
    z = np.where(
        u < _UFS_BREAK1,
        1.5 * u / (1 + u),
        np.where(u < _UFS_BREAK2, _UFS_OFFSET + _UFS_SLOPE * (u - _UFS_BREAK1), _UFS_TOP),
    )
    z = np.where(half >= 0, z, -z)
    return np.asarray(np.where(np.isnan(half), half, 0.5 * (z + 1)), dtype=dtype)


class UltraFastSigmoid(base.NumpyOp):
    """Theano's piecewise approximation of sigmoid, via 0.5 * (tanh_approx(x / 2) + 1).

    Its gradient is Theano's: gz * y * (1 - y) with y the approximation (sigmoid's formula),
    not the derivative of the pieces, so training matches Theano's.
    """

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.dtype in dtypes.COMPLEX_DTYPES:
            raise TypeError(f"{self}: input must be real, got dtype {x.dtype} ({x.type})")
        out_type = TensorType(dtypes.upgrade_to_float(x.dtype), x.type.shape)
        return Apply(self, [x], [out_type()])

    def numpy_callable(self, node: Apply):
        dtype = np.dtype(node.outputs[0].dtype)
        return lambda x: _np_ultra_fast_sigmoid(x, dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        if inputs[0].dtype not in dtypes.FLOAT_DTYPES:
            return [None]
        y = outputs[0]
        return [output_grads[0] * y * (1 - y)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        y = self(inputs[0])
        return [eval_points[0] * y * (1 - y)]


def ultra_fast_sigmoid(x: Any) -> Any:
    """A fast piecewise approximation of sigmoid (Theano's), within 0.03 of it.

    Kept for models trained with it in Theano; prefer sigmoid otherwise.

    Examples
    --------
    >>> x = labsym.tensor.dvector('x')
    >>> labsym.function([x], ultra_fast_sigmoid(x))([0.0, 10.0])
    array([0.5       , 0.99752738])
    """
    return UltraFastSigmoid()(x)
