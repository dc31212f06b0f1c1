"""Random-number ops: NumPy distributions on a Philox stream, and the MRG31k3p generator.

Each draw op takes its generator state as an input and returns the advanced state with the
sample, so a shared state plus a default update makes successive calls differ while reseeding
reproduces them. May import core.graph, core.op, core.type, core.dtypes, core.variable and the
sibling modules math and shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.op import Op
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


class _RandomOp(Op):
    """Base of the draw ops: never folded, and no input is differentiably connected.

    A sample is a constant for the gradient (Theano's random ops had no gradient), and folding a
    draw at compile time would freeze it.
    """

    def do_constant_folding(self, node: Apply) -> bool:
        return False  # a folded draw would be frozen into the graph

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False] * len(node.outputs) for _ in node.inputs]

    def grad(self, inputs, output_grads):
        return [None] * len(inputs)


def _size_input(size: Any, who: str) -> Variable:
    """The size argument as an int64 vector whose length is known statically."""
    size = as_tensor_variable(size)
    if size.ndim != 1 or not dtypes.is_integer(size.dtype) or size.dtype == "bool":
        raise TypeError(f"{who}: size must be an integer vector, got {size} ({size.type})")
    if size.type.shape[0] is None:
        raise ValueError(f"{who}: the length of size {size} ({size.type}) must be known statically")
    return m.cast(size, "int64")


# ---------------------------------------------------------------------------------- NumPy draws
def _float_work_dtype(dtype: str) -> type:
    return np.float32 if dtype == "float32" else np.float64


def _batch_shape(size: tuple | None, *params: np.ndarray) -> tuple:
    return size if size is not None else np.broadcast_shapes(*(np.shape(p) for p in params))


def _uniform(gen, size, dtype, low, high):
    work = _float_work_dtype(dtype)
    u = gen.random(_batch_shape(size, low, high), dtype=work)
    low, high = np.asarray(low, work), np.asarray(high, work)
    return low + (high - low) * u


def _normal(gen, size, dtype, avg, std):
    z = gen.standard_normal(_batch_shape(size, avg, std), dtype=_float_work_dtype(dtype))
    return np.asarray(avg, z.dtype) + np.asarray(std, z.dtype) * z


def _binomial(gen, size, dtype, n, p):
    return gen.binomial(n, p, size)


def _random_integers(gen, size, dtype, low, high):
    return gen.integers(low, high, size, endpoint=True)


def _multinomial(gen, size, dtype, n, pvals):
    return gen.multinomial(n, pvals, size)


def _choice(gen, size, dtype, a, p=None, replace=True):
    population = a.item() if a.ndim == 0 else a
    return gen.choice(population, size=size, replace=replace, p=p)


def _permutation(gen, size, dtype, n):
    shape = (size or ()) + (int(n),)
    return gen.permuted(np.broadcast_to(np.arange(int(n)), shape), axis=-1)


@dataclass(frozen=True)
class Distribution:
    """How to draw one distribution: its parameters (name, kind, core ndim) and output axes.

    kind is 'num', 'int' or 'float'; a core ndim of None accepts 0 or 1 (choice's `a`).
    Batched parameters broadcast against `size` on their leading axes, as in NumPy.
    """

    draw: Callable[..., Any]
    params: tuple[tuple[str, str, int | None], ...]
    n_optional: int = 0
    batched: bool = True
    core_shape: Callable[[list[Variable]], tuple] = field(default=lambda params: ())


DISTRIBUTIONS: dict[str, Distribution] = {
    "uniform": Distribution(_uniform, (("low", "num", 0), ("high", "num", 0))),
    "normal": Distribution(_normal, (("avg", "num", 0), ("std", "num", 0))),
    "binomial": Distribution(_binomial, (("n", "int", 0), ("p", "float", 0))),
    "random_integers": Distribution(_random_integers, (("low", "int", 0), ("high", "int", 0))),
    "multinomial": Distribution(
        _multinomial,
        (("n", "int", 0), ("pvals", "float", 1)),
        core_shape=lambda params: (params[1].type.shape[-1],),
    ),
    "choice": Distribution(_choice, (("a", "num", None), ("p", "float", 1)), 1, False),
    "choice_without_replacement": Distribution(
        partial(_choice, replace=False), (("a", "num", None), ("p", "float", 1)), 1, False
    ),
    "permutation": Distribution(
        _permutation,
        (("n", "int", 0),),
        batched=False,
        core_shape=lambda params: (sh._static_int(params[0]),),
    ),
}

_KIND_CHECKS = {
    "num": lambda dt: dt != "bool" and (dtypes.is_integer(dt) or dtypes.is_float(dt)),
    "int": lambda dt: dt != "bool" and dtypes.is_integer(dt),
    "float": dtypes.is_float,
}
_KIND_WORDS = {"num": "a number", "int": "integers", "float": "floats"}


class RandomFunction(_RandomOp):
    """One draw of a NumPy distribution: (state, size, *params) -> (new_state, sample).

    The state is a uint64 vector [key, counter]: the draw reads the Philox stream of that key at
    that counter and the new state advances the counter, so the sample depends on the inputs
    only. An empty size takes the broadcast shape of the parameters, as NumPy's size=None.
    """

    __props__ = ("distribution", "dtype")

    def __init__(self, distribution: str, dtype: str) -> None:
        if distribution not in DISTRIBUTIONS:
            known = ", ".join(sorted(DISTRIBUTIONS))
            raise ValueError(f"RandomFunction: unknown distribution {distribution!r} ({known})")
        self.distribution = distribution
        self.dtype = dtypes.canonical_dtype(dtype)

    def __str__(self) -> str:
        return f"RandomFunction{{{self.distribution},{self.dtype}}}"

    def make_node(self, state: Any, size: Any, *params: Any) -> Apply:
        spec = DISTRIBUTIONS[self.distribution]
        state = as_tensor_variable(state)
        if state.dtype != "uint64" or state.ndim != 1:
            raise TypeError(
                f"{self}: the state must be a uint64 vector [key, counter], got {state.type}"
            )
        size = _size_input(size, str(self))
        n_max = len(spec.params)
        if not n_max - spec.n_optional <= len(params) <= n_max:
            names = ", ".join(p[0] for p in spec.params)
            raise TypeError(f"{self} takes the parameters ({names}), got {len(params)} values")
        variables = [
            self._check_param(p, info, spec.batched)
            for p, info in zip(params, spec.params, strict=False)
        ]
        batches = [
            v.type.shape[: v.ndim - _core_ndim(v, info)]
            for v, info in zip(variables, spec.params, strict=False)
        ]
        n_size = size.type.shape[0]
        if n_size > 0:
            for var, batch in zip(variables, batches, strict=True):
                if len(batch) > n_size:
                    raise ValueError(
                        f"{self}: parameter {var} ({var.type}) has more batch axes than the "
                        f"{n_size} of size; give a longer size or drop size"
                    )
            batch_shape = tuple(sh._static_entries(size, n_size))
        else:
            batch_shape = _broadcast_batch(str(self), batches if spec.batched else [])
        sample = TensorType(self.dtype, batch_shape + tuple(spec.core_shape(variables)))()
        return Apply(self, [state, size, *variables], [state.type(), sample])

    def _check_param(self, value: Any, info: tuple, batched: bool) -> Variable:
        name, kind, core = info
        var = as_tensor_variable(value)
        if not _KIND_CHECKS[kind](var.dtype):
            raise TypeError(
                f"{self}: parameter {name} must be {_KIND_WORDS[kind]}, got {var} ({var.type})"
            )
        allowed = (0, 1) if core is None else (core,)
        if var.ndim < min(allowed) or (not batched and var.ndim not in allowed):
            dims = " or ".join(map(str, allowed))
            raise TypeError(
                f"{self}: parameter {name} must have {dims} dims, got {var} ({var.type})"
            )
        return var

    def perform(self, node, inputs, output_storage):
        state, size, *params = inputs
        key, counter = int(state[0]), int(state[1])
        # the counter's second word numbers the draws; the first counts blocks within one draw
        gen = np.random.Generator(np.random.Philox(key=key, counter=counter << 64))
        shape = tuple(int(s) for s in size) if len(size) else None
        sample = DISTRIBUTIONS[self.distribution].draw(gen, shape, self.dtype, *params)
        output_storage[0][0] = np.array([key, (counter + 1) % 2**64], dtype="uint64")
        output_storage[1][0] = np.asarray(sample, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        spec = DISTRIBUTIONS[self.distribution]
        _, size, *params = node.inputs
        if size.type.shape[0] > 0:
            batch = tuple(sh._shape_entries(size, size.type.shape[0]))
        elif spec.batched:
            batch = _broadcast_batch_symbolic(params, input_shapes[2:], spec)
        else:
            batch = ()
        if self.distribution == "multinomial":
            core: tuple = (input_shapes[3][-1],)
        elif self.distribution == "permutation":
            core = (m.cast(params[0], "int64"),)
        else:
            core = ()
        return [input_shapes[0], batch + core]

    def R_op(self, inputs, eval_points):
        return [None, None]


def _core_ndim(var: Variable, info: tuple) -> int:
    return var.ndim if info[2] is None else info[2]


def _broadcast_batch(who: str, shapes: Sequence[tuple]) -> tuple:
    """The static broadcast of parameter batch shapes (left-padded with length-1 axes)."""
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out: list[int | None] = []
    for axis in range(ndim):
        sizes = {s[axis] for s in padded} - {1}
        known = sizes - {None}
        if len(known) > 1:
            raise ValueError(
                f"{who}: parameters of shapes {list(shapes)} do not broadcast together"
            )
        out.append(known.pop() if known else None if sizes else 1)
    return tuple(out)


def _broadcast_batch_symbolic(params: list, shapes: list, spec: Distribution) -> tuple:
    """infer_shape of a size-less draw: the broadcast of the parameters' batch axes."""
    cut = [p.ndim - _core_ndim(p, info) for p, info in zip(params, spec.params, strict=False)]
    ndim = max(cut, default=0)
    types = [
        TensorType(p.dtype, (1,) * (ndim - c) + p.type.shape[:c])
        for p, c in zip(params, cut, strict=True)
    ]
    entries = [(1,) * (ndim - c) + tuple(s[:c]) for s, c in zip(shapes, cut, strict=True)]
    return tuple(sh.broadcast_shape_symbolic(types, entries)) if types else ()


# ---------------------------------------------------------------------------------- MRG31k3p
# L'Ecuyer's MRG31k3p: x1[n] = (2^22 x1[n-2] + (2^7+1) x1[n-3]) mod M1,
#                      x2[n] = (2^15 x2[n-1] + (2^15+1) x2[n-3]) mod M2, u = (x1 - x2 mod M1) / 2^31
M1 = 2147483647  # 2^31 - 1
M2 = 2147462579  # 2^31 - 21069
_A1 = ((0, 4194304, 129), (1, 0, 0), (0, 1, 0))
_A2 = ((32768, 0, 32769), (1, 0, 0), (0, 1, 0))
_NORM = {
    "float64": (0xFFFFFFFF, 0, np.float64(4.656612873077392578125e-10)),  # 1 / 2^31
    "float32": (0xFFFFFFFF, 0, np.float32(4.6566126e-10)),  # largest with float32(M1 * it) < 1
    "float16": (0x7FFF, 1, np.float16(3.0458e-05)),
}


def _matmul_mod(a: Sequence, b: Sequence, modulus: int) -> tuple:
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) % modulus for j in range(3))
        for i in range(3)
    )


