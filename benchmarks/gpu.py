"""GPU benchmark for issue 11's targets, on one card in one process (ratios from one run).

- MLP 784-500-10 training step (tanh, softmax crossentropy, SGD), float32, batch 128 and 1024:
  labsym device=cuda vs PyTorch eager on the same card, the loss read on the host each step
  by both; and labsym's bytes moved per step (parameters must stay on the device).
- Fused elementwise float32 over 1e7 elements (`tanh(x) * 2 + x * x`, one kernel) vs the
  device's copy bandwidth floor (a device-to-device copy of the same bytes read and written).

    python benchmarks/gpu.py [--json out.json] [--tiny]

`--tiny` shrinks every size (a smoke run; with LABSYM_CUDA_RUNTIME=emulator it checks the
script on a CPU, which is not a measurement). PyTorch is optional: without it its columns
are left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import labsym
from labsym import tensor as T
from labsym.backends.cuda.gpuarray import GpuArray
from labsym.backends.cuda.runtime import get_runtime, probe_driver, use_runtime
from labsym.config import config


class CountingRuntime:
    """A Runtime wrapper adding up the bytes copied between host and device."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.bytes = 0
        self.copies = 0

    def memcpy_htod(self, ptr: int, host: Any) -> None:
        self.bytes += host.nbytes
        self.copies += 1
        self.inner.memcpy_htod(ptr, host)

    def memcpy_dtoh(self, host: Any, ptr: int) -> None:
        self.bytes += host.nbytes
        self.copies += 1
        self.inner.memcpy_dtoh(host, ptr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def seconds_per_call(
    fn: Callable[..., Any], args: tuple, sync: Callable[[], None], min_time: float
) -> float:
    """Median over 5 rounds of the mean time of `fn(*args)` (5 rounds take >= min_time)."""
    fn(*args)
    sync()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        sync()
        if time.perf_counter() - start >= min_time / 5:
            break
        n *= 2
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        sync()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds)


def _mlp_init(sizes: tuple[int, int, int], seed: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    n_in, n_hid, n_out = sizes
    bound1, bound2 = np.sqrt(6 / (n_in + n_hid)), np.sqrt(6 / (n_hid + n_out))
    return [
        rng.uniform(-bound1, bound1, (n_in, n_hid)).astype("float32"),
        np.zeros(n_hid, "float32"),
        rng.uniform(-bound2, bound2, (n_hid, n_out)).astype("float32"),
        np.zeros(n_out, "float32"),
    ]


def labsym_mlp_step(
    sizes: tuple[int, int, int], seed: int = 0, resident: tuple | None = None
) -> tuple[Callable, list]:
    """The compiled labsym step and its shared parameters (on the device).

    Without `resident` the step is f(x, y) on host arrays (uploaded each call); with
    `resident=(X, Y, batch)`, device shared variables holding the data, it is f(i) reading
    batch i through givens, as Theano's tutorials kept datasets on the GPU.
    """
    W1, b1, W2, b2 = (labsym.shared(v) for v in _mlp_init(sizes, seed))
    x, y = T.fmatrix("x"), T.ivector("y")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(p, y))
    params = [W1, b1, W2, b2]
    lr = np.float32(0.1)
    updates = [(q, q - lr * g) for q, g in zip(params, T.grad(loss, params))]
    if resident is None:
        return labsym.function([x, y], loss, updates=updates), params
    X, Y, batch = resident
    i = T.lscalar("i")
    rows = slice(i * batch, (i + 1) * batch)
    givens = {x: X[rows], y: Y[rows]}
    return labsym.function([i], loss, updates=updates, givens=givens), params


