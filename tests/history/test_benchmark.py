"""The history benchmark runs (small sizes) and prints its figures beside their baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_figures_and_baselines() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "history.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "git log -p --first-parent" in done.stdout
    assert "read_catalog cold" in done.stdout and "read_catalog warm" in done.stdout
    assert "policy-tracker log --json cold" in done.stdout
    assert "policy-tracker log --json warm" in done.stdout
    assert "ratio" in done.stdout and "redline 2000 words" in done.stdout
