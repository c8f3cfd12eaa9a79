"""The site benchmark runs (quick mode) and prints its figures beside the baseline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_the_ratio() -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "site.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "policy site (policy-tracker)" in done.stdout
    assert "plain mkdocs build" in done.stdout
    assert "ratio" in done.stdout and "target ≤ 1.5" in done.stdout
