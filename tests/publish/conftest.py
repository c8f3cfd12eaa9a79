"""Real sites built from real repositories: the fixtures of the publish tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config

from tests.gitrepo import GitRepo, policy_source

AS_OF = "2024-01-20"  # privacy v2 is in force, v3 is upcoming (effective 2024-03-01)

PRIVACY_V1 = """
## Data we collect

We collect your name and email address when you register.

## Cookies

We use cookies to remember your preferences.

## Contact

Write to privacy@example.org.
"""

PRIVACY_V2 = PRIVACY_V1.replace(
    "We use cookies to remember your preferences.",
    "We use essential cookies to keep you signed in.",
)

PRIVACY_V3 = (
    PRIVACY_V2.replace("your name and email address", "your name, email address and location")
    + "\n## Retention\n\nWe keep your data for 24 months after you close your account.\n"
)

PRIVACY_DRAFT = PRIVACY_V3.replace("24 months", "12 months")

TERMS_V1 = """
## Use of the service

You may use the service for lawful purposes only.

## Disputes

Disputes go to the courts of Paris.
"""

TERMS_PATCH = TERMS_V1.replace("lawful purposes only", "lawful purposes only.").replace(
    "only..", "only."
)

TERMS_V2 = TERMS_V1.replace(
    "Disputes go to the courts of Paris.",
    "Disputes go to binding arbitration in Geneva.",
)

COOKIES_V1 = """
## What cookies are

Small files your browser keeps.
"""

COOKIES_V2 = COOKIES_V1 + "\n## Analytics\n\nWe use no analytics cookies.\n"


def make_repository(path: Path) -> GitRepo:
    """Three policies: privacy (minor change, upcoming major), legal/terms (changed by a
    merged pull request with trailers) and cookies (renamed from policy/cookie.md)."""
    repo = GitRepo(path)
    repo.commit(
        "Publish the first policies",
        {
            "README.md": "A policy repository.\n",
            "policy/privacy.md": policy_source("Privacy Policy", PRIVACY_V1, notice_days=30),
            "policy/legal/terms.md": policy_source("Terms of Service", TERMS_V1),
            "policy/cookie.md": policy_source("Cookie Policy", COOKIES_V1),
        },
    )  # 2024-01-02
    repo.commit(
        "Reword the cookie section\n\nPolicy-Change: privacy=minor\n"
        "Policy-Summary: We now say which cookies we use.",
        {"policy/privacy.md": policy_source("Privacy Policy", PRIVACY_V2, notice_days=30)},
    )  # 2024-01-03
    repo.rename("policy/cookie.md", "policy/cookies.md", "Rename the cookie policy")  # 01-04
    repo.commit(
        "Say we use no analytics\n\nPolicy-Change: minor\nPolicy-Summary: No analytics cookies.",
        {"policy/cookies.md": policy_source("Cookie Policy", COOKIES_V2)},
    )  # 2024-01-05
    repo.branch("arbitration")
    repo.commit(
        "Fix punctuation\n\nPolicy-Change: patch",
        {"policy/legal/terms.md": policy_source("Terms of Service", TERMS_PATCH)},
    )  # 2024-01-06
    repo.commit(
        "Move disputes to arbitration\n\nPolicy-Change: legal/terms=major\n"
        "Policy-Summary: Disputes now go to arbitration.",
        {"policy/legal/terms.md": policy_source("Terms of Service", TERMS_V2)},
    )  # 2024-01-07
    repo.checkout("main")
    repo.merge("arbitration", "Merge pull request #1 from arbitration\n\nArbitration")  # 01-08
    repo.commit(
        "Keep data for 24 months\n\nPolicy-Change: major\nPolicy-Effective: 2024-03-01\n"
        "Policy-Summary: We now collect your location and say how long we keep data.",
        {"policy/privacy.md": policy_source("Privacy Policy", PRIVACY_V3, notice_days=30)},
    )  # 2024-01-09
    return repo


@dataclass
class Site:
    """A built site: its folder and helpers to read what was written."""

    root: Path
    repo: GitRepo

    def page(self, address: str) -> str:
        """The HTML at an address such as ``privacy/v2/`` (``""`` for the home page)."""
        return (self.root / address / "index.html").read_text(encoding="utf-8")

    def exists(self, address: str) -> bool:
        return (self.root / address / "index.html").is_file()

    def file(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")


def write_config(folder: Path, repo: Path, **options: Any) -> Path:
    """A ``mkdocs.yml`` (and docs folder) outside the repository, reading it via ``repository``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Our policies\n\nRead them here.\n")
    plugin: dict[str, Any] = {"repository": str(repo), "as_of": AS_OF, **options}
    config = {
        "site_name": "Example policies",
        "docs_dir": "docs",
        "theme": {"name": "material"},
        "plugins": ["search", {"policy-tracker": plugin}],
        "markdown_extensions": ["tables", "admonition", "attr_list", {"toc": {"permalink": True}}],
    }
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def build_site(config_file: Path, site_dir: Path, *, command: str = "build") -> None:
    """Build like ``mkdocs build --strict`` does, through MkDocs' Python API."""
    config = load_config(config_file=str(config_file), site_dir=str(site_dir), strict=True)
    config.plugins.on_startup(command=command, dirty=False)  # type: ignore[arg-type]
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()


@pytest.fixture(autouse=True)
def _quiet_mkdocs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    monkeypatch.delenv("POLICY_TRACKER_AS_OF", raising=False)
    monkeypatch.delenv("POLICY_TRACKER_DRAFTS", raising=False)
    yield


@pytest.fixture(scope="session")
def policy_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return make_repository(tmp_path_factory.mktemp("policies") / "repo")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, policy_repo: GitRepo) -> Site:
    """The site of ``make_repository`` as of 2024-01-20 (built once for the session)."""
    folder = tmp_path_factory.mktemp("site")
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    build_site(write_config(folder / "config", policy_repo.path), folder / "site")
    return Site(folder / "site", policy_repo)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
