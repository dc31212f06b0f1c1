"""Time to first result, compile time and peak RSS of the MLP training step, each in a fresh
process: labsym's NumPy engine, its tiered `cvm` linker and its C linker with an empty and then a
warm compile cache, JAX's cold jit, PyTensor CVM with an empty and a warm compiledir, and
hand-written NumPy (the RSS baseline).

The parent runs `python -m benchmarks.c_startup --child ENGINE` with a private cache directory
per engine and reads one JSON line back. Python modules load from bytecode, as from a pip
install (which byte-compiles): an editable checkout under PYTHONDONTWRITEBYTECODE=1 would
compile labsym's ~150 imported modules from source in every child (~0.3 s more "imports" on the
benchmark machine, and NumPy, JAX and PyTensor load from their .pyc files); `--source` measures
that case. Each child also reports its RSS after the imports and after compiling, and the first
step alone, so the peak and the first result can be split into their parts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

STEPS_AFTER = 20  # steps run after the first result, before peak RSS is read


@dataclass
class Startup:
    """One engine's fresh-process numbers (seconds, MiB)."""

    label: str
    first: float  # graph built + compiled + first step, after imports
    compile: float  # the compile call alone (function() / jit's first call)
    imports: float
    rss_mb: float
    first_call: float = 0.0  # the first step alone (after compile)
    rss_import_mb: float = 0.0  # RSS after the imports
    rss_compiled_mb: float = 0.0  # RSS after compiling (before the first step)


def _mlp_inputs(batch: int):
    from benchmarks import optimizer

    params = optimizer.mlp_params()
    x, y = optimizer.mlp_data(batch)
    return optimizer, params, x, y


def _child(engine: str, batch: int) -> dict:
    """Run in the child process: import, build, compile, first step, more steps; the numbers."""
    t0 = time.perf_counter()
    if engine.startswith("labsym"):
        import labsym  # noqa: F401
    elif engine == "jax":
        import jax  # noqa: F401
    elif engine.startswith("pytensor"):
        import pytensor  # noqa: F401
    import numpy  # noqa: F401

    t1 = time.perf_counter()
    rss_import = _rss_mb("VmRSS")
    optimizer, params, x, y = _mlp_inputs(batch)
    compile_s = 0.0
    if engine == "numpy":
        step = optimizer.numpy_mlp_step(x, y, params)
    elif engine.startswith("labsym"):
        import labsym
        from benchmarks.c_cases import labsym_mode

        linker = {"labsym-py": "py", "labsym-cvm": "cvm"}.get(engine, "c|py")
        inputs, outputs, updates = optimizer.mlp_graph(optimizer.labsym_library(), params)
        tc = time.perf_counter()
        train = labsym.function(inputs, outputs[0], updates=updates, mode=labsym_mode(linker))
        compile_s = time.perf_counter() - tc

        def step():
            return float(train(x, y))

    elif engine == "jax":
        step = optimizer.jax_mlp_step(x, y, params)
    else:
        import pytensor

        inputs, outputs, updates = optimizer.mlp_graph(optimizer.pytensor_library(), params)
        tc = time.perf_counter()
        train = pytensor.function(inputs, outputs[0], updates=updates, mode="CVM")
        compile_s = time.perf_counter() - tc

        def step():
            return float(train(x, y))

    rss_compiled = _rss_mb("VmRSS")
    tj = time.perf_counter()
    step()
    t2 = time.perf_counter()
    if engine == "jax":
        compile_s = t2 - tj  # the first call traces and compiles
    for _ in range(STEPS_AFTER):
        step()
    return {
        "first": t2 - t1,
        "compile": compile_s,
        "imports": t1 - t0,
        "rss_mb": _peak_rss_mb(),
        "first_call": t2 - tj,
        "rss_import_mb": rss_import,
        "rss_compiled_mb": rss_compiled,
    }


