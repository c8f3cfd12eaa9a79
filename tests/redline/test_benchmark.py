"""The redline benchmark script runs (its figure is printed, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "redline.py"), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "redline.compare" in result.stdout
    assert "baseline difflib" in result.stdout
    assert "ratio" in result.stdout
