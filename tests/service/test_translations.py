"""Translations in the tracker, on SQLite and PostgreSQL: synced beside their source, an
acceptance naming a ``locale`` bound to the text in that language and to the source version
it translates, status in the reader's language, and the evidence bundle holding both texts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy import text

from tests.gitrepo import GitRepo, policy_source
from tests.service.helpers import EN, T0, Clock, catalog_of, second_version, sync, translated_repo
from tracker import audit
from tracker.audit import bundle
from tracker.client import Retry, TrackerClient
from tracker.contract import responses as answers
from tracker.errors import Conflict
from tracker.history import read_catalog
from tracker.policy import sha256_text
from tracker.redline import suggest
from tracker.settings import Settings
from tracker.store import Store, load_snapshot
from tracker.store.chain import records
from tracker.store.models import EventRow
from tracker.store.sealer import flush


def test_acceptance_of_the_german_text_counts_and_the_bundle_holds_both_texts(
    api: Any, store: Store, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    catalog = catalog_of(tmp_path)
    assert sync(store, catalog) == [
        ("privacy", "de", 1),
        ("privacy", "de", 2),
        ("privacy", "fr", 1),
    ]
    assert sync(store, catalog) == []  # idempotent
    body = {"user_id": "alice", "policy": "privacy", "version": 2, "locale": "de-DE"}
    assert api.post("/v1/acceptances", json=body).status_code == 201
    status = api.get("/v1/users/alice/status").json()["policies"][0]
    assert (status["state"], status["accepted_version"]) == ("accepted", 2)
    assert "translation" not in status
    answer = api.get("/v1/users/alice/status", params={"locale": "de-DE"}).json()
    german = answer["policies"][0]
    assert answer["locale"] == "de-DE" and german["state"] == "accepted"
    german_text = catalog.translations["privacy"]["de"].versions[1]
    assert german["translation"] == {
        "language": "de",
        "url": "http://127.0.0.1:8000/de/privacy/",
        "version": 2,
        "translates": 2,
        "sha256": german_text.sha256,
        "state": "current",
        "current": True,
    }
    french = api.get("/v1/users/alice/status?locale=fr").json()["policies"][0]["translation"]
    assert (french["state"], french["current"], french["translates"]) == ("stale", False, 1)
    assert api.get("/v1/users/alice/status?locale=ja").json()["policies"][0]["translation"] is None
    bad = api.get("/v1/users/alice/status?locale=de DE")
    assert bad.status_code == 422 and "locale" in bad.text

    flush(store.engine)  # PostgreSQL seals events right after their commit
    with store.read() as session:
        snapshot = load_snapshot(session)
        (row,) = audit.export_rows(session, snapshot, settings, [EventRow.chain_seq.is_not(None)])
    assert (row["version"], row["sha256"]) == (2, catalog.get("privacy").version(2).sha256)
    assert (row["translation_language"], row["translation_version"]) == ("de", 2)
    assert row["translation_sha256"] == catalog.translations["privacy"]["de"].versions[1].sha256
    data = json.loads(json.dumps(audit.evidence(store, settings, "alice", clock.now)))
    (translated,) = data["translations"]
    assert (translated["language"], translated["number"], translated["translates"]) == ("de", 2, 2)
    assert translated["sha256"] == german_text.sha256 and translated["text"] == german_text.text
    assert translated["source_sha256"] == catalog.get("privacy").version(2).sha256
    report = bundle.verify(data)
    assert report.ok, report.problems
    assert report.texts == 2  # the English source and the German text
    data["translations"][0]["text"] = german_text.text.replace("60", "600")
    problems = bundle.verify(data).problems
    assert any("translations[0] (de of v2): the text hashes to" in p for p in problems)
    # verify-bundle checks both texts and the binding: the source text altered, the German
    # text left out (its record is bound to it in the chain).
    data["translations"][0]["text"] = german_text.text
    assert bundle.verify(data).ok
    source = next(v for v in data["versions"] if v["version"] == 2)
    source["text"] = source["text"].replace("60", "600")
    assert not bundle.verify(data).ok
    source["text"] = catalog.get("privacy").version(2).text
    assert bundle.verify(data).ok
    left_out = {**data, "translations": []}
    (problem,) = bundle.verify(left_out).problems
    assert problem == (
        f"record 1 is bound to the de-DE text with SHA-256 {german_text.sha256}, which is "
        "not in the bundle"
    )


def test_a_changed_translation_version_is_refused(store: Store, tmp_path: Path) -> None:
    catalog = catalog_of(tmp_path)
    sync(store, catalog)
    repo = GitRepo(tmp_path / "other", start=T0 - timedelta(days=30))
    repo.commit("Add\n\nPolicy-Change: major", {"policy/privacy.md": policy_source("Privacy", EN)})
    repo.commit(
        "Translate", {"policy/privacy.de.md": policy_source("Datenschutz", "Anders.", translates=1)}
    )
    with pytest.raises(Conflict, match=r"translation privacy \(de\) version 1 is stored"):
        sync(store, read_catalog(repo.path, classify=suggest))


def test_status_in_a_locale_over_http_is_what_the_document_and_client_say(
    server: str, keys: dict[str, str], store: Store, tmp_path: Path
) -> None:
    catalog = catalog_of(tmp_path)
    sync(store, catalog)
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    body = {"user_id": "alice", "policy": "privacy", "version": 2, "locale": "de"}
    assert httpx.post(f"{server}/v1/acceptances", json=body, headers=admin).status_code == 201
    document = httpx.get(f"{server}/openapi.json").json()["components"]["schemas"]
    # Present only with ?locale=: documented, and not listed as always there.
    assert "translation" not in document["StatusWithNotices"]["required"]
    assert "locale" not in document["UserStatus"]["required"]
    assert "notices" in document["StatusWithNotices"]["required"]
    translation = document["Translation"]
    assert set(translation["required"]) == {
        "language",
        "url",
        "version",
        "translates",
        "sha256",
        "state",
        "current",
    }
    assert translation["properties"]["state"]["enum"] == ["current", "behind", "stale"]
    url = f"{server}/v1/users/alice/status"
    plain = httpx.get(url, headers=admin).json()
    assert "locale" not in plain and "translation" not in plain["policies"][0]
    for locale, language, state in (("de-DE", "de", "current"), ("fr", "fr", "stale")):
        answer = httpx.get(url, params={"locale": locale}, headers=admin).json()
        jsonschema_validate(answer, document)
        parsed = answers.UserStatus.model_validate(answer)
        assert parsed.locale == locale
        (policy_status,) = parsed.policies
        assert policy_status.translation is not None
        assert (policy_status.translation.language, policy_status.translation.state) == (
            language,
            state,
        )
    with TrackerClient(server, keys["read"], retry=Retry(attempts=1)) as client:
        status = client.status("alice", locale="de-DE")
        assert status.locale == "de-DE"
        german = status.policy("privacy")
        assert isinstance(german, answers.StatusWithNotices) and german.translation is not None
        assert (
            german.translation.sha256 == catalog.translations["privacy"]["de"].versions[-1].sha256
        )
        assert client.status("alice").policies[0].translation is None
        assert client.status("alice", locale="ja").policies[0].translation is None


def jsonschema_validate(answer: Any, schemas: dict[str, Any]) -> None:
    """``answer`` against ``UserStatus`` as the served document states it."""
    root = {"$ref": "#/components/schemas/UserStatus", "components": {"schemas": schemas}}
    jsonschema.Draft202012Validator(root).validate(answer)


def _verdict(store: Store, settings: Settings) -> str:
    report = audit.verify(store, settings)
    if report.ok or report.problem is None:
        return "ok"
    return f"record {report.problem.seq}: {report.problem.reason}"


def test_the_text_an_acceptance_is_bound_to_is_in_the_chain_and_verify_covers_it(
    api: Any, store: Store, settings: Settings, tmp_path: Path
) -> None:
    catalog = catalog_of(tmp_path)
    sync(store, catalog)
    german = catalog.translations["privacy"]["de"].versions[1]
    body = {"user_id": "alice", "policy": "privacy", "version": 2, "locale": "de-DE"}
    event = api.post("/v1/acceptances", json=body).json()["event"]
    assert event["translation"] == {
        "language": "de",
        "version": 2,
        "translates": 2,
        "sha256": german.sha256,
    }
    # French has no text of v2: the acceptance names the locale but no text is bound.
    french = {"user_id": "bob", "policy": "privacy", "version": 2, "locale": "fr"}
    assert api.post("/v1/acceptances", json=french).json()["event"]["translation"] is None
    plain = {"user_id": "carol", "policy": "privacy", "version": 2}
    assert api.post("/v1/acceptances", json=plain).json()["event"]["translation"] is None
    events = api.get("/v1/users/alice/events").json()["events"]
    assert events[0]["translation"] == event["translation"]
    flush(store.engine)  # PostgreSQL seals events right after their commit
    with store.read() as session:
        chained = {r.seq: r.data for r in records(session) if r.type == "event"}
    alice, bob, carol = (chained[seq] for seq in sorted(chained))
    assert (alice["translation_sha256"], alice["version_sha256"]) == (
        german.sha256,
        catalog.get("privacy").version(2).sha256,
    )
    assert alice["locale"] == "de-DE" and alice["translation_version_id"] is not None
    # Events without a text in their language hash exactly as before translations existed.
    assert "translation_sha256" not in bob and "translation_version_id" not in carol
    assert _verdict(store, settings) == "ok"

    def tampered(*statements: str) -> str:
        with store.engine.begin() as conn:
            saved = conn.execute(
                text("SELECT id, text, sha256 FROM translation_versions ORDER BY id")
            ).all()
            bound = conn.execute(
                text("SELECT id, translation_version_id, translation_sha256 FROM events")
            ).all()
        try:
            with store.engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
            return _verdict(store, settings)
        finally:
            with store.engine.begin() as conn:
                for tid, old_text, sha in saved:
                    conn.execute(
                        text(
                            "UPDATE translation_versions SET text = :t, sha256 = :s WHERE id = :i"
                        ),
                        {"t": old_text, "s": sha, "i": tid},
                    )
                for eid, tid, sha in bound:
                    conn.execute(
                        text(
                            "UPDATE events SET translation_version_id = :t, "
                            "translation_sha256 = :s WHERE id = :i"
                        ),
                        {"t": tid, "s": sha, "i": eid},
                    )
            assert _verdict(store, settings) == "ok"

    tid = alice["translation_version_id"]
    # The binding edited by itself: it names no stored text of that version any more.
    found = tampered(f"UPDATE events SET translation_sha256 = '{'0' * 64}' WHERE id = 1")
    assert found.startswith(f"record 0: event id 1 is bound to translation version id {tid}")
    # Edits that keep the rows consistent with each other: the chain's hashes catch them.
    new_sha = sha256_text("Anders.")
    swapped = tampered(
        f"UPDATE translation_versions SET text = 'Anders.', sha256 = '{new_sha}' WHERE id = {tid}",
        f"UPDATE events SET translation_sha256 = '{new_sha}' WHERE translation_version_id = {tid}",
    )
    assert swapped.startswith("record 1: ")
    unbound = "UPDATE events SET translation_version_id = NULL, translation_sha256 = NULL"
    assert tampered(unbound).startswith("record 1: ")
    rebound = tampered(
        f"UPDATE events SET translation_version_id = {tid}, "
        f"translation_sha256 = '{german.sha256}' WHERE user_id = 'bob'"
    )
    assert rebound.startswith("record 2: ")
    # The translated text edited, or replaced along with its SHA-256 only.
    found = tampered(f"UPDATE translation_versions SET text = 'Anders.' WHERE id = {tid}")
    assert f"translation version id {tid}: its text no longer hashes" in found
    found = tampered(
        f"UPDATE translation_versions SET text = 'Anders.', sha256 = '{new_sha}' WHERE id = {tid}"
    )
    assert f"is bound to translation version id {tid} with SHA-256 {german.sha256}" in found


def test_notices_carry_the_redline_in_the_users_language_or_say_there_is_none(
    server: str, keys: dict[str, str], store: Store, tmp_path: Path
) -> None:
    repo = translated_repo(tmp_path)
    sync(store, read_catalog(repo.path, classify=suggest))
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    for user, locale in (("anna", "de-DE"), ("bruno", "fr"), ("carl", None)):
        body = {"user_id": user, "policy": "privacy", "version": 1, "locale": locale}
        assert httpx.post(f"{server}/v1/acceptances", json=body, headers=admin).status_code == 201
    sync(store, second_version(repo, "minor"))

    def notice(user: str, **params: str) -> Any:
        url = f"{server}/v1/users/{user}/notices"
        (found,) = httpx.get(url, params=params, headers=admin).json()["notices"]
        assert found["redline_url"] == "http://127.0.0.1:8000/privacy/changes/1-2/"
        return found.get("translation", "absent")

    german = {
        "language": "de",
        "redline_url": "http://127.0.0.1:8000/de/privacy/changes/1-2/",
        "note": None,
    }
    assert notice("anna") == german
    assert notice("bruno") == {
        "language": "fr",
        "redline_url": None,
        "note": "No French redline from version 1 to version 2: the French text has not been "
        "updated to version 2 yet; the English redline is linked (redline_url).",
    }
    assert notice("carl") == "absent"  # accepted in no locale: the notice as without one
    assert notice("bruno", locale="de-AT") == german  # the locale asked for comes first
    assert notice("carl", locale="ja") is None  # no text in that language at all
    bad = httpx.get(f"{server}/v1/users/carl/notices?locale=de%20DE", headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "locale"

    # Status in a locale: each pending notice with its redline in that language.
    document = httpx.get(f"{server}/openapi.json").json()["components"]["schemas"]
    assert "translation" not in document["Notice"]["required"]
    url = f"{server}/v1/users/anna/status"
    plain = httpx.get(url, headers=admin).json()["policies"][0]["notices"]
    assert len(plain) == 1 and "translation" not in plain[0]
    for locale, expected in (("de", german), ("fr", notice("bruno")), ("ja", None)):
        answer = httpx.get(url, params={"locale": locale}, headers=admin).json()
        jsonschema_validate(answer, document)
        assert answer["policies"][0]["notices"][0]["translation"] == expected


def test_an_acceptance_in_a_locale_on_the_fast_path_is_bound_alike(
    api: Any, store: Store, settings: Settings, tmp_path: Path
) -> None:
    """PostgreSQL answers a new acceptance in front of the router (service/fast_write.py):
    the event it records is bound to the German text as the router's is, and chained."""
    catalog = catalog_of(tmp_path)
    sync(store, catalog)
    german = catalog.translations["privacy"]["de"].versions[1]
    warm = {"user_id": "warm", "policy": "privacy", "version": 2}  # the router checks the key
    assert api.post("/v1/acceptances", json=warm).status_code == 201
    state = api.client.app.state.tracker
    before = state.fast_answers
    body = {"user_id": "alice", "policy": "privacy", "version": 2, "locale": "de-DE"}
    r = api.post("/v1/acceptances", json=body)
    assert r.status_code == 201, r.text
    assert state.fast_answers - before == (1 if store.engine.dialect.name == "postgresql" else 0)
    assert r.json()["event"]["translation"]["sha256"] == german.sha256
    assert api.get("/v1/users/alice/events").json()["events"][0] == r.json()["event"]
    flush(store.engine)
    with store.read() as session:
        (chained,) = [x.data for x in records(session) if x.type == "event"][1:]
    assert chained["translation_sha256"] == german.sha256
    assert _verdict(store, settings) == "ok"
