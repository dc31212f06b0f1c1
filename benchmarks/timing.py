"""Timing helpers: repeat, report median and min per call, and ratios in one process run."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    """Seconds per call over several repeats of `number` calls."""

    label: str
    median: float
    best: float

    def row(self, baseline: Timing | None = None) -> str:
        ratio = f"{self.median / baseline.median:6.2f}x" if baseline else "       "
        return f"  {self.label:<34} median {_fmt(self.median)}  min {_fmt(self.best)}  {ratio}"


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.2f} us"
    return f"{seconds * 1e3:9.3f} ms"


def time_call(
    label: str, fn: Callable[[], object], min_time: float = 0.2, repeats: int = 7
) -> Timing:
    """Time `fn()`; the call count per repeat is chosen so one repeat lasts about `min_time`."""
    fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time / 4 or number >= 1 << 22:
            break
        number *= 4
    samples = []
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    finally:
        gc.enable()
    samples.sort()
    return Timing(label, samples[len(samples) // 2], samples[0])


def interleaved(
    cases: list[tuple[str, Callable[[], object]]], rounds: int = 3, **kw
) -> list[Timing]:
    """Time each case `rounds` times, interleaved so noise hits all alike; keep the best round."""
    best: dict[str, Timing] = {}
    for _ in range(rounds):
        for label, fn in cases:
            t = time_call(label, fn, **kw)
            if label not in best or t.median < best[label].median:
                best[label] = Timing(label, t.median, min(t.best, best.get(label, t).best))
    return [best[label] for label, _ in cases]