def jump_matrices(log2_steps: int) -> tuple[tuple, tuple]:
    """The transition matrices of both MRG components raised to 2**log2_steps (exact ints)."""
    a1, a2 = _A1, _A2
    for _ in range(log2_steps):
        a1, a2 = _matmul_mod(a1, a1, M1), _matmul_mod(a2, a2, M2)
    return a1, a2


A_P72 = jump_matrices(72)  # spacing of the substreams of one draw
A_P134 = jump_matrices(134)  # spacing of successive draws


def jump_states(states: np.ndarray, matrices: tuple[tuple, tuple]) -> np.ndarray:
    """Each row of an (n, 6) state array advanced by the jump `matrices` (mod M1 and M2)."""
    states = np.asarray(states, dtype=np.int64).reshape(-1, 6)
    out = np.empty_like(states)
    for half, (matrix, modulus) in enumerate(zip(matrices, (M1, M2), strict=True)):
        block = states[:, 3 * half : 3 * half + 3]
        for i in range(3):
            # each product is below 2^62, so int64 is exact
            terms = [(matrix[i][j] * block[:, j]) % modulus for j in range(3)]
            out[:, 3 * half + i] = (terms[0] + terms[1] + terms[2]) % modulus
    return out


def substream_states(rstate: np.ndarray, n_streams: int) -> np.ndarray:
    """n_streams int32 states spaced by 2**72 steps, the first being `rstate` (Theano's layout)."""
    rows = np.asarray(rstate, dtype=np.int64).reshape(1, 6)
    a1, a2 = A_P72
    while len(rows) < n_streams:
        rows = np.concatenate([rows, jump_states(rows, (a1, a2))])
        a1, a2 = _matmul_mod(a1, a1, M1), _matmul_mod(a2, a2, M2)
    return rows[:n_streams].astype(np.int32)


