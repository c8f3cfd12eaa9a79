"""A key's app settings over HTTP (``POST /v1/admin/keys``, ``PUT /v1/admin/keys/{key_id}/app``,
``GET /v1/admin/keys``) on SQLite and PostgreSQL, and ``policy-tracker keys app`` on a SQLite
file: the settings decide where acceptance links may return to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.api import Api
from tracker.cli import cli
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import authenticate
from tracker.store.links import key_app

SHOP = "https://shop.example/account/"
NEW_SHOP = "https://new-shop.example/"


def _link(api: Api, key: str, return_url: str) -> Any:
    body = {"user_id": "u-1", "return_url": return_url}
    return api.post("/v1/acceptance-links", key=key, json=body)


def _keys(api: Api) -> dict[str, dict[str, Any]]:
    answer = api.get("/v1/admin/keys")
    assert answer.status_code == 200, answer.text
    return {k["name"]: k for k in answer.json()["keys"]}


def _create(api: Api, **fields: Any) -> Any:
    return api.post("/v1/admin/keys", json={"name": "shop", "scopes": ["write"], **fields})


def _shop(api: Api) -> dict[str, Any]:
    made = _create(
        api, return_urls=[SHOP, "http://127.0.0.1/"], app_name=" Example Shop ", color="#0B57D0"
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_create_with_app_settings_allows_only_their_return_urls(api: Api) -> None:
    made = _shop(api)
    app = {
        "name": "Example Shop",
        "color": "#0b57d0",
        "return_urls": [SHOP, "http://127.0.0.1/"],
    }
    assert made["app"] == app
    listed = _keys(api)
    assert listed["shop"]["app"] == app
    assert listed["admin"]["app"] is None
    assert _link(api, made["key"], SHOP + "orders?id=3").status_code == 201
    assert _link(api, made["key"], "http://127.0.0.1:8123/back").status_code == 201
    refused = _link(api, made["key"], "https://evil.example/account/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "return_url_not_allowed"


def test_put_replaces_the_settings(api: Api) -> None:
    made = _shop(api)
    assert _link(api, made["key"], SHOP).status_code == 201
    answer = api.put(f"/v1/admin/keys/{made['prefix']}/app", json={"return_urls": [NEW_SHOP]})
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    assert changed["id"] == made["id"] and changed["name"] == "shop"
    # Replaced, not merged: the name and colour left out are cleared.
    assert changed["app"] == {"name": None, "color": None, "return_urls": [NEW_SHOP]}
    assert _keys(api)["shop"]["app"] == changed["app"]
    assert _link(api, made["key"], SHOP).status_code == 403
    assert _link(api, made["key"], NEW_SHOP + "welcome").status_code == 201

    cleared = api.put(f"/v1/admin/keys/{made['id']}/app", json={})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["app"] is None
    assert _keys(api)["shop"]["app"] is None
    assert _link(api, made["key"], NEW_SHOP).status_code == 403


def test_put_sets_settings_on_a_key_made_without_them(api: Api) -> None:
    made = _create(api)
    assert made.status_code == 201 and made.json()["app"] is None
    assert _link(api, made.json()["key"], SHOP).status_code == 403
    body = {"return_urls": [SHOP], "app_name": "Shop", "color": "#ABCDEF"}
    answer = api.put(f"/v1/admin/keys/{made.json()['id']}/app", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["app"] == {"name": "Shop", "color": "#abcdef", "return_urls": [SHOP]}
    assert _link(api, made.json()["key"], SHOP).status_code == 201


URL = "give an absolute http(s) URL"
BAD = [
    ({"color": "blue"}, "color", "is not a colour like #1a73e8"),
    ({"color": "#0b57d0\n"}, "color", "is not a colour"),
    ({"color": 3}, "color", "must be a string"),
    ({"return_urls": [SHOP, "shop.example/"]}, "return_urls[1]", URL),
    ({"return_urls": ["https://shop.example/?next=1"]}, "return_urls[0]", URL),
    ({"return_urls": ["https://user@shop.example/"]}, "return_urls[0]", URL),
    ({"return_urls": ["ftp://shop.example/"]}, "return_urls[0]", URL),
    ({"return_urls": [7]}, "return_urls[0]", "must be a string"),
    ({"return_urls": SHOP}, "return_urls", "must be a list of URLs"),
    ({"return_urls": [f"{SHOP}{i}" for i in range(101)]}, "return_urls", "at most 100"),
    ({"app_name": "  "}, "app_name", "give 1 to 200 characters"),
    ({"app_name": "Shop\x00"}, "app_name", "no control characters"),
    ({"app_name": "x" * 201}, "app_name", "give 1 to 200 characters"),
]


@pytest.mark.parametrize("body,field,why", BAD)
def test_bad_settings_on_create_store_no_key(
    api: Api, body: dict[str, Any], field: str, why: str
) -> None:
    before = _keys(api)
    answer = _create(api, **body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["field"] == field and why in problem["detail"], problem
    assert _keys(api) == before


@pytest.mark.parametrize("body,field,why", [*BAD, ({"app": "Shop"}, "app", "unknown field")])
def test_bad_settings_on_put_change_nothing(
    api: Api, body: dict[str, Any], field: str, why: str
) -> None:
    made = _shop(api)
    before = _keys(api)
    answer = api.put(f"/v1/admin/keys/{made['id']}/app", json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["field"] == field and why in problem["detail"], problem
    assert _keys(api) == before
    assert _link(api, made["key"], SHOP).status_code == 201


def test_put_on_an_unknown_or_revoked_key(api: Api) -> None:
    before = _keys(api)
    body = {"return_urls": [SHOP]}
    for unknown in ["999", "ffffffff", "9" * 30]:
        answer = api.put(f"/v1/admin/keys/{unknown}/app", json=body)
        assert answer.status_code == 404, answer.text
    revoked = api.put(f"/v1/admin/keys/{before['revoked']['id']}/app", json=body)
    assert revoked.status_code == 409, revoked.text
    assert revoked.json()["code"] == "key_revoked"
    assert _keys(api) == before


def test_put_needs_the_admin_scope(api: Api) -> None:
    made = _shop(api)
    answer = api.put(f"/v1/admin/keys/{made['id']}/app", key="write", json={})
    assert answer.status_code == 403
    assert _keys(api)["shop"]["app"] == made["app"]


def test_revoking_answers_the_key_with_its_settings(api: Api) -> None:
    made = _shop(api)
    answer = api.delete(f"/v1/admin/keys/{made['id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["app"] == made["app"] and answer.json()["revoked_at"]


# ---------------------------------------------------------------------------
# policy-tracker keys app, through the root command as a user runs it


def _run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["keys", *args, "--database-url", db])


def _ok(db: str, *args: str) -> str:
    result = _run(db, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _app(db: str, key: str) -> Any:
    store = Store.open(Settings(database_url=db))
    try:
        with store.read() as session:
            info = authenticate(session, key)
            assert info is not None
            return key_app(session, info.id)
    finally:
        store.dispose()


def test_keys_app_replaces_the_settings(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    key = _ok(db, "create", "--name", "shop", "--scopes", "write", "--return-url", SHOP)
    key = key.strip()
    prefix = key.split("_")[1]
    out = _ok(
        db, "app", prefix, "--return-url", NEW_SHOP, "--return-url", "http://127.0.0.1/",
        "--app-name", "New Shop", "--color", "#00AA00",
    )  # fmt: skip
    assert out == f"key 1 (shop): app New Shop, #00aa00, returns to {NEW_SHOP} http://127.0.0.1/\n"
    app = _app(db, key)
    assert (app.app_name, app.brand_color) == ("New Shop", "#00aa00")
    assert app.return_urls == (NEW_SHOP, "http://127.0.0.1/")
    listed = _ok(db, "list")
    assert "New Shop" in listed and NEW_SHOP in listed and SHOP not in listed

    # The whole key works as well as its id or prefix; options left out are cleared.
    assert (
        _ok(db, "app", key, "--return-url", SHOP)
        == f"key 1 (shop): no app name, returns to {SHOP}\n"
    )
    app = _app(db, key)
    assert (app.app_name, app.brand_color, app.return_urls) == (None, None, (SHOP,))
    assert _ok(db, "app", "1") == "key 1 (shop): no app settings\n"
    assert _app(db, key).return_urls == ()


@pytest.mark.parametrize(
    "args,message",
    [
        (["1", "--color", "blue"], "color: 'blue' is not a colour like #1a73e8"),
        (["1", "--return-url", "shop.example/"], "return URL: 'shop.example/'"),
        (["1", "--app-name", " "], "app name: ' '"),
        (["7", "--return-url", NEW_SHOP], "no API key with id or prefix '7'"),
        (["2", "--return-url", NEW_SHOP], "API key 2 (old) is revoked"),
    ],
)
def test_keys_app_refuses_bad_input_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    key = _ok(db, "create", "--name", "shop", "--scopes", "write", "--return-url", SHOP).strip()
    _ok(db, "create", "--name", "old")
    _ok(db, "revoke", "2")
    result = _run(db, "app", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    assert message in line
    assert _app(db, key).return_urls == (SHOP,)
