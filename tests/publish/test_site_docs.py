"""docs/site.md, run: the options block it shows (timezone, section titles, cache) builds
the example repository strictly, with what the page says it does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.gitrepo import GitRepo
from tests.publish.conftest import build_site, make_repository, write_config

ROOT = Path(__file__).resolve().parents[2]


def _options_block() -> dict[str, Any]:
    text = (ROOT / "docs" / "site.md").read_text(encoding="utf-8")
    options = text[text.index("## Options") :]
    block = re.search(r"```yaml\n(.*?)```", options, re.DOTALL)
    assert block is not None
    plugins = yaml.safe_load(block.group(1))["plugins"]
    [entry] = [p for p in plugins if isinstance(p, dict) and "policy-tracker" in p]
    return dict(entry["policy-tracker"])


def test_the_options_docs_show_build_as_described(tmp_path: Path) -> None:
    options = _options_block()
    assert {"timezone", "sections"} <= set(options)
    repo: GitRepo = make_repository(tmp_path / "repo")
    config = write_config(tmp_path / "config", repo.path, **options)
    build_site(config, tmp_path / "site")  # strict
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    titles = set(options["sections"].values())
    assert any(title in home for title in titles)
    assert ">Legal<" not in home  # not the capitalised folder name
    assert (
        (repo.path / ".cache" / "policy-tracker" / ".gitignore").read_text().strip().endswith("*")
    )
    assert repo.git("status", "--porcelain") == ""


def test_a_title_file_names_a_folder_section(tmp_path: Path) -> None:
    repo = make_repository(tmp_path / "repo")
    repo.commit("Name the section", {"policy/legal/.pages": "title: Terms and conditions\n"})
    config = write_config(tmp_path / "config", repo.path)
    build_site(config, tmp_path / "site")
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Terms and conditions" in home and ">Legal<" not in home
