"""The C-backend benchmarks of issue 9 (Targets), all in ONE process run on ONE thread, interleaved.

`python -m benchmarks.c_backend [--quick] [--rounds N] [--only SECTION ...] [--write FILE]
[--no-pin]` (pinned to one CPU unless --no-pin)
(run it in the comparison venv made by benchmarks/make_venv.sh, which has JAX and PyTensor).
Each case times labsym's NumPy engine (linker='py'), labsym's C linker (linker='c|py'; reported
as unavailable, with the reason, when it cannot run), hand-written NumPy, JAX jit and PyTensor
CVM, after checking every candidate's result against NumPy. Medians and mins per call, and both
as ratios to the case's reference (JAX, or the logistic step's two-GEMV floor).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from benchmarks import c_cases, c_startup, cases, optimizer, rnn
from benchmarks.timing import Timing, interleaved

PY, C = "py", "c|py"
TRUSTED = "labsym 'c|py', trust_input"


@dataclass
class Table:
    """One case: timed rows, the label ratios refer to, the target, notes (coverage, skips)."""

    title: str
    rows: list[Timing]
    reference: str
    target: str = ""
    notes: list[str] = field(default_factory=list)
    limit: float | None = None  # the target: labsym C's median over the reference's at most
    limit_s: float | None = None  # or: labsym C's median in seconds at most
    c_label: str = "labsym linker='c|py' (C)"  # the row the target is about
    no_slower: tuple[str, str] | None = None  # and: row [0]'s median <= row [1]'s


@dataclass
class Settings:
    rounds: int = 3
    min_time: float = 0.3
    repeats: int = 7
    quick: bool = False


def _jax_x64() -> None:
    try:
        import jax
    except ImportError:
        return
    jax.config.update("jax_enable_x64", True)


def _labsym(build: Callable[[str], Any], notes: list[str]) -> list[tuple[str, Any]]:
    """The NumPy-engine and C-linker candidates from `build(linker) -> (step, function)`."""
    found = [("labsym linker='py' (NumPy engine)", build(PY)[0])]
    reason = c_cases.c_unavailable_reason()
    if reason is not None:
        notes.append(f"labsym C unavailable: {reason}")
        return found
    try:
        step, fn = build(C)
    except Exception as err:
        notes.append(f"labsym C failed to compile: {type(err).__name__}: {str(err)[:300]}")
        return found
    notes.append(f"labsym C: {c_cases.c_coverage(fn)}")
    return [*found, ("labsym linker='c|py' (C)", step)]


def _checked(candidates: list, expected: Any, rtol: float, notes: list[str]) -> list:
    """The available candidates whose results match `expected` (others reported and dropped)."""
    kept = []
    for label, fn in candidates:
        if fn is None:
            continue
        got = fn()
        try:
            for g, e in zip(_as_list(got), _as_list(expected), strict=True):
                np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=rtol)
        except AssertionError as err:
            notes.append(f"{label} DROPPED: result differs from NumPy: {str(err)[:200]}")
            continue
        kept.append((label, fn))
    return kept


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _time(candidates: list, s: Settings) -> list[Timing]:
    return interleaved(candidates, s.rounds, min_time=s.min_time, repeats=s.repeats)


# ---------------------------------------------------------------- sections
def fused(s: Settings) -> list[Table]:
    tables = []
    sizes = (10**4, 10**5) if s.quick else (10**6, 10**7)
    for dtype in ("float64", "float32"):
        for n in sizes:
            rng = np.random.default_rng(0)
            x, y, z = (rng.standard_normal(n).astype(dtype) for _ in range(3))
            notes: list[str] = []
            found = [("hand-written NumPy", lambda x=x, y=y, z=z: c_cases.fused_numpy(x, y, z))]
            found += _labsym(
                lambda linker, x=x, y=y, z=z: c_cases.fused_labsym(x, y, z, linker), notes
            )
            found += [("JAX jit", c_cases.fused_jax(x, y, z))]
            found += [("PyTensor CVM", c_cases.fused_pytensor(x, y, z))]
            rtol = 1e-5 if dtype == "float32" else 1e-12
            found = _checked(found, c_cases.fused_numpy(x, y, z), rtol, notes)
            title = f"fused elementwise, {dtype}, n={n:.0e}"
            tables.append(Table(title, _time(found, s), "JAX jit", "C <= 0.5x JAX", notes, 0.5))
    return tables


def logistic(s: Settings) -> list[Table]:
    X, y, w0 = cases.logistic_data()
    notes: list[str] = []
    found = [
        ("two GEMVs alone (NumPy): floor", c_cases.logistic_floor(X, y, w0)),
        ("hand-written NumPy", cases.logistic_numpy(X, y, w0)),
    ]
    found += _labsym(lambda linker: _logistic_labsym(X, y, w0, linker), notes)
    found += [("JAX jit", cases.logistic_jax(X, y, w0))]
    found += [("PyTensor CVM", cases.logistic_pytensor(X, y, w0, "CVM"))]
    found = [(label, fn) for label, fn in found if fn is not None]
    # every step function starts from w0: its first predictions must be NumPy's (xent is not
    # compared: NumPy's -y*log(p) gives NaN where p rounds to 1, a rewritten graph need not)
    expected = cases.logistic_numpy(X, y, w0)()[0]
    for label, fn in list(found):
        if label.startswith(("labsym", "PyTensor")) and not np.array_equal(fn()[0], expected):
            notes.append(f"{label} DROPPED: its predictions differ from NumPy's")
            found.remove((label, fn))
    title = f"logistic-regression step, N={cases.N}, {cases.FEATS} features, float64"
    return [Table(title, _time(found, s), found[0][0], "C <= 1.1x floor", notes, 1.1)]


def _logistic_labsym(X, y, w0, linker: str) -> tuple[Any, Any]:
    import labsym

    inputs, outputs, updates = cases._logistic_graph(
        labsym.tensor, labsym.shared, labsym.grad, X, y, w0
    )
    f = labsym.function(inputs, outputs, updates=updates, mode=c_cases.labsym_mode(linker))
    return (lambda: f(X, y)), f


def mlp(s: Settings) -> list[Table]:
    tables = []
    params = optimizer.mlp_params()
    for batch in (128, 16):
        x, y = optimizer.mlp_data(batch)
        notes: list[str] = []
        found = [("hand-written NumPy", optimizer.numpy_mlp_step(x, y, params))]
        found += _labsym(lambda linker, x=x, y=y: _mlp_labsym(x, y, params, linker), notes)
        found += [("JAX jit", optimizer.jax_mlp_step(x, y, params))]
        found += [("PyTensor CVM", optimizer.pytensor_mlp_step(x, y, params, "CVM"))]
        found = [(label, fn) for label, fn in found if fn is not None]
        _same_losses(found, notes)
        title = f"MLP 784-500-10 training step, float32, batch {batch}"
        tables.append(Table(title, _time(found, s), "JAX jit", "C <= 1.0x JAX", notes, 1.0))
    return tables


def _mlp_labsym(x, y, params, linker: str) -> tuple[Any, Any]:
    import labsym

    inputs, outputs, updates = optimizer.mlp_graph(optimizer.labsym_library(), params)
    train = labsym.function(inputs, outputs[0], updates=updates, mode=c_cases.labsym_mode(linker))
    return (lambda: float(train(x, y))), train


def _same_losses(found: list, notes: list[str]) -> None:
    """Each step function starts from the same weights: its first two losses must agree."""
    reference = None
    for label, fn in list(found):
        pair = np.array([fn(), fn()])
        if reference is None:
            reference = pair
        elif not np.allclose(pair, reference, rtol=1e-4):
            notes.append(f"{label} DROPPED: losses {pair} differ from NumPy's {reference}")
            found.remove((label, fn))


def rnn_case(s: Settings) -> list[Table]:
    data = rnn.make_data()
    notes: list[str] = []
    found = [("hand-written NumPy BPTT", lambda: rnn.numpy_rnn(*data))]
    found += _labsym(lambda linker: _rnn_labsym(data, linker), notes)
    found += [("JAX jit (lax.scan)", rnn.jax_rnn(data))]
    found += [("PyTensor CVM", rnn.pytensor_rnn(data, "CVM"))]
    found = _checked(found, rnn.numpy_rnn(*data), 2e-3, notes)
    title = (
        f"tanh RNN via scan, forward + gradient, hidden {rnn.HIDDEN}, {rnn.STEPS} steps, "
        f"batch {rnn.BATCH}, float32"
    )
    return [Table(title, _time(found, s), "JAX jit (lax.scan)", "C <= 1.0x JAX", notes, 1.0)]


def _rnn_labsym(data, linker: str) -> tuple[Any, Any]:
    import labsym
    import labsym.tensor as T

    inputs, outputs = rnn._rnn_graph(T, labsym.scan, labsym.grad)
    f = labsym.function(inputs, outputs, mode=c_cases.labsym_mode(linker))
    return (lambda: f(*data)), f


def hessian(s: Settings) -> list[Table]:
    w, x = c_cases.hessian_data()
    notes: list[str] = []
    found = [("hand-written NumPy", c_cases.hessian_numpy(w, x))]
    found += _labsym(lambda linker: c_cases.hessian_labsym(w, x, linker), notes)
    found += [("JAX jit (jax.hessian)", c_cases.hessian_jax(w, x))]
    found += [("PyTensor CVM", c_cases.hessian_pytensor(w, x))]
    found = _checked(found, c_cases.hessian_numpy(w, x)(), 1e-9, notes)
    title = f"hessian of sum(tanh(W @ x)), x of length {c_cases.HESS_N}, float64"
    return [Table(title, _time(found, s), "JAX jit (jax.hessian)", "C <= 1.0x JAX", notes, 1.0)]


def shape_kernels(s: Settings) -> list[Table]:
    tables = []
    shapes = c_cases.shape_cases(np.random.default_rng(0))
    for name, (types, expression, inputs, by_hand) in shapes.items():
        notes: list[str] = []
        found = [("hand-written NumPy", lambda f=by_hand, a=inputs: f(*a))]
        found += _labsym(partial(c_cases.shape_labsym, types, expression, inputs), notes)
        found = _checked(found, by_hand(*inputs), 1e-12, notes)
        title = f"view/indexing kernels: {name}"
        tables.append(Table(title, _time(found, s), "hand-written NumPy", "", notes))
    return tables


def calls(s: Settings) -> list[Table]:
    tables = []
    for kind, (a, b, typ) in c_cases.call_inputs().items():
        notes: list[str] = []
        found = [("NumPy a + b", lambda a=a, b=b: np.add(a, b))]
        found += _labsym(lambda linker, a=a, b=b, t=typ: c_cases.add_labsym(a, b, t, linker), notes)
        if c_cases.c_unavailable_reason() is None:
            step = c_cases.add_labsym(a, b, typ, C, trust=True)[0]
            found.append((TRUSTED, step))
        found += [("JAX jit", c_cases.add_jax(a, b))]
        found += [("PyTensor CVM", c_cases.add_pytensor(a, b, typ))]
        found += [("PyTensor CVM, trust_input", c_cases.add_pytensor(a, b, typ, trust=True))]
        found = _checked(found, np.add(a, b), 1e-15, notes)
        tables.append(
            Table(
                f"call overhead: scalar add, inputs {kind}",
                _time(found, s),
                "NumPy a + b",
                "C <= 2 us; with trust_input <= PyTensor's trust_input",
                notes,
                limit_s=2e-6,
                no_slower=(TRUSTED, "PyTensor CVM, trust_input"),
            )
        )
    return tables


def startup(s: Settings) -> list[Table]:
    found = c_startup.run(batch=128, repeats=1 if s.quick else 2)
    rows = [Timing(f"{r.label}: first result", r.first, r.first) for r in found]
    base_rss = next((r.rss_mb for r in found if r.label == c_startup.ENGINES["numpy"]), None)
    notes = [
        f"{r.label}: compile {r.compile:.3f} s, imports {r.imports:.2f} s, peak RSS "
        f"{r.rss_mb:.0f} MiB" + (f" ({r.rss_mb / base_rss:.2f}x NumPy's)" if base_rss else "")
        for r in found
    ]
    by_label = {r.label: r for r in found}
    py = by_label.get(c_startup.ENGINES["labsym-py"])
    for engine, what in (("labsym-c", "C module build"), ("labsym-c-warm", "warm-cache load")):
        row = by_label.get(c_startup.ENGINES[engine])
        if py is not None and row is not None:
            notes.append(
                f"{what} = compile({engine}) - compile(labsym-py) = "
                f"{row.compile - py.compile:.3f} s (function() minus the rewrites/link both do)"
            )
    reference = next((row.label for row in rows if row.label.startswith("JAX")), rows[0].label)
    target = "first result <= 0.5x JAX cold; C build <= 3 s; warm load <= 50 ms; RSS <= 1.3x NumPy"
    title = "time to first result, MLP training step batch 128, fresh process (best of runs)"
    tiered = f"{c_startup.ENGINES['labsym-cvm']}: first result"
    return [Table(title, rows, reference, target, notes, 0.5, c_label=tiered)]


SECTIONS: dict[str, Callable[[Settings], list[Table]]] = {
    "fused": fused,
    "logistic": logistic,
    "mlp": mlp,
    "rnn": rnn_case,
    "hessian": hessian,
    "calls": calls,
    "shape": shape_kernels,
    "startup": startup,
}


# ---------------------------------------------------------------- report
def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.3f} s"


def _ratio_rows(table: Table) -> list[tuple[str, str, str, str, str]]:
    ref = next((r for r in table.rows if r.label == table.reference), None)
    out = []
    for r in table.rows:
        med = f"{r.median / ref.median:.2f}x" if ref else "-"
        low = f"{r.best / ref.best:.2f}x" if ref else "-"
        out.append((r.label, _fmt(r.median), _fmt(r.best), med, low))
    return out


def render_text(table: Table) -> str:
    lines = [f"\n{table.title}  (ratios to {table.reference}; target: {table.target})"]
    for label, med, low, rmed, rlow in _ratio_rows(table):
        lines.append(f"  {label:<44} median {med:>12}  min {low:>12}  {rmed:>8} {rlow:>8}")
    lines += [f"  - {note}" for note in table.notes]
    return "\n".join(lines)


def verdict(table: Table) -> tuple[str, str, str] | None:
    """(labsym C's median, its ratio to the reference, met / NOT met) for a table with a target."""
    rows = {r.label: r for r in table.rows}
    c, ref = rows.get(table.c_label), rows.get(table.reference)
    if c is None or ref is None or (table.limit is None and table.limit_s is None):
        return None
    ratio = c.median / ref.median
    ok = ratio <= table.limit if table.limit is not None else c.median <= table.limit_s
    if table.no_slower is not None:
        first, second = (rows.get(label) for label in table.no_slower)
        ok = ok and first is not None and second is not None and first.median <= second.median
    return _fmt(c.median), f"{ratio:.2f}x", "met" if ok else "NOT met"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(tables: list[Table], header: list[str]) -> str:
    out = ["# C backend benchmarks (issue 9)", "", *header, "", "## Summary: labsym C vs target"]
    out += ["", "| case | labsym C median | ratio | target | verdict |", "|---|---|---|---|---|"]
    for table in tables:
        found = verdict(table)
        if found is not None:
            med, ratio, ok = found
            cells = (table.title, med, f"{ratio} {table.reference}", table.target, ok)
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out.append("")
    for table in tables:
        out += [f"## {table.title}", "", f"Target: {table.target}. Ratios: / {table.reference}."]
        out += [
            "",
            "| candidate | median | min | median ratio | min ratio |",
            "|---|---|---|---|---|",
        ]
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in _ratio_rows(table)]
        out += [""] + [f"- {note}" for note in table.notes] + [""]
    return "\n".join(out)


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " (working tree has uncommitted changes)" if git("status", "--porcelain") else ""
    return git("log", "-1", "--format=%h %s")[:90] + dirty


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        return f"{names[0]} x{len(names)}"
    except (OSError, IndexError):
        return platform.processor() or platform.machine()


