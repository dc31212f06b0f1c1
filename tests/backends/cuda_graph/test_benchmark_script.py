"""benchmarks/gpu.py's logic at tiny sizes on the emulator (a smoke run, not a measurement), so
the GPU session's one prepared script does not fail on a script error."""

from __future__ import annotations

import json

from benchmarks import gpu as bench
from labsym.backends.cuda.runtime import ENV_VAR


def test_tiny_run_reports_every_case(emulated, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "emulator")
    monkeypatch.setattr(bench, "_torch", lambda: None)  # PyTorch columns: GPU machines only
    out = tmp_path / "bench.json"
    result = bench.main(["--tiny", "--json", str(out)])
    assert json.loads(out.read_text())["runtime"] == result["runtime"] == "emulator"
    assert [row["case"] for row in result["mlp"]] == [
        "MLP 20-8-3 f32 batch 4",
        "MLP 20-8-3 f32 batch 16",
    ]
    for row in result["mlp"]:
        assert row["params_on_device"] and row["labsym_ms"] > 0
        # per step: x and y up, the loss and one shape scalar; never a parameter
        assert row["bytes_per_step"] <= row["input_output_bytes"] + 8
    assert result["elementwise"]["ratio_to_floor"] > 0
