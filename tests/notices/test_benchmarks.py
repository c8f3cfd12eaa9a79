"""The benchmarks run in their --quick mode and print their figures beside their baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize(
    "script,expected",
    [("fanout.py", "bare INSERT…SELECT"), ("dispatch.py", "deliveries/s")],
)
def test_benchmark_quick_mode(script: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout and "target" in done.stdout, done.stdout
