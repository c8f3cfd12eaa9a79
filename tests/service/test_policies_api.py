"""Policies, versions, changes and stats endpoints; publishing through the admin API."""

from __future__ import annotations

from datetime import date

from tests.api import Api
from tests.service.helpers import payload, policy, version


def _publish(api: Api) -> None:
    body = payload(
        policy(
            "privacy",
            version(1, "major", body="We collect your name.\n"),
            version(2, "minor", body="We collect your name and email.\n"),
            title="Privacy Policy",
        ),
        policy("legal/terms", version(1, "major"), aliases=["terms"], title="Terms"),
    )
    assert api.post("/v1/admin/versions", json=body).status_code == 201


def test_list_and_get_policies(api: Api) -> None:
    _publish(api)
    listed = api.get("/v1/policies").json()["policies"]
    assert [p["slug"] for p in listed] == ["legal/terms", "privacy"]
    privacy = api.get("/v1/policies/privacy").json()
    assert privacy["current_version"] == 2
    assert [v["version"] for v in privacy["versions"]] == [1, 2]
    assert privacy["versions"][1]["significance"] == "minor"


def test_slugs_with_a_slash_and_aliases(api: Api) -> None:
    _publish(api)
    assert api.get("/v1/policies/legal/terms").json()["slug"] == "legal/terms"
    assert api.get("/v1/policies/terms").json()["slug"] == "legal/terms"
    assert api.get("/v1/policies/legal/terms/versions").json()["versions"][0]["version"] == 1
    assert api.get("/v1/policies/legal/terms/versions/1").json()["policy"] == "legal/terms"


def test_version_has_markdown_html_and_hash(api: Api) -> None:
    _publish(api)
    got = api.get("/v1/policies/privacy/versions/1").json()
    assert got["markdown"] == "# Privacy Policy\n\nWe collect your name.\n"
    assert "<h1>Privacy Policy</h1>" in got["html"]
    assert len(got["sha256"]) == 64
    assert got["url"].endswith("/privacy/v1/")


def test_changes_give_html_and_structured_diff(api: Api) -> None:
    _publish(api)
    r = api.get("/v1/policies/privacy/changes/1-2")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["changed"] is True
    assert "email" in got["html"]
    assert isinstance(got["diff"], dict)
    assert got["from"]["version"] == 1 and got["to"]["version"] == 2


def test_changes_of_a_version_with_itself_is_422(api: Api) -> None:
    _publish(api)
    r = api.get("/v1/policies/privacy/changes/2-2")
    assert r.status_code == 422 and r.json()["field"] == "range"


def test_unknown_policy_and_version_are_404(api: Api) -> None:
    _publish(api)
    for url in [
        "/v1/policies/nope",
        "/v1/policies/nope/versions",
        "/v1/policies/privacy/versions/9",
        "/v1/policies/privacy/versions/9/stats",
        "/v1/policies/privacy/changes/1-9",
        "/v1/no-such-route",
    ]:
        r = api.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404


def test_publish_is_idempotent(api: Api) -> None:
    _publish(api)
    body = payload(policy("privacy", version(1, "major", body="We collect your name.\n")))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code == 200
    assert r.json()["created"] == [] and r.json()["unchanged"] == 1


def test_publish_refuses_a_changed_version_naming_both_hashes(api: Api) -> None:
    _publish(api)
    changed = version(1, "major", body="Rewritten.\n")
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", changed)))
    assert r.status_code == 409
    detail = r.json()["detail"]
    old = api.get("/v1/policies/privacy/versions/1").json()["sha256"]
    assert old in detail and changed["sha256"] in detail
    assert r.json()["code"] == "version_changed"


def test_publish_checks_the_text_hash(api: Api) -> None:
    bad = version(1, "major")
    bad["sha256"] = "0" * 64
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", bad)))
    assert r.status_code == 422
    assert r.json()["field"] == "policies[0].versions[0].sha256"
    assert api.get("/v1/policies").json()["policies"] == []


def test_publish_refuses_a_gap_in_numbers(api: Api) -> None:
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", version(2, "major"))))
    assert r.status_code == 422
    assert "version 1" in r.json()["detail"]


def test_publish_validates_fields(api: Api) -> None:
    v = version(1, "huge")
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", v)))
    assert r.status_code == 422 and r.json()["field"] == "policies[0].versions[0].significance"
    v = version(1, "major")
    v["effective"] = "2025-13-01"
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", v)))
    assert r.status_code == 422 and r.json()["field"] == "policies[0].versions[0].effective"
    r = api.post("/v1/admin/versions", json={"policies": "no"})
    assert r.status_code == 422 and r.json()["field"] == "policies"


def test_upcoming_version_is_not_current(api: Api) -> None:
    body = payload(
        policy(
            "privacy",
            version(1, "major"),
            version(2, "major", effective=date(2025, 2, 1)),
        )
    )
    api.post("/v1/admin/versions", json=body)
    got = api.get("/v1/policies/privacy").json()
    assert got["current_version"] == 1 and got["latest_version"] == 2
    assert got["versions"][1]["in_force"] is False


def test_publish_takes_empty_optional_texts_as_the_site_writes_them(api: Api) -> None:
    """versions.json carries an empty summary, author or path as ""; the OpenAPI document
    allows it, so publishing takes it (and an empty title falls back to the policy's)."""
    v1 = {**version(1, "major"), "summary": "", "author": "", "path": "", "title": ""}
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", v1, path="")))
    assert r.status_code == 201, r.text
    stored = api.get("/v1/policies/privacy/versions/1").json()
    assert stored["summary"] == "" and stored["title"] == "Privacy"
    r = api.post(
        "/v1/admin/versions",
        json=payload(policy("privacy", {**version(2), "summary": "a\x00b"})),
    )
    assert r.status_code == 422 and r.json()["field"].endswith("summary")
