"""Benchmark: the policy site under MkDocs and under Zensical, each beside a plain build.

Generates the corpus of ``benchmarks/corpus.py`` and prints, measured in the same run:

* a plain ``mkdocs build`` and a plain ``zensical build`` of as many ordinary pages of the
  same sizes (``benchmarks/site.py``'s baseline pages): the baselines;
* ``mkdocs build --strict`` of the policy site with the plugin, empty cache, as a ratio to
  the plain MkDocs build;
* ``policy-tracker site`` (empty cache) then ``zensical build`` of the files it wrote, as
  a ratio to the plain Zensical build (and the same files built by MkDocs);
* that both policy sites have the same addresses.

CPU seconds of each process (user + system; a machine busy with other work does not
inflate them), wall seconds beside.

    python benchmarks/engines.py            # the full corpus (several minutes)
    python benchmarks/engines.py --quick    # the quick corpus (run by the tests)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from corpus import generate

# benchmarks/site.py, by path: "site" is also a module of Python's own
_spec = importlib.util.spec_from_file_location("_site_bench", Path(__file__).with_name("site.py"))
assert _spec is not None and _spec.loader is not None
_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_site)
AS_OF, baseline_pages, write_config = _site.AS_OF, _site.baseline_pages, _site.write_config

BIN = Path(sys.executable).parent
_ENGINE_OWN = re.compile(r"^(search/|search\.json$|404\.html$|sitemap\.xml|assets/(?!policy))")


def measure(
    command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one process, which must succeed."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TRACKER_")}
    environ |= {
        "NO_MKDOCS_2_WARNING": "1",
        "POLICY_TRACKER_AS_OF": AS_OF.isoformat(),
        **(env or {}),
    }
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a full pipe blocks
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=environ, stdout=log, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            error = log.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} failed:\n{error[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall


def addresses(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in (".html", ".json", ".xml")
        and not _ENGINE_OWN.match(p.relative_to(root).as_posix())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick corpus (seconds)")
    args = parser.parse_args(argv)
    mkdocs, zensical = str(BIN / "mkdocs"), str(BIN / "zensical")
    tracker = str(BIN / "policy-tracker")
    rows: list[tuple[str, float, float, str]] = []

    with tempfile.TemporaryDirectory(prefix="policy-engines-bench-") as tmp:
        root = Path(tmp)
        repo = root / "repo"
        summary = generate(repo, quick=args.quick)
        plain = root / "plain"
        (plain / "docs").mkdir(parents=True)
        pages, size = baseline_pages(repo, plain / "docs")
        (repo / "docs").mkdir()
        (repo / "docs" / "index.md").write_text("# Benchmark\n\nThe policies.\n")
        config = write_config(repo, plugin={"banner_days": 30})
        write_config(plain, plugin=None)

        plain_mk = measure([mkdocs, "build", "-q", "-d", str(root / "plain-mk")], plain)
        plain_z = measure([zensical, "build"], plain)
        plugin = measure(
            [mkdocs, "build", "-q", "--strict", "-f", str(config), "-d", str(root / "plugin")],
            repo,
            {"POLICY_TRACKER_CACHE": str(root / "cache-plugin")},
        )
        out = repo / "build"
        written = measure(
            [tracker, "site", "--out", str(out)],
            repo,
            {"POLICY_TRACKER_CACHE": str(root / "cache-files")},
        )
        # not --strict: Zensical checks links in HTML, and the corpus's redlines show links
        # as the policy wrote them (relative to its file), which it finds broken
        files_z = measure([zensical, "build", "-f", "mkdocs.yml"], out)
        files_mk = measure(
            [mkdocs, "build", "-q", "--strict", "-f", "mkdocs.yml", "-d", str(root / "files-mk")],
            out,
        )
        same = addresses(root / "plugin") == addresses(out / "site")
        same_mk = addresses(root / "plugin") == addresses(root / "files-mk")
        built = len(addresses(root / "plugin"))

    zensical_total = written[0] + files_z[0]
    rows = [
        ("plain mkdocs build, same pages and sizes (baseline)", *plain_mk, ""),
        ("plain zensical build, same pages and sizes (baseline)", *plain_z, ""),
        ("policy site: mkdocs build --strict with the plugin, cold", *plugin,
         f"{plugin[0] / plain_mk[0]:.2f} × plain mkdocs"),
        ("policy site: policy-tracker site (write the files), cold", *written, ""),
        ("policy site: zensical build of those files", *files_z,
         f"{files_z[0] / plain_z[0]:.2f} × plain zensical"),
        ("policy site under Zensical, both steps", zensical_total, written[1] + files_z[1],
         f"{zensical_total / plain_z[0]:.2f} × plain zensical"),
        ("policy site: mkdocs build --strict of the same files", *files_mk,
         f"{files_mk[0] / plain_mk[0]:.2f} × plain mkdocs"),
    ]  # fmt: skip
    table = Table(
        title=f"Site engines ({'quick' if args.quick else 'full'} corpus: {len(summary.live)} "
        f"policies at HEAD, {pages:,} pages, {size / 1e6:.1f} MB of Markdown)",
        title_justify="left",
    )
    for column in ("build", "CPU seconds", "wall seconds", "ratio"):
        table.add_column(column, justify="left" if column == "build" else "right")
    for name, cpu, wall, ratio in rows:
        table.add_row(name, f"{cpu:.2f}", f"{wall:.1f}", ratio)
    Console(width=160).print(table)
    print(f"plain mkdocs {plain_mk[0]:.2f} CPU s; plain zensical {plain_z[0]:.2f} CPU s")
    print(f"policy site with the plugin {plugin[0]:.2f} CPU s, ratio {plugin[0] / plain_mk[0]:.2f}")
    print(
        f"policy site under zensical {zensical_total:.2f} CPU s (site {written[0]:.2f} + "
        f"build {files_z[0]:.2f}), ratio {zensical_total / plain_z[0]:.2f}"
    )
    print(f"same addresses ({built:,}) under both engines: {same and same_mk}")
    return 0 if same and same_mk else 1


if __name__ == "__main__":
    sys.exit(main())
