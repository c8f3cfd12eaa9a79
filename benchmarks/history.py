"""Benchmark: reading a policy repository's history, and a large redline.

Generates (with ``git fast-import``, into a temporary folder) a repository of
10 policies × 300 versions plus 2,000 unrelated commits, then prints side by side:

* the time of ``read_catalog`` (every version, with significance, hashes and drafts);
* the time of a plain ``git log -p --first-parent`` over the same repository, in the same run;
* their ratio (target ≤ 3).

By default a fifth of the policy commits carry no ``Policy-Change`` trailer, so their
versions go through the redline classifier; the table shows that share of the read
separately (``--undeclared 0`` measures the git side alone).

Then the time to redline two 20,000-word versions with 5% of the words changed
(``tracker.redline.compare`` + ``classify``; target ≤ 0.5 s).

    python benchmarks/history.py            # full size
    python benchmarks/history.py --quick    # small sizes, seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker.history import Classifier
from tracker.policy import Significance

_VOCABULARY = (
    "we you your data personal information service account use collect share process store "
    "retain delete request law rights consent purpose third parties cookies contact email "
    "address payment security access provide may must will days months years policy terms "
    "privacy processing controller processor transfer country protection legitimate interest "
    "marketing analytics support improve safety fraud legal obligation court order notice"
)
WORDS = _VOCABULARY.split()
START = 1_700_000_000  # a fixed start for commit dates: the repository is reproducible


def sentence(rng: random.Random, length: int) -> str:
    words = [rng.choice(WORDS) for _ in range(length)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while words > 0:
        length = min(words, rng.randint(8, 20))
        out.append(sentence(rng, length))
        words -= length
    return " ".join(out)


def policy_document(rng: random.Random, sections: int, words_per_paragraph: int) -> list[str]:
    """A policy as a list of blocks (headings and paragraphs)."""
    blocks: list[str] = []
    for number in range(1, sections + 1):
        blocks.append(f"## {number}. {sentence(rng, 3)[:-1]}")
        blocks.extend(paragraph(rng, words_per_paragraph) for _ in range(3))
    return blocks


def render(title: str, blocks: list[str], notice_days: int) -> bytes:
    front = f"---\ntitle: {title}\nnotice_days: {notice_days}\n---\n\n"
    return (front + "\n\n".join(blocks) + "\n").encode("utf-8")


def edit(rng: random.Random, blocks: list[str]) -> None:
    """A typical editor's change: a few words of one paragraph, sometimes a new paragraph."""
    index = rng.randrange(len(blocks))
    while blocks[index].startswith("#"):
        index = rng.randrange(len(blocks))
    words = blocks[index].split()
    for _ in range(rng.randint(1, 4)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    blocks[index] = " ".join(words)
    if rng.random() < 0.1:
        blocks.insert(index + 1, paragraph(rng, 40))


def fast_import_stream(
    policies: int, versions: int, unrelated: int, undeclared: float, seed: int
) -> Iterator[bytes]:
    """The ``git fast-import`` input of the benchmark repository, commit by commit."""
    rng = random.Random(seed)
    docs = {f"policy-{i:02d}": policy_document(rng, 8, 60) for i in range(policies)}
    steps = [("policy", name) for name in docs for _ in range(versions)]
    steps += [("other", "")] * unrelated
    rng.shuffle(steps)
    # A policy is created by its first step in the shuffled order and edited by the rest.
    created: set[str] = set()
    when = START
    for mark, (kind, name) in enumerate(steps, start=1):
        when += 3600
        files: list[tuple[str, bytes]] = []
        if kind == "policy":
            blocks = docs[name]
            if name in created:
                edit(rng, blocks)
            created.add(name)
            files.append((f"policy/{name}.md", render(name.title(), blocks, 30)))
            subject = f"Edit {name}"
            if rng.random() >= undeclared:
                level = rng.choice(["patch", "minor", "major"])
                subject += f"\n\nPolicy-Change: {level}\nPolicy-Summary: Change {mark}"
        else:
            files.append((f"src/module_{mark % 50}.py", f"VALUE = {mark}\n".encode()))
            subject = f"Unrelated change {mark}"
        message = subject.encode("utf-8") + b"\n"
        out = [
            b"commit refs/heads/main\n",
            f"mark :{mark}\n".encode(),
            f"author Bench Editor <bench@example.org> {when} +0000\n".encode(),
            f"committer Bench Editor <bench@example.org> {when} +0000\n".encode(),
            f"data {len(message)}\n".encode(),
            message,
        ]
        for path, content in files:
            out += [f"M 100644 inline {path}\n".encode(), f"data {len(content)}\n".encode()]
            out += [content, b"\n"]
        out.append(b"\n")
        yield b"".join(out)


def generate(
    path: Path, policies: int, versions: int, unrelated: int, undeclared: float, progress: Progress
) -> int:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    total = policies * versions + unrelated
    task = progress.add_task("generating the repository", total=total)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert importer.stdin is not None
    for chunk in fast_import_stream(policies, versions, unrelated, undeclared, seed=42):
        importer.stdin.write(chunk)
        progress.advance(task)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=path, check=True)
    return total


