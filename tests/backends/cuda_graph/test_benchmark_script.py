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
    cases = [row["case"] for row in result["mlp"]]
    assert cases == [
        "MLP 20-8-3 f32 batch 4, data from the host",
        "MLP 20-8-3 f32 batch 4, data on the device",
        "MLP 20-8-3 f32 batch 16, data from the host",
        "MLP 20-8-3 f32 batch 16, data on the device",
    ]
    for row in result["mlp"]:
        assert row["params_on_device"] and row["labsym_ms"] > 0
        if "from the host" in row["case"]:  # x and y up, the loss (+ a shape scalar) down
            assert row["bytes_per_step"] <= row["input_output_bytes"] + 8
        else:  # only the loss and a shape scalar cross: data and parameters stay
            assert row["bytes_per_step"] <= 8
    assert result["elementwise"]["ratio_to_floor"] > 0
