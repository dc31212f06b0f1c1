"""The optimizer's random-graph test with the C linker: C vs NumPy vs the unrewritten graph.

Programs come from tests/optim/test_random_graphs.py (elementwise, reductions, dot, constants,
gradients). Each example builds a C module, so there are few examples, drawn deterministically
(the same modules every run: the disk cache answers after the first). LABSYM_C_FUZZ_EXAMPLES
raises the count.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labsym.backends.c.module import c_compiler
from labsym.compile import Mode, function
from tests.optim.test_random_graphs import PROGRAMS, N, build

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cxx flag) on PATH")
EXAMPLES = int(os.environ.get("LABSYM_C_FUZZ_EXAMPLES", "12"))
C_FAST = Mode(linker="c|py")
NUMPY_FAST = Mode(linker="py")
NAIVE = Mode(linker="py", optimizer=None)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(program=PROGRAMS, seed=st.integers(0, 2**16))
def test_c_linker_matches_numpy_and_the_unrewritten_graph(program, seed):
    inputs, outputs = build(program)
    rng = np.random.default_rng(seed)
    shapes = {"scalar": (), "vector": (N,), "matrix": (N, N)}
    values = [rng.uniform(-2.0, 2.0, size=shapes[kind]) for kind in program["inputs"]]
    results = []
    for mode in (C_FAST, NUMPY_FAST, NAIVE):
        f = function(inputs, outputs, mode=mode, on_unused_input="ignore")
        with np.errstate(all="ignore"):
            results.append(f(*values))
    c, fast, naive = results
    for got_c, got_fast, want in zip(c, fast, naive, strict=True):
        assert np.shape(got_c) == np.shape(want) and np.asarray(got_c).dtype == want.dtype
        # C and NumPy run the same rewritten graph: libmvec's few ulps apart at most
        np.testing.assert_allclose(got_c, got_fast, rtol=1e-13, atol=1e-14, equal_nan=True)
        np.testing.assert_allclose(got_c, want, rtol=1e-7, atol=1e-9, equal_nan=True)
