"""Benchmark: reading a real-shaped policy repository's history, cold and warm.

Generates the corpus of ``benchmarks/corpus.py`` (~60 policies, ~900 versions, documents up
to ~20,000 words, renames, merges, trailers on a quarter of the commits) and prints, measured
in the same run, runs interleaved so that a busy machine slows all of them alike:

* ``git log -p --first-parent`` over the repository: the baseline;
* ``read_catalog`` with an empty cache (cold: every undeclared change is redlined and
  classified), target ≤ 10 × the baseline;
* ``read_catalog`` with the cache filled (warm: what ``log``, ``check`` and ``mkdocs serve``
  pay on every run after the first), target ≤ 3 × the baseline;
* the command a user runs, ``policy-tracker log --json`` in a new process (imports, reading,
  JSON output), with an empty cache (cold) and a filled one (warm), against the same targets;

then the time to redline two 20,000-word versions with 5% of the words changed. Times are
CPU seconds (the process's and its git children's), which a busy machine does not inflate;
the wall seconds are printed beside.

    python benchmarks/history.py            # the full corpus (about a minute)
    python benchmarks/history.py --quick    # the quick corpus, seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from corpus import generate

COLD_TARGET, WARM_TARGET = 10.0, 3.0
WALL: list[float] = []
_WORDS = [
    "we",
    "you",
    "your",
    "data",
    "personal",
    "information",
    "service",
    "account",
    "use",
    "collect",
    "share",
]


def git_log(path: Path) -> None:
    subprocess.run(
        ["git", "log", "-p", "--first-parent"], cwd=path, check=True, stdout=subprocess.DEVNULL
    )


def cli_command() -> list[str]:
    """``policy-tracker`` as installed beside this interpreter, else ``python -m tracker``."""
    script = Path(sys.executable).parent / "policy-tracker"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tracker"]


def cli_log(path: Path, cache: Path) -> None:
    """``policy-tracker log --json`` in ``path``, as a user runs it, its cache in ``cache``."""
    environ = {**os.environ, "POLICY_TRACKER_CACHE": str(cache)}
    subprocess.run(
        [*cli_command(), "log", "--json"],
        cwd=path,
        env=environ,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def redline_pair(words: int, share: float, seed: int = 7) -> tuple[str, str]:
    """Two versions of a ``words``-word policy, ``share`` of the words replaced."""
    rng = random.Random(seed)
    blocks: list[str] = []
    count = section = 0
    while count < words:
        if count // 600 >= section:
            section += 1
            blocks.append(f"## Section {section}")
        block = " ".join(rng.choice(_WORDS) for _ in range(60)).capitalize() + "."
        blocks.append(block)
        count += 60
    old = "# Policy\n\n" + "\n\n".join(blocks) + "\n"
    tokens = old.split(" ")
    changeable = [i for i, token in enumerate(tokens) if "\n" not in token and "#" not in token]
    for i in rng.sample(changeable, int(len(tokens) * share)):
        tokens[i] = rng.choice(_WORDS) + "x"
    return old, " ".join(tokens)


def timed(job: object) -> float:
    """CPU seconds of ``job``: this process's and its children's (git), user + system.
    On a machine shared with other work, wall time mostly measures the wait for a
    processor; the wall seconds are kept in WALL and printed beside."""
    started, wall = _cpu(), time.perf_counter()
    job()  # type: ignore[operator]
    WALL.append(time.perf_counter() - wall)
    return _cpu() - started


def _cpu() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick corpus (for the tests)")
    parser.add_argument("--runs", type=int, help="timed rounds, the best counts (default 3)")
    options = parser.parse_args(argv)
    runs = options.runs or (2 if options.quick else 3)
    words = 2_000 if options.quick else 20_000

    from tracker.cache import Cache
    from tracker.history import read_catalog
    from tracker.redline import classify, compare
    from tracker.redline.cached import cached_classifier

    with tempfile.TemporaryDirectory(prefix="policy-tracker-bench-") as tmp:
        repo = Path(tmp) / "repo"
        summary = generate(repo, quick=options.quick)
        versions: list[int] = []
        best = dict.fromkeys(("git", "cold", "warm", "cli cold", "cli warm"), float("inf"))
        for round_ in range(runs):
            folder = Path(tmp) / f"cache-{round_}"
            cold_cache, warm_cache = Cache(folder), Cache(folder)

            def cold(cache: Cache = cold_cache) -> None:
                catalog = read_catalog(repo, drafts=False, classify=cached_classifier(cache))
                versions.append(sum(len(p.versions) for p in catalog))

            def warm(cache: Cache = warm_cache) -> None:
                read_catalog(repo, drafts=False, classify=cached_classifier(cache))

            best["git"] = min(best["git"], timed(lambda: git_log(repo)))
            best["cold"] = min(best["cold"], timed(cold))
            best["warm"] = min(best["warm"], timed(warm))
            assert warm_cache.misses == 0, "the warm read classified again"
            cli_cache = Path(tmp) / f"cli-cache-{round_}"
            shutil.rmtree(cli_cache, ignore_errors=True)
            for name in ("cli cold", "cli warm"):  # the first run fills the cache
                best[name] = min(best[name], timed(functools.partial(cli_log, repo, cli_cache)))
        old, new = redline_pair(words, 0.05)
        redline = min(timed(lambda: classify(compare(old, new))) for _ in range(runs))

    git, cold_s, warm_s = best["git"], best["cold"], best["warm"]
    table = Table(
        title=f"History read ({'quick' if options.quick else 'full'} corpus, best of {runs})"
    )
    for column in ("figure", "measured", "baseline", "ratio", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    shape = (
        f"{len(summary.live)} policies at HEAD + {len(summary.withdrawn)} withdrawn, "
        f"{versions[-1]:,} versions, {summary.commits:,} commits"
    )
    base = f"{git:.2f} s (git log -p --first-parent)"
    table.add_row(f"read_catalog cold: {shape}", f"{cold_s:.2f} s", base,
                  f"{cold_s / git:.2f}", f"≤ {COLD_TARGET:g}")  # fmt: skip
    table.add_row("read_catalog warm (cache filled)", f"{warm_s:.2f} s", base,
                  f"{warm_s / git:.2f}", f"≤ {WARM_TARGET:g}")  # fmt: skip
    cli_cold, cli_warm = best["cli cold"], best["cli warm"]
    table.add_row("policy-tracker log --json cold (new process, empty cache)", f"{cli_cold:.2f} s",
                  base, f"{cli_cold / git:.2f}", f"≤ {COLD_TARGET:g}")  # fmt: skip
    table.add_row("policy-tracker log --json warm (new process, cache filled)", f"{cli_warm:.2f} s",
                  base, f"{cli_warm / git:.2f}", f"≤ {WARM_TARGET:g}")  # fmt: skip
    table.add_row(f"redline: two {words:,}-word versions, 5% of words changed",
                  f"{redline:.3f} s", "", "", "≤ 0.5 s")  # fmt: skip
    Console(width=160).print(table)
    print(f"git log -p --first-parent {git:.3f} CPU s")
    print(
        f"read_catalog cold {cold_s:.3f} CPU s; ratio {cold_s / git:.2f} (target ≤ {COLD_TARGET:g})"
    )
    print(
        f"read_catalog warm {warm_s:.3f} CPU s; ratio {warm_s / git:.2f} (target ≤ {WARM_TARGET:g})"
    )
    print(
        f"policy-tracker log --json cold {cli_cold:.3f} CPU s; ratio {cli_cold / git:.2f}"
        f" (target ≤ {COLD_TARGET:g})"
    )
    print(
        f"policy-tracker log --json warm {cli_warm:.3f} CPU s; ratio {cli_warm / git:.2f}"
        f" (target ≤ {WARM_TARGET:g})"
    )
    print(f"redline {words} words 5% changed {redline:.3f} CPU s")
    print(
        "wall seconds (git, cold, warm, cli cold, cli warm per round, then redlines):",
        ", ".join(f"{w:.2f}" for w in WALL),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
