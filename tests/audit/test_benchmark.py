"""The audit benchmark runs (small sizes) and prints its figures beside their baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_figures_and_baselines() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "audit.py"), "--quick", "--events", "4000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"COLUMNS": "200", **__import__("os").environ},
    )
    assert done.returncode == 0, done.stderr
    assert "chain off" in done.stdout and "verify 4,000 events" in done.stdout
    assert "sqlite" in done.stdout and "postgresql" in done.stdout
