"""The console's pages against the API's figures, and what an admin does from them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from tests.api import Api, TestClient
from tests.console.helpers import audit_entries, csrf, dead_delivery, figures, populate, sign_in
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock
from tracker.settings import Settings
from tracker.store import Store

V3 = "/console/policies/privacy/versions/3"


@pytest.fixture
def admin(app: Starlette, store: Store, settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(app) as client:
        sign_in(client, store, settings, clock, "admin")
        yield client


def test_overview_and_version_figures_are_the_apis(api: Api, admin: TestClient) -> None:
    populate(api)
    stats = api.get("/v1/policies/privacy/versions/3/stats").json()
    notices = api.get("/v1/policies/privacy/versions/3/notices/stats").json()
    overview = admin.get("/console/")
    assert overview.status_code == 200
    shown = figures(overview.text)
    for name in ("users", "accepted", "needs_acceptance", "declined"):
        assert shown[name] == stats[name], name
    assert shown["notices_pending"] == notices["pending"]
    page = admin.get(V3)
    assert page.status_code == 200
    shown = figures(page.text)
    for name in ("users", "accepted", "accepted_current", "declined", "needs_acceptance"):
        assert shown[name] == stats[name], name
    assert shown["must_total"] == stats["needs_acceptance"] == 3
    assert "<svg" in page.text and "Version 1 (previous major)" in page.text
    for user in ("u-cleo", "u-dan", "x_%odd"):
        assert f"<td>{user}</td>" in page.text
    assert "<td>u-anna</td>" not in page.text
    # The CSV holds the same users.
    r = admin.get(V3 + "/must-accept.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["user_id"] for row in rows] == ["u-cleo", "u-dan", "x_%odd"]
    assert [row["last_decision"] for row in rows] == ["accepted", "declined", "accepted"]
    # Search is a literal prefix: % and _ match themselves.
    page = admin.get(V3, params={"q": "x_%"})
    assert figures(page.text)["must_total"] == 1 and "<td>x_%odd</td>" in page.text
    assert figures(admin.get(V3, params={"q": "%"}).text)["must_total"] == 0
    r = admin.get(V3 + "/must-accept.csv", params={"q": "u-"})
    assert [row["user_id"] for row in csv.DictReader(io.StringIO(r.text))] == ["u-cleo", "u-dan"]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/console/policies/nothing/versions/1", {}, 404, "unknown policy"),
        ("/console/policies/privacy/versions/9", {}, 404, "no version 9"),
        ("/console/policies/privacy/versions/0", {}, 404, "no version 0"),
        ("/console/policies/privacy/versions/abc", {}, 404, "no version"),
        ("/console/policies/privacy/versions/99999999999999999999", {}, 404, "no version"),
        (V3, {"page": "abc"}, 422, "page: must be a whole number"),
        (V3, {"page": "0"}, 422, "page: must be a whole number"),
        (V3, {"page": "9" * 400}, 422, "page: must be a whole number"),
        (V3, {"page": "٣"}, 422, "page: must be a whole number"),
        (V3, {"page": "2"}, 404, "past the last page"),
        (V3, {"q": "x" * 10_000}, 422, "search: at most"),
        (V3, {"q": "a\x00b"}, 422, "search: at most"),
        (V3 + "/must-accept.csv", {"q": "\x07"}, 422, "search: at most"),
        ("/console/policies/nothing/versions/1/must-accept.csv", {}, 404, "unknown policy"),
    ],
)
def test_bad_input_gets_a_clear_page(
    api: Api, admin: TestClient, path: str, params: dict[str, str], status: int, says: str
) -> None:
    populate(api)
    r = admin.get(path, params=params)
    assert r.status_code == status and says in r.text, r.text[-600:]
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text


def test_any_search_text_is_answered(api: Api, admin: TestClient) -> None:
    populate(api)
    for q in ("élan", "<script>", "'; DROP TABLE consents; --", "\\", "🙂" * 60, " "):
        r = admin.get(V3, params={"q": q})
        assert r.status_code == 200, q
        assert "<script>" not in r.text


def _needs(api: Api, user: str) -> bool:
    (found,) = api.get(f"/v1/users/{user}/status").json()["policies"]
    return bool(found["needs_acceptance"])


def test_an_admin_requests_reacceptance_and_the_chain_says_who(
    api: Api, admin: TestClient, store: Store
) -> None:
    populate(api)
    assert _needs(api, "u-anna") is False
    token = csrf(admin.get(V3).text)
    r = admin.post(V3 + "/reacceptance", data={"reason": "", "csrf": token})
    assert r.status_code == 422 and "reason" in r.text
    r = admin.post(V3 + "/reacceptance", data={"reason": "Clause 4 was wrong", "csrf": token})
    assert r.status_code == 200 and "Re-acceptance requested" in r.text
    assert _needs(api, "u-anna") is True
    entry = audit_entries(store)[-1]
    assert entry["action"] == "reacceptance" and entry["reason"] == "Clause 4 was wrong"
    assert entry["by"].startswith("Dana (admin, console session ")


def test_webhooks_page_and_replay(
    api: Api,
    admin: TestClient,
    store: Store,
    settings: Settings,
    clock: Clock,
    receiver: Receiver,
) -> None:
    populate(api)
    delivery = dead_delivery(api, store, settings, clock, receiver)
    page = admin.get("/console/webhooks")
    assert page.status_code == 200 and f'data-delivery="{delivery}"' in page.text
    assert figures(page.text)["dead"] == 1
    assert figures(page.text)["success_rate"] == 0
    token = csrf(page.text)
    r = admin.post(f"/console/webhooks/deliveries/{delivery}/replay", data={"csrf": token})
    assert r.status_code == 200 and "queued again" in r.text
    assert api.get("/v1/admin/deliveries?state=dead").json()["deliveries"] == []
    r = admin.post(f"/console/webhooks/deliveries/{delivery}/replay", data={"csrf": token})
    assert r.status_code == 409 and "only dead or cancelled" in r.text
    r = admin.post("/console/webhooks/deliveries/99999999/replay", data={"csrf": token})
    assert r.status_code == 404
    assert audit_entries(store)[-1] == {
        **audit_entries(store)[-1],
        "action": "console.replay",
        "delivery_id": delivery,
    }


def test_keys_are_created_once_and_revoked(api: Api, admin: TestClient, store: Store) -> None:
    page = admin.get("/console/keys")
    assert page.status_code == 200 and "Create a key" in page.text
    token = csrf(page.text)
    r = admin.post("/console/keys", data={"name": "crm", "scope_read": "on", "csrf": token})
    assert r.status_code == 200 and "shown only this once" in r.text
    key = r.text.split('<code id="new-key">', 1)[1].split("<", 1)[0]
    assert api.get("/v1/policies", key=key).status_code == 200
    assert "new-key" not in admin.get("/console/keys").text
    key_id = api.get("/v1/admin/keys").json()["keys"][-1]["id"]
    r = admin.post(f"/console/keys/{key_id}/revoke", data={"csrf": token})
    assert r.status_code == 200 and "no longer works" in r.text
    assert api.get("/v1/policies", key=key).status_code == 401
    r = admin.post("/console/keys", data={"name": "x", "csrf": token})
    assert r.status_code == 422 and "scopes" in r.text
    actions = [e["action"] for e in audit_entries(store)]
    assert actions[-2:] == ["console.key_created", "console.key_revoked"]
