#!/usr/bin/env bash
# Creates the comparison venv of the C-backend benchmarks OUTSIDE the repo's .venv:
#   benchmarks/make_venv.sh [DIR]   (default: bench-venv next to the repository, or $BENCH_VENV)
# It holds JAX, PyTensor, NumPy, SciPy, cffi and this repository (editable, --no-deps). These are
# never project dependencies. PyTensor's C backend (mode="CVM") links a BLAS: libopenblas-dev is
# installed with apt-get when missing (needs root), and c_backend.py points PyTensor at it.
# Then: DIR/bin/python -m benchmarks.c_backend --write benchmarks/RESULTS-c-backend.md
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${BENCH_VENV:-$(dirname "$repo")/bench-venv}}"
if command -v apt-get >/dev/null && ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq libopenblas-dev) \
    || echo "warning: libopenblas-dev not installed; PyTensor CVM will use slower fallbacks" >&2
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet jax jaxlib pytensor numpy scipy cffi
"$venv/bin/python" -m pip install --quiet --no-deps -e "$repo"
echo "comparison venv ready: $venv"
