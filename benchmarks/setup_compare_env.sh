#!/usr/bin/env bash
# Creates .venv-bench: labsym (editable) plus the comparison libraries PyTensor and JAX.
# They are never project dependencies; PyTensor's C backend (mode="CVM") needs a BLAS to link.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null && ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq libopenblas-dev) || echo "warning: no libopenblas-dev; PyTensor CVM may fall back"
fi
python3 -m venv .venv-bench
.venv-bench/bin/python -m pip install --quiet --upgrade pip
.venv-bench/bin/python -m pip install --quiet -e . pytensor jax jaxlib
