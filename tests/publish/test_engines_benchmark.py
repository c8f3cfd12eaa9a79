"""The engines benchmark runs (quick mode) and prints each build beside its plain baseline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_engines_benchmark_prints_the_ratios() -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COLUMNS": "160"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "engines.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "plain mkdocs" in done.stdout and "plain zensical" in done.stdout
    assert "× plain mkdocs" in done.stdout and "× plain zensical" in done.stdout
    assert "same addresses" in done.stdout and "under both engines: True" in done.stdout
