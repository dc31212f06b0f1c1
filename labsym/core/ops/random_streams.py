"""Theano's RandomStreams and raw_random draws (NumPy RandomState), and what streams share.

Each draw owns a shared generator state whose default update advances it, so every call of a
compiled function gets new numbers and `seed()` replays them. May import labsym.config (the
floatX default of user-facing draws), core.graph, core.shared, core.variable, core.dtypes and
core.ops (random, math, shape).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from labsym.config import config
from labsym.core import dtypes
from labsym.core.graph import Variable
from labsym.core.ops import basic
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.ops.random import RandomFunction, RandomStateSharedVariable
from labsym.core.shared import SharedVariable
from labsym.core.variable import as_tensor_variable

SizeEntry = int | Variable


# ---------------------------------------------------------------------------------- sizes, dtypes
def randomstate_constructor(
    value: Any,
    name: str | None = None,
    strict: bool = False,
    allow_downcast: bool | None = None,
    borrow: bool = False,
) -> RandomStateSharedVariable:
    """`shared(numpy.random.RandomState(...))`: Theano's rng shared variable for raw_random.

    The state is copied in (packed), so the caller's RandomState never advances, as Theano's
    deepcopy without borrow; TypeError for any other value lets shared() try the next constructor.
    """
    if not isinstance(value, np.random.RandomState):
        raise TypeError(f"not a numpy.random.RandomState: {type(value).__name__}")
    return RandomStateSharedVariable(value, name=name)


def size_entries(size: Any, ndim: int | None, who: str) -> list[SizeEntry]:
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
    return list(sh.shape_entries(var, length))


def _float_dtype(dtype: Any, *params: Variable) -> str:
    """The sample dtype: the one asked for, else floatX upcast with the (non-weak) parameters."""
    if dtype is not None:
        return dtypes.canonical_dtype(dtype)
    strong = [p.dtype for p in params if not getattr(p, "weak", False)]
    return dtypes.upcast(config.floatX, *strong)


def float_params(dtype: Any, *values: Any) -> tuple[str, list[Variable]]:
    """The sample dtype of float parameters, and the parameters cast to it."""
    params = [as_tensor_variable(value) for value in values]
    dtype = _float_dtype(dtype, *params)
    return dtype, [m.cast(param, dtype) for param in params]


def as_float(value: Any) -> Variable:
    var = as_tensor_variable(value)
    return var if dtypes.is_float(var.dtype) else m.cast(var, "float64")


def check_ndim(sample: Variable, ndim: int | None, core: int, who: str) -> Variable:
    if ndim is not None and sample.ndim - core != ndim:
        raise ValueError(
            f"{who}: ndim={ndim} but the parameters and size give {sample.ndim - core} dims"
        )
    return sample


# ---------------------------------------------------------------------------------- raw draws
_PROB_DEPRECATION = (
    "DEPRECATION WARNING: the parameter prob to the binomal fct have been renamed to p to have "
    "the same name as numpy."
)


# Theano's raw_random: each takes a RandomState variable and returns [new_state, sample].
def _raw(
    distribution: str,
    random_state: Variable,
    size: Any,
    ndim: int | None,
    dtype: Any,
    params: list,
    core: int = 0,
) -> list[Variable]:
    who = f"raw_random.{distribution}"
    entries = size_entries(size, ndim, who)
    new_state, sample = RandomFunction(distribution, dtype)(
        random_state, sh.shape_vector(entries, who), *params
    )
    check_ndim(sample, ndim, core, who)
    return [new_state, sample]


def uniform(
    random_state: Variable,
    size: Any = None,
    low: Any = 0.0,
    high: Any = 1.0,
    ndim: int | None = None,
    dtype: Any = None,
) -> list[Variable]:
    """Uniform samples in [low, high): RandomState.uniform(low, high, size)."""
    params = [as_tensor_variable(low), as_tensor_variable(high)]
    return _raw("uniform", random_state, size, ndim, _float_dtype(dtype, *params), params)


def normal(
    random_state: Variable,
    size: Any = None,
    avg: Any = 0.0,
    std: Any = 1.0,
    ndim: int | None = None,
    dtype: Any = None,
) -> list[Variable]:
    """Gaussian samples: RandomState.normal(avg, std, size)."""
    params = [as_tensor_variable(avg), as_tensor_variable(std)]
    return _raw("normal", random_state, size, ndim, _float_dtype(dtype, *params), params)


def binomial(
    random_state: Variable,
    size: Any = None,
    n: Any = 1,
    p: Any = 0.5,
    ndim: int | None = None,
    dtype: Any = "int64",
    prob: Any = None,
) -> list[Variable]:
    """Successes in n trials of probability p: RandomState.binomial(n, p, size).

    `prob` is Theano's older name of p, still accepted with Theano's deprecation message.
    """
    if prob is not None:
        p = prob
        print(_PROB_DEPRECATION, file=sys.stderr)
    params = [as_tensor_variable(n), as_float(p)]
    return _raw("binomial", random_state, size, ndim, dtype, params)


def poisson(
    random_state: Variable,
    size: Any = None,
    lam: Any = 1.0,
    ndim: int | None = None,
    dtype: Any = "int64",
) -> list[Variable]:
    """Poisson counts of expectation lam: RandomState.poisson(lam, size)."""
    return _raw("poisson", random_state, size, ndim, dtype, [as_tensor_variable(lam)])


def random_integers(
    random_state: Variable,
    size: Any = None,
    low: Any = 0,
    high: Any = 1,
    ndim: int | None = None,
    dtype: Any = "int64",
) -> list[Variable]:
    """Integers from low to high, both included: RandomState.randint(low, high + 1)."""
    params = [as_tensor_variable(low), as_tensor_variable(high)]
    return _raw("random_integers", random_state, size, ndim, dtype, params)


def choice(
    random_state: Variable,
    size: Any = None,
    a: Any = 2,
    replace: bool = True,
    p: Any = None,
    ndim: int | None = None,
    dtype: Any = "int64",
) -> list[Variable]:
    """Samples of `a` (of arange(a) for an int): RandomState.choice(a, size, replace, p)."""
    params = [as_tensor_variable(a)] + ([] if p is None else [as_float(p)])
    distribution = "choice" if replace else "choice_without_replacement"
    return _raw(distribution, random_state, size, ndim, dtype, params)


def permutation(
    random_state: Variable,
    size: Any = None,
    n: Any = 1,
    ndim: int | None = None,
    dtype: Any = "int64",
) -> list[Variable]:
    """One RandomState.permutation(n) per element of size; the sample has shape size + (n,)."""
    params = [as_tensor_variable(n)]
    return _raw("permutation", random_state, size, ndim, dtype, params, core=1)


def multinomial(
    random_state: Variable,
    size: Any = None,
    n: Any = 1,
    pvals: Any = (0.5, 0.5),
    ndim: int | None = None,
    dtype: Any = "int64",
) -> list[Variable]:
    """One RandomState.multinomial(n, pvals) per row; the sample has one more axis than size."""
    params = [as_tensor_variable(n), as_float(list(pvals) if isinstance(pvals, tuple) else pvals)]
    return _raw("multinomial", random_state, size, ndim, dtype, params, core=1)


# ---------------------------------------------------------------------------------- streams
class Streams:
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


class RandomStreams(Streams):
    """Symbolic random draws from NumPy's RandomState (Theano's `shared_randomstreams`).

    A seed generator `RandomState(seed)` gives each draw its own `RandomState(randint(2**30))`,
    held by the draw's `.rng` shared variable, so a program seeded as in Theano gets Theano's
    numbers; each function call advances a draw's state through a default update.

    Examples
    --------
    >>> import labsym
    >>> srng = RandomStreams(seed=123)
    >>> f = labsym.function([], srng.uniform(size=(1,)))
    >>> print(f(), f())  # the numbers of Theano's tutorial
    [0.72803009] [0.59044123]
    """

    def __init__(self, seed: int | None = None) -> None:
        self.state_updates: list[tuple[SharedVariable, Variable]] = []
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def seed(self, seed: int | None = None) -> None:
        """Re-seed every stream drawn so far from `RandomState(seed)` (default: the constructor's).

        As in Theano, streams created afterwards still take their seeds from the constructor's
        seed generator.
        """
        seedgen = np.random.RandomState(self.default_instance_seed if seed is None else seed)
        for state, _ in self.state_updates:
            state.set_value(np.random.RandomState(int(seedgen.randint(2**30))), borrow=True)

    def __getitem__(self, item: SharedVariable) -> np.random.RandomState:
        """The RandomState of a stream (Theano's older spelling of `item.get_value()`)."""
        return item.get_value(borrow=True)

    def __setitem__(self, item: SharedVariable, value: np.random.RandomState) -> None:
        """Set the RandomState of a stream (Theano's older spelling of `item.set_value(v)`)."""
        item.set_value(value, borrow=True)

    def gen(self, op: Any, *args: Any, **kwargs: Any) -> Variable:
        """A new stream: `op(state, *args, **kwargs)` (a raw_random draw) on a fresh RandomState."""
        seed = int(self.gen_seedgen.randint(2**30))
        state = RandomStateSharedVariable(np.random.RandomState(seed))
        new_state, sample = op(state, *args, **kwargs)
        return self._record(state, new_state, sample)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None) -> Variable:
        """Uniform samples in [low, high); dtype defaults to floatX (upcast with low/high)."""
        return self.gen(uniform, size, low, high, ndim=ndim, dtype=dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None) -> Variable:
        """Gaussian samples of mean `avg` and standard deviation `std`."""
        return self.gen(normal, size, avg, std, ndim=ndim, dtype=dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None) -> Variable:
        """Numbers of successes in n trials of probability p (a dropout mask with n=1)."""
        return self.gen(binomial, size, n, p, ndim=ndim, dtype=dtype, prob=prob)

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64") -> Variable:
        """Poisson counts of expectation `lam`."""
        return self.gen(poisson, size, lam, ndim=ndim, dtype=dtype)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64") -> Variable:
        """Integers drawn uniformly from low to high, both included."""
        return self.gen(random_integers, size, low, high, ndim=ndim, dtype=dtype)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64") -> Variable:
        """Samples of `a` (or of arange(a) when a is an int), with probabilities p."""
        return self.gen(choice, size, a, replace, p, ndim=ndim, dtype=dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64") -> Variable:
        """Random permutations of arange(n); the sample has shape size + (n,)."""
        return self.gen(permutation, size, n, ndim=ndim, dtype=dtype)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64") -> Variable:
        """Counts of n draws among len(pvals) outcomes; the sample has one more axis than size."""
        return self.gen(multinomial, size, n, pvals, ndim=ndim, dtype=dtype)

    def shuffle_row_elements(self, input: Any) -> Variable:
        """`input` with the elements of each row (last axis) shuffled by one permutation each.

        The permutation draw is the result's `.permutation` attribute, as in Theano.
        """
        input = as_tensor_variable(input)
        if input.ndim < 1:
            raise TypeError(f"shuffle_row_elements: input must have at least 1 dim, got {input}")
        lengths = [input.shape[axis] for axis in range(input.ndim)]
        perm = self.permutation(size=lengths[:-1], n=lengths[-1], ndim=input.ndim - 1)
        shuffled = _take_along_last_axis(input, perm)
        shuffled.permutation = perm
        return shuffled


def _take_along_last_axis(x: Variable, index: Variable) -> Variable:
    """x[..., index[..., j]] for each row: advanced indexing with broadcast aranges."""
    grids = []
    for axis in range(x.ndim - 1):
        pattern = ["x"] * x.ndim
        pattern[axis] = 0
        grids.append(basic.arange(x.shape[axis]).dimshuffle(*pattern))
    return x[(*grids, index)]
