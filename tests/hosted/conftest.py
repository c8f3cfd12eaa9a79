"""Fixtures for the hosted acceptance page: the service fixtures (SQLite and PostgreSQL), an app
key with an allow-list, published policies, and a small form-reading browser stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from tests.api import TestClient
from tests.service.helpers import payload, policy, version
from tracker.store import Store
from tracker.store.keys import create_key
from tracker.store.links import AcceptanceLinkRow, set_key_app
from tracker.store.models import EventRow

RETURN = "https://shop.example/app/"
PRIVACY_V1 = "Intro.\n\n## Data\n\nWe collect your email address and your name.\n"
PRIVACY_V2 = (
    "Intro.\n\n## Data\n\nWe collect your email address, your name and your location.\n\n"
    "## Sharing\n\nWe share data with payment processors.\n"
)
PRIVACY_V3 = PRIVACY_V2 + "\n## Retention\n\nWe keep data for two years.\n"


def catalog(*, third: bool = False) -> dict[str, Any]:
    """``privacy`` v1 (major), v2 (major: location, sharing) [v3 major] and ``terms`` v1."""
    privacy = [
        version(1, "major", body=PRIVACY_V1, summary="First version"),
        version(2, "major", body=PRIVACY_V2, summary="We now collect your location"),
    ]
    if third:
        privacy.append(version(3, "major", body=PRIVACY_V3, summary="Retention period"))
    return payload(
        policy("privacy", *privacy, title="Privacy Policy"),
        policy("terms", version(1, "major", title="Terms of Service"), title="Terms of Service"),
    )


def make_app_key(db: Store, *, return_urls: tuple[str, ...] = (RETURN,)) -> str:
    def work(session: Any) -> str:
        key, info = create_key(session, "shop", frozenset({"read", "write"}))
        set_key_app(
            session,
            info.id,
            app_name="Example Shop",
            brand_color="#0b57d0",
            return_urls=return_urls,
        )
        return key

    return db.write(work)


def count_events(db: Store) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)


def count_links(db: Store) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AcceptanceLinkRow)) or 0)


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        #: (name, value, checked) of each radio button.
        self.radios: list[tuple[str, str, bool]] = []
        self.buttons: list[tuple[str, str, str]] = []  # (name, value, text)
        self._button: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((str(a["name"]), a.get("value") or ""))
        if tag == "input" and a.get("type") == "radio":
            self.radios.append((str(a["name"]), str(a["value"]), "checked" in a))
        if tag == "button":
            self._button, self._text = (a.get("name") or "", a.get("value") or ""), []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append((*self._button, "".join(self._text).strip()))
            self._button = None


def read_form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return read_form(html).fields


@dataclass
class Hosted:
    """The tracker's TestClient with a write key that may return to ``RETURN``."""

    client: TestClient
    store: Store
    key: str

    def link(self, user: str, **body: Any) -> Any:
        return self.client.post(
            "/v1/acceptance-links",
            json={"user_id": user, "return_url": RETURN, **body},
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def path(self, user: str, **body: Any) -> str:
        r = self.link(user, **body)
        assert r.status_code == 201, r.text
        return str(r.json()["url"]).removeprefix("http://testserver")

    def record(self, kind: str, user: str, slug: str, number: int) -> None:
        r = self.client.post(
            f"/v1/{kind}",
            json={"user_id": user, "policy": slug, "version": number},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert r.status_code in (200, 201), r.text

    def open(self, path: str) -> tuple[Any, list[tuple[str, str]]]:
        r = self.client.get(path)
        return r, hidden_fields(r.text)

    def submit(
        self,
        path: str,
        fields: list[tuple[str, str]],
        decision: str = "accept",
        *,
        choices: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        """Post the form: ``decision`` answers every policy (as the one-policy page's buttons
        do); ``choices`` (slug → accept/decline) answers policy by policy instead."""
        answers = (
            [(f"decision:{slug}", d) for slug, d in choices.items()]
            if choices is not None
            else [("decision", decision)]
        )
        data: dict[str, list[str]] = {}
        for name, value in [*fields, *answers]:
            data.setdefault(name, []).append(value)
        return self.client.post(path, data=data, follow_redirects=False, **kw)

    def publish(self, body: dict[str, Any], admin: str) -> None:
        r = self.client.post(
            "/v1/admin/versions", json=body, headers={"Authorization": f"Bearer {admin}"}
        )
        assert r.status_code in (200, 201), r.text


@pytest.fixture
def hosted(app: Starlette, store: Store, keys: dict[str, str]) -> Iterator[Hosted]:
    with TestClient(app, raise_server_exceptions=False) as client:
        h = Hosted(client, store, make_app_key(store))
        h.publish(catalog(), keys["admin"])
        yield h


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
