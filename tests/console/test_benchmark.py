"""benchmarks/console.py runs in its --quick mode and prints each page beside the same
figures counted anew, with the targets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "console.py"


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
