"""Every endpoint needs a key with the right scope; every refusal has the same body."""

from __future__ import annotations

import pytest

from tests.service.conftest import Api

READ = [
    ("GET", "/v1/policies"),
    ("GET", "/v1/policies/privacy"),
    ("GET", "/v1/policies/privacy/versions"),
    ("GET", "/v1/policies/privacy/versions/1"),
    ("GET", "/v1/policies/privacy/versions/1/stats"),
    ("GET", "/v1/policies/privacy/changes/1-2"),
    ("GET", "/v1/users/u1/status"),
    ("GET", "/v1/users/u1/events"),
    ("POST", "/v1/status/batch"),
]
WRITE = [("POST", "/v1/acceptances"), ("POST", "/v1/declines"), ("POST", "/v1/withdrawals")]
ADMIN = [
    ("POST", "/v1/admin/versions"),
    ("GET", "/v1/admin/keys"),
    ("POST", "/v1/admin/keys"),
    ("DELETE", "/v1/admin/keys/1"),
]
ALL = [(m, u, "read") for m, u in READ] + [(m, u, "write") for m, u in WRITE]
ALL += [(m, u, "admin") for m, u in ADMIN]


def _call(api: Api, method: str, url: str, key: str | None, header: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header is not None else {}
    if key is not None:
        headers["Authorization"] = f"Bearer {api.keys.get(key, key)}"
    return api.client.request(method, url, headers=headers, json={} if method == "POST" else None)


@pytest.mark.parametrize(("method", "url", "scope"), ALL)
def test_no_endpoint_without_a_valid_key(api: Api, method: str, url: str, scope: str) -> None:
    bodies = []
    for key, header in [
        (None, None),
        (None, "Basic dXNlcjpwdw=="),
        (None, "Bearer "),
        ("ptk_00000000_nope", None),
        ("garbage", None),
        ("revoked", None),
    ]:
        r = _call(api, method, url, key, header)
        assert r.status_code == 401, (key, header, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        bodies.append(r.json())
    assert all(b == bodies[0] for b in bodies)


@pytest.mark.parametrize(("method", "url", "scope"), ALL)
def test_scopes_are_checked(api: Api, method: str, url: str, scope: str) -> None:
    bodies = []
    for key in {"read", "write", "admin"} - {scope} - {"admin"}:
        r = _call(api, method, url, key)
        assert r.status_code == 403, (key, r.text)
        bodies.append(r.json())
    assert all(b == bodies[0] for b in bodies)
    r = _call(api, method, url, "admin")
    assert r.status_code not in (401, 403)


def test_healthz_and_openapi_need_no_key(api: Api) -> None:
    assert api.get("/healthz", key=None).json() == {"status": "ok"}
    assert api.get("/openapi.json", key=None).json()["openapi"].startswith("3.1")


def test_admin_manages_keys(api: Api) -> None:
    r = api.post("/v1/admin/keys", json={"name": "mobile", "scopes": ["read"]})
    assert r.status_code == 201
    new = r.json()
    assert new["key"].startswith("ptk_") and new["scopes"] == ["read"]
    assert api.get("/v1/policies", key=new["key"]).status_code == 200
    listed = api.get("/v1/admin/keys").json()["keys"]
    assert "mobile" in [k["name"] for k in listed]
    assert all("key" not in k and "hash" not in k for k in listed)
    assert api.delete(f"/v1/admin/keys/{new['id']}").json()["revoked_at"] is not None
    assert api.get("/v1/policies", key=new["key"]).status_code == 401
    r = api.post("/v1/admin/keys", json={"name": "x", "scopes": ["root"]})
    assert r.status_code == 422 and r.json()["field"] == "scopes"
    assert api.delete("/v1/admin/keys/999").status_code == 404


def test_keys_are_stored_only_as_hashes(api: Api) -> None:
    from sqlalchemy import text

    store = api.client.app.state.tracker.store  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT prefix, hash FROM api_keys")).all()
    for key in api.keys.values():
        assert all(key not in (prefix, digest) for prefix, digest in rows)
