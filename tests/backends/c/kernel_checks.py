"""Helpers the C kernel tests share: one compiled module per test file, `perform` as the reference,
the result check, and random inputs in several memory layouts."""

from collections.abc import Callable, Sequence

import numpy as np

from labsym.backends.c.module import (
    NodeEntry,
    build_module,
    c_compiler,
    compile_nodes,
    default_compile_args,
    make_thunk,
    module_source,
    node_entry,
)


def compile_thunks(nodes: Sequence, what: str) -> dict:
    """Every node compiled into one module (gcc is slow), mapped node -> thunk; `what` names the
    nodes in the failure message when one gets no C kernel."""
    compiled = compile_nodes(list(nodes))
    assert all(t is not None for t in compiled), f"{what} got no C kernel"
    return dict(zip(nodes, compiled, strict=True))


def perform(node, *inputs):
    """The node's Python `perform` result: the reference the C kernels must match."""
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, list(inputs), storage)
    return storage[0][0]


def check(thunk, node, *inputs, base=None, fresh: bool = False) -> np.ndarray:
    """The C result equals perform's (type, dtype, shape, values); with `base`, it shares memory
    with `base` exactly when perform's does; with `fresh`, it shares memory with no input."""
    expected, got = perform(node, *inputs), thunk(*inputs)
    assert isinstance(got, np.ndarray)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    if base is not None:
        assert np.shares_memory(got, base) == np.shares_memory(expected, base)
    if fresh:
        for a in inputs:
            assert not (isinstance(a, np.ndarray) and a.size and np.shares_memory(got, a))
    return got


def random_array(dtype: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Random values of `dtype` (imaginary parts for complex, about half True for bool)."""
    data = np.asarray(rng.standard_normal(shape) * 40)
    if dtype.startswith("complex"):
        return (data + 1j * rng.standard_normal(shape)).astype(dtype)
    return data > 0 if dtype == "bool" else data.astype(dtype)


def layouts(
    dtype: str,
    shape: tuple,
    rng: np.random.Generator,
    draw: Callable = random_array,
    scalar_copies: int = 1,
) -> list:
    """One logical shape as contiguous, strided, negative-stride and Fortran-order arrays
    (`scalar_copies` fresh draws for a 0-d shape, which has no other layout)."""
    if not shape:
        return [draw(dtype, shape, rng) for _ in range(scalar_copies)]
    big = draw(dtype, tuple(2 * n + 1 for n in shape), rng)
    base = draw(dtype, shape, rng)
    return [
        base,
        big[tuple(slice(1, None, 2) for _ in shape)],
        base[tuple(slice(None, None, -1) for _ in shape)],
        np.asfortranarray(base),
    ]


def thunks_with_openmp(
    plain: dict, openmp: dict, openmp_kernels: dict, prefix: str, reporter=None
) -> dict:
    """Name -> thunk from ONE module: the `plain` nodes' kernels and, for the `openmp` nodes,
    the kernels rendered with the openmp flag on (`openmp_kernels`); `reporter(name, node)`
    gives a thunk's FP reporter (None: none)."""
    names = list(plain)
    entries = [node_entry(plain[n], f"{prefix}{i}") for i, n in enumerate(names)]
    for i, (name, node) in enumerate(openmp.items()):
        base = node_entry(node, f"{prefix}omp{i}")
        entries.append(NodeEntry(base.symbol, openmp_kernels[name], base.in_dtypes, 1))
        names.append(name)
    lib = build_module(entries)
    every = {**plain, **openmp}
    return {
        n: make_thunk(lib, e, None if reporter is None else reporter(n, every[n]))
        for n, e in zip(names, entries, strict=True)
    }


def kernel_assembly(node, tmp_path) -> str:
    """The assembly gcc makes of `node`'s kernel with the module's flags (vectorisation checks)."""
    import subprocess
    import sysconfig

    entry = node_entry(node, "vec")
    _, source = module_source([entry])
    (tmp_path / "k.c").write_text(source)
    args = [*default_compile_args(), *entry.kernel.compile_args]
    includes = [f"-I{np.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    cmd = [c_compiler() or "cc", *args, *includes, "-S", "-o", "-", "k.c"]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