def mrg_next(states: np.ndarray) -> np.ndarray:
    """Advance (n, 6) int64 states in place by one step; returns z in [1, M1] per row."""
    y1 = (4194304 * states[:, 1] + 129 * states[:, 2]) % M1
    y2 = (32768 * states[:, 3] + 32769 * states[:, 5]) % M2
    states[:, 1:3] = states[:, 0:2].copy()
    states[:, 0] = y1
    states[:, 4:6] = states[:, 3:5].copy()
    states[:, 3] = y2
    z = y1 - y2
    z[z <= 0] += M1
    return z


def mrg_uniform_values(rstate: np.ndarray, n: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(new_rstate, n uniforms in (0, 1)): element j comes from stream j % n_streams."""
    states = np.asarray(rstate, dtype=np.int64).copy()
    n_streams = states.shape[0]
    z = np.empty(n, dtype=np.int64)
    for start in range(0, n, n_streams):
        count = min(n_streams, n - start)
        z[start : start + count] = mrg_next(states[:count])  # a view: advances those streams
    mask, offset, norm = _NORM[dtype]
    work = np.float64 if dtype == "float64" else np.float32
    values = ((z & mask) + offset).astype(work) * norm
    return states.astype(np.int32), values.astype(dtype, copy=False)


class MRGUniform(_RandomOp):
    """Theano's mrg_uniform: (rstate, size) -> (new_rstate, uniform sample in (0, 1)).

    rstate is an int32 (n_streams, 6) matrix of MRG31k3p states; element j of the flattened
    sample is the next value of stream j % n_streams, exactly as Theano computed it.
    """

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtypes.canonical_dtype(dtype)
        if self.dtype not in _NORM:
            raise TypeError(f"MRGUniform: dtype must be float16, float32 or float64, got {dtype}")

    def __str__(self) -> str:
        return f"mrg_uniform{{{self.dtype}}}"

    def make_node(self, rstate: Any, size: Any) -> Apply:
        rstate = as_tensor_variable(rstate)
        if rstate.dtype != "int32" or rstate.ndim != 2 or rstate.type.shape[1] not in (None, 6):
            raise TypeError(
                f"{self}: rstate must be an int32 (n_streams, 6) matrix, got {rstate.type}"
            )
        size = _size_input(size, str(self))
        sample = TensorType(self.dtype, sh._static_entries(size, size.type.shape[0]))()
        return Apply(self, [rstate, size], [rstate.type(), sample])

    def perform(self, node, inputs, output_storage):
        rstate, size = inputs
        shape = tuple(int(s) for s in size)
        if rstate.shape[0] == 0 or rstate.shape[1] != 6:
            raise ValueError(
                f"{self}: rstate must have shape (n_streams > 0, 6), got {rstate.shape}"
            )
        new_rstate, values = mrg_uniform_values(
            rstate, int(np.prod(shape, dtype=np.int64)), self.dtype
        )
        output_storage[0][0] = new_rstate
        output_storage[1][0] = values.reshape(shape)

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        return [input_shapes[0], tuple(sh._shape_entries(size, size.type.shape[0]))]

    def R_op(self, inputs, eval_points):
        return [None, None]


class _FromUniform(_RandomOp):
    """Base of the ops turning (probabilities (N, K), uniforms (N * n,), n) into samples."""

    def _inputs(self, pvals: Any, unis: Any, n: Any) -> list[Variable]:
        pvals, unis, n = (as_tensor_variable(v) for v in (pvals, unis, n))
        if pvals.ndim != 2 or not dtypes.is_float(pvals.dtype):
            raise TypeError(
                f"{self}: pvals must be a float matrix (N, K), got {pvals} ({pvals.type})"
            )
        if unis.ndim != 1 or not dtypes.is_float(unis.dtype):
            raise TypeError(f"{self}: unis must be a float vector, got {unis} ({unis.type})")
        if n.ndim != 0 or not dtypes.is_integer(n.dtype) or n.dtype == "bool":
            raise TypeError(f"{self}: n must be an integer scalar, got {n} ({n.type})")
        return [pvals, unis, m.cast(n, "int64")]

    @staticmethod
    def _rounds(pvals: np.ndarray, unis: np.ndarray, n: int, who: str):
        """Yield, for each of the n rounds, the N uniforms of that round."""
        rows = pvals.shape[0]
        if unis.shape[0] != rows * n:
            raise ValueError(f"{who}: expected {rows} * {n} uniforms, got {unis.shape[0]}")
        for c in range(n):
            yield unis[c * rows : (c + 1) * rows]

    @staticmethod
    def _pick(pvals: np.ndarray, u: np.ndarray) -> np.ndarray:
        # the first outcome whose cumulative probability exceeds u (the last one if rounding
        # leaves the total below u)
        below = (np.cumsum(pvals, axis=1) <= u[:, None]).sum(axis=1)
        return np.minimum(below, pvals.shape[1] - 1)

    def R_op(self, inputs, eval_points):
        return [None]


class MultinomialFromUniform(_FromUniform):
    """Counts of n draws per row of pvals (N, K), using uniforms[c * N + i] for draw c of row i."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64") -> None:
        self.dtype = dtypes.canonical_dtype(dtype)

    def make_node(self, pvals: Any, unis: Any, n: Any) -> Apply:
        inputs = self._inputs(pvals, unis, n)
        return Apply(self, inputs, [TensorType(self.dtype, inputs[0].type.shape)()])

    def perform(self, node, inputs, output_storage):
        pvals, unis, n = inputs
        counts = np.zeros(pvals.shape, dtype=np.int64)
        rows = np.arange(pvals.shape[0])
        for u in self._rounds(pvals, unis, int(n), str(self)):
            np.add.at(counts, (rows, self._pick(pvals, u)), 1)
        output_storage[0][0] = counts.astype(self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class ChoiceFromUniform(_FromUniform):
    """n indices per row of p (N, K), with or without replacement (then p is renormalized)."""

    __props__ = ("dtype", "replace")

    def __init__(self, dtype: str = "int64", replace: bool = False) -> None:
        self.dtype = dtypes.canonical_dtype(dtype)
        self.replace = bool(replace)

    def make_node(self, pvals: Any, unis: Any, n: Any) -> Apply:
        inputs = self._inputs(pvals, unis, n)
        shape = (inputs[0].type.shape[0], sh._static_int(inputs[2]))
        return Apply(self, inputs, [TensorType(self.dtype, shape)()])

    def perform(self, node, inputs, output_storage):
        pvals, unis, n = inputs
        n = int(n)
        if not self.replace and n > pvals.shape[1]:
            raise ValueError(
                f"{self}: cannot draw {n} of {pvals.shape[1]} outcomes without replacement"
            )
        p = np.array(pvals, dtype=np.float64)
        rows = np.arange(p.shape[0])
        out = np.empty((p.shape[0], n), dtype=self.dtype)
        for c, u in enumerate(self._rounds(p, unis, n, str(self))):
            picked = self._pick(p, u)
            out[:, c] = picked
            if not self.replace and c + 1 < n:
                p[rows, picked] = 0.0
                p /= p.sum(axis=1, keepdims=True)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0], node.inputs[2])]
