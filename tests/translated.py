"""A policy repository with a source and three translations, through a minor and a major
source change, one translation updated and two left stale (the issue's Done-when story); and
one whose source is German, with English and French translations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.gitrepo import GitRepo, policy_source

EN_V1 = "## Data\n\nWe keep your data for 90 days and never sell it.\n"
EN_V2 = EN_V1.replace("90", "60")  # minor
EN_V3 = EN_V2.replace("never sell it", "share it with our partners")  # major
DE_V1 = "## Daten\n\nWir speichern Ihre Daten 90 Tage und verkaufen sie nie.\n"
DE_V2 = DE_V1.replace("90", "60")
DE_V3 = DE_V2.replace("verkaufen sie nie", "teilen sie mit unseren Partnern")
FR_V1 = "## Données\n\nNous gardons vos données 90 jours et ne les vendons jamais.\n"
PT_V1 = "## Dados\n\nGuardamos os seus dados por 90 dias e nunca os vendemos.\n"
PT_V2 = PT_V1.replace("90", "60")


def source(body: str) -> str:
    return policy_source("Privacy Policy", body, translations_required="[de, fr]")


def make_translated_repository(path: Path) -> GitRepo:
    """privacy v1 (2024-01-02) with de, fr, pt-BR (01-03); v2 minor with de and pt-BR
    (01-04); v3 major with de, fr and pt-BR pending (01-05); de v3 (01-06).
    Today: de current (translates v3), fr stale (v1), pt-BR stale (v2)."""
    repo = GitRepo(path)
    repo.commit(
        "Publish the privacy policy\n\nPolicy-Change: major", {"policy/privacy.md": source(EN_V1)}
    )
    repo.commit(
        "Translate the privacy policy",
        {
            "policy/privacy.de.md": policy_source("Datenschutzerklärung", DE_V1, translates=1),
            "policy/privacy.fr.md": policy_source(
                "Politique de confidentialité", FR_V1, translates=1
            ),
            "policy/privacy.pt-BR.md": policy_source(
                "Política de Privacidade", PT_V1, translates=1
            ),
        },
    )
    repo.commit(
        "Keep data for 60 days\n\nPolicy-Change: minor",
        {
            "policy/privacy.md": source(EN_V2),
            "policy/privacy.de.md": policy_source("Datenschutzerklärung", DE_V2, translates=2),
            "policy/privacy.pt-BR.md": policy_source(
                "Política de Privacidade", PT_V2, translates=2
            ),
        },
    )
    repo.commit(
        "Share data with partners\n\nPolicy-Change: major\nPolicy-Translation-Pending: de, fr",
        {"policy/privacy.md": source(EN_V3)},
    )
    repo.commit(
        "Übersetzung von Version 3",
        {"policy/privacy.de.md": policy_source("Datenschutzerklärung", DE_V3, translates=3)},
    )
    return repo


GERMAN = "## Daten\n\nWir speichern Ihre Daten 90 Tage.\n"
ENGLISH = "## Data\n\nWe keep your data for 90 days.\n"
FRENCH = "## Données\n\nNous gardons vos données 90 jours.\n"


def german_repo(path: Path, *, start: datetime) -> GitRepo:
    """privacy v1 (major) written in German (``language: de``), then its English and French
    texts (the next day)."""
    repo = GitRepo(path, start=start)
    repo.commit(
        "Add\n\nPolicy-Change: major",
        {"policy/privacy.md": policy_source("Datenschutz", GERMAN, language="de")},
    )
    repo.commit(
        "Translate",
        {
            "policy/privacy.en.md": policy_source("Privacy", ENGLISH, translates=1),
            "policy/privacy.fr.md": policy_source("Confidentialité", FRENCH, translates=1),
        },
    )
    return repo


def second_german_version(repo: GitRepo) -> None:
    """privacy v2 (major: 60 days, not 90) with the English text updated, French left behind."""
    repo.commit(
        "Kürzer\n\nPolicy-Change: major",
        {
            "policy/privacy.md": policy_source(
                "Datenschutz", GERMAN.replace("90", "60"), language="de"
            ),
            "policy/privacy.en.md": policy_source(
                "Privacy", ENGLISH.replace("90", "60"), translates=2
            ),
        },
    )
