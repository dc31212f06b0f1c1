#!/usr/bin/env bash
# ONE prepared check of the CUDA backend (issue 11) on a GPU machine: about 5 minutes.
#
# What it runs: the environment report (driver, device, bindings, NVRTC, cuBLAS, runtime
# chosen), tests/gpu (the op table, logistic-regression / MLP / scan-RNN steps with transfer
# counts) and benchmarks/gpu.py (MLP 784-500-10 vs PyTorch eager, fused elementwise vs the copy
# floor). Logs and the benchmark JSON go to $OUT (the device tool brings them back).
#
# The lent GPU image already holds what it needs (python3 with numpy, scipy, torch, pytest,
# cuda-bindings, nvidia-cuda-nvrtc, nvidia-cublas); it cannot reach a package registry. To run
# with other wheels, download them here into .whl/ (git-ignored via .git/info/exclude), carry
# `.whl`, and this script installs them first, e.g. for the cuda extra:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl cuda-bindings cuda-pathfinder nvidia-cuda-nvrtc nvidia-cublas
#
# From a session with the device tool, in the repository root:
#   run(command="bash benchmarks/gpu_check.sh", timeout_s=480)   # carry=[".whl"] if prepared
set -u -o pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
unset LABSYM_CUDA_RUNTIME  # the emulator is never what this script measures

if compgen -G ".whl/*.whl" >/dev/null; then
    echo "== installing the carried wheels"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/labsym-site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/labsym-site:$PYTHONPATH"
fi

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

echo "== environment"
"$PY" - <<'EOF' 2>&1 | tee "$OUT/gpu_env.log"
import platform

from labsym.backends.cuda import nvrtc, runtime

probe = runtime.probe_driver()
print("python", platform.python_version(), "| driver", probe)
print("bindings", runtime.bindings_available())
print("nvrtc", nvrtc.unavailable_reason() or nvrtc.version())
try:
    from labsym.backends.cuda.cublas import find_cublas

    print("cublas", find_cublas())
except OSError as exc:
    print("cublas MISSING:", exc)
chosen = runtime.get_runtime()
print("runtime", chosen.name, getattr(chosen, "arch", ""))
try:
    import torch

    print("torch", torch.__version__, torch.cuda.get_device_name())
except Exception as exc:  # noqa: BLE001 - the benchmark leaves its columns out
    print("torch unavailable:", exc)
EOF
env_rc=${PIPESTATUS[0]}

echo "== tests/gpu"
timeout 240 "$PY" -m pytest -q -p no:cacheprovider -rs --durations=5 tests/gpu 2>&1 \
    | tee "$OUT/gpu_tests.log"
tests_rc=${PIPESTATUS[0]}

echo "== benchmarks/gpu.py"
timeout 150 "$PY" benchmarks/gpu.py --json "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/gpu_bench.log"
bench_rc=${PIPESTATUS[0]}

echo "== summary: environment rc=$env_rc, tests/gpu rc=$tests_rc, benchmark rc=$bench_rc"
[ "$env_rc" -eq 0 ] && [ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