def best_of(runs: int, job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return min(times)


def timed(classifier: Classifier) -> tuple[Classifier, list[float]]:
    """The classifier, adding up its time per read (its share of a read)."""
    totals: list[float] = [0.0]

    def wrapper(old: str, new: str) -> Significance:
        started = time.perf_counter()
        try:
            return classifier(old, new)
        finally:
            totals[-1] += time.perf_counter() - started

    return wrapper, totals


def git_log_baseline(path: Path) -> None:
    subprocess.run(
        ["git", "log", "-p", "--first-parent"], cwd=path, check=True, stdout=subprocess.PIPE
    )


def redline_pair(words: int, share: float, seed: int = 7) -> tuple[str, str]:
    """Two versions of a ``words``-word policy, ``share`` of the words replaced."""
    rng = random.Random(seed)
    blocks: list[str] = []
    count = 0
    section = 0
    while count < words:
        if count // 600 >= section:
            section += 1
            blocks.append(f"## Section {section}")
        block = paragraph(rng, 60)
        blocks.append(block)
        count += len(block.split())
    old = "# Policy\n\n" + "\n\n".join(blocks) + "\n"
    tokens = old.split(" ")
    changeable = [i for i, token in enumerate(tokens) if "\n" not in token and "#" not in token]
    for i in rng.sample(changeable, int(len(tokens) * share)):
        tokens[i] = rng.choice(WORDS) + "x"
    return old, " ".join(tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for the tests)")
    parser.add_argument(
        "--undeclared",
        type=float,
        default=0.2,
        help="share of policy commits without a Policy-Change trailer (classified); default 0.2",
    )
    parser.add_argument("--runs", type=int, help="timed runs, the best counts (default 3, quick 1)")
    options = parser.parse_args(argv)
    policies, versions, unrelated, words = (
        (3, 20, 50, 2_000)
        if options.quick
        else (
            10,
            300,
            2_000,
            20_000,
        )
    )
    runs = options.runs or (1 if options.quick else 3)
    console = Console(stderr=True)

    from tracker.history import read_catalog
    from tracker.redline import classify, compare, suggest

    with tempfile.TemporaryDirectory(prefix="policy-tracker-bench-") as tmp:
        path = Path(tmp) / "repo"
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            commits = generate(path, policies, versions, unrelated, options.undeclared, progress)
            task = progress.add_task("timing read_catalog and git log -p", total=2 * runs)
            found: list[int] = []

            def read() -> None:
                classifying.append(0.0)
                catalog = read_catalog(path, classify=classifier)
                found.append(sum(len(policy.versions) for policy in catalog))
                progress.advance(task)

            def baseline() -> None:
                git_log_baseline(path)
                progress.advance(task)

            classifier, classifying = timed(suggest)
            ours = best_of(runs, read)
            classified = classifying[-1] if classifying else 0.0
            theirs = best_of(runs, baseline)
            old, new = redline_pair(words, 0.05)
            diff_task = progress.add_task(f"redlining two {words:,}-word versions", total=runs)

            def diff() -> None:
                classify(compare(old, new))
                progress.advance(diff_task)

            redline = best_of(runs, diff)

    table = Table(
        title=f"History benchmark ({'quick' if options.quick else 'full'}, best of {runs})"
    )
    for column in ("figure", "measured", "baseline", "ratio", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    ratio = ours / theirs
    table.add_row(
        f"read_catalog: {policies} policies × {versions} versions + {unrelated:,} other "
        f"commits ({commits:,} commits, {found[-1]:,} versions, "
        f"{options.undeclared:.0%} undeclared)",
        f"{ours:.2f} s",
        f"{theirs:.2f} s (git log -p --first-parent)",
        f"{ratio:.2f}",
        "≤ 3",
    )
    table.add_row(
        "  of which: redline classifier on undeclared versions (last run)",
        f"{classified:.2f} s",
        "",
        "",
        "",
    )
    table.add_row(
        f"redline: two {words:,}-word versions, 5% of words changed",
        f"{redline:.3f} s",
        "",
        "",
        "≤ 0.5 s",
    )
    Console().print(table)
    print(f"read_catalog {ours:.3f} s; git log -p --first-parent {theirs:.3f} s; ratio {ratio:.2f}")
    print(f"classifier share of the last read {classified:.3f} s")
    print(f"redline {words} words 5% changed {redline:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
