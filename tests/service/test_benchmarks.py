"""The service benchmarks run end to end in --quick mode and print figure, baseline, ratio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "keys"),
    [
        ("status.py", {"status_rps", "bare_rps", "ratio", "status_p99_ms"}),
        ("batch_status.py", {"batch_ms", "sql_ms", "ratio"}),
        ("acceptances.py", {"acceptances_per_s", "bare_rps", "ratio", "stored"}),
    ],
)
def test_benchmark_runs_quick(script: str, keys: set[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "baseline" in done.stdout and "ratio" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys <= set(figures)
    assert all(figures[k] > 0 for k in keys)
