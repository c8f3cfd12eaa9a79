"""``policy-tracker site``: the same site under MkDocs (with the plugin, or from the written
files) and under Zensical (from the written files), address for address."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.gitrepo import GitRepo
from tests.publish.conftest import Site, build_site, write_config
from tracker.cli import cli

BIN = Path(sys.executable).parent
#: What each engine adds of its own: search index, 404 page, sitemap, theme assets.
_ENGINE_OWN = re.compile(r"^(search/|search\.json$|404\.html$|sitemap\.xml|assets/(?!policy))")


def _addresses(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in (".html", ".json", ".xml", ".css")
        and not _ENGINE_OWN.match(p.relative_to(root).as_posix())
    }


def _meta(page: str) -> dict[str, str]:
    """The "Last updated", "Version" and "Effective" a current page shows."""
    found = re.findall(
        r'<div class="pt-meta__item pt-meta__(\w+)"><dt>[^<]*</dt> <dd>(.*?)</dd></div>', page
    )
    assert found, "no pt-meta on the page"
    return {name: re.sub(r"<[^>]+>", "", value) for name, value in found}


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PATH": f"{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, policy_repo: GitRepo) -> dict[str, Site]:
    """The repository of the publish tests, built three ways."""
    folder = tmp_path_factory.mktemp("engines")
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    config = write_config(folder / "config", policy_repo.path)
    build_site(config, folder / "plugin")
    out = folder / "config" / "build"
    result = CliRunner().invoke(cli, ["site", "-f", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "pages" in result.output and "zensical build -f" in result.output
    _run([str(BIN / "mkdocs"), "build", "--strict", "-q", "-f", "mkdocs.yml", "-d", "mk"], out)
    _run([str(BIN / "zensical"), "build", "--strict", "-f", "mkdocs.yml"], out)
    return {
        "plugin": Site(folder / "plugin", policy_repo),
        "mkdocs": Site(out / "mk", policy_repo),
        "zensical": Site(out / "site", policy_repo),
    }


def test_every_engine_has_the_same_addresses(sites: dict[str, Site]) -> None:
    plugin = _addresses(sites["plugin"].root)
    assert "privacy/v3/index.html" in plugin and "cookie/v1/index.html" in plugin
    assert len(plugin) > 25
    for name in ("mkdocs", "zensical"):
        assert _addresses(sites[name].root) == plugin, name


def test_every_current_page_shows_the_same_dates_and_version(sites: dict[str, Site]) -> None:
    plugin = sites["plugin"]
    versions = json.loads(plugin.file("versions.json"))
    slugs = [p["slug"] for p in versions["policies"]]
    assert slugs and set(slugs) == {"privacy", "legal/terms", "cookies"}
    for slug in slugs:
        expected = _meta(plugin.page(slug))
        assert set(expected) >= {"updated", "version", "effective"}
        for name in ("mkdocs", "zensical"):
            assert _meta(sites[name].page(slug)) == expected, (name, slug)
    for name in ("mkdocs", "zensical"):
        assert json.loads(sites[name].file("versions.json")) == versions, name
        assert sites[name].file("feed.xml") == plugin.file("feed.xml"), name


def test_redlines_keep_their_marks_and_style(sites: dict[str, Site]) -> None:
    def redline(site: Site) -> str:
        page = site.page("privacy/changes/1-2")
        return page.split('<div class="redline">', 1)[1].split('<p class="pt-links">', 1)[0]

    expected = redline(sites["plugin"])
    assert "<del>" in expected and "<ins>" in expected
    for name, site in sites.items():
        assert redline(site) == expected, name
        page = site.page("privacy/changes/1-2")
        assert "policy-tracker.css" in page, name  # the marks' style is linked
        assert (site.root / "assets/policy-tracker/policy-tracker.css").is_file(), name


def test_links_between_generated_pages_resolve(sites: dict[str, Site]) -> None:
    for name in ("mkdocs", "zensical"):
        site = sites[name]
        page = site.page("privacy")
        for href in re.findall(r'<a href="(/[^"#]*)"', page):
            assert (site.root / href.lstrip("/") / "index.html").is_file() or (
                site.root / href.lstrip("/")
            ).is_file(), (name, href)
        stub = (site.root / "cookie" / "v1" / "index.html").read_text()
        assert 'url=../../cookies/v1/"' in stub, name


def test_the_index_lists_the_policies_below_the_sites_own_text(sites: dict[str, Site]) -> None:
    for name, site in sites.items():
        page = site.page("")
        assert "Our policies" in page, name
        assert page.index("Our policies") < page.index("Privacy Policy"), name


def test_site_refuses_a_folder_it_did_not_write(tmp_path: Path, policy_repo: GitRepo) -> None:
    config = write_config(tmp_path / "config", policy_repo.path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["site", "-f", str(config), "--out", str(out)])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "was not written by policy-tracker site" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
