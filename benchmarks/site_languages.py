"""Benchmark: the policy site in four languages against the same site in one.

Generates the corpus of ``benchmarks/corpus.py``, then a copy of it in which every version
of every policy is translated into German, French and Brazilian Portuguese in the commit
that makes it (``policy/<slug>.de.md`` … with ``translates: N``; a deleted policy's
translations are deleted with it). Prints, measured in the same run:

* ``mkdocs build --strict`` of the one-language site, empty cache (the baseline);
* ``mkdocs build --strict`` of the four-language site, empty cache: it has four times the
  policy pages (each translation has as many versions, redlines and history as its source),
  target ≤ 4.5 × the baseline.

Builds are measured in CPU seconds of the build process (user + system), as in
``benchmarks/site.py``; wall seconds are printed beside.

    python benchmarks/site_languages.py            # the full corpus (several minutes)
    python benchmarks/site_languages.py --quick    # the quick corpus (run by the tests)
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

from tracker.history import read_catalog
from tracker.policy import Significance

sys.path.insert(0, str(Path(__file__).parent))
from corpus import generate

_spec = importlib.util.spec_from_file_location("site_bench", Path(__file__).parent / "site.py")
assert _spec is not None and _spec.loader is not None
site_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site_bench)  # benchmarks/site.py: the same builds and measures
mkdocs_build, write_config, WALL = site_bench.mkdocs_build, site_bench.write_config, site_bench.WALL

TARGET = 4.5
LANGUAGES = ("de", "fr", "pt-BR")


def _patch(old: str, new: str) -> Significance:
    return Significance.PATCH


def translations_by_commit(repo: Path) -> dict[str, list[tuple[str, int, str, str]]]:
    """Each commit that makes a version → (path, number, title, body) of those versions."""
    catalog = read_catalog(repo, drafts=False, classify=_patch)
    found: dict[str, list[tuple[str, int, str, str]]] = {}
    for policy in catalog:
        for v in policy.versions:
            body = v.text.split("\n", 2)[2] if v.text.count("\n") >= 2 else ""
            found.setdefault(v.commit, []).append((v.path, v.number, v.title, body))
    return found


def _translation(path: str, language: str) -> str:
    return f"{path.removesuffix('.md')}.{language}.md"


def _ops(versions: list[tuple[str, int, str, str]], deleted: list[str]) -> bytes:
    out = []
    for path, number, title, body in versions:
        for language in LANGUAGES:
            text = (
                f"---\ntitle: {title} ({language})\ntranslates: {number}\n---\n\n"
                f"[{language}] {body}"
            ).encode()
            out.append(
                f"M 100644 inline {_translation(path, language)}\ndata {len(text)}\n".encode()
                + text
                + b"\n"
            )
    for path in deleted:
        out.extend(f"D {_translation(path, language)}\n".encode() for language in LANGUAGES)
    return b"".join(out)


def translate(source: Path, dest: Path) -> None:
    """``dest``: ``source``'s history with every version translated in its own commit."""
    versions = translations_by_commit(source)
    exported = subprocess.run(
        ["git", "-C", str(source), "fast-export", "--show-original-ids", "--all"],
        check=True,
        capture_output=True,
    ).stdout
    out: list[bytes] = []
    pos = 0
    commit: str | None = None
    deleted: list[str] = []
    while pos < len(exported):
        end = exported.index(b"\n", pos) + 1
        line = exported[pos:end]
        pos = end
        if line.startswith(b"data "):
            size = int(line[5:])
            out.append(line + exported[pos : pos + size])
            pos += size
            continue
        if line.startswith(b"commit "):
            commit, deleted = "", []
        elif commit is not None and line.startswith(b"original-oid "):
            commit = line[13:].strip().decode()
        elif commit is not None and line.startswith(b"D ") and line.endswith(b".md\n"):
            deleted.append(line[2:].strip().decode())
        elif commit is not None and line == b"\n":
            out.append(_ops(versions.get(commit, []), deleted))
            commit = None
        out.append(line)
    dest.mkdir(parents=True)
    git = ["git", "-c", "init.defaultBranch=main", "-C", str(dest)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "fast-import", "--quiet"], input=b"".join(out), check=True)
    subprocess.run([*git, "reset", "-q", "--hard", "main"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick corpus (seconds)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="policy-languages-bench-") as tmp:
        root = Path(tmp)
        one, four = root / "one", root / "four"
        generate(one, quick=args.quick)
        translate(one, four)
        for repo in (one, four):
            (repo / "docs").mkdir()
            (repo / "docs" / "index.md").write_text("# Benchmark\n\nThe policies.\n")
            write_config(repo, plugin={"banner_days": 30})
        base, base_memory = mkdocs_build(
            one / "mkdocs.yml", root / "one-site", strict=True,
            env={"POLICY_TRACKER_CACHE": str(root / "cache-one")},
        )  # fmt: skip
        built, built_memory = mkdocs_build(
            four / "mkdocs.yml", root / "four-site", strict=True,
            env={"POLICY_TRACKER_CACHE": str(root / "cache-four")},
        )  # fmt: skip
        pages_one = sum(1 for _ in (root / "one-site").rglob("index.html"))
        pages_four = sum(1 for _ in (root / "four-site").rglob("index.html"))
        translated = sum(
            1 for lang in LANGUAGES for _ in (root / "four-site" / lang).rglob("index.html")
        )
    corpus = "quick" if args.quick else "full"
    ratio = built / base
    print(f"Site build in four languages ({corpus} corpus)")
    print(f"one language: {base:.2f} CPU s, {pages_one:,} pages, peak {base_memory} MiB (baseline)")
    print(
        f"four languages: {built:.2f} CPU s, {pages_four:,} pages ({translated:,} translated), "
        f"peak {built_memory} MiB; ratio {ratio:.2f} × one language (target ≤ {TARGET:g})"
    )
    print(f"wall seconds of the builds, in order: {', '.join(f'{w:.1f}' for w in WALL)}")
    return 0 if translated > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
