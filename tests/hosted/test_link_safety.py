"""Links that cannot be turned: a ``return_url`` is compared as the browser will read it (dot
segments removed, percent-encoding decoded once), and a link's token is never stored whole."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from tests.hosted.conftest import Hosted, count_links, make_app_key

ALLOWED = "https://shop.example.com/account"


@pytest.fixture
def shop(hosted: Hosted) -> Hosted:
    return Hosted(hosted.client, hosted.store, make_app_key(hosted.store, return_urls=(ALLOWED,)))


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com/account/../admin/delete?confirm=1",
        "https://shop.example.com/account/%2e%2e/admin",
        "https://shop.example.com/account/%2E./admin",
        "https://shop.example.com/account/..%2Fadmin",
        "https://shop.example.com/account/..%5Cadmin",
        "https://shop.example.com/account/x/../../admin",
        "https://shop.example.com/account%2F..%2Fadmin",
    ],
)
def test_dot_segments_do_not_leave_the_allowed_path(shop: Hosted, url: str) -> None:
    r = shop.link("uma", return_url=url)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "return_url_not_allowed"
    assert count_links(shop.store) == 0


def test_the_app_gets_back_to_the_address_that_was_checked(shop: Hosted) -> None:
    path = shop.path("vic", return_url=f"{ALLOWED}/x/./../orders?id=3")
    _, fields = shop.open(path)
    done = shop.submit(path, fields)
    assert done.status_code == 303
    where = urlsplit(done.headers["location"])
    assert (where.netloc, where.path) == ("shop.example.com", "/account/orders")
    assert where.query.startswith("id=3&")


def test_a_stored_replay_does_not_hold_the_token(hosted: Hosted) -> None:
    headers = {"Authorization": f"Bearer {hosted.key}", "Idempotency-Key": "k-token"}
    body = {"user_id": "wes", "return_url": "https://shop.example/app/"}
    first = hosted.client.post("/v1/acceptance-links", json=body, headers=headers)
    again = hosted.client.post("/v1/acceptance-links", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    token = str(first.json()["url"]).rsplit("/accept/", 1)[1]
    signature = token.split(".", 1)[1]
    with hosted.store.engine.connect() as conn:
        stored = [
            json.dumps(r[0]) for r in conn.execute(text("SELECT response FROM idempotency_keys"))
        ]
    assert stored and not any(token in s or signature in s for s in stored)
    # The replayed link works (once).
    path = str(again.json()["url"]).removeprefix("http://testserver")
    page, _ = hosted.open(path)
    assert page.status_code == 200