def _rss_mb(field: str) -> float:
    """A /proc/self/status memory field in MiB (0.0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM; getrusage's ru_maxrss keeps the parent's across exec)."""
    return _rss_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ENGINES = {
    "numpy": "hand-written NumPy",
    "labsym-py": "labsym linker='py' (NumPy engine)",
    "labsym-cvm": "labsym linker='cvm' (tiered), empty cache",
    "labsym-c": "labsym linker='c|py', empty cache",
    "labsym-c-warm": "labsym linker='c|py', warm cache",
    "jax": "JAX jit, cold",
    "pytensor": "PyTensor CVM, empty compiledir",
    "pytensor-warm": "PyTensor CVM, warm compiledir",
}


def _child_cpu() -> Callable[[], None] | None:
    """preexec_fn pinning a child to one CPU other than this process's when this process is
    pinned to one (benchmarks.c_backend pins itself): the parent's idle JAX/XLA threads keep
    spinning on its CPU and doubled the children's gcc time there. None: no pinning."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    mine = os.sched_getaffinity(0)
    others = sorted(set(range(os.cpu_count() or 1)) - mine)
    if len(mine) != 1 or not others:
        return None
    return lambda: os.sched_setaffinity(0, {others[0]})


def _run_child(engine: str, batch: int, env: dict) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.c_startup", "--child", engine, "--batch", str(batch)]
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=900, check=False,
        preexec_fn=_child_cpu(),
    )  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"{engine}: exit {done.returncode}: {done.stderr[-600:]}")
    return json.loads(lines[-1])


def _env(cache: str, pycache: str | None) -> dict:
    """This process's environment with labsym's and PyTensor's compile caches under `cache`,
    and Python's bytecode under `pycache` (None: modules compiled from source, never cached)."""
    env = dict(os.environ)
    for var, flag in (("LABSYM_FLAGS", "compiledir"), ("PYTENSOR_FLAGS", "compiledir")):
        env[var] = ",".join(filter(None, [env.get(var, ""), f"{flag}={cache}"]))
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def _byte_compile(pycache: str, batch: int) -> None:
    """Write, under `pycache`, the .pyc files of every module the children import (labsym's as
    a pip install has them; the standard library's, NumPy's, JAX's and PyTensor's again, since a
    bytecode prefix hides their own): one small labsym C run and one JAX run import what the
    measured ones will, so no measured child compiles Python source."""
    env = _env(os.path.join(pycache, "compiledir"), pycache)
    for engine in ("labsym-c", "jax"):
        if engine == "jax" and importlib.util.find_spec("jax") is None:
            continue
        cmd = [sys.executable, "-m", "benchmarks.c_startup", "--child", engine]
        subprocess.run([*cmd, "--batch", str(batch)], env=env, capture_output=True, timeout=900)
    if importlib.util.find_spec("pytensor") is not None:
        warm = "import pytensor, pytensor.tensor"
        subprocess.run([sys.executable, "-c", warm], env=env, capture_output=True, timeout=300)


def run(
    batch: int = 128,
    repeats: int = 2,
    engines: tuple[str, ...] = tuple(ENGINES),
    bytecode: bool = True,
) -> list:
    """Fresh-process numbers per engine (the best of `repeats`, each with fresh caches).

    `bytecode`: the children load Python modules from .pyc files written beforehand (a pip
    install's state); False compiles labsym's modules from source in every child."""
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="labsym-bench-pyc-") as pyc:
        pycache = pyc if bytecode else None
        if pycache is not None:
            _byte_compile(pycache, batch)
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="labsym-bench-") as tmp:
                for engine in engines:
                    cold = engine.removesuffix("-warm")  # a warm run reuses its cold run's cache
                    try:
                        numbers = _run_child(cold, batch, _env(f"{tmp}/{cold}", pycache))
                    except (RuntimeError, subprocess.TimeoutExpired) as err:
                        print(f"  {ENGINES[engine]}: failed ({str(err)[:300]})")
                        continue
                    keep = best.get(engine)
                    if keep is None or numbers["first"] < keep["first"]:
                        best[engine] = numbers
    return [Startup(ENGINES[e], **best[e]) for e in engines if e in best]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=[e for e in ENGINES if not e.endswith("-warm")])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--source", action="store_true", help="children compile labsym from source (no .pyc)"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.batch)))
    else:
        for row in run(args.batch, args.repeats, bytecode=not args.source):
            print(row)
