"""The four-language site benchmark runs (quick mode) and prints its ratio to the
one-language build of the same run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_prints_the_ratio() -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "site_languages.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "one language:" in done.stdout and "(baseline)" in done.stdout
    found = re.search(r"\(([\d,]+) translated\).*ratio ([\d.]+) × one language", done.stdout)
    assert found is not None, done.stdout
    assert int(found.group(1).replace(",", "")) > 0
