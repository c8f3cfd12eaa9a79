"""Benchmark: building the policy site of a real-shaped repository, cold and warm.

Generates the corpus of ``benchmarks/corpus.py`` and prints, measured in the same run:

* ``mkdocs build`` (same theme, plugins and Markdown extensions, no policy-tracker) of a
  site with as many ordinary pages of the same sizes (each generated page becomes a Markdown
  file holding the text of the version it shows; for a redline, the newer version): the
  baseline (with --quick built twice, the faster counts);
* ``mkdocs build --strict`` of the policy site with an empty cache (cold), target ≤ 1.2 ×
  the baseline; it must pass, and no page may show the text of an HTML comment;
* the rebuild after editing one policy's draft with the cache filled, as ``mkdocs serve``
  does on save (drafts on), target ≤ 0.15 × the cold build;
* the peak memory (resident set) of each build.

Builds are measured in CPU seconds of the build process (user + system), which a machine
busy with other work does not inflate; their wall seconds are printed beside.

    python benchmarks/site.py            # the full corpus (several minutes)
    python benchmarks/site.py --quick    # the quick corpus (run by the tests)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from tracker.policy import Significance

sys.path.insert(0, str(Path(__file__).parent))
from corpus import generate

COLD_TARGET, WARM_TARGET = 1.2, 0.15
WALL: list[float] = []  # wall seconds of each build, in order
AS_OF = date(2031, 1, 1)  # after every generated commit
THEME = {"name": "material"}
EXTENSIONS = ["tables", "admonition", "attr_list", {"toc": {"permalink": True}}]
#: Text that only HTML comments of the corpus hold.
COMMENT_TEXT = ("markdownlint-disable", "Reviewed by legal on", "TODO(")


def write_config(folder: Path, *, plugin: dict[str, object] | None) -> Path:
    plugins: list[object] = ["search"]
    if plugin is not None:
        plugins.append({"policy-tracker": plugin})
    config = {
        "site_name": "Benchmark",
        "docs_dir": "docs",
        "theme": THEME,
        "plugins": plugins,
        "markdown_extensions": EXTENSIONS,
    }
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def baseline_pages(repo: Path, docs: Path) -> tuple[int, int]:
    """Ordinary Markdown pages, one per page of the policy site, of the same sizes."""
    from tracker.history import read_catalog
    from tracker.publish import site as site_plan

    catalog = read_catalog(repo, drafts=False, classify=lambda old, new: _patch())
    plan = site_plan.plan(catalog, AS_OF, drafts=False, index_page="index.md")
    pages = size = 0
    for spec in plan:
        if spec.kind is site_plan.Kind.INDEX:
            text = "# Benchmark\n\nThe policies.\n"
        else:
            version = spec.version or (spec.view.latest if spec.view else None)
            assert version is not None
            text = version.text
        target = docs / spec.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        pages += 1
        size += len(text.encode("utf-8"))
    return pages, size


def _patch() -> Significance:
    return Significance.PATCH


def mkdocs_build(
    config: Path, site: Path, *, strict: bool = False, env: Mapping[str, str] | None = None
) -> tuple[float, int]:
    """CPU seconds (user + system) and peak resident memory (MiB) of one ``mkdocs build``
    process. CPU time, not wall time: on a machine shared with other work a build waits
    for the processor, and the wait is not the build's cost (wall time is printed too)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TRACKER_")}
    environ |= {
        "NO_MKDOCS_2_WARNING": "1",
        "POLICY_TRACKER_AS_OF": AS_OF.isoformat(),
        **(env or {}),
    }
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)]
    started = time.perf_counter()
    process = subprocess.Popen([*command, "--strict"] if strict else command, env=environ)
    _, status, usage = os.wait4(process.pid, 0)
    WALL.append(time.perf_counter() - started)
    elapsed = usage.ru_utime + usage.ru_stime
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"mkdocs build failed ({config}): exit {process.returncode}")
    return elapsed, usage.ru_maxrss // 1024


def shows_comments(site: Path) -> int:
    count = 0
    for page in site.rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        count += any(marker in text for marker in COMMENT_TEXT)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick corpus (seconds)")
    args = parser.parse_args(argv)
    console = Console(width=160)

    with tempfile.TemporaryDirectory(prefix="policy-site-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        summary = generate(repo, quick=args.quick)
        (root / "plain" / "docs").mkdir(parents=True)
        pages, size = baseline_pages(repo, root / "plain" / "docs")
        (repo / "docs").mkdir()
        (repo / "docs" / "index.md").write_text("# Benchmark\n\nThe policies.\n")
        site_config = write_config(repo, plugin={"banner_days": 30})
        plain_config = write_config(root / "plain", plugin=None)
        cache = str(root / "cache")

        plain, plain_memory = mkdocs_build(plain_config, root / "plain-site")
        cold, cold_memory = mkdocs_build(
            site_config, root / "cold", strict=True, env={"POLICY_TRACKER_CACHE": cache}
        )
        # mkdocs serve after the build above: an editor saves one policy, drafts on.
        drafts = {"POLICY_TRACKER_CACHE": cache, "POLICY_TRACKER_DRAFTS": "1"}
        edited = repo / summary.live[0]
        edited.write_text(
            edited.read_text(encoding="utf-8") + "\nA new paragraph from the editor.\n"
        )
        warm, warm_memory = mkdocs_build(site_config, root / "serve", env=drafts)
        if args.quick:  # cheap enough to build the baseline twice; the faster counts
            again, again_memory = mkdocs_build(plain_config, root / "plain-site")
            if again < plain:
                plain, plain_memory = again, again_memory
        built = sum(1 for _ in (root / "cold").rglob("index.html"))
        comments = shows_comments(root / "cold")

    table = Table(
        title=f"Site build ({'quick' if args.quick else 'full'} corpus: {len(summary.live)} "
        f"policies at HEAD, {pages:,} pages, {size / 1e6:.1f} MB of Markdown)",
        title_justify="left",
    )
    for column in ("build", "CPU seconds", "peak MiB", "ratio", "target"):
        table.add_column(column, justify="left" if column == "build" else "right")
    table.add_row("plain mkdocs build, same pages and sizes (baseline)", f"{plain:.2f}",
                  str(plain_memory), "", "")  # fmt: skip
    ratio = f"{cold / plain:.2f} × plain"
    table.add_row(f"policy site cold, --strict ({built:,} pages written)", f"{cold:.2f}",
                  str(cold_memory), ratio, f"≤ {COLD_TARGET:g}")  # fmt: skip
    table.add_row("rebuild after editing one draft (cache filled, drafts on)", f"{warm:.2f}",
                  str(warm_memory), f"{warm / cold:.2f} × cold", f"≤ {WARM_TARGET:g}")  # fmt: skip
    console.print(table)
    wall = ", ".join(f"{w:.1f}" for w in WALL)
    print(f"plain build {plain:.2f} CPU s, peak {plain_memory} MiB")
    print(f"policy site cold {cold:.2f} CPU s, peak {cold_memory} MiB; ratio {cold / plain:.2f}")
    print(f"warm rebuild {warm:.2f} CPU s, peak {warm_memory} MiB; ratio to cold {warm / cold:.2f}")
    print(f"wall seconds of the builds, in order: {wall}")
    print(f"pages showing HTML comment text: {comments}")
    return 0 if comments == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
