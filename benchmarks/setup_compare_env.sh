#!/usr/bin/env bash
# Creates .venv-bench (labsym editable plus PyTensor and JAX) with benchmarks/make_venv.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exec benchmarks/make_venv.sh "$PWD/.venv-bench"
