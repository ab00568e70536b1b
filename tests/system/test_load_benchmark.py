"""The load benchmark runs end to end (tiny levels) and writes its results and plot: every kind of
request completed without errors, each with its same-run baseline. No figure is judged here;
speed is read from the benchmark's own output (README, "Benchmarks")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_load_benchmark_measures_every_kind_against_its_baseline(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/system_load.py", "--levels", "2,4", "--seconds", "3", "--workers", "2",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "system_load.json").read_text())
    assert set(results["components"]) == {"search", "verify", "issue"}
    for kind, component in results["components"].items():
        assert component["alone"]["completed"] > 0 and component["alone"]["errors"] == 0, (kind, component)
        assert component["baseline_per_s"] > 0
        assert component["ratio_to_baseline"] == component["alone"]["throughput_per_s"] / component["baseline_per_s"]
        assert [row["errors"] for row in component["mixed"]] == [0, 0], (kind, component["mixed"])
    assert (tmp_path / "system_load.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
