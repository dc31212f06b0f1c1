"""Theano's MRG_RandomStreams: L'Ecuyer's MRG31k3p generator, its ops and its streams.

A draw reads many parallel generator states (one row each, spaced 2**72 steps apart), so the
numbers are exactly Theano's for a seed, size and number of streams. May import core.dtypes,
core.graph, core.type, core.variable, core.shared and core.ops (random, random_streams, math,
shape, basic, extra_ops).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labsym.core import dtypes
from labsym.core.graph import Apply, Variable
from labsym.core.ops import base, basic, extra_ops
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.random import RandomOp, size_input
from labsym.core.ops.random_streams import (
    Streams,
    as_float,
    float_params,
    size_entries,
)
from labsym.core.shared import SharedVariable, shared
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable, constant

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


class MRGUniform(RandomOp):
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
        size = size_input(size, str(self))
        sample = TensorType(self.dtype, sh.static_entries(size, size.type.shape[0]))()
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
        return [input_shapes[0], tuple(sh.shape_entries(size, size.type.shape[0]))]

    def R_op(self, inputs, eval_points):
        return [None, None]


class _FromUniform(RandomOp):
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
        shape = (inputs[0].type.shape[0], sh.static_int(inputs[2]))
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


# ---------------------------------------------------------------------------------- MRG streams
def guess_n_streams(size: Any) -> int:
    """Theano's number of MRG streams for a size: a sixth of the elements, at most 60 * 256."""
    if isinstance(size, (tuple, list)) and all(isinstance(s, (int, np.integer)) for s in size):
        n = int(np.prod(size, dtype=np.int64))
        return max(1, min(n // 6 if n > 6 else n, 60 * 256))
    return 60 * 256


def _check_seed(seed: Any) -> np.ndarray:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if not 0 < seed < M2:
            raise ValueError(f"MRG_RandomStreams: an int seed must be in 1 .. {M2 - 1}, got {seed}")
        return np.full(6, seed, dtype=np.int32)
    values = list(seed) if isinstance(seed, (tuple, list, np.ndarray)) else []
    if len(values) != 6:
        raise TypeError(f"MRG_RandomStreams: seed must be one int or 6 ints, got {seed!r}")
    for part, modulus in ((values[:3], M1), (values[3:], M2)):
        if not all(0 <= v < modulus for v in part) or not any(part):
            raise ValueError(
                f"MRG_RandomStreams: seed {values}: each half must be in 0 .. {modulus - 1} "
                "and not all 0"
            )
    return np.asarray(values, dtype=np.int32)


class MRG_RandomStreams(Streams):  # noqa: N801 - Theano's name
    """Symbolic random draws from L'Ecuyer's MRG31k3p generator (Theano's `sandbox.rng_mrg`).

    A draw reads many parallel streams, one state row each, spaced 2**72 steps apart; the
    numbers are exactly Theano's for the same seed, size and number of streams.

    Examples
    --------
    >>> import labsym
    >>> u = MRG_RandomStreams(seed=12345).uniform((7,), nstreams=7)
    >>> float(labsym.function([], u)()[0])  # as L'Ecuyer's reference implementation
    0.7353244530968368
    """

    def __init__(self, seed: Any = 12345) -> None:
        self.state_updates: list[tuple[SharedVariable, Variable]] = []
        self._n_streams: list[int] = []
        self.default_instance_seed = seed
        self.set_rstate(seed)

    def set_rstate(self, seed: Any) -> None:
        """Set the base state: one int (repeated 6 times) or 6 ints."""
        self.rstate = _check_seed(seed)

    def seed(self, seed: Any = None) -> None:
        """Reset every stream to states derived from `seed` (default: the constructor's)."""
        self.set_rstate(self.default_instance_seed if seed is None else seed)
        for (rstate, _), n_streams in zip(self.state_updates, self._n_streams, strict=True):
            rstate.set_value(self.get_substream_rstates(n_streams), borrow=True)

    def inc_rstate(self) -> None:
        """Jump the base state 2**134 steps, to where the next draw's streams start."""
        self.rstate = jump_states(self.rstate, A_P134)[0].astype(np.int32)

    def get_substream_rstates(self, n_streams: int, inc_rstate: bool = True) -> np.ndarray:
        """An (n_streams, 6) int32 matrix of states spaced 2**72 steps, from the base state."""
        if n_streams < 1:
            raise ValueError(f"MRG_RandomStreams: n_streams must be positive, got {n_streams}")
        states = substream_states(self.rstate, n_streams)
        if inc_rstate:
            self.inc_rstate()
        return states

    def n_streams(self, size: Any) -> int:
        """How many parallel streams a draw of `size` gets (see guess_n_streams)."""
        return guess_n_streams(size)

    def _uniform01(self, entries: list, dtype: str, nstreams: int | None) -> Variable:
        n_streams = self.n_streams(entries) if nstreams is None else int(nstreams)
        rstate = shared(self.get_substream_rstates(n_streams))
        new_rstate, sample = MRGUniform(dtype)(
            rstate, sh.shape_vector(entries, "MRG_RandomStreams")
        )
        self._n_streams.append(n_streams)
        return self._record(rstate, new_rstate, sample)

    def uniform(
        self,
        size: Any = (),
        low: Any = 0.0,
        high: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
        nstreams: int | None = None,
    ) -> Variable:
        """Uniform samples in (low, high); dtype defaults to floatX (upcast with low/high)."""
        dtype, (low, high) = float_params(dtype, low, high)
        u = self._uniform01(size_entries(size, ndim, "MRG_RandomStreams.uniform"), dtype, nstreams)
        r = u * (high - low) + low
        if r.ndim != u.ndim:
            raise ValueError(
                f"MRG_RandomStreams.uniform: low {low.type} and high {high.type} have more dims "
                f"than size ({u.ndim}); increase the size to match them"
            )
        return r

    def binomial(
        self,
        size: Any = (),
        n: int = 1,
        p: Any = 0.5,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: int | None = None,
    ) -> Variable:
        """Successes in n trials of probability p: `cast(uniform < p)` summed over n draws."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise TypeError(f"MRG_RandomStreams.binomial: n must be a positive int, got {n!r}")
        entries = size_entries(size, ndim, "MRG_RandomStreams.binomial")
        p = as_tensor_variable(p)
        if n == 1:
            return m.cast(m.lt(self.uniform(entries, nstreams=nstreams), p), dtype)
        trials = m.cast(m.lt(self.uniform([int(n)] + entries, nstreams=nstreams), p), dtype)
        return m.cast(trials.sum(axis=0), dtype)

    def normal(
        self,
        size: Any = (),
        avg: Any = 0.0,
        std: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
        nstreams: int | None = None,
    ) -> Variable:
        """Gaussian samples by the Box-Muller transform of an even number of uniforms."""
        dtype, (avg, std) = float_params(dtype, avg, std)
        entries = size_entries(size, ndim, "MRG_RandomStreams.normal")
        n_odd = base.prod_lengths(entries)
        n_even = n_odd + n_odd % 2
        u = self._uniform01([n_even], dtype, nstreams)
        half = n_even // 2
        radius = m.sqrt(-2.0 * m.log(u[:half]))
        theta = constant(np.asarray(2 * np.pi, dtype=dtype)) * u[half:]
        z = basic.concatenate([radius * m.cos(theta), radius * m.sin(theta)])
        if not isinstance(n_odd, int) or n_odd % 2:
            z = z[:n_odd]
        samples = sh.reshape(
            z, sh.shape_vector(entries, "MRG_RandomStreams.normal"), ndim=len(entries)
        )
        return samples * std + avg

    def multinomial(
        self,
        size: Any = None,
        n: Any = 1,
        pvals: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: int | None = None,
    ) -> Variable:
        """Counts of n draws per row of pvals (a matrix (N, K), or one vector)."""
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial: pvals is required")
        if size is not None or ndim is not None:
            raise ValueError(
                "MRG_RandomStreams.multinomial: the shape comes from pvals; pass no size or ndim"
            )
        pvals = as_float(pvals)
        rows = _as_matrix(pvals, "MRG_RandomStreams.multinomial")
        unis = self._uniform01(
            [base.prod_lengths([sh.axis_length(rows, 0), n])], rows.dtype, nstreams
        )
        out = MultinomialFromUniform(dtype)(rows, unis, n)
        return out if pvals.ndim == 2 else out[0]

    def choice(
        self,
        size: Any = 1,
        a: Any = None,
        replace: bool = True,
        p: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: int | None = None,
    ) -> Variable:
        """`size` outcome indices per row of p (N, K), with or without replacement."""
        if a is not None:
            raise TypeError(
                "MRG_RandomStreams.choice: a must be None; outcomes are 0 .. p.shape[1] - 1"
            )
        if p is None:
            raise TypeError("MRG_RandomStreams.choice: p (a matrix of probabilities) is required")
        if ndim is not None:
            raise ValueError("MRG_RandomStreams.choice: ndim is not used; the output is (N, size)")
        rows = _as_matrix(as_float(p), "MRG_RandomStreams.choice")
        unis = self._uniform01(
            [base.prod_lengths([sh.axis_length(rows, 0), size])], rows.dtype, nstreams
        )
        return ChoiceFromUniform(dtype, replace)(rows, unis, size)

    def permutation(
        self,
        size: Any = (),
        n: Any = 1,
        ndim: int | None = None,
        dtype: Any = "int64",
        nstreams: int | None = None,
    ) -> Variable:
        """Permutations of arange(n) (argsort of uniforms); the sample has shape size + (n,)."""
        entries = size_entries(size, ndim, "MRG_RandomStreams.permutation")
        u = self._uniform01(entries + [n], "float64", nstreams)
        return m.cast(extra_ops.argsort(u, axis=-1), dtype)


def _as_matrix(pvals: Variable, who: str) -> Variable:
    if pvals.ndim == 2:
        return pvals
    if pvals.ndim == 1:
        return pvals.dimshuffle("x", 0)
    raise TypeError(f"{who}: probabilities must be a vector or a matrix (N, K), got {pvals.type}")
