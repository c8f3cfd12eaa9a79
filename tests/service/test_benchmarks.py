"""The service benchmarks run end to end in --quick mode and print figure, baseline, ratio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    ("script", "keys"),
    [
        ("status.py", {"status_rps", "bare_rps", "ratio", "status_p99_ms"}),
        ("status_locale.py", {"plain_rps", "locale_rps", "ratio"}),
        ("batch_status.py", {"batch_ms", "sql_ms", "ratio", "core_ms"}),
        (
            "acceptances.py",
            {"acceptances_per_s", "bare_rps", "ratio", "stored", "chain_off_per_s_32"},
        ),
    ],
)
def test_benchmark_runs_quick(script: str, keys: set[str], database: str) -> None:
    """Each benchmark on both databases (PostgreSQL: ``POLICY_TRACKER_TEST_POSTGRES``, a
    schema of the benchmark's own); status on PostgreSQL also runs two workers."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--database", database],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "baseline" in done.stdout and "ratio" in done.stdout
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys <= set(figures)
    assert all(figures[k] > 0 for k in keys)
    assert figures.get("database", database) == database
    if script == "status.py" and database == "postgresql":
        assert figures["two_workers_rps"] > 0 and "serve --workers 2" in done.stdout


# The report that once broke the reader: the thread table's ``+/- Stdev``
# column ends in ``84.99%``, which an unanchored ``99%`` pattern took for the
# p99 row.
WRK_REPORT = """\
Running 1s test @ http://127.0.0.1:60689
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   658.72us  258.79us   4.46ms   84.99%
    Req/Sec    12.28k   333.73    12.63k    80.00%
  Latency Distribution
     50%  556.00us
     75%  614.00us
     90%    1.10ms
     99%    1.30ms
  12210 requests in 1.00s, 16.06MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  12206.28
Transfer/sec:     16.05MB
"""


def test_wrk_report_is_read_from_its_own_rows() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from tracker_bench import read_wrk
    finally:
        sys.path.remove(str(BENCHMARKS))
    result = read_wrk(WRK_REPORT)
    assert result.rps == 12206.28
    assert result.p99_ms == pytest.approx(1.30)
    assert result.errors == 4 + 3
    with pytest.raises(SystemExit, match="cannot read wrk's output"):
        read_wrk("Running 1s test\n  Latency   1.00ms   0.10ms   2.00ms   99.99%\n")
