"""benchmarks/console.py runs in its --quick mode and prints each page beside the same
figures counted anew, with the targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPT = BENCHMARKS / "console.py"


@pytest.mark.slow
def test_console_benchmark_quick_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for expected in ("counted anew", "overview", "version", "target", "migration"):
        assert expected in done.stdout, done.stdout


@pytest.mark.slow
def test_webhook_figures_benchmark_quick_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "webhook_figures.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) == {"sqlite", "postgresql"}, done.stdout
    for f in figures.values():
        assert f["day_attempts"] == 51 and f["endpoint_figures_ms"] > 0 and f["baseline_ms"] > 0
    assert "baseline" in done.stdout and "ratio" in done.stdout
