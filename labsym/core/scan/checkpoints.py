"""scan_checkpoints: a scan that keeps only every N-th state and recomputes the rest for grad.

Theano's construction: an outer scan over blocks of `save_every_N` steps whose body is an
inner scan running one block. The outer scan stores one state per block; the inner scan's
states live only inside one outer step, so the gradient re-runs each block's forward loop
(from its stored start) instead of reading every step's state from memory.
May import core and the sibling scan modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labsym.core.ops import basic
from labsym.core.ops import math as m
from labsym.core.ops import shape as sh
from labsym.core.scan.build import scan
from labsym.core.variable import as_tensor_variable


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def scan_checkpoints(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    name: str = "checkpointscan_fn",
    n_steps: Any = None,
    save_every_N: int = 10,  # noqa: N803 - Theano's name
    padding: bool = True,
) -> tuple[Any, Any]:
    """scan(fn, ...) storing only the states at every `save_every_N`-th step (and the last).

    Returns (outputs, updates) like scan, but each output holds one entry per block of
    `save_every_N` steps: the state after that block. The gradient recomputes the steps in
    between. Sequences whose length is not a multiple of save_every_N are zero padded
    (`padding=True`; the padding steps are never run). Taps are not supported, as in Theano.
    """
    sequences = [as_tensor_variable(s) for s in _as_list(sequences)]
    outputs_info = [None] if outputs_info is None else _as_list(outputs_info)
    non_sequences = _as_list(non_sequences)
    for element in outputs_info:
        if isinstance(element, dict):
            raise RuntimeError("scan_checkpoints doesn't work with taps.")
    if n_steps is None:
        if not sequences:
            raise ValueError("scan_checkpoints: give sequences or n_steps")
        n_steps = sequences[0].shape[0]
    n_steps = m.cast(as_tensor_variable(n_steps), "int64")
    every = int(save_every_N)
    o_n_steps = m.cast(m.ceil(n_steps / every), "int64")
    # each block runs `every` steps except the last, which runs what is left
    last = m.switch(m.eq(n_steps % every, 0), every, n_steps % every)
    i_n_steps = m.switch(m.eq(basic.arange(o_n_steps), o_n_steps - 1), last, every)
    blocks = []
    for s in sequences:
        if padding:
            extra = (every - s.shape[0] % every) % every
            zeros = basic.zeros([extra, *[s.shape[k] for k in range(1, s.ndim)]], dtype=s.dtype)
            s = basic.concatenate([s, zeros], axis=0)
        lengths = [s.shape[0] // every, every, *[s.shape[k] for k in range(1, s.ndim)]]
        blocks.append(sh.reshape(s, lengths, ndim=s.ndim + 1))
    n_seq, n_state = len(blocks), sum(o is not None for o in outputs_info)

    def outer_step(*args: Any) -> Any:
        block_seqs, steps = list(args[:n_seq]), args[n_seq]
        states = iter(args[n_seq + 1 : n_seq + 1 + n_state])
        inner_info = [None if o is None else next(states) for o in outputs_info]
        results, updates = scan(
            fn,
            sequences=block_seqs,
            outputs_info=inner_info,
            non_sequences=list(args[n_seq + 1 + n_state :]),
            name=name + "_inner",
            n_steps=steps,
        )
        results = results if isinstance(results, list) else [results]
        return [r[-1] for r in results], updates

    return scan(
        outer_step,
        sequences=[*blocks, i_n_steps],
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        name=name + "_outer",
        n_steps=o_n_steps,
    )


__all__ = ["scan_checkpoints"]
