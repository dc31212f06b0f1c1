"""Images2Neibs (Theano's sliding-window patches of images) and its adjoint Neibs2Images.

`images2neibs(ten4, neib_shape, neib_step, mode)` turns each (r, c) window of every image in
a 4-d tensor into one row of a matrix; `Neibs2Images` scatters such rows back (summing where
windows overlap), which is both the gradient of Images2Neibs in every mode and, with
disjoint windows, Theano's `neibs2images`.
May import core.graph, core.op, core.type, core.dtypes, core.variable and sibling ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import array_funcs, base
from labsym.core.ops import math as m
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable

__all__ = ["Images2Neibs", "Neibs2Images", "images2neibs", "neibs2images"]

MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")


def _int_vector(value: Any, what: str, who: Any) -> Variable:
    var = as_tensor_variable(value)
    if var.ndim != 1 or not dtypes.is_integer(var.dtype):
        raise TypeError(f"{who}: {what} must be 2 ints (an int vector), got {var.type}")
    return m.cast(var, "int64")


def _grid(mode: str, length: int, size: int, step: int) -> int:
    """Number of windows along one image axis (Theano's grid_c / grid_d), checking the fit."""
    if mode == "wrap_centered":
        return -(-length // step)
    if mode == "ignore_borders":
        return 1 + (length - size) // step
    span = {"valid": length - size, "half": length - size % 2, "full": length + size - 2}[mode]
    if length < size or span % step:
        raise TypeError(
            f"neib_shape={size}, neib_step={step} and image length {length} not "
            f"consistent for mode '{mode}'"
        )
    return 1 + span // step


def _window_index(mode: str, grid: int, size: int, step: int, length: int):
    """(index, valid): the image index read by window a at offset i, and whether it exists."""
    index = np.arange(grid)[:, None] * step + np.arange(size)[None, :]
    index -= {
        "valid": 0,
        "ignore_borders": 0,
        "wrap_centered": size // 2,
        "half": size // 2,
        "full": size - 1,
    }[mode]
    if mode == "wrap_centered":
        index %= length  # windows centred on the border wrap around the image
    valid = (index >= 0) & (index < length)
    return np.where(valid, index, 0), valid


def _layout(mode: str, image_shape: tuple, neib_shape: Any, neib_step: Any):
    c, d = (int(v) for v in neib_shape)
    step_x, step_y = (int(v) for v in neib_step)
    if step_x <= 0 or step_y <= 0:
        raise ValueError(f"neib_step wrong step ; values <= 0. Got {list(neib_step)}")
    if c <= 0 or d <= 0:
        raise ValueError(f"neib_shape values <=0. Got {list(neib_shape)}")
    height, width = image_shape[2], image_shape[3]
    if mode == "wrap_centered":
        if c % 2 != 1 or d % 2 != 1:
            raise TypeError("Images2Neibs: in mode wrap_centered need patch with odd shapes")
        if height < c or width < d:
            raise TypeError(
                "Images2Neibs: in wrap_centered mode, don't support image shapes smaller then "
                f"the patch shapes: neib_shape=({c},{d}), ten4[2:]=[{height},{width}]"
            )
    rows, row_ok = _window_index(mode, _grid(mode, height, c, step_x), c, step_x, height)
    cols, col_ok = _window_index(mode, _grid(mode, width, d, step_y), d, step_y, width)
    # index arrays shaped (grid_c, c, grid_d, d) for x[n, s, rows, cols]
    rr = rows[:, :, None, None]
    cc = cols[None, None, :, :]
    ok = row_ok[:, :, None, None] & col_ok[None, None, :, :]
    return rr, cc, ok


class Images2Neibs(Op):
    """Each window of each image as a row: rows ordered (image, channel, window row, window col)."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(
                f"Only modes {', '.join(MODES)} have been implemented for Images2Neibs"
            )
        self.mode = mode

    def __str__(self) -> str:
        return f"Images2Neibs{{{self.mode}}}"

    def make_node(self, ten4: Any, neib_shape: Any, neib_step: Any = None) -> Apply:
        ten4 = as_tensor_variable(ten4)
        if ten4.ndim != 4:
            raise TypeError(f"{self}: ten4 must be a 4-d tensor, got {ten4.type}")
        neib_shape = _int_vector(neib_shape, "neib_shape", self)
        neib_step = neib_shape if neib_step is None else _int_vector(neib_step, "neib_step", self)
        return Apply(self, [ten4, neib_shape, neib_step], [TensorType(ten4.dtype, (None, None))()])

    def perform(self, node, inputs, output_storage):
        ten4, neib_shape, neib_step = inputs
        rr, cc, ok = _layout(self.mode, ten4.shape, neib_shape, neib_step)
        patches = np.where(ok, ten4[:, :, rr, cc], 0)  # (n, s, grid_c, c, grid_d, d)
        patches = patches.transpose(0, 1, 2, 4, 3, 5)
        c, d = patches.shape[4], patches.shape[5]
        output_storage[0][0] = np.ascontiguousarray(patches, dtype=ten4.dtype).reshape(-1, c * d)

    def infer_shape(self, fgraph, node, input_shapes):
        n, s, height, width = input_shapes[0]
        neib_shape, neib_step = node.inputs[1], node.inputs[2]
        c, d = neib_shape[0], neib_shape[1]
        step_x, step_y = neib_step[0], neib_step[1]
        if self.mode == "wrap_centered":
            grid_c = array_funcs.ceil_intdiv(height, step_x)
            grid_d = array_funcs.ceil_intdiv(width, step_y)
        else:
            shift_c, shift_d = {
                "valid": (c, d),
                "ignore_borders": (c, d),
                "half": (c % 2, d % 2),
                "full": (2 - c, 2 - d),
            }[self.mode]
            grid_c = 1 + (height - shift_c) // step_x
            grid_d = 1 + (width - shift_d) // step_y
        return [(base.prod_lengths([grid_c, grid_d, s, n]), c * d)]

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def grad(self, inputs, output_grads):
        ten4, neib_shape, neib_step = inputs
        (gz,) = output_grads
        gx = Neibs2Images(self.mode)(gz, ten4.shape, neib_shape, neib_step)
        return [base.float_grad(gx, ten4), None, None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1], inputs[2])]  # linear in ten4


class Neibs2Images(Op):
    """The adjoint of Images2Neibs: rows scattered back into images of `image_shape`, summed."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(
                f"Only modes {', '.join(MODES)} have been implemented for Neibs2Images"
            )
        self.mode = mode

    def __str__(self) -> str:
        return f"Neibs2Images{{{self.mode}}}"

    def make_node(self, neibs: Any, image_shape: Any, neib_shape: Any, neib_step: Any) -> Apply:
        neibs = as_tensor_variable(neibs)
        if neibs.ndim != 2:
            raise TypeError(f"{self}: neibs must be a matrix, got {neibs.type}")
        inputs = [neibs, _int_vector(image_shape, "image shape", self)]
        inputs += [_int_vector(neib_shape, "neib_shape", self)]
        inputs += [_int_vector(neib_step, "neib_step", self)]
        return Apply(self, inputs, [TensorType(neibs.dtype, (None,) * 4)()])

    def perform(self, node, inputs, output_storage):
        neibs, image_shape, neib_shape, neib_step = inputs
        image_shape = tuple(int(v) for v in image_shape)
        if len(image_shape) != 4:
            raise ValueError(f"{self}: the image shape must have 4 entries, got {image_shape}")
        rr, cc, ok = _layout(self.mode, image_shape, neib_shape, neib_step)
        n, s = image_shape[:2]
        grid_c, c, grid_d, d = ok.shape
        if neibs.shape != (n * s * grid_c * grid_d, c * d):
            raise ValueError(
                f"{self}: neibs of shape {neibs.shape} do not match images of shape "
                f"{image_shape} cut in {grid_c}x{grid_d} windows of {c}x{d}"
            )
        values = neibs.reshape(n, s, grid_c, grid_d, c, d).transpose(0, 1, 2, 4, 3, 5)
        out = np.zeros(image_shape, dtype=neibs.dtype)
        np.add.at(out, (slice(None), slice(None), rr, cc), np.where(ok, values, 0))
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        shape = node.inputs[1]
        return [tuple(shape[k] for k in range(4))]

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]

    def grad(self, inputs, output_grads):
        neibs, _, neib_shape, neib_step = inputs
        (gz,) = output_grads
        gn = Images2Neibs(self.mode)(gz, neib_shape, neib_step)
        return [base.float_grad(gn, neibs), None, None, None]


def images2neibs(ten4: Any, neib_shape: Any, neib_step: Any = None, mode: str = "valid"):
    """Theano's `images2neibs`: every (r, c) window of the images in `ten4` as a matrix row.

    `neib_step` defaults to `neib_shape` (disjoint windows). Modes: 'valid' (the windows must
    tile the image exactly), 'ignore_borders' (drop what does not fit), 'wrap_centered' (odd
    windows centred on each step, wrapping around), 'half' and 'full' (zero padding of r//2
    and r-1 on each side).
    """
    return Images2Neibs(mode)(ten4, neib_shape, neib_step)


def neibs2images(neibs: Any, neib_shape: Any, original_shape: Any, mode: str = "valid"):
    """Theano's `neibs2images`: the images whose disjoint windows are the rows of `neibs`.

    As in Theano only 'valid' and 'ignore_borders' (where the border not covered is 0).
    """
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images do not support mode={mode}")
    neib_shape = as_tensor_variable(neib_shape)
    return Neibs2Images(mode)(neibs, original_shape, neib_shape, neib_shape)
