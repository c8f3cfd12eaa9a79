"""The hosted page over HTTP: what it shows, what it records, and everything it refuses
(forged, expired, reused tokens; return URLs off the allow-list; stale versions; cross-site
posts), each with nothing recorded. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api import TestClient
from tests.hosted.conftest import (
    RETURN,
    Hosted,
    catalog,
    count_events,
    count_links,
    hidden_fields,
    make_app_key,
    read_form,
    text_of,
)
from tests.service.helpers import Clock
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import revoke_key
from tracker.store.links import get_link


def events(hosted: Hosted, user: str) -> list[dict[str, object]]:
    r = hosted.client.get(
        f"/v1/users/{user}/events", headers={"Authorization": f"Bearer {hosted.key}"}
    )
    return list(r.json().get("events", [])) if r.status_code == 200 else []


def test_the_link_hides_the_user_id(hosted: Hosted) -> None:
    r = hosted.link("alice@example.com")
    assert r.status_code == 201
    body = r.json()
    assert body["expires_at"] == "2025-01-01T12:15:00+00:00"  # the test clock + 900 s
    token = body["url"].rsplit("/", 1)[1]
    assert "alice" not in body["url"]
    link_id = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(link_id + "=" * (-len(link_id) % 4))
    assert b"alice" not in decoded
    with hosted.store.read() as session:
        link = get_link(session, link_id)
    assert link is not None and link.user_id == "alice@example.com"


def test_accepting_records_clickwrap_and_returns_to_the_app(hosted: Hosted) -> None:
    hosted.record("acceptances", "alice", "privacy", 1)
    path = hosted.path("alice")
    page, fields = hosted.open(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    text = text_of(page.text)
    assert "Example Shop" in text and "--pt-brand: #0b57d0" in page.text
    # privacy: the redline from version 1; terms (never accepted): the full text.
    assert "You accepted version 1" in text and "We now collect your location" in text
    assert re.search(r"<ins>[^<]*location", page.text)
    assert "redline-added" in page.text
    assert "Terms of Service" in text and "The full text of version 1 follows" in text
    assert [(n, v) for n, v in fields if n != "form_secret"] == [
        ("policy", "privacy"),
        ("version", "2"),
        ("sha256", catalog()["policies"][0]["versions"][1]["sha256"]),
        ("text", catalog()["policies"][0]["versions"][1]["sha256"]),
        ("policy", "terms"),
        ("version", "1"),
        ("sha256", catalog()["policies"][1]["versions"][0]["sha256"]),
        ("text", catalog()["policies"][1]["versions"][0]["sha256"]),
    ]
    # Two policies: a radio group each, one submit button.
    form = read_form(page.text)
    assert [(n, v) for n, v, checked in form.radios if not checked] == [
        ("decision:privacy", "accept"),
        ("decision:privacy", "decline"),
        ("decision:terms", "accept"),
        ("decision:terms", "decline"),
    ]
    assert form.buttons == [("", "", "Submit my choices")]
    assert "Do you accept Terms of Service (version 1)?" in text
    done = hosted.submit(
        path,
        fields,
        choices={"privacy": "accept", "terms": "accept"},
        headers={"User-Agent": "TestBrowser/1.0"},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == RETURN + "?policy_tracker=accepted"
    got = events(hosted, "alice")[1:]
    assert [(e["policy"], e["version"], e["type"]) for e in got] == [
        ("privacy", 2, "accepted"),
        ("terms", 1, "accepted"),
    ]
    assert all(e["method"] == "clickwrap" and e["user_agent"] == "TestBrowser/1.0" for e in got)
    status = hosted.client.get(
        "/v1/users/alice/status", headers={"Authorization": f"Bearer {hosted.key}"}
    ).json()
    assert all(p["state"] == "accepted" for p in status["policies"])


def test_declining_records_declines(hosted: Hosted) -> None:
    path = hosted.path("bob", policies=["terms"], locale="fr-CA")
    page, fields = hosted.open(path)
    # terms has no French text: the page shows the English source and says so (lang), while
    # the event still records the link's locale
    assert '<html lang="en"' in page.text and 'lang="fr-CA"' not in page.text
    assert "Privacy Policy" not in page.text
    # One policy: Accept and Decline buttons, no radio group.
    form = read_form(page.text)
    assert form.radios == []
    assert form.buttons == [("decision", "accept", "Accept"), ("decision", "decline", "Decline")]
    done = hosted.submit(path, fields, "decline")
    assert done.status_code == 303
    query = parse_qs(urlsplit(done.headers["location"]).query)
    assert query == {"policy_tracker": ["declined"], "policy_tracker_declined": ["terms"]}
    [event] = events(hosted, "bob")
    assert event["type"] == "declined" and event["method"] == "clickwrap"
    assert event["policy"] == "terms" and event["locale"] == "fr-CA"


def test_a_return_url_keeps_its_query(hosted: Hosted) -> None:
    url = RETURN + "cart?step=2&policy_tracker=old&policy_tracker_declined=forged"
    r = hosted.link("carol", return_url=url)
    path = r.json()["url"].removeprefix("http://testserver")
    _, fields = hosted.open(path)
    done = hosted.submit(path, fields)
    assert done.headers["location"] == RETURN + "cart?step=2&policy_tracker=accepted"


def test_each_policy_gets_its_own_answer(hosted: Hosted) -> None:
    hosted.record("acceptances", "rose", "privacy", 1)
    path = hosted.path("rose")
    _, fields = hosted.open(path)
    done = hosted.submit(
        path,
        fields,
        choices={"privacy": "accept", "terms": "decline"},
        headers={"User-Agent": "TestBrowser/1.0"},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == (
        RETURN + "?policy_tracker=declined&policy_tracker_declined=terms"
    )
    got = events(hosted, "rose")[1:]
    assert [(e["policy"], e["version"], e["type"]) for e in got] == [
        ("privacy", 2, "accepted"),
        ("terms", 1, "declined"),
    ]
    assert all(e["method"] == "clickwrap" and e["user_agent"] == "TestBrowser/1.0" for e in got)
    status = hosted.client.get(
        "/v1/users/rose/status", headers={"Authorization": f"Bearer {hosted.key}"}
    ).json()
    assert {p["policy"]: p["state"] for p in status["policies"]} == {
        "privacy": "accepted",
        "terms": "declined",
    }
    # The link is used up: no second answer for either policy.
    again = hosted.submit(path, fields, choices={"privacy": "accept", "terms": "accept"})
    assert again.status_code == 410 and "already been used" in again.text
    assert len(events(hosted, "rose")) == 3


def test_declining_every_policy_lists_them_all(hosted: Hosted) -> None:
    path = hosted.path("sam")
    _, fields = hosted.open(path)
    done = hosted.submit(path, fields, choices={"privacy": "decline", "terms": "decline"})
    query = parse_qs(urlsplit(done.headers["location"]).query)
    assert query == {
        "policy_tracker": ["declined"],
        "policy_tracker_declined": ["privacy", "terms"],
    }
    assert [e["type"] for e in events(hosted, "sam")] == ["declined", "declined"]


def test_a_policy_without_an_answer_is_refused(hosted: Hosted) -> None:
    path = hosted.path("tess")
    _, fields = hosted.open(path)
    for choices in ({"privacy": "decline"}, {}):
        r = hosted.submit(path, fields, choices=choices)
        assert r.status_code == 422, r.text
        text = text_of(r.text)
        assert "<title>Error: " in r.text
        assert "Choose Accept or Decline for each policy. Nothing was recorded." in text
        assert '<a href="#policy-2-accept">Terms of Service</a>' in r.text
        assert "Choose Accept or Decline for Terms of Service." in text
        assert 'aria-describedby="policy-2-error"' in r.text
        assert count_events(hosted.store) == 0
    # The answer given is kept; the page is the same form, so finishing it works.
    both = hosted.submit(path, fields, choices={"privacy": "decline"})
    assert ("decision:privacy", "decline", True) in read_form(both.text).radios
    assert "Choose Accept or Decline for Privacy Policy." not in text_of(both.text)
    assert hidden_fields(both.text)[1:] == fields[1:]
    done = hosted.submit(path, fields, choices={"privacy": "decline", "terms": "accept"})
    assert done.status_code == 303
    assert [e["type"] for e in events(hosted, "tess")] == ["declined", "accepted"]


@pytest.mark.parametrize(
    "answers",
    [
        [
            ("decision:legal", "accept"),
            ("decision:privacy", "accept"),
            ("decision:terms", "accept"),
        ],
        [("decision:privacy", "yes"), ("decision:terms", "accept")],
        [
            ("decision:privacy", "accept"),
            ("decision:privacy", "decline"),
            ("decision:terms", "accept"),
        ],
        [("decision", "accept"), ("decision:terms", "decline")],
        [("decision", "maybe")],
    ],
)
def test_answers_the_page_cannot_send_are_refused(
    hosted: Hosted, answers: list[tuple[str, str]]
) -> None:
    path = hosted.path("uma")
    _, fields = hosted.open(path)
    data: dict[str, list[str]] = {}
    for name, value in [*fields, *answers]:
        data.setdefault(name, []).append(value)
    r = hosted.client.post(path, data=data, follow_redirects=False)
    assert r.status_code == 400 and "The form could not be read" in r.text
    assert count_events(hosted.store) == 0
    assert hosted.open(path)[0].status_code == 200  # the link still works


def test_one_answer_for_every_policy_is_still_taken(hosted: Hosted) -> None:
    """``decision`` alone (what pages rendered before per-policy choices sent) answers all."""
    path = hosted.path("vic")
    _, fields = hosted.open(path)
    done = hosted.submit(path, fields, "accept")
    assert done.headers["location"] == RETURN + "?policy_tracker=accepted"
    assert [e["type"] for e in events(hosted, "vic")] == ["accepted", "accepted"]


def test_a_user_with_nothing_to_accept_is_told_so(hosted: Hosted) -> None:
    hosted.record("acceptances", "dave", "privacy", 2)
    hosted.record("acceptances", "dave", "terms", 1)
    page, fields = hosted.open(hosted.path("dave"))
    assert page.status_code == 200 and "nothing for you to accept" in page.text
    assert fields == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        # link id changed, signature kept (the id is random: its first character may be "x")
        lambda t: ("x" if t[0] != "x" else "y") + t[1:],
        lambda t: t.split(".")[0],  # no signature
        lambda t: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        lambda t: "alice",
    ],
)
def test_a_forged_token_is_refused(hosted: Hosted, tamper: object) -> None:
    path = hosted.path("erin")
    _, fields = hosted.open(path)
    token = path.rsplit("/", 1)[1]
    forged = "/accept/" + tamper(token)  # type: ignore[operator]
    before = count_events(hosted.store)
    page = hosted.client.get(forged)
    assert page.status_code == 404 and "This link is not valid" in page.text
    posted = hosted.submit(forged, fields)
    assert posted.status_code == 404
    assert count_events(hosted.store) == before


def test_a_token_signed_by_another_tracker_is_refused(
    hosted: Hosted, settings: Settings, store: Store, clock: Clock
) -> None:
    path = hosted.path("frank")
    other = create_app(
        Settings(**{**settings.__dict__, "link_secret": "another-secret"}), store=store, clock=clock
    )
    with TestClient(other) as client:
        assert client.get(path).status_code == 404
    assert hosted.open(path)[0].status_code == 200


def test_an_expired_token_is_refused(hosted: Hosted, clock: Clock) -> None:
    path = hosted.path("gina")
    _, fields = hosted.open(path)
    clock.now += timedelta(seconds=899)
    assert hosted.open(path)[0].status_code == 200
    clock.now += timedelta(seconds=1)
    page = hosted.client.get(path)
    assert page.status_code == 410 and "This link has expired" in page.text
    assert 'href="https://shop.example/app/"' in page.text  # back to the app, no outcome
    assert hosted.submit(path, fields).status_code == 410
    assert count_events(hosted.store) == 0


def test_a_used_token_is_refused(hosted: Hosted) -> None:
    path = hosted.path("hank")
    _, fields = hosted.open(path)
    assert hosted.submit(path, fields).status_code == 303
    recorded = count_events(hosted.store)
    again = hosted.submit(path, fields, "decline")
    assert again.status_code == 410 and "already been used" in again.text
    assert hosted.client.get(path).status_code == 410
    assert count_events(hosted.store) == recorded


def test_a_revoked_key_voids_its_links(hosted: Hosted) -> None:
    path = hosted.path("ivan")
    _, fields = hosted.open(path)
    hosted.store.write(lambda s: revoke_key(s, hosted.key.split("_")[1]))
    assert hosted.submit(path, fields).status_code == 404
    assert count_events(hosted.store) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/app/",
        "http://shop.example/app/",  # another scheme
        "https://shop.example:8443/app/",  # another port
        "https://shop.example/apple",  # not below /app/
        "https://shop.example/",  # above it
        "https://shop.example.evil.example/app/",
        "https://shop.example@evil.example/app/",
        "https://evil.example\\@shop.example/app/",
        "//shop.example/app/",
        "/app/",
        "javascript:alert(1)//shop.example/app/",
        "https://shop.example/app/ x",
        "not a url",
    ],
)
def test_a_return_url_off_the_allow_list_is_refused(hosted: Hosted, url: str) -> None:
    r = hosted.link("judy", return_url=url)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "return_url_not_allowed"
    assert count_links(hosted.store) == 0


def test_a_key_without_an_allow_list_gets_no_links(hosted: Hosted, keys: dict[str, str]) -> None:
    r = hosted.client.post(
        "/v1/acceptance-links",
        json={"user_id": "kim", "return_url": RETURN},
        headers={"Authorization": f"Bearer {keys['write']}"},
    )
    assert r.status_code == 403 and r.json()["code"] == "return_url_not_allowed"
    read = hosted.client.post(
        "/v1/acceptance-links",
        json={"user_id": "kim", "return_url": RETURN},
        headers={"Authorization": f"Bearer {keys['read']}"},
    )
    assert read.status_code == 403 and read.json()["code"] == "forbidden"


def test_bad_requests_name_the_field(hosted: Hosted) -> None:
    assert hosted.link("x", policies=["nope"]).json()["code"] == "policy_not_found"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"policies": "privacy"}, "policies"),
        ({"policies": []}, "policies"),
        ({"locale": "not a locale"}, "locale"),
        ({"extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = hosted.link("x", **body)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert count_links(hosted.store) == 0


def test_a_retried_request_gets_the_same_link(hosted: Hosted) -> None:
    headers = {"Authorization": f"Bearer {hosted.key}", "Idempotency-Key": "k1"}
    body = {"user_id": "lee", "return_url": RETURN}
    first = hosted.client.post("/v1/acceptance-links", json=body, headers=headers)
    again = hosted.client.post("/v1/acceptance-links", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert count_links(hosted.store) == 1


def test_a_version_published_meanwhile_is_shown_instead(
    hosted: Hosted, keys: dict[str, str]
) -> None:
    hosted.record("acceptances", "mia", "privacy", 1)
    path = hosted.path("mia", policies=["privacy"])
    _, fields = hosted.open(path)
    hosted.publish(catalog(third=True), keys["admin"])
    stale = hosted.submit(path, fields)
    assert stale.status_code == 409
    assert "version 3 replaces version 2" in text_of(stale.text)
    assert "Retention period" in stale.text
    assert count_events(hosted.store) == 1  # only the acceptance of version 1
    fresh = [f for f in fields if f[0] == "form_secret"] + [
        f for f in hidden_fields(stale.text) if f[0] != "form_secret"
    ]
    assert ("version", "3") in fresh
    done = hosted.submit(path, fresh)
    assert done.status_code == 303
    assert [e["version"] for e in events(hosted, "mia")] == [1, 3]


def test_a_version_published_meanwhile_keeps_the_other_answers(
    hosted: Hosted, keys: dict[str, str]
) -> None:
    hosted.record("acceptances", "nia", "privacy", 1)
    path = hosted.path("nia")
    _, fields = hosted.open(path)
    hosted.publish(catalog(third=True), keys["admin"])
    stale = hosted.submit(path, fields, choices={"privacy": "accept", "terms": "decline"})
    assert stale.status_code == 409
    assert "version 3 replaces version 2" in text_of(stale.text)
    assert count_events(hosted.store) == 1
    # Terms did not change: its answer is kept; privacy's is asked again.
    checked = [(n, v) for n, v, on in read_form(stale.text).radios if on]
    assert checked == [("decision:terms", "decline")]
    fresh = [f for f in fields if f[0] == "form_secret"] + [
        f for f in hidden_fields(stale.text) if f[0] != "form_secret"
    ]
    done = hosted.submit(path, fresh, choices={"privacy": "accept", "terms": "decline"})
    assert done.status_code == 303
    assert [(e["version"], e["type"]) for e in events(hosted, "nia")] == [
        (1, "accepted"),
        (3, "accepted"),
        (1, "declined"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda f: [(n, "1" if n == "version" and v == "2" else v) for n, v in f],  # older
        lambda f: [(n, "0" * 64 if n == "sha256" else v) for n, v in f],  # another text
        lambda f: [(n, v) for n, v in f if n != "sha256"],  # no hash
        lambda f: f[:4],  # one policy left out
    ],
)
def test_a_form_that_does_not_match_the_page_is_refused(hosted: Hosted, change: object) -> None:
    hosted.record("acceptances", "ned", "privacy", 1)
    path = hosted.path("ned")
    _, fields = hosted.open(path)
    r = hosted.submit(path, change(fields))  # type: ignore[operator]
    assert r.status_code in (400, 409)
    assert count_events(hosted.store) == 1
    assert hosted.submit(path, fields).status_code == 303  # the link still works


def test_a_cross_site_post_is_refused(hosted: Hosted, app: object) -> None:
    path = hosted.path("olga")
    _, fields = hosted.open(path)
    with TestClient(app) as attacker:  # type: ignore[arg-type]
        # Without the page's cookie (SameSite=Strict keeps it off cross-site posts).
        r = attacker.post(path, data=dict(fields) | {"decision": "accept"}, follow_redirects=False)
        assert r.status_code == 403 and "Nothing was recorded" in r.text
    # With the cookie but a form secret that is not the page's.
    wrong = [(n, "x" * 32 if n == "form_secret" else v) for n, v in fields]
    assert hosted.submit(path, wrong).status_code == 403
    assert count_events(hosted.store) == 0
    cookie = hosted.client.cookies.get("pt_form")
    assert cookie is not None
    page = hosted.client.get(path)
    assert "SameSite=strict" in page.headers["set-cookie"]
    assert "HttpOnly" in page.headers["set-cookie"]


@pytest.mark.parametrize(
    "proxies,forwarded,recorded",
    [
        ("", "203.0.113.9", "10.0.0.5"),  # no trusted proxies: the peer
        ("10.0.0.0/8", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.0/8", "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        ("192.168.0.1", "203.0.113.9", "10.0.0.5"),  # the peer is not trusted
    ],
)
def test_the_address_honours_trusted_proxies(
    settings: Settings,
    store: Store,
    clock: Clock,
    keys: dict[str, str],
    proxies: str,
    forwarded: str,
    recorded: str,
) -> None:
    app = create_app(
        Settings(**{**settings.__dict__, "trusted_proxies": proxies}), store=store, clock=clock
    )
    with TestClient(app, client=("10.0.0.5", 4000)) as client:
        h = Hosted(client, store, make_app_key(store))
        h.publish(catalog(), keys["admin"])
        path = h.path("pat", policies=["terms"])
        _, fields = h.open(path)
        done = h.submit(path, fields, headers={"X-Forwarded-For": forwarded})
        assert done.status_code == 303
        [event] = events(h, "pat")
        assert event["ip"] == recorded
