"""Time to redline two 20,000-word versions with 5% of the words changed (target ≤ 0.5 s).

Beside it, measured in the same run on the same texts: a plain ``difflib.SequenceMatcher``
over the two word lists (what a naive word diff costs), and the ratio of the two.

    python benchmarks/redline.py            # the figure
    python benchmarks/redline.py --quick    # a small run, to check the script works
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from difflib import SequenceMatcher

from tracker.redline import classify, compare, render_html

TARGET_SECONDS = 0.5
_VOCABULARY = (
    "data", "personal", "we", "you", "your", "may", "use", "process", "share", "store",
    "retain", "delete", "request", "access", "service", "services", "account", "information",
    "provider", "partner", "law", "legal", "basis", "consent", "contract", "security",
    "measure", "policy", "user", "users", "platform", "cookies", "analytics", "marketing",
    "rights", "transfer", "country", "safeguard", "breach", "notice", "period", "within",
    "days", "months", "years", "payment", "email", "address", "device", "location", "purpose",
    "purposes", "necessary", "legitimate", "interest", "authority", "third", "party",
)  # fmt: skip


def make_text(words: int, rng: random.Random) -> str:
    """A policy-like document: ``##`` sections of paragraphs, some lists and a table."""
    parts = ["# Benchmark Policy", ""]
    written = section = 0
    while written < words:
        section += 1
        parts += [f"## Section {section} {rng.choice(_VOCABULARY).title()}", ""]
        for _ in range(rng.randint(2, 5)):
            n = rng.randint(40, 120)
            sentence = " ".join(rng.choice(_VOCABULARY) for _ in range(n))
            parts += [sentence[0].upper() + sentence[1:] + ".", ""]
            written += n
        if section % 4 == 0:
            for _ in range(4):
                n = rng.randint(5, 15)
                parts.append("- " + " ".join(rng.choice(_VOCABULARY) for _ in range(n)))
                written += n
            parts.append("")
        if section % 7 == 0:
            parts += ["| Data | Period |", "| --- | --- |"]
            for _ in range(3):
                parts.append(f"| {rng.choice(_VOCABULARY)} | {rng.randint(1, 90)} days |")
                written += 3
            parts.append("")
    return "\n".join(parts) + "\n"


def change_words(text: str, share: float, rng: random.Random) -> str:
    """Replace, delete or insert ``share`` of the words of the paragraphs of a text."""
    lines = text.split("\n")
    spots = [
        (n, k)
        for n, line in enumerate(lines)
        if line and not line.startswith(("#", "|"))
        for k in range(len(line.split(" ")))
    ]
    chosen = rng.sample(spots, int(len(spots) * share))
    split = {n: lines[n].split(" ") for n, _ in chosen}
    for n, k in sorted(chosen, reverse=True):
        action = rng.random()
        if action < 0.6:
            split[n][k] = rng.choice(_VOCABULARY) + "x"
        elif action < 0.8 and len(split[n]) > 3 and k > 1:
            del split[n][k]
        else:
            split[n].insert(k, rng.choice(_VOCABULARY))
    for n, words in split.items():
        lines[n] = " ".join(words)
    return "\n".join(lines)


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) if repeat < 3 else statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 words, one run")
    parser.add_argument("--words", type=int, default=None, help="words per version")
    args = parser.parse_args()
    words = args.words or (2_000 if args.quick else 20_000)
    repeat = 1 if args.quick else 5
    rng = random.Random(20240601)
    old = make_text(words, rng)
    new = change_words(old, 0.05, rng)
    old_words, new_words = old.split(), new.split()

    redline = compare(old, new)
    redline_time = best_of(repeat, lambda: compare(old, new))
    baseline_time = best_of(
        repeat, lambda: SequenceMatcher(None, old_words, new_words).get_opcodes()
    )
    classify_time = best_of(repeat, lambda: classify(redline))
    html_time = best_of(repeat, lambda: render_html(redline))

    print(f"versions: {len(old_words):,} and {len(new_words):,} words, 5% of words changed")
    print(
        f"redline.compare:                       {redline_time:8.3f} s  "
        f"({redline.words_inserted:,} words inserted, {redline.words_deleted:,} deleted)"
    )
    print(f"baseline difflib over the word lists:  {baseline_time:8.3f} s")
    print(f"ratio compare / baseline:              {redline_time / baseline_time:8.2f}")
    print(f"classify:                              {classify_time:8.3f} s")
    print(f"render_html:                           {html_time:8.3f} s")
    verdict = "met" if redline_time <= TARGET_SECONDS else "MISSED"
    print(f"target compare ≤ {TARGET_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
