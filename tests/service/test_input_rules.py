"""Ids, dates and text as the schema says, on SQLite and PostgreSQL: ids past the id columns'
range, an empty ``user_id``, a ``since`` past year 9999 in UTC, control characters in text a
terminal or page shows, the reserved ``erased:`` prefix, and ``Allow`` on every 405."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.api import Api
from tests.service.helpers import payload, policy, version
from tracker.cli import cli
from tracker.service.openapi import openapi_document

BIG = ["2147483648", "9999999999", "99999999999999999", "999999999999999999999"]


@pytest.mark.parametrize("ident", BIG)
def test_ids_past_the_id_range_are_unknown(api: Api, ident: str) -> None:
    for r in [
        api.delete(f"/v1/admin/keys/{ident}"),
        api.put(f"/v1/admin/keys/{ident}/app", json={"app_name": "Shop"}),
        api.delete(f"/v1/admin/webhooks/{ident}"),
        api.post(f"/v1/admin/webhooks/{ident}/rotate"),
    ]:
        assert r.status_code == 404, (r.request.url, r.text)


def test_an_empty_user_id_filter_is_refused(api: Api) -> None:
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    for user in ("alice", "bob"):
        r = api.post("/v1/acceptances", json={"user_id": user, "policy": "privacy", "version": 1})
        assert r.status_code == 201
    r = api.get("/v1/admin/export?user_id=")
    assert r.status_code == 422 and r.json()["field"] == "user_id", r.text


@pytest.mark.parametrize(
    "since", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-00:01"]
)
def test_a_since_outside_the_calendar_is_refused_before_the_answer(api: Api, since: str) -> None:
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    api.post("/v1/acceptances", json={"user_id": "a", "policy": "privacy", "version": 1})
    r = api.get("/v1/admin/export", params={"since": since})
    assert r.status_code == 422 and r.json()["field"] == "since", r.text


def test_a_since_at_the_end_of_time_in_utc_exports_nothing(api: Api) -> None:
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    api.post("/v1/acceptances", json={"user_id": "a", "policy": "privacy", "version": 1})
    r = api.get("/v1/admin/export", params={"since": "9999-12-31T23:59:59Z"})
    assert r.status_code == 200 and r.text == ""


CONTROL = ["evil\u001b[2J", "tab\there", "bell\u0007", "c1\u009b31m", "del\u007f", "rtl\u202eevil"]


@pytest.mark.parametrize("text", CONTROL)
def test_control_characters_are_refused_in_shown_text(api: Api, text: str) -> None:
    cases = [
        ("/v1/admin/keys", {"name": text, "scopes": ["read"]}, "name"),
        (
            "/v1/admin/webhooks",
            {"url": "https://hooks.example.com/x", "description": text},
            "description",
        ),
        (
            "/v1/admin/versions",
            payload(policy("privacy", version(1, "major"), title=text)),
            "policies[0].title",
        ),
        (
            "/v1/admin/versions",
            payload(policy("privacy", version(1, "major", summary=text))),
            "policies[0].versions[0].summary",
        ),
        ("/v1/acceptances", {"user_id": f"u{text}", "policy": "privacy", "version": 1}, "user_id"),
    ]
    for url, body, field in cases:
        r = api.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["field"] == field, r.text
    keys = api.get("/v1/admin/keys").json()["keys"]
    assert all(text not in k["name"] for k in keys)
    assert api.get("/v1/admin/webhooks").json()["webhooks"] == []
    r = api.put("/v1/admin/keys/1/app", json={"app_name": f"Shop {text}"})
    assert r.status_code == 422, r.text


def test_keys_create_refuses_control_characters(settings_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(
        cli,
        ["keys", "create", "--name", "evil\u001b[2J", "--database-url", settings_db],
    )
    assert done.exit_code != 0
    assert "name: must not contain control characters" in done.output
    listed = runner.invoke(cli, ["keys", "list", "--database-url", settings_db])
    assert "\u001b" not in listed.output


@pytest.fixture
def settings_db(db_url: str) -> str:
    return db_url


def test_reserved_pseudonym_prefix_is_refused(api: Api) -> None:
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    r = api.post("/v1/acceptances", json={"user_id": "alice", "policy": "privacy", "version": 1})
    assert r.status_code == 201
    erased = api.delete("/v1/admin/users/alice")
    assert erased.status_code == 200, erased.text
    pseudonym = api.get("/v1/admin/export").text.split('"user_id": "', 1)[1].split('"', 1)[0]
    assert pseudonym.startswith("erased:")
    for url, body in [
        ("/v1/acceptances", {"user_id": pseudonym, "policy": "privacy", "version": 1}),
        ("/v1/declines", {"user_id": "erased:x", "policy": "privacy", "version": 1}),
        ("/v1/status/batch", {"user_ids": ["erased:x"]}),
    ]:
        r = api.post(url, json=body)
        assert r.status_code == 422 and "erased:" in r.json()["detail"], (url, r.text)
    assert api.get(f"/v1/users/{pseudonym}/status").status_code == 422
    assert api.get("/v1/admin/export").text.count(pseudonym) == 1


def _paths_and_methods() -> list[tuple[str, set[str]]]:
    out = []
    for path, item in openapi_document()["paths"].items():
        concrete = (
            path.replace("{slug}", "privacy")
            .replace("{user_id}", "alice")
            .replace("{n}", "1")
            .replace("{a}-{b}", "1-2")
        )
        for name in ("key_id", "webhook_id", "delivery_id", "notice_id"):
            concrete = concrete.replace("{" + name + "}", "1")
        out.append((concrete, {m.upper() for m in item}))
    return out


def test_every_405_says_what_is_allowed(api: Api) -> None:
    checked = 0
    for path, methods in _paths_and_methods():
        for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - methods:
            r = api.client.request(method, path)
            assert r.status_code == 405, (method, path, r.status_code)
            allowed = {m.strip() for m in r.headers["allow"].split(",")}
            assert methods <= allowed, (method, path, allowed)
            checked += 1
    assert checked > 50


def test_erasing_documents_its_422() -> None:
    responses = openapi_document()["paths"]["/v1/admin/users/{user_id}"]["delete"]["responses"]
    assert "422" in responses


def test_an_empty_since_is_refused(api: Api) -> None:
    r = api.get("/v1/admin/export?since=")
    assert r.status_code == 422 and r.json()["field"] == "since", r.text
