"""``policy.translation_published``: every new version of a translation is announced to the
endpoints subscribed to it, once, through ``policy-tracker sync --to`` and a real tracker
on SQLite and PostgreSQL; the signed body names the language, the translation's version and
hash, the source version it renders and that version's hash, and its page on the site."""

from __future__ import annotations

from pathlib import Path

import jsonschema
from click.testing import CliRunner, Result

from tests.api import Api
from tests.gitrepo import GitRepo
from tests.notices.receiver import Receiver
from tests.notices.test_webhooks import deliveries, subscribe
from tests.translated import make_translated_repository
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.notices.dispatch import Dispatcher
from tracker.notices.payloads import schema
from tracker.redline import suggest
from tracker.settings import Settings
from tracker.store import Store

TYPE = "policy.translation_published"


def sync_to(repo: GitRepo, server: str, key: str) -> Result:
    environ: dict[str, str | None] = {"POLICY_TRACKER_ADMIN_KEY": key}
    return CliRunner().invoke(cli, ["--repo", str(repo.path), "sync", "--to", server], env=environ)


def test_each_new_translation_version_is_announced_once(
    api: Api,
    server: str,
    keys: dict[str, str],
    store: Store,
    settings: Settings,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    subscribe(api, receiver, "/translations", events=[TYPE])
    subscribe(api, receiver, "/versions", events=["policy.version_published"])
    repo = make_translated_repository(tmp_path / "repo")
    catalog = read_catalog(repo.path, classify=suggest, drafts=False)
    done = sync_to(repo, server, keys["admin"])
    assert done.exit_code == 0, done.output
    with Dispatcher(store, settings) as dispatcher:
        assert dispatcher.run(once=True) == 9  # 6 translation versions, 3 source versions
    bodies = [r.json() for r in receiver.received]
    assert all(r.verified for r in receiver.received)
    translated = sorted(
        (b["data"] for b in bodies if b["type"] == TYPE),
        key=lambda d: (d["language"], d["version"]),
    )
    for body in bodies:
        jsonschema.validate(body, schema(body["type"]))
    source = catalog.get("privacy")
    expected = [
        {
            "policy": "privacy",
            "language": language,
            "title": v.title,
            "version": v.number,
            "translates": v.translates,
            "source_sha256": source.version(v.translates or 0).sha256,
            "sha256": v.sha256,
            "published": v.published.isoformat().replace("+00:00", "Z"),
            "url": f"https://policies.example.com/{language}/privacy/v{v.number}/",
        }
        for language, t in sorted(catalog.translations["privacy"].items())
        for v in t.versions
    ]
    assert translated == expected
    assert [(d["language"], d["version"], d["translates"]) for d in translated] == [
        ("de", 1, 1),
        ("de", 2, 2),
        ("de", 3, 3),
        ("fr", 1, 1),
        ("pt-BR", 1, 1),
        ("pt-BR", 2, 2),
    ]
    # Each endpoint gets the events it subscribed to, and only those.
    by_path = {(r.path, r.json()["type"]) for r in receiver.received}
    assert by_path == {("/translations", TYPE), ("/versions", "policy.version_published")}

    # Nothing new: nothing announced again.
    before = len(deliveries(store))
    again = sync_to(repo, server, keys["admin"])
    assert again.exit_code == 0, again.output
    assert len(deliveries(store)) == before
