"""Translations through ``log`` and ``check``: a source and three translations, through a
minor and a major source change, one translation updated and one left stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tracker.cli import cli

EN = "## Data\n\nWe keep your data for 90 days and never sell it.\n"
DE = "## Daten\n\nWir speichern Ihre Daten 90 Tage und verkaufen sie nie.\n"
FR = "## Données\n\nNous conservons vos données 90 jours et ne les vendons jamais.\n"
PT = "## Dados\n\nGuardamos os seus dados por 90 dias e nunca os vendemos.\n"


def run(repo: GitRepo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--repo", str(repo.path), *args])
    return result.exit_code, result.stdout + result.stderr


def source(body: str) -> str:
    return policy_source("Privacy", body, translations_required="[de, fr]")


def build(tmp_path: Path) -> GitRepo:
    """v1 with de, fr, pt-BR; v2 minor (de updated); v3 major (de updated, fr pending)."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add privacy\n\nPolicy-Change: major", {"policy/privacy.md": source(EN)})
    repo.commit(
        "Translate",
        {
            "policy/privacy.de.md": policy_source("Datenschutz", DE, translates=1),
            "policy/privacy.fr.md": policy_source("Confidentialité", FR, translates=1),
            "policy/privacy.pt-BR.md": policy_source("Privacidade", PT, translates=1),
        },
    )
    repo.commit(
        "Shorter retention\n\nPolicy-Change: minor",
        {
            "policy/privacy.md": source(EN.replace("90", "60")),
            "policy/privacy.de.md": policy_source(
                "Datenschutz", DE.replace("90", "60"), translates=2
            ),
        },
    )
    return repo


def test_log_json_says_who_translates_what_and_what_is_stale(tmp_path: Path) -> None:
    repo = build(tmp_path)
    code, out = run(repo, "log", "privacy", "--json")
    assert code == 0, out
    entry: dict[str, Any] = json.loads(out)
    rows = {t["language"]: t for t in entry["translations"]}
    assert sorted(rows) == ["de", "fr", "pt-BR"]
    assert (rows["de"]["state"], rows["de"]["translates"]) == ("current", 2)
    assert (rows["fr"]["state"], rows["fr"]["since"]) == ("stale", 2)
    assert rows["de"]["versions"][0]["translates"] == 2
    assert rows["pt-BR"]["path"] == "policy/privacy.pt-BR.md"
    assert [v["number"] for v in entry["versions"]] == [2, 1]
    code, out = run(repo, "log")
    assert "translation fr (policy/privacy.fr.md): v1 translates v1, stale since v2" in out


def test_check_fails_on_a_major_change_leaving_a_required_translation_stale(
    tmp_path: Path,
) -> None:
    repo = build(tmp_path)
    code, out = run(repo, "check", "--json")
    reports = json.loads(out)
    assert code == 0, out  # minor: fr and pt-BR fall behind, a warning
    assert any("the fr translation is stale after v2" in w for r in reports for w in r["warnings"])
    repo.commit(
        "Sell data\n\nPolicy-Change: major",
        {
            "policy/privacy.md": policy_source(
                "Privacy", EN.replace("never sell", "sell"), translations_required="[de, fr]"
            )
        },
    )
    code, out = run(repo, "check", "--json")
    assert code == 1
    problems = [p for r in json.loads(out) for p in r["problems"]]
    assert len(problems) == 2 and "required de translation stale" in problems[0]
    assert "Policy-Translation-Pending: fr" in problems[1]
    repo.git("reset", "-q", "--soft", "HEAD~1")
    repo.commit(
        "Sell data\n\nPolicy-Change: major\nPolicy-Translation-Pending: fr",
        {"policy/privacy.de.md": policy_source("Datenschutz", DE.replace("nie", ""), translates=3)},
    )
    code, out = run(repo, "check", "--json")
    reports = json.loads(out)
    assert code == 0, out
    german = [r for r in reports if r["language"] == "de"]
    assert german and german[0]["change"] == "de v3" and german[0]["warnings"] == []
    code, out = run(repo, "log", "privacy", "--json")
    rows = {t["language"]: t["state"] for t in json.loads(out)["translations"]}
    assert rows == {"de": "current", "fr": "stale", "pt-BR": "stale"}
