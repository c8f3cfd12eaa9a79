"""Benchmark: building the policy site, beside what MkDocs itself costs for as many pages.

Generates (with ``git fast-import``, into a temporary folder; the generator is shared with
``benchmarks/history.py``) a repository of 10 policies × 100 versions, then prints side by
side, measured in the same run:

* the time of ``mkdocs build`` of the policy site (current pages, every version, every
  redline, history pages, feed, versions.json);
* the time of a plain ``mkdocs build`` (same theme, plugins and Markdown extensions, no
  policy-tracker) of a site with the same number of ordinary pages of the same sizes: each
  generated page becomes a Markdown file holding the text of the version it shows (for a
  redline, the newer version);
* their ratio (target ≤ 1.5).

    python benchmarks/site.py            # 10 policies × 100 versions
    python benchmarks/site.py --quick    # 3 policies × 8 versions, seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import ModuleType

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker.history import read_catalog
from tracker.publish import site as site_plan
from tracker.redline import suggest

TARGET = 1.5
AS_OF = date(2031, 1, 1)  # after every generated commit: the latest version is current
THEME = {"name": "material"}
EXTENSIONS = ["tables", "admonition", "attr_list", {"toc": {"permalink": True}}]


def history_benchmark() -> ModuleType:
    """The repository generator of ``benchmarks/history.py`` (one generator, one shape)."""
    path = Path(__file__).with_name("history.py")
    spec = importlib.util.spec_from_file_location("_history_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    catalog = read_catalog(repo, classify=suggest, drafts=False)
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


def mkdocs_build(config: Path, site: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "POLICY_TRACKER_AS_OF": AS_OF.isoformat()}
    env.pop("POLICY_TRACKER_DRAFTS", None)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)],
        check=True,
        env=env,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--policies", type=int)
    parser.add_argument("--versions", type=int)
    args = parser.parse_args(argv)
    policies = args.policies or (3 if args.quick else 10)
    versions = args.versions or (8 if args.quick else 100)
    console = Console()
    generator = history_benchmark()

    with tempfile.TemporaryDirectory(prefix="policy-site-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            generator.generate(repo, policies, versions, 0, 0.2, progress)
            task = progress.add_task("writing the baseline pages", total=None)
            (root / "plain" / "docs").mkdir(parents=True)
            pages, size = baseline_pages(repo, root / "plain" / "docs")
            progress.update(task, total=1, completed=1)

            (repo / "docs").mkdir()
            (repo / "docs" / "index.md").write_text("# Benchmark\n\nThe policies.\n")
            site_config = write_config(repo, plugin={"banner_days": 30})
            plain_config = write_config(root / "plain", plugin=None)

            task = progress.add_task("mkdocs build: plain pages", total=2)
            plain = mkdocs_build(plain_config, root / "plain-site")
            progress.advance(task)
            task2 = progress.add_task("mkdocs build: policy site", total=1)
            policy = mkdocs_build(site_config, root / "policy-site")
            progress.advance(task2)
            # A second plain build: the file system cache is warm for both.
            plain = min(plain, mkdocs_build(plain_config, root / "plain-site"))
            progress.advance(task)

        built = sum(1 for _ in (root / "policy-site").rglob("index.html"))
        ratio = policy / plain
        table = Table(
            title=f"Site build: {policies} policies × {versions} versions "
            f"({pages} pages, {size / 1e6:.1f} MB of Markdown)",
            title_justify="left",
        )
        table.add_column("build")
        table.add_column("pages", justify="right")
        table.add_column("seconds", justify="right")
        table.add_row("policy site (policy-tracker)", str(built), f"{policy:.2f}")
        table.add_row("plain mkdocs build, same pages and sizes", str(pages), f"{plain:.2f}")
        ok = ratio <= TARGET
        verdict = "[green]meets[/]" if ok else "[red]misses[/]"
        table.add_row("ratio", "", f"{ratio:.2f} ({verdict} target ≤ {TARGET})")
        console.print(table)
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
