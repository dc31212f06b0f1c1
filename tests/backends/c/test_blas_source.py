"""Which BLAS the C kernels call: NumPy's own OpenBLAS when found, SciPy's when asked or not."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import labsym as ls
from labsym.backends.c import blas
from labsym.backends.c.build import compiler_available
from labsym.config import ConfigError

NUMPY_OPENBLAS = (
    sys.platform.startswith("linux")
    and "openblas" in np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    and os.path.isdir(os.path.dirname(os.path.realpath(np.__file__)) + ".libs")
)


@pytest.mark.skipif(not NUMPY_OPENBLAS, reason="NumPy without a bundled OpenBLAS (Linux wheel)")
def test_auto_finds_the_openblas_numpy_loaded():
    lib = blas.blas_library()
    assert lib is not None and lib.source == "numpy"
    assert os.path.dirname(lib.path) == os.path.dirname(os.path.realpath(np.__file__)) + ".libs"
    assert "openblas" in os.path.basename(lib.path)
    config = np.__config__.CONFIG["Build Dependencies"]["blas"]["openblas configuration"]
    assert lib.ilp64 == ("USE64BITINT" in config)  # the integer width NumPy was built against
    assert lib.config.split()[:2] == config.split()[:2]  # "OpenBLAS <version>"
    assert lib.symbol("sgemm") == lib.prefix + "sgemm_" + lib.suffix
    assert lib.ilp64 == (lib.suffix == "64_")  # NumPy's wheels: 64-bit ints, suffixed names
    code = blas.support_code(lib)
    assert lib.path in code and "dlopen" in code and "cython_blas" not in code
    assert f'"{lib.symbol("dgemv")}"' in code
    assert ("typedef int64_t labsym_bint;" in code) == lib.ilp64


def test_the_flag_forces_scipys_blas_and_changes_the_module_source():
    pytest.importorskip("scipy")
    with ls.config.change_flags(blas__source="scipy"):
        lib = blas.blas_library()
        kernel = blas.blas_kernel("/* body */")
    assert lib == blas.BlasLibrary("scipy")
    code = blas.support_code(lib)
    assert "scipy.linalg.cython_blas" in code and "dlopen" not in code
    assert "typedef int labsym_bint;" in code
    assert kernel.support_code[0] == code and kernel.libraries == ()
    if blas.blas_library().source == "numpy":  # the source (so the cache key) differs
        assert blas.blas_kernel("/* body */").support_code[0] != code
    with pytest.raises(ConfigError, match="blas.source"):
        ls.config.blas__source = "mkl"


def test_not_an_openblas_is_not_taken(tmp_path):
    """A mapped library of NumPy's without OpenBLAS's symbols (here: libm) is skipped."""
    assert blas._openblas_in("/nonexistent/libopenblas.so") is None
    libm = next(
        (
            p
            for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib64/libm.so.6")
            if os.path.exists(p)
        ),
        None,
    )
    if libm is not None:
        assert blas._openblas_in(libm) is None


def _run(code: str, **env: str) -> str:
    full = dict(os.environ, **env)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.skipif(not NUMPY_OPENBLAS, reason="NumPy without a bundled OpenBLAS (Linux wheel)")
def test_openblas_num_threads_limits_the_library_the_kernels_call():
    code = """
        import ctypes
        from labsym.backends.c import blas
        lib = blas.blas_library()
        get = getattr(ctypes.CDLL(lib.path), f"{lib.prefix}openblas_get_num_threads{lib.suffix}")
        print(get())
    """
    assert _run(code, OPENBLAS_NUM_THREADS="1").strip() == "1"
    if (os.cpu_count() or 1) > 1:
        assert int(_run(code, OPENBLAS_NUM_THREADS="2").strip()) == 2


@pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")
@pytest.mark.skipif(not NUMPY_OPENBLAS, reason="NumPy without a bundled OpenBLAS (Linux wheel)")
def test_a_dot_runs_without_importing_scipy():
    code = """
        import sys
        import numpy as np
        import labsym as ls
        import labsym.tensor as tt
        x, y = tt.fmatrix("x"), tt.fmatrix("y")
        f = ls.function([x, y], tt.dot(x, y.T), mode=ls.Mode(linker="c|py"))
        a = np.arange(12, dtype="float32").reshape(3, 4)
        assert f._program.native
        np.testing.assert_allclose(f(a, a[::-1]), a @ a[::-1].T)
        print("scipy" in sys.modules)
    """
    assert _run(code).strip() == "False"
