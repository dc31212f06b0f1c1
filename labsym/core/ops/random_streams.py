"""Theano's random streams: RandomStreams (NumPy distributions) and MRG_RandomStreams (MRG31k3p).

Each draw owns a shared generator state whose default update advances it, so every call of a
compiled function gets new numbers and `seed()` replays them. May import labsym.config (the
floatX default of user-facing draws), core.shared, core.variable, core.dtypes and core.ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core.graph import Variable
from labsym.core.ops import basic, extra_ops
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.random import (
    A_P134,
    M1,
    M2,
    ChoiceFromUniform,
    MRGUniform,
    MultinomialFromUniform,
    RandomFunction,
    jump_states,
    substream_states,
)
from labsym.core.shared import SharedVariable, shared
from labsym.core.variable import as_tensor_variable, constant

SizeEntry = int | Variable


# ---------------------------------------------------------------------------------- sizes, dtypes
def _size_entries(size: Any, ndim: int | None, who: str) -> list[SizeEntry]:
    """The lengths of a size argument (int, tuple/list of lengths, or an int vector); [] for ()."""
    if size is None:
        entries: list = []
    elif isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        entries = [int(size)]
    elif isinstance(size, (tuple, list)):
        entries = list(size)
    elif isinstance(size, np.ndarray):
        entries = [int(v) for v in size.reshape(-1)]
    else:
        entries = _symbolic_size_entries(as_tensor_variable(size), ndim, who)
    for entry in entries:
        if isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
            if entry < 0:
                raise ValueError(f"{who}: size {tuple(entries)} has a negative length")
            continue
        var = as_tensor_variable(entry)
        if var.ndim != 0 or not dtypes.is_integer(var.dtype) or var.dtype == "bool":
            raise TypeError(
                f"{who}: a size entry must be an int or an integer scalar, got {entry!r}"
            )
    if ndim is not None and entries and len(entries) != ndim:
        raise ValueError(f"{who}: size has {len(entries)} entries but ndim={ndim}")
    return entries


def _symbolic_size_entries(var: Variable, ndim: int | None, who: str) -> list[SizeEntry]:
    if var.ndim == 0:
        return [var]
    if var.ndim != 1:
        raise TypeError(f"{who}: size must be a tuple of lengths or an int vector, got {var.type}")
    length = var.type.shape[0]
    if length is None:
        if ndim is None:
            raise ValueError(f"{who}: the length of size {var} ({var.type}) is unknown; pass ndim")
        var, length = sh.specify_shape(var, (ndim,)), ndim
    return list(sh._shape_entries(var, length))


def _float_dtype(dtype: Any, *params: Variable) -> str:
    """The sample dtype: the one asked for, else floatX upcast with the (non-weak) parameters."""
    if dtype is not None:
        return dtypes.canonical_dtype(dtype)
    strong = [p.dtype for p in params if not getattr(p, "weak", False)]
    return dtypes.upcast(config.floatX, *strong)


def _float_params(dtype: Any, *values: Any) -> tuple[str, list[Variable]]:
    """The sample dtype of float parameters, and the parameters cast to it."""
    params = [as_tensor_variable(value) for value in values]
    dtype = _float_dtype(dtype, *params)
    return dtype, [m.cast(param, dtype) for param in params]


def _as_float(value: Any) -> Variable:
    var = as_tensor_variable(value)
    return var if dtypes.is_float(var.dtype) else m.cast(var, "float64")


def _check_ndim(sample: Variable, ndim: int | None, core: int, who: str) -> Variable:
    if ndim is not None and sample.ndim - core != ndim:
        raise ValueError(
            f"{who}: ndim={ndim} but the parameters and size give {sample.ndim - core} dims"
        )
    return sample


# ---------------------------------------------------------------------------------- RandomStreams
class _Streams:
    """What both stream kinds share: the states of their draws and how a draw records its state.

    A draw's state gets a default update, so each function call advances it without `updates`.
    """

    state_updates: list[tuple[SharedVariable, Variable]]

    def updates(self) -> list[tuple[SharedVariable, Variable]]:
        """(state, new_state) pairs of every draw made so far (usable as function updates)."""
        return list(self.state_updates)

    def _record(self, state: SharedVariable, new_state: Variable, sample: Variable) -> Variable:
        state.tag.is_rng = True
        state.default_update = new_state
        sample.rng = state
        sample.update = (state, new_state)
        self.state_updates.append((state, new_state))
        return sample


class RandomStreams(_Streams):
    """Symbolic random draws from NumPy's distributions (Theano's `shared_randomstreams`).

    Every draw gets its own shared state [key, counter] (a Philox stream); the keys come from
    the master `seed`, and each function call advances the counter through a default update.

    Examples
    --------
    >>> import labsym
    >>> srng = RandomStreams(seed=234)
    >>> f = labsym.function([], srng.uniform((2,)))
    >>> first = f()
    >>> bool((f() != first).all())  # each call draws anew
    True
    >>> srng.seed(234); bool((f() == first).all())  # reseeding replays the stream
    True
    """

    def __init__(self, seed: int | None = None) -> None:
        self.state_updates: list[tuple[SharedVariable, Variable]] = []
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.default_rng(seed)

    def seed(self, seed: int | None = None) -> None:
        """Reset every stream to a state derived from `seed` (default: the constructor's seed).

        Streams created afterwards continue the same seed sequence, so reseeding gives the same
        numbers as a new RandomStreams(seed) building the same draws.
        """
        self.gen_seedgen = np.random.default_rng(
            self.default_instance_seed if seed is None else seed
        )
        for state, _ in self.state_updates:
            state.set_value(self._fresh_state(), borrow=True)

    def _fresh_state(self) -> np.ndarray:
        return np.array([self.gen_seedgen.integers(2**63), 0], dtype="uint64")

    def _draw(
        self,
        distribution: str,
        size: Any,
        ndim: int | None,
        dtype: Any,
        params: list,
        core: int = 0,
    ) -> Variable:
        who = f"RandomStreams.{distribution}"
        entries = _size_entries(size, ndim, who)
        state = shared(np.zeros(2, dtype="uint64"), shape=(2,))
        new_state, sample = RandomFunction(distribution, dtype)(
            state, sh._shape_vector(entries, who), *params
        )
        _check_ndim(sample, ndim, core, who)
        state.set_value(self._fresh_state(), borrow=True)
        return self._record(state, new_state, sample)

    def uniform(
        self,
        size: Any = (),
        low: Any = 0.0,
        high: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
    ) -> Variable:
        """Uniform samples in [low, high); dtype defaults to floatX (upcast with low/high)."""
        dtype, params = _float_params(dtype, low, high)
        return self._draw("uniform", size, ndim, dtype, params)

    def normal(
        self,
        size: Any = (),
        avg: Any = 0.0,
        std: Any = 1.0,
        ndim: int | None = None,
        dtype: Any = None,
    ) -> Variable:
        """Gaussian samples of mean `avg` and standard deviation `std`."""
        dtype, params = _float_params(dtype, avg, std)
        return self._draw("normal", size, ndim, dtype, params)

    def binomial(
        self,
        size: Any = (),
        n: Any = 1,
        p: Any = 0.5,
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Numbers of successes in n trials of probability p (a dropout mask with n=1)."""
        return self._draw("binomial", size, ndim, dtype, [as_tensor_variable(n), _as_float(p)])

    def random_integers(
        self,
        size: Any = (),
        low: Any = 0,
        high: Any = 1,
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Integers drawn uniformly from low to high, both included."""
        return self._draw(
            "random_integers",
            size,
            ndim,
            dtype,
            [as_tensor_variable(low), as_tensor_variable(high)],
        )

    def multinomial(
        self,
        size: Any = None,
        n: Any = 1,
        pvals: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Counts of n draws among len(pvals) outcomes; the sample has one more axis than size."""
        pvals = _as_float([0.5, 0.5] if pvals is None else pvals)
        return self._draw("multinomial", size, ndim, dtype, [as_tensor_variable(n), pvals], core=1)

    def choice(
        self,
        size: Any = (),
        a: Any = 2,
        replace: bool = True,
        p: Any = None,
        ndim: int | None = None,
        dtype: Any = "int64",
    ) -> Variable:
        """Samples of `a` (or of arange(a) when a is an int), with probabilities p."""
        params = [as_tensor_variable(a)] + ([] if p is None else [_as_float(p)])
        distribution = "choice" if replace else "choice_without_replacement"
        return self._draw(distribution, size, ndim, dtype, params)

    def permutation(
        self, size: Any = (), n: Any = 1, ndim: int | None = None, dtype: Any = "int64"
    ) -> Variable:
        """Random permutations of arange(n); the sample has shape size + (n,)."""
        return self._draw("permutation", size, ndim, dtype, [as_tensor_variable(n)], core=1)


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


class MRG_RandomStreams(_Streams):  # noqa: N801 - Theano's name
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
            rstate, sh._shape_vector(entries, "MRG_RandomStreams")
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
        dtype, (low, high) = _float_params(dtype, low, high)
        u = self._uniform01(_size_entries(size, ndim, "MRG_RandomStreams.uniform"), dtype, nstreams)
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
        entries = _size_entries(size, ndim, "MRG_RandomStreams.binomial")
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
        dtype, (avg, std) = _float_params(dtype, avg, std)
        entries = _size_entries(size, ndim, "MRG_RandomStreams.normal")
        n_odd = sh._prod(entries)
        n_even = n_odd + n_odd % 2
        u = self._uniform01([n_even], dtype, nstreams)
        half = n_even // 2
        radius = m.sqrt(-2.0 * m.log(u[:half]))
        theta = constant(np.asarray(2 * np.pi, dtype=dtype)) * u[half:]
        z = basic.concatenate([radius * m.cos(theta), radius * m.sin(theta)])
        if not isinstance(n_odd, int) or n_odd % 2:
            z = z[:n_odd]
        samples = sh.reshape(
            z, sh._shape_vector(entries, "MRG_RandomStreams.normal"), ndim=len(entries)
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
        pvals = _as_float(pvals)
        rows = _as_matrix(pvals, "MRG_RandomStreams.multinomial")
        unis = self._uniform01([sh._prod([sh._length(rows, 0), n])], rows.dtype, nstreams)
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
        rows = _as_matrix(_as_float(p), "MRG_RandomStreams.choice")
        unis = self._uniform01([sh._prod([sh._length(rows, 0), size])], rows.dtype, nstreams)
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
        entries = _size_entries(size, ndim, "MRG_RandomStreams.permutation")
        u = self._uniform01(entries + [n], "float64", nstreams)
        return m.cast(extra_ops.argsort(u, axis=-1), dtype)


def _as_matrix(pvals: Variable, who: str) -> Variable:
    if pvals.ndim == 2:
        return pvals
    if pvals.ndim == 1:
        return pvals.dimshuffle("x", 0)
    raise TypeError(f"{who}: probabilities must be a vector or a matrix (N, K), got {pvals.type}")