def torch_mlp_step(torch: Any, sizes: tuple[int, int, int], seed: int = 0) -> Callable:
    """The same step in PyTorch eager on the same card: f(x, y) -> loss (a host float)."""
    params = [torch.tensor(v, device="cuda", requires_grad=True) for v in _mlp_init(sizes, seed)]
    W1, b1, W2, b2 = params
    functional = torch.nn.functional

    def step(x: Any, y: Any) -> float:
        h = torch.tanh(x @ W1 + b1)
        loss = functional.cross_entropy(h @ W2 + b2, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for q, g in zip(params, grads):
                q.sub_(0.1 * g)
        return loss.item()

    return step


def _from_host(torch: Any, step: Callable) -> Callable:
    """A PyTorch step taking host arrays: copies them to the card first, as labsym's does."""

    def from_host(x: np.ndarray, y: np.ndarray) -> float:
        return step(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda().long())

    return from_host


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _labsym_row(
    runtime: Any, sizes: tuple, batch: int, args: tuple, resident: tuple | None, min_time: float
) -> dict:
    counting = CountingRuntime(runtime)
    with use_runtime(counting), config.change_flags(device="cuda", floatX="float32"):
        step, params = labsym_mlp_step(sizes, resident=resident)
        step(*args)
        counting.bytes = counting.copies = 0
        step(*args)
        moved, copies = counting.bytes, counting.copies
        on_device = all(
            isinstance(p.get_value(return_internal_type=True), GpuArray) for p in params
        )
        ours = seconds_per_call(step, args, runtime.synchronize, min_time)
    return {
        "labsym_ms": ours * 1e3,
        "bytes_per_step": moved,
        "copies_per_step": copies,
        "params_on_device": on_device,
    }


def bench_mlp(batches: list[int], sizes: tuple[int, int, int], min_time: float) -> list[dict]:
    """Per batch size: data from the host each step, then data resident on the device."""
    torch = _torch()
    runtime = get_runtime()
    rows = []
    for batch in batches:
        rng = np.random.RandomState(batch)
        X = rng.randn(4 * batch, sizes[0]).astype("float32")
        Y = rng.randint(0, sizes[2], 4 * batch).astype("int32")
        x, y = X[:batch], Y[:batch]
        case = f"MLP {'-'.join(map(str, sizes))} f32 batch {batch}"
        host = {"case": case + ", data from the host"}
        host.update(_labsym_row(runtime, sizes, batch, (x, y), None, min_time))
        host["input_output_bytes"] = x.nbytes + y.nbytes + 4
        with config.change_flags(device="cuda", floatX="float32"):
            data = (labsym.shared(X, target="gpu"), labsym.shared(Y, target="gpu"), batch)
        on_device = {"case": case + ", data on the device"}
        on_device.update(_labsym_row(runtime, sizes, batch, (np.int64(1),), data, min_time))
        if torch is not None:
            theirs = torch_mlp_step(torch, sizes)
            host["torch_ms"] = 1e3 * seconds_per_call(
                _from_host(torch, theirs), (x, y), torch.cuda.synchronize, min_time
            )
            tx, ty = torch.tensor(X, device="cuda"), torch.tensor(Y, device="cuda").long()
            on_device["torch_ms"] = 1e3 * seconds_per_call(
                theirs,
                (tx[batch : 2 * batch], ty[batch : 2 * batch]),
                torch.cuda.synchronize,
                min_time,
            )
            for row in (host, on_device):
                row["ratio"] = row["labsym_ms"] / row["torch_ms"]
        rows += [host, on_device]
    return rows


def bench_elementwise(n: int, min_time: float) -> dict:
    runtime = get_runtime()
    value = np.random.RandomState(0).rand(n).astype("float32")
    with config.change_flags(device="cuda", floatX="float32"):
        xs, ys = labsym.shared(value, "x"), labsym.shared(np.zeros(n, "float32"), "y")
        f = labsym.function([], [], updates=[(ys, T.tanh(xs) * 2 + xs * xs)])
        f()
        np.testing.assert_allclose(ys.get_value(), np.tanh(value) * 2 + value * value, rtol=1e-5)
        ours = seconds_per_call(f, (), runtime.synchronize, min_time)
    src, dst = runtime.alloc(value.nbytes), runtime.alloc(value.nbytes)
    try:
        floor = seconds_per_call(
            runtime.memcpy_dtod, (dst, src, value.nbytes), runtime.synchronize, min_time
        )
    finally:
        runtime.free(src)
        runtime.free(dst)
    moved = 2 * value.nbytes  # bytes read and written, by the kernel and by the copy alike
    row = {
        "case": f"fused elementwise f32 n={n:.0e}",
        "labsym_ms": ours * 1e3,
        "copy_floor_ms": floor * 1e3,
        "ratio_to_floor": ours / floor,
        "copy_GBps": moved / floor / 1e9,
    }
    torch = _torch()
    if torch is not None:
        tx = torch.tensor(value, device="cuda")
        row["torch_ms"] = 1e3 * seconds_per_call(
            lambda t: torch.tanh(t) * 2 + t * t, (tx,), torch.cuda.synchronize, min_time
        )
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    runtime = get_runtime()
    probe = probe_driver()
    if args.tiny:
        sizes, batches, n, min_time = (20, 8, 3), [4, 16], 1000, 0.001
    else:
        sizes, batches, n, min_time = (784, 500, 10), [128, 1024], 10**7, 0.5
    result = {
        "device": probe.devices[0] if probe.devices else "(no device)",
        "runtime": runtime.name,
        "driver_version": probe.driver_version,
        "mlp": bench_mlp(batches, sizes, min_time),
        "elementwise": bench_elementwise(n, min_time),
    }
    print(f"device: {result['device']}  runtime: {result['runtime']}")
    for row in result["mlp"] + [result["elementwise"]]:
        print("  " + ", ".join(f"{k}={_fmt(v)}" for k, v in row.items()))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    return result


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main(sys.argv[1:])
