"""The corpus generator (benchmarks/corpus.py) in its quick shape: deterministic, and the
history reader sees every feature it claims to generate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tracker.history import read_catalog
from tracker.policy import slug_for_path
from tracker.redline import suggest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "benchmarks" / "corpus.py"


def _generate(dest: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(CORPUS), str(dest), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_quick_corpus_is_deterministic_and_has_every_feature(tmp_path: Path) -> None:
    import json

    first = json.loads(_generate(tmp_path / "a"))
    second = json.loads(_generate(tmp_path / "b"))
    assert first == second  # same commits, byte for byte: the same HEAD
    assert len(first["head"]) == 40 and first["merges"] > 0 and first["declared"] > 0
    assert first["declared"] < first["policy_commits"] / 2  # trailers on some, none on most

    catalog = read_catalog(tmp_path / "a", classify=suggest, drafts=False)
    policies = {p.slug: p for p in catalog}
    assert sorted(p.slug for p in catalog if not p.withdrawn) == sorted(
        slug_for_path(path, "policy") for path in first["live"]
    )

    old, new = first["renamed"][0]  # git pairs it by similarity: one policy, its history kept
    renamed = policies[slug_for_path(new, "policy")]
    assert slug_for_path(old, "policy") in renamed.aliases and len(renamed.versions) > 1

    old, new = first["rewritten"]  # git cannot pair it: the old policy is withdrawn
    assert policies[slug_for_path(old, "policy")].withdrawn
    rewritten = policies[slug_for_path(new, "policy")]
    assert rewritten.aliases == () and rewritten.versions[0].summary.startswith("Rewrite")

    readded = policies[slug_for_path(first["readded"], "policy")]
    assert not readded.withdrawn and len(readded.versions) > 1  # numbering continues

    reformatted = policies[slug_for_path(first["reformatted"], "policy")]
    texts = [v.text for v in reformatted.versions]
    change = next(
        i for i in range(1, len(texts)) if "\n### " in texts[i - 1] and "\n### " not in texts[i]
    )
    assert texts[change - 1].replace("\n### ", "\n## ") == texts[change]  # the words unchanged
    assert reformatted.versions[change].significance.value == "patch"  # classified: form only

    path, target = first["broken_link"]
    linked = [v for v in policies[slug_for_path(path, "policy")].versions if target in v.text]
    assert len(linked) == 1  # introduced in one version, fixed in the next

    texts = [v.text for p in catalog for v in p.versions]
    assert any("<!--" in t for t in texts) and any("](" in t for t in texts)
    assert any("|:---|" in t for t in texts) and any("\n* " in t for t in texts)
    merged = {v.commit for p in catalog for v in p.versions}
    assert len(merged) < first["policy_commits"] + 1  # merges and their branches: one version
