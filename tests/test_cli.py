"""The command line on real repositories: log, show, diff, check, and one-line errors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tracker.cli import cli
from tracker.settings import Settings

BODY_1 = """
## Introduction

We collect your name and email address to run the service.

## Retention

We keep server logs for 90 days.
"""

BODY_2 = BODY_1.replace("90 days", "30 days")


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--repo", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    g = GitRepo(tmp_path / "repo")
    g.commit(
        "Add the privacy policy\n\nPolicy-Change: major",
        {"policy/privacy.md": policy_source("Privacy Policy", BODY_1)},
    )
    g.commit(
        "Keep logs for 30 days\n\nPolicy-Change: major\nPolicy-Summary: Logs kept 30 days.",
        {"policy/privacy.md": policy_source("Privacy Policy", BODY_2)},
    )
    g.commit(
        "Bookkeeping", {"policy/privacy.md": policy_source("Privacy Policy", BODY_2, owner="legal")}
    )
    return g


def test_log_lists_versions_newest_first(repo: GitRepo) -> None:
    code, out, _ = run(repo.path, "log", "privacy", "--json")
    assert code == 0
    data = json.loads(out)
    assert [v["number"] for v in data["versions"]] == [2, 1]
    assert data["versions"][0]["summary"] == "Logs kept 30 days."
    assert data["versions"][0]["significance"] == "major"
    assert data["versions"][0]["significance_source"] == "declared"
    assert data["versions"][0]["published"].startswith("2024-01-03")


def test_log_table(repo: GitRepo) -> None:
    code, out, _ = run(repo.path, "log")
    assert code == 0
    assert "privacy — Privacy Policy" in out
    assert "v2" in out and "v1" in out
    assert "Logs kept 30 days." in out


def test_show_prints_the_hashed_text(repo: GitRepo) -> None:
    code, out, _ = run(repo.path, "show", "privacy@1")
    assert code == 0
    assert out.startswith("# Privacy Policy\n\n## Introduction")
    assert "90 days" in out
    _, log_out, _ = run(repo.path, "log", "privacy", "--json")
    v1 = json.loads(log_out)["versions"][-1]
    assert hashlib.sha256(out.encode()).hexdigest() == v1["sha256"]


def test_show_defaults_to_the_version_in_force(repo: GitRepo) -> None:
    upcoming = BODY_2.replace("30 days", "14 days")
    repo.commit(
        "Keep logs for 14 days\n\nPolicy-Change: major\nPolicy-Effective: 2999-01-01",
        {"policy/privacy.md": policy_source("Privacy Policy", upcoming)},
    )
    code, out, _ = run(repo.path, "show", "privacy")
    assert code == 0
    assert "30 days" in out and "14 days" not in out
    code, out, _ = run(repo.path, "show", "privacy@latest")
    assert code == 0
    assert "14 days" in out
    repo.write("policy/privacy.md", policy_source("Privacy Policy", upcoming + "\nDraft line.\n"))
    code, out, _ = run(repo.path, "show", "privacy@draft")
    assert code == 0 and "Draft line." in out


def test_show_without_a_version_in_force_prints_the_newest(tmp_path: Path) -> None:
    g = GitRepo(tmp_path / "repo")
    g.commit(
        "Add terms\n\nPolicy-Change: major\nPolicy-Effective: 2999-01-01",
        {"policy/terms.md": policy_source("Terms", BODY_1)},
    )
    code, out, _ = run(g.path, "show", "terms")
    assert code == 0 and "90 days" in out


def test_check_on_a_repository_with_one_commit(tmp_path: Path) -> None:
    g = GitRepo(tmp_path / "repo")
    g.commit("Add the privacy policy", {"policy/privacy.md": policy_source("Privacy", BODY_1)})
    code, out, err = run(g.path, "check")
    assert err == ""
    assert code == 1, out  # a new policy without a declaration is material
    assert "privacy v1" in out and "undeclared" in out
    g.commit(
        "Declare it\n\nPolicy-Change: major",
        {"policy/privacy.md": policy_source("Privacy", BODY_2)},
    )
    code, out, _ = run(g.path, "check")
    assert code == 0, out
    assert "privacy v2" in out and "v1" not in out.replace("privacy v2", "")


def test_check_fails_a_trailer_scoped_to_no_policy(repo: GitRepo) -> None:
    repo.commit(
        "Keep logs longer\n\nPolicy-Change: privcy=major",
        {
            "policy/privacy.md": policy_source(
                "Privacy Policy", BODY_2.replace("30 days", "365 days")
            )
        },
    )
    code, out, _ = run(repo.path, "check")
    assert code == 1
    assert "Policy-Change names 'privcy', which is no policy here" in out
    code, out, _ = run(repo.path, "check", "--json")
    problems = json.loads(out)[0]["problems"]
    assert any("'privcy'" in p for p in problems)
    repo.commit(
        "Keep logs longer still\n\nPolicy-Change: privacy=major",
        {
            "policy/privacy.md": policy_source(
                "Privacy Policy", BODY_2.replace("30 days", "400 days")
            )
        },
    )
    code, out, _ = run(repo.path, "check")
    assert code == 0, out


def test_diff_between_versions(repo: GitRepo) -> None:
    code, out, _ = run(repo.path, "diff", "privacy", "1", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["from"] == "v1" and data["to"] == "v2"
    assert data["changed"] is True
    code, out, _ = run(repo.path, "diff", "privacy", "1", "2", "--stat")
    assert code == 0
    assert "Retention" in out


def test_diff_defaults_to_the_draft(repo: GitRepo, tmp_path: Path) -> None:
    code, out, _ = run(repo.path, "diff", "privacy")
    assert code == 0 and "no draft" in out
    repo.write("policy/privacy.md", policy_source("Privacy Policy", BODY_2 + "\nNew paragraph.\n"))
    html = tmp_path / "redline.html"
    code, out, _ = run(repo.path, "diff", "privacy", "--html", str(html))
    assert code == 0, out
    page = html.read_text()
    assert "<ins" in page and "New paragraph." in page


def test_check_passes_declared_changes(repo: GitRepo) -> None:
    code, out, _ = run(repo.path, "check", "--base", "HEAD~2")
    assert code == 0, out
    assert "declared major" in out


def test_check_fails_an_undeclared_material_change(repo: GitRepo) -> None:
    repo.commit(
        "Keep logs longer",
        {
            "policy/privacy.md": policy_source(
                "Privacy Policy", BODY_2.replace("30 days", "365 days")
            )
        },
    )
    code, out, _ = run(repo.path, "check", "--base", "HEAD~1")
    assert code == 1
    assert "undeclared change looks" in out


def test_check_accepts_an_undeclared_typo_fix(repo: GitRepo) -> None:
    repo.commit(
        "Fix a typo",
        {"policy/privacy.md": policy_source("Privacy Policy", BODY_2.replace("email", "e-mail"))},
    )
    code, out, _ = run(repo.path, "check", "--base", "HEAD~1", "--json")
    reports = json.loads(out)
    assert [r["suggested"] for r in reports] == ["patch"], out
    assert code == 0


def test_check_refuses_a_declared_patch_that_looks_material(repo: GitRepo) -> None:
    repo.commit(
        "Tweak\n\nPolicy-Change: patch",
        {
            "policy/privacy.md": policy_source(
                "Privacy Policy", BODY_2.replace("30 days", "10 years")
            )
        },
    )
    code, out, _ = run(repo.path, "check", "--base", "HEAD~1")
    assert code == 1
    assert "declared patch but looks material" in out


def test_errors_are_one_line(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "log")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("POLICY_TRACKER_POOL_SIZE", "ten", "must be a whole number, not 'ten'"),
        ("POLICY_TRACKER_AUTH_CACHE_SECONDS", "2s", "must be a number, not '2s'"),
        ("POLICY_TRACKER_STATUS_FAST_PATH", "maybe", "must be true or false, not 'maybe'"),
    ],
)
def test_a_bad_setting_is_one_line(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = run(repo.path, "log")
    assert code == 1 and err == f"error: {variable} {message}\n"


@pytest.mark.parametrize(
    "args",
    [["db", "upgrade"], ["keys", "create", "--name", "web"], ["webhooks", "list"], ["sync"]],
)
def test_policy_tracker_database_url_wins_over_database_url(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """The settings' order: --database-url, then POLICY_TRACKER_DATABASE_URL, then
    DATABASE_URL (the README's settings section)."""
    ours, generic, given = (tmp_path / f"{n}.sqlite3" for n in ("ours", "generic", "given"))
    monkeypatch.setenv("POLICY_TRACKER_DATABASE_URL", f"sqlite:///{ours}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{generic}")
    code, out, err = run(repo.path, *args)
    assert code == 0, out + err
    assert ours.is_file() and not generic.exists()
    code, out, err = run(repo.path, *args, "--database-url", f"sqlite:///{given}")
    assert code == 0, out + err
    assert given.is_file() and not generic.exists()


@pytest.mark.parametrize(("value", "expected"), [("off", False), ("No", False), ("1", True)])
def test_boolean_settings_read_the_usual_words(value: str, expected: bool) -> None:
    assert (
        Settings.from_env({"POLICY_TRACKER_STATUS_FAST_PATH": value}).status_fast_path is expected
    )


def test_bad_trailer_is_one_line(repo: GitRepo) -> None:
    repo.commit(
        "Change\n\nPolicy-Change: huge",
        {"policy/privacy.md": policy_source("Privacy Policy", BODY_2 + "\nMore.\n")},
    )
    code, _, err = run(repo.path, "check")
    assert code == 1
    assert "huge" in err and err.count("\n") == 1


def test_unknown_policy_and_version(repo: GitRepo) -> None:
    code, _, err = run(repo.path, "show", "terms")
    assert code == 1 and "unknown policy 'terms'" in err
    code, _, err = run(repo.path, "show", "privacy@9")
    assert code == 1 and "no version 9" in err


def test_console_script_runs(repo: GitRepo) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "--repo", str(repo.path), "log", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["policy"] == "privacy"


def test_the_projects_own_repository() -> None:
    root = Path(__file__).resolve().parents[1]
    code, out, err = run(root, "log", "privacy", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["title"] == "Privacy Policy"
    assert data["versions"], "the project's privacy policy has at least one version"


def test_log_loads_neither_the_store_nor_the_migrations(repo: GitRepo) -> None:
    """Commands load lazily: ``log`` in a new process imports no SQLAlchemy or Alembic, and
    ``--help`` still lists every command."""
    script = (
        "import sys\n"
        "from tracker.cli import cli\n"
        f"cli(['--repo', {str(repo.path)!r}, 'log', '--json'], standalone_mode=False)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    listed = CliRunner().invoke(cli, ["--help"]).stdout
    for name in ("log", "db", "keys", "verify-bundle", "console-link", "import", "webhooks"):
        assert f"  {name} " in listed
