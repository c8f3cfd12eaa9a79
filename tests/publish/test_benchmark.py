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
    assert "plain build" in done.stdout and "policy site cold" in done.stdout
    assert "warm rebuild" in done.stdout and "ratio to cold" in done.stdout
    assert "peak" in done.stdout and "MiB" in done.stdout
    assert "pages showing HTML comment text: 0" in done.stdout
