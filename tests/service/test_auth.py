"""Every endpoint needs a key with the right scope; every refusal has the same body."""

from __future__ import annotations

import httpx
import pytest

from tests.api import Api
from tracker.service.openapi import openapi_document

SAMPLE = {
    "slug": "privacy",
    "n": "1",
    "a": "1",
    "b": "2",
    "user_id": "u1",
    "key_id": "1",
    "notice_id": "1",
    "webhook_id": "1",
    "delivery_id": "1",
}


def _every_operation() -> list[tuple[str, str, str]]:
    """Every operation of the OpenAPI document that needs a key (the document is checked
    against the routes in test_openapi.py), with sample path parameters."""
    found = []
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            scope = operation.get("x-scope")
            if scope is None:
                continue
            url = path
            for name, value in SAMPLE.items():
                url = url.replace("{" + name + "}", value)
            assert "{" not in url, f"no sample value for a parameter of {path}"
            found.append((method.upper(), url, scope))
    return found


ALL = _every_operation()


def _call(
    api: Api, method: str, url: str, key: str | None, header: str | None = None
) -> httpx.Response:
    headers = {"Authorization": header} if header is not None else {}
    return api.request(method, url, key=key, headers=headers, json={} if method == "POST" else None)


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


def test_every_operation_is_covered() -> None:
    assert len(ALL) >= 30
    assert ("PUT", "/v1/admin/keys/1/app", "admin") in ALL


@pytest.mark.parametrize(("method", "url", "scope"), [op for op in ALL if op[0] != "GET"])
def test_a_large_body_without_a_key_is_refused_before_it_is_read(
    api: Api, method: str, url: str, scope: str
) -> None:
    limit = api.client.app.state.tracker.settings.max_body_bytes  # type: ignore[attr-defined]
    r = api.client.request(method, url, content=b"{" + b" " * limit + b"}")
    assert r.status_code == 401, r.text
    assert r.json() == _call(api, "GET", "/v1/policies", None).json()


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