def _labsym_flags() -> str:
    from labsym import config

    return f"openmp={config.openmp}, cxx={config.cxx!r}, compiledir={config.compiledir}"


def header(s: Settings) -> list[str]:
    """Date, machine, versions, commit and settings of this run (the report's first lines)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- date: {now}; machine: {_cpu()}, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, jax {_version('jax')},"
        f" pytensor {_version('pytensor')}, labsym commit {_commit()}",
        "- one thread: OMP/OPENBLAS/MKL_NUM_THREADS=1, XLA_FLAGS="
        f"{os.environ.get('XLA_FLAGS')!r}; PYTENSOR_FLAGS={os.environ.get('PYTENSOR_FLAGS')}; "
        + _pinning(),
        f"- every case in one process, candidates interleaved, {s.rounds} rounds x {s.repeats}"
        f" repeats of >= {s.min_time} s each; median = the best round's median per call, min ="
        " the fastest repeat; a ratio is the row's median (min) over the reference row's",
        "- labsym linker='py' = the NumPy engine; linker='c|py' = the C linker (nodes with C"
        " kernels native, the rest NumPy), both with the fast_run rewrites; labsym flags: "
        + _labsym_flags(),
    ]


def _pinning() -> str:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) == 1:
        return (
            f"process pinned to CPU {cpus[0]} (XLA's CPU runtime keeps a second thread busy "
            "whatever its flags say: JAX's CPU time was 1.7x its wall time unpinned)"
        )
    return f"NOT pinned (runs on CPUs {cpus}): multithreaded libraries may use several"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (dry run)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--write", metavar="FILE", help="also write the markdown report there")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args(argv)
    s = Settings(rounds=args.rounds)
    if args.quick:
        s = Settings(rounds=1, min_time=0.02, repeats=3, quick=True)
    _jax_x64()
    lines = header(s)
    print("\n".join(lines))
    tables: list[Table] = []
    for name in args.only:
        for table in SECTIONS[name](s):
            print(render_text(table), flush=True)
            tables.append(table)
    if args.write:
        with open(args.write, "w") as f:
            f.write(render_markdown(tables, lines))


ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "PYTENSOR_FLAGS": "blas__ldflags=-lopenblas",
}


def _one_thread_process() -> None:
    """Pin the process (and its children) to one CPU, then re-run this module with ONE_THREAD's
    settings unless they are set: the BLAS and XLA thread pools read them when NumPy, JAX or
    PyTensor load, which importing this module already did. The pinning is what makes "one
    thread" true for JAX (its flags leave a second busy thread); `--no-pin` skips it."""
    if "--no-pin" not in sys.argv and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    missing = {k: v for k, v in ONE_THREAD.items() if k not in os.environ}
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable, "-m", "benchmarks.c_backend", *sys.argv[1:]])


if __name__ == "__main__":
    _one_thread_process()
    main()
