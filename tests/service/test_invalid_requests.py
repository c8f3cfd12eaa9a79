"""Every invalid request answers the same problem (status, code, detail, field) as the
hand-written validators did before the API contract was typed: the answers below were
recorded from them (``RECORD=1 pytest`` on this module records them again)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.api import Api
from tests.service.helpers import payload, policy, version

RECORDED = Path(__file__).with_name("invalid_requests.json")

E = "/v1/acceptances"
D = "/v1/declines"
B = "/v1/status/batch"
K = "/v1/admin/keys"
W = "/v1/admin/webhooks"
R = "/v1/admin/reacceptance"
P = "/v1/admin/versions"
L = "/v1/acceptance-links"
OK_EVENT = {"user_id": "u1", "policy": "privacy", "version": 1}
V = version(1, "major")


def _pub(**changes: Any) -> dict[str, Any]:
    return payload(policy("privacy", {**V, **changes}))


CASES: list[tuple[str, str, Any]] = [
    ("POST", E, []),
    ("POST", E, "text"),
    ("POST", E, {}),
    ("POST", E, {**OK_EVENT, "extra": 1, "another": 2}),
    ("POST", E, {"policy": "privacy", "version": 1}),
    ("POST", E, {**OK_EVENT, "user_id": 5}),
    ("POST", E, {**OK_EVENT, "user_id": ""}),
    ("POST", E, {**OK_EVENT, "user_id": "x" * 256}),
    ("POST", E, {**OK_EVENT, "user_id": "a\nb"}),
    ("POST", E, {**OK_EVENT, "user_id": None}),
    ("POST", E, {"user_id": "u1", "version": 1}),
    ("POST", E, {**OK_EVENT, "policy": ""}),
    ("POST", E, {**OK_EVENT, "policy": "p" * 201}),
    ("POST", E, {**OK_EVENT, "policy": "a\x00b"}),
    ("POST", E, {**OK_EVENT, "policy": 3}),
    ("POST", E, {"user_id": "u1", "policy": "privacy"}),
    ("POST", E, {**OK_EVENT, "version": "1"}),
    ("POST", E, {**OK_EVENT, "version": 1.5}),
    ("POST", E, {**OK_EVENT, "version": True}),
    ("POST", E, {**OK_EVENT, "version": 0}),
    ("POST", E, {**OK_EVENT, "version": 2**31}),
    ("POST", E, {**OK_EVENT, "method": "fax"}),
    ("POST", E, {**OK_EVENT, "method": 1}),
    ("POST", E, {**OK_EVENT, "ip": "999.1.1.1"}),
    ("POST", E, {**OK_EVENT, "ip": 5}),
    ("POST", E, {**OK_EVENT, "ip": "x" * 65}),
    ("POST", E, {**OK_EVENT, "user_agent": "u" * 1025}),
    ("POST", E, {**OK_EVENT, "user_agent": "a\x00"}),
    ("POST", E, {**OK_EVENT, "user_agent": 7}),
    ("POST", E, {**OK_EVENT, "locale": "not a locale"}),
    ("POST", E, {**OK_EVENT, "locale": ""}),
    ("POST", E, {**OK_EVENT, "locale": 1}),
    ("POST", E, {**OK_EVENT, "context": []}),
    ("POST", E, {**OK_EVENT, "context": "x"}),
    ("POST", E, {**OK_EVENT, "context": {"a": "x" * 70000}}),
    ("POST", E, {**OK_EVENT, "context": {"a": {"b": {"c": {}}}}}),
    ("POST", E, {**OK_EVENT, "policy": "nope"}),
    ("POST", E, {**OK_EVENT, "version": 9}),
    ("POST", D, {"user_id": "u1", "policy": "privacy", "version": "x"}),
    ("POST", D, {"user_id": "u1"}),
    ("POST", B, {}),
    ("POST", B, {"user_ids": "u1"}),
    ("POST", B, {"user_ids": []}),
    ("POST", B, {"user_ids": ["u1", 2]}),
    ("POST", B, {"user_ids": ["u1", ""]}),
    ("POST", B, {"user_ids": ["u1", "a\tb"]}),
    ("POST", B, {"user_ids": ["u"] * 10001}),
    ("POST", B, {"user_ids": ["u1"], "policy": ""}),
    ("POST", B, {"user_ids": ["u1"], "policy": 4}),
    ("POST", B, {"user_ids": ["u1"], "policy": "nope"}),
    ("POST", B, {"user_ids": ["u1"], "extra": True}),
    ("POST", K, {}),
    ("POST", K, {"name": "", "scopes": ["read"]}),
    ("POST", K, {"name": "n" * 201, "scopes": ["read"]}),
    ("POST", K, {"name": "n", "scopes": "read"}),
    ("POST", K, {"name": "n", "scopes": ["fly"]}),
    ("POST", K, {"name": "n", "scopes": []}),
    ("POST", K, {"name": "n", "scopes": [1]}),
    ("POST", K, {"name": "n", "scopes": ["read"], "color": "red"}),
    ("POST", K, {"name": "n", "scopes": ["read"], "color": 1}),
    ("POST", K, {"name": "n", "scopes": ["read"], "app_name": " "}),
    ("POST", K, {"name": "n", "scopes": ["read"], "return_urls": "x"}),
    ("POST", K, {"name": "n", "scopes": ["read"], "return_urls": ["ftp://x"]}),
    ("POST", K, {"name": "n", "scopes": ["read"], "return_urls": ["https://a.test/"] * 101}),
    ("POST", K, {"name": "n", "scopes": ["read"], "bogus": 1}),
    ("PUT", K + "/1/app", {"color": "#12345"}),
    ("PUT", K + "/1/app", {"wrong": 1}),
    ("POST", W, {}),
    ("POST", W, {"url": 1}),
    ("POST", W, {"url": "ftp://example.com/"}),
    ("POST", W, {"url": "https://example.com/", "events": "x"}),
    ("POST", W, {"url": "https://example.com/", "events": ["nope"]}),
    ("POST", W, {"url": "https://example.com/", "events": []}),
    ("POST", W, {"url": "https://example.com/", "description": "d" * 501}),
    ("POST", W, {"url": "https://example.com/", "description": 3}),
    ("POST", W, {"url": "https://example.com/", "other": 3}),
    ("POST", R, {}),
    ("POST", R, {"policy": "privacy", "reason": "r"}),
    ("POST", R, {"policy": "privacy", "reason": "r", "all": True, "user_ids": ["u"]}),
    ("POST", R, {"policy": "privacy", "reason": " ", "all": True}),
    ("POST", R, {"policy": "privacy", "reason": "", "all": True}),
    ("POST", R, {"policy": "privacy", "reason": "r", "all": "yes"}),
    ("POST", R, {"policy": "privacy", "reason": "r", "user_ids": []}),
    ("POST", R, {"policy": "privacy", "reason": "r", "user_ids": "u"}),
    ("POST", R, {"policy": "privacy", "reason": "r", "user_ids": ["a\x01"]}),
    ("POST", R, {"policy": "privacy", "reason": "r" * 2001, "all": True}),
    ("POST", R, {"policy": "privacy", "reason": "r", "all": True, "x": 1}),
    ("POST", P, {}),
    ("POST", P, {"policies": {}}),
    ("POST", P, {"policies": [], "format": 2}),
    ("POST", P, {"policies": [], "format": True}),
    ("POST", P, {"policies": [], "bogus": 1}),
    ("POST", P, {"policies": [1]}),
    ("POST", P, {"policies": [{"title": "t", "versions": []}]}),
    ("POST", P, {"policies": [{"slug": "a", "versions": []}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t"}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t", "versions": [], "x": 1}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t", "versions": [], "aliases": "b"}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t", "versions": [], "notice_days": -1}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t", "versions": [], "withdrawn": 1}]}),
    ("POST", P, {"policies": [{"slug": "a", "title": "t", "versions": [], "path": 1}]}),
    (
        "POST",
        P,
        {
            "policies": [
                {"slug": "a", "title": "t", "versions": []},
                {"slug": "A", "title": "t", "versions": []},
            ]
        },
    ),
    ("POST", P, _pub(sha256="0" * 64)),
    ("POST", P, _pub(sha256="abc")),
    ("POST", P, _pub(number=0)),
    ("POST", P, _pub(number="1")),
    ("POST", P, _pub(commit="")),
    ("POST", P, _pub(commit="c" * 65)),
    ("POST", P, _pub(published="yesterday")),
    ("POST", P, _pub(published="2025-01-01T00:00:00")),
    ("POST", P, _pub(effective="2025-13-01")),
    ("POST", P, _pub(effective=20250101)),
    ("POST", P, _pub(significance="huge")),
    ("POST", P, _pub(significance=None)),
    ("POST", P, _pub(significance_source="guess")),
    ("POST", P, _pub(summary="s" * 5001)),
    ("POST", P, _pub(title=5)),
    ("POST", P, _pub(author="a\x00")),
    ("POST", P, _pub(text=None)),
    ("POST", P, _pub(text=5)),
    ("POST", P, _pub(extra=1)),
    ("POST", L, {}),
    ("POST", L, {"user_id": "u1"}),
    ("POST", L, {"user_id": "u1", "return_url": ""}),
    ("POST", L, {"user_id": "u1", "return_url": "https://a.test/", "policies": []}),
    ("POST", L, {"user_id": "u1", "return_url": "https://a.test/", "policies": "x"}),
    ("POST", L, {"user_id": "u1", "return_url": "https://a.test/", "locale": "?"}),
    ("POST", L, {"user_id": "u1", "return_url": "https://a.test/", "x": 1}),
    ("GET", "/v1/users/u1/events?limit=0", None),
    ("GET", "/v1/users/u1/events?limit=abc", None),
    ("GET", "/v1/users/u1/events?cursor=x", None),
    ("GET", "/v1/users/u1/notices?state=bogus", None),
    ("GET", "/v1/admin/deliveries?state=bogus", None),
    ("GET", "/v1/admin/deliveries?limit=1001", None),
    ("GET", "/v1/admin/deliveries?cursor=-1", None),
    ("GET", "/v1/users/a%01b/status", None),
    ("GET", "/v1/policies/privacy/changes/1-1", None),
    ("DELETE", "/v1/admin/users/a%01b", None),
    ("DELETE", "/v1/policies", None),
    ("GET", "/v1/nothing-here", None),
]


def _answers(api: Api) -> list[dict[str, Any]]:
    api.post(P, json=payload(policy("privacy", V)))
    out = []
    for method, path, body in CASES:
        r = api.client.request(
            method,
            path,
            headers={"Authorization": f"Bearer {api.keys['admin']}"},
            content=None if body is None else json.dumps(body),
        )
        answer = r.json()
        out.append(
            {
                "request": f"{method} {path} {json.dumps(body)[:120]}",
                "status": r.status_code,
                **{k: answer.get(k) for k in ("code", "detail", "field")},
            }
        )
    return out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_invalid_requests_answer_the_recorded_problems(api: Api) -> None:
    answers = _answers(api)
    if os.environ.get("RECORD"):
        RECORDED.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert len(recorded) == len(answers)
    differ = [(want, got) for want, got in zip(recorded, answers, strict=True) if want != got]
    assert not differ, "\n".join(f"want {w}\n got {g}" for w, g in differ)
