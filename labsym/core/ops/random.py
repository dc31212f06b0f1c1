"""NumPy RandomState draws as ops, with the generator state held in a tensor.

A draw op takes the state of a `numpy.random.RandomState` (MT19937, packed in a uint32 vector)
and returns the advanced state with the sample, calling the same RandomState method with the
same arguments as Theano's raw_random, so a program seeded as in Theano draws Theano's numbers.
May import core.graph, core.op, core.type, core.dtypes, core.shared, core.variable and the
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
from labsym.core.shared import SharedVariable
from labsym.core.type import TensorType
from labsym.core.variable import as_tensor_variable


class RandomOp(Op):
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


def size_input(size: Any, who: str) -> Variable:
    """The size argument as an int64 vector whose length is known statically."""
    size = as_tensor_variable(size)
    if size.ndim != 1 or not dtypes.is_integer(size.dtype) or size.dtype == "bool":
        raise TypeError(f"{who}: size must be an integer vector, got {size} ({size.type})")
    if size.type.shape[0] is None:
        raise ValueError(f"{who}: the length of size {size} ({size.type}) must be known statically")
    return m.cast(size, "int64")


# ---------------------------------------------------------------------------------- the state
# MT19937's state packed in uint32 words: 624 keys, pos, has_gauss, the cached gaussian (2 words)
STATE_LENGTH = 628
STATE_TYPE = TensorType("uint32", (STATE_LENGTH,), name="RandomStateType")


def pack_random_state(rng: np.random.RandomState) -> np.ndarray:
    """The state of a RandomState as a uint32 vector of STATE_LENGTH words."""
    if type(rng) is not np.random.RandomState:
        raise TypeError(f"expected a numpy.random.RandomState, got {type(rng).__name__}")
    state = rng.get_state(legacy=False)
    if state["bit_generator"] != "MT19937":
        kind = state["bit_generator"]
        raise TypeError(f"only an MT19937 RandomState can be held, got one on {kind}")
    packed = np.empty(STATE_LENGTH, dtype=np.uint32)
    packed[:624] = state["state"]["key"]
    packed[624:626] = state["state"]["pos"], state["has_gauss"]
    packed[626:].view(np.float64)[0] = state["gauss"]
    return packed


def unpack_random_state(packed: np.ndarray, into: np.random.RandomState | None = None):
    """A RandomState (`into`, or a new one) set to the state packed by pack_random_state."""
    rng = np.random.RandomState(0) if into is None else into
    gauss = float(np.ascontiguousarray(packed[626:]).view(np.float64)[0])
    rng.set_state(("MT19937", packed[:624], int(packed[624]), int(packed[625]), gauss))
    return rng


class RandomStateSharedVariable(SharedVariable):
    """A shared variable whose value is a numpy.random.RandomState (Theano's `.rng` of a draw).

    Graphs see the packed state (a uint32 vector); get_value/set_value speak RandomState, so
    `.seed()`, `.get_state()` and `.set_state()` work on `rng.get_value(borrow=True)` as in Theano.
    """

    def __init__(self, value: np.random.RandomState, name: str | None = None) -> None:
        super().__init__(STATE_TYPE, pack_random_state(value), name=name, strict=True)

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """A RandomState in the current state (the packed vector with return_internal_type)."""
        packed = self.container.value
        if return_internal_type:
            return packed if borrow else packed.copy()
        return unpack_random_state(packed)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Take the state of a RandomState (the object itself is not kept)."""
        try:
            packed = pack_random_state(new_value)
        except TypeError as exc:
            raise TypeError(f"set_value on random state {self.name or self}: {exc}") from None
        self.container.value = packed

    def clone(self) -> RandomStateSharedVariable:
        cp = RandomStateSharedVariable.__new__(RandomStateSharedVariable)
        SharedVariable.__init__(cp, self.type, self.container.value, self.name, self.strict)
        cp.container = self.container
        cp.default_update = self.default_update
        cp.tag.__dict__.update(self.tag.__dict__)
        return cp


# ---------------------------------------------------------------------------------- NumPy draws
# Each draw calls the RandomState method Theano's raw_random called, with the same arguments in
# the same order (size last, None for an empty size), so the same state gives the same numbers.
def _uniform(rng, size, low, high):
    return rng.uniform(low, high, size)


def _normal(rng, size, avg, std):
    return rng.normal(avg, std, size)


def _binomial(rng, size, n, p):
    return rng.binomial(n, p, size)


def _poisson(rng, size, lam):
    return rng.poisson(lam, size)


def _random_integers(rng, size, low, high):
    # Theano drew randint(low[i], high[i] + 1) element by element in C order; one vectorised
    # randint over the broadcast bounds consumes the MT19937 stream identically
    shape = size if size is not None else np.broadcast_shapes(low.shape, high.shape)
    return rng.randint(np.broadcast_to(low, shape), np.broadcast_to(high, shape) + 1, shape)


def _multinomial(rng, size, n, pvals):
    batch = size if size is not None else np.broadcast_shapes(n.shape, pvals.shape[:-1])
    counts = np.broadcast_to(n, batch)
    rows = np.broadcast_to(pvals, batch + pvals.shape[-1:])
    out = np.empty(batch + pvals.shape[-1:])
    for index in np.ndindex(*batch):
        out[index] = rng.multinomial(n=counts[index], pvals=_theano_pvals(rows[index]))
    return out


def _theano_pvals(p: np.ndarray) -> np.ndarray:
    """p as Theano passed it to NumPy's multinomial (which rejects sums above 1).

    Theano shrank p by 5e-5 when its sum was just above 1 (rounding) or its last entry was
    below 5e-5; probabilities that still sum above 1 are an error.
    """
    if p.min() < 0:
        raise ValueError(f"multinomial: probabilities must be >= 0, got {p}")
    total = np.sum(p)
    if 1.0 < total < 1.0 + 1e-5 or (total <= 1.0 and p[-1] < 5e-5):
        p = p * (1.0 - 5e-5)
        total = np.sum(p)
    if total > 1.0:
        raise ValueError(f"multinomial: probabilities {p} sum to {total}, more than 1")
    return p.astype("float64")


def _choice(rng, size, a, p=None, replace=True):
    return rng.choice(a, size, replace, p)


def _permutation(rng, size, n):
    batch = size if size is not None else ()
    out = np.empty(batch + (int(n),), dtype=int)
    for index in np.ndindex(*batch):
        out[index] = rng.permutation(int(n))
    return out


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
    name: str = ""  # Theano's name in `RandomFunction{name}`, when not the distribution's


DISTRIBUTIONS: dict[str, Distribution] = {
    "uniform": Distribution(_uniform, (("low", "num", 0), ("high", "num", 0))),
    "normal": Distribution(_normal, (("avg", "num", 0), ("std", "num", 0))),
    "binomial": Distribution(_binomial, (("n", "int", 0), ("p", "float", 0))),
    "poisson": Distribution(_poisson, (("lam", "num", 0),)),
    "random_integers": Distribution(
        _random_integers, (("low", "int", 0), ("high", "int", 0)), name="random_integers_helper"
    ),
    "multinomial": Distribution(
        _multinomial,
        (("n", "int", 0), ("pvals", "float", 1)),
        core_shape=lambda params: (params[1].type.shape[-1],),
        name="multinomial_helper",
    ),
    "choice": Distribution(
        _choice, (("a", "num", None), ("p", "float", 1)), 1, False, name="choice_helper"
    ),
    "choice_without_replacement": Distribution(
        partial(_choice, replace=False),
        (("a", "num", None), ("p", "float", 1)),
        1,
        False,
        name="choice_helper",
    ),
    "permutation": Distribution(
        _permutation,
        (("n", "int", 0),),
        batched=False,
        core_shape=lambda params: (sh.static_int(params[0]),),
        name="permutation_helper",
    ),
}

_KIND_CHECKS = {
    "num": lambda dt: dt != "bool" and (dtypes.is_integer(dt) or dtypes.is_float(dt)),
    "int": lambda dt: dt != "bool" and dtypes.is_integer(dt),
    "float": dtypes.is_float,
}
_KIND_WORDS = {"num": "a number", "int": "integers", "float": "floats"}


class RandomFunction(RandomOp):
    """One draw of a NumPy distribution: (state, size, *params) -> (new_state, sample).

    The state is a packed RandomState (see pack_random_state); the draw works on a copy, so the
    sample and the new state depend on the inputs only and a failed call commits nothing. An
    empty size takes the broadcast shape of the parameters, as NumPy's size=None.
    """

    __props__ = ("distribution", "dtype")

    def __init__(self, distribution: str, dtype: str) -> None:
        if distribution not in DISTRIBUTIONS:
            known = ", ".join(sorted(DISTRIBUTIONS))
            raise ValueError(f"RandomFunction: unknown distribution {distribution!r} ({known})")
        self.distribution = distribution
        self.dtype = dtypes.canonical_dtype(dtype)

    def __str__(self) -> str:
        return f"RandomFunction{{{DISTRIBUTIONS[self.distribution].name or self.distribution}}}"

    def make_node(self, state: Any, size: Any, *params: Any) -> Apply:
        spec = DISTRIBUTIONS[self.distribution]
        state = as_tensor_variable(state)
        if state.dtype != "uint32" or state.ndim != 1:
            raise TypeError(
                f"{self}: the state must be a packed RandomState (a RandomStateSharedVariable "
                f"or a uint32 vector of {STATE_LENGTH} words), got {state} ({state.type})"
            )
        size = size_input(size, str(self))
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
            batch_shape = tuple(sh.static_entries(size, n_size))
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
        # the RandomState left by this op's last draw, when `state` is the state it packed then
        # (the common case: the default update stored it), saves unpacking; taken out while in
        # use, so a failed draw or another thread never sees a half-advanced generator
        last = self.__dict__.pop("_last_draw", None)
        if last is not None and last[0] is state:
            rng = last[1]
        else:
            if state.shape != (STATE_LENGTH,):
                raise ValueError(
                    f"{self}: the state must have {STATE_LENGTH} words, got {state.shape}"
                )
            rng = unpack_random_state(state, into=None if last is None else last[1])
        shape = tuple(int(s) for s in size) if len(size) else None
        sample = DISTRIBUTIONS[self.distribution].draw(rng, shape, *params)
        new_state = pack_random_state(rng)
        output_storage[0][0] = new_state
        output_storage[1][0] = np.asarray(sample, dtype=self.dtype)
        self._last_draw = (new_state, rng)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_last_draw"}

    def infer_shape(self, fgraph, node, input_shapes):
        spec = DISTRIBUTIONS[self.distribution]
        _, size, *params = node.inputs
        if size.type.shape[0] > 0:
            batch = tuple(sh.shape_entries(size, size.type.shape[0]))
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
