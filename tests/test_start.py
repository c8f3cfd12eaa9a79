"""``policy-tracker init``: a new policy repository builds, checks and runs pre-commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker.cli import cli
from tracker.publish.starter import FILES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
WHEN = "2026-01-05T10:00:00+00:00"


def _env(tmp_path: Path) -> dict[str, str]:
    """Fixed authors and dates, the test's interpreter first on PATH, caches in tmp_path."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "Test Editor",
        "GIT_AUTHOR_EMAIL": "editor@example.org",
        "GIT_COMMITTER_NAME": "Test Editor",
        "GIT_COMMITTER_EMAIL": "editor@example.org",
        "GIT_AUTHOR_DATE": WHEN,
        "GIT_COMMITTER_DATE": WHEN,
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "NO_MKDOCS_2_WARNING": "1",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


#: pre-commit installs the hook's package and its dependencies from the package index into a
#: fresh environment the first time: 1-2 minutes, far more on a slow or busy network.
INSTALL_TIMEOUT = 2400


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return _run(["git", "-c", "init.defaultBranch=main", *args], cwd, env).strip()


def test_init_says_what_it_created_and_what_to_do_next(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "policies")])
    assert result.exit_code == 0, result.output
    for path, _ in FILES:
        assert (tmp_path / "policies" / path).is_file()
        assert path in result.output
    assert "next:" in result.output
    assert "Policy-Change: major" in result.output
    assert "mkdocs build --strict" in result.output
    workflow = yaml.safe_load((tmp_path / "policies/.github/workflows/policies.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert all(s["with"]["fetch-depth"] == 0 for s in steps if "checkout" in s.get("uses", ""))
    runs = " ".join(s.get("run", "") for s in steps)
    assert "policy-tracker check --base" in runs
    assert "mkdocs build --strict" in runs
    assert "policy-tracker sync --to" in runs
    ignored = (tmp_path / "policies/.gitignore").read_text()
    for pattern in ("/site/", "/.cache/", "*.sqlite3-wal", "*.pem"):
        assert pattern in ignored


@pytest.mark.parametrize("existing", ["mkdocs.yml", "policy/privacy.md", ".gitignore"])
def test_init_refuses_to_overwrite_anything(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert existing in result.output and "nothing was written" in result.output
    assert (tmp_path / existing).read_text() == "mine\n"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_init_into_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "file")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "is a file" in result.output


def _block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```\n(.*?)\n```\n<!-- /{marker} -->", README, re.S)
    assert match, f"README.md has no {marker} block"
    return match.group(1)


def test_the_readme_start_commands_run(tmp_path: Path) -> None:
    """README "Start your own policy repository": three commands, then a strict site."""
    commands = _block("start-commands").splitlines()
    assert len(commands) == 3
    env = _env(tmp_path)
    _run(["bash", "-euo", "pipefail", "-c", "\n".join(commands)], tmp_path, env)
    site = tmp_path / "policies" / "site"
    assert "Privacy Policy" in (site / "privacy/index.html").read_text()
    assert (site / "privacy/v1/index.html").is_file()
    assert (site / "versions.json").is_file()
    check = _run([str(BIN / "policy-tracker"), "check"], tmp_path / "policies", env)
    assert "ok privacy v1" in check


def _hook_repository(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """This project's working tree as a git repository pre-commit can install from."""
    clone = tmp_path / "policy-tracker"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, env=env)
    for path in ("tracker", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        target = clone / path
        if target.is_dir():
            shutil.rmtree(target)
        if (ROOT / path).is_dir():
            shutil.copytree(ROOT / path, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / path, target)
    _git(clone, env, "add", "-A")
    _git(clone, env, "commit", "-q", "--allow-empty", "-m", "the working tree under test")
    return clone, _git(clone, env, "rev-parse", "HEAD")


@pytest.mark.slow
def test_init_git_commit_build_and_pre_commit_pass(tmp_path: Path) -> None:
    """The Done-when of issue 16: in an empty folder, init, git init, a commit, the strict
    build and ``pre-commit run --all-files`` (the hook installed from a local path)."""
    env = _env(tmp_path)
    folder = tmp_path / "empty"
    folder.mkdir()
    _run([str(BIN / "policy-tracker"), "init"], folder, env)
    hooks, rev = _hook_repository(tmp_path, env)
    config = {
        "repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "policy-tracker-check"}]}]
    }
    (folder / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git(folder, env, "init", "-q")
    _git(folder, env, "add", "-A")
    _git(folder, env, "commit", "-q", "-m", "First policies", "-m", "Policy-Change: major")
    _run([str(BIN / "mkdocs"), "build", "--strict"], folder, env)
    assert (folder / "site/privacy/index.html").is_file()
    out = _run([str(BIN / "pre-commit"), "run", "--all-files"], folder, env)
    assert re.search(r"policy-tracker check\.+Passed", out), out
    # and the hook fails an undeclared material change
    privacy = folder / "policy/privacy.md"
    privacy.write_text(privacy.read_text().replace("90 days", "10 years"))
    _git(folder, env, "commit", "-q", "-am", "Keep logs longer")
    done = subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert done.returncode == 1
    assert "undeclared change looks major" in done.stdout
