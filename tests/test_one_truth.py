"""One truth: on any day, the site, versions.json, the feed, the tracker's status, its notices
and the hosted page say the same of every version (in force, upcoming, overtaken, archived),
and the same of a policy's languages (its source's, its translations').

Hypothesis draws histories (major, minor and patch versions, effective dates declared or
derived, notice periods) and a day; each answer is compared with a reference read off the
history day by day: the version in force on a day is the latest whose effective date has
come, and a version that is in force on no day never takes effect.
"""

from __future__ import annotations

import re
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hosted.conftest import make_app_key, read_form
from tests.service.helpers import Clock
from tests.translated import german_repo
from tracker import migrations
from tracker.history import read_catalog
from tracker.policy import (
    Catalog,
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    effective_date,
    normalise_text,
    sha256_text,
)
from tracker.publish import feed, site, versions
from tracker.publish.pages import PageBuilder, Redlines, languages_in_head
from tracker.redline import suggest
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key
from tracker.sync import publish_document

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
RETURN = "https://shop.example/app/"


@dataclass(frozen=True)
class Step:
    significance: Significance
    gap: int  # days after the previous publication
    declared: int | None  # Policy-Effective, in days after publication


steps = st.builds(
    Step,
    st.sampled_from(list(Significance)),
    st.integers(0, 12),
    st.one_of(st.none(), st.integers(0, 40)),
)


def history(slug: str, first: Step, rest: list[Step], notice_days: int) -> Policy:
    """Versions as the git history makes them (effective dates by the same rules)."""
    made: list[Version] = []
    published = START
    for n, step in enumerate([first, *rest], start=1):
        published += timedelta(days=step.gap)
        declared = published.date() + timedelta(days=step.declared) if step.declared else None
        effective = effective_date(
            published,
            step.significance,
            declared,
            notice_days if n > 1 else 0,
            where=f"v{n}",
            previous=made[-1].effective if made else None,
        )
        text = normalise_text("Privacy", "\n\n".join(f"Clause {i}." for i in range(1, n + 1)))
        made.append(
            Version(
                policy=slug,
                number=n,
                commit=f"{n:040x}",
                published=published,
                author="Editor",
                title="Privacy",
                text=text,
                sha256=sha256_text(text),
                significance=step.significance,
                significance_source=SignificanceSource.DECLARED,
                summary=f"Change {n}",
                effective=effective,
                effective_declared=declared is not None,
            )
        )
    return Policy(
        slug, f"policy/{slug}.md", PolicySettings("Privacy", True, notice_days), tuple(made)
    )


@dataclass(frozen=True)
class Reference:
    """What the history says, day by day, with no shortcut."""

    policy: Policy

    def in_force(self, day: date) -> int | None:
        found = [v.number for v in self.policy.versions if v.effective <= day]
        return max(found) if found else None

    def days(self) -> Iterator[date]:
        low = min(v.published.date() for v in self.policy.versions) - timedelta(days=1)
        high = max(v.effective for v in self.policy.versions) + timedelta(days=1)
        while low <= high:
            yield low
            low += timedelta(days=1)

    def governs_from(self, number: int) -> date | None:
        """The first day a version containing ``number``'s text is in force."""
        return next((d for d in self.days() if (self.in_force(d) or 0) >= number), None)

    def ever_in_force(self, number: int) -> bool:
        return any(self.in_force(d) == number for d in self.days())

    def state(self, number: int, day: date) -> str:
        if not self.ever_in_force(number):
            return "overtaken"
        if self.in_force(day) == number:
            return "current"
        effective = self.policy.versions[number - 1].effective
        return "upcoming" if effective > day else "archived"

    def upcoming(self, day: date) -> list[int]:
        return [v.number for v in self.policy.versions if self.state(v.number, day) == "upcoming"]

    def replaced_by(self, number: int) -> int | None:
        if self.ever_in_force(number):
            return None
        day = self.governs_from(number + 1)
        return self.in_force(day) if day is not None else None

    def accept_by(self, accepted: int) -> date | None:
        """The first day a major change after ``accepted`` is in force."""
        majors = [
            v.number
            for v in self.policy.versions
            if v.number > accepted and v.significance is Significance.MAJOR
        ]
        days = [d for m in majors if (d := self.governs_from(m)) is not None]
        return min(days) if days else None


class Tracker:
    """One real tracker (SQLite file, real app, controllable clock) for every example."""

    def __init__(self, folder: Path):
        settings_ = Settings(
            repository=folder,
            database_url=f"sqlite:///{folder / 'tracker.sqlite3'}",
            site_dir=folder / "no-site",
        )
        self.store = Store.open(settings_)
        migrations.upgrade(self.store.engine)
        self.clock = Clock(START)
        self.admin, _ = self.store.write(
            lambda s: create_key(s, "admin", frozenset({"read", "write", "admin"}))
        )
        self.app_key = make_app_key(self.store, return_urls=(RETURN,))
        self.client = TestClient(create_app(settings_, store=self.store, clock=self.clock))
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.store.dispose()

    def call(self, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key or self.admin}"}
        r = self.client.request(method, path, headers=headers, **kw)
        assert r.status_code < 300, (path, r.status_code, r.text)
        return r.json()

    def publish(self, policy: Policy, numbers: range) -> None:
        body = {
            "policies": [
                {
                    "slug": policy.slug,
                    "title": "Privacy",
                    "versions": [
                        {
                            "number": v.number,
                            "commit": v.commit,
                            "published": v.published.isoformat(),
                            "effective": v.effective.isoformat(),
                            "significance": v.significance.value,
                            "summary": v.summary,
                            "title": v.title,
                            "sha256": v.sha256,
                            "text": v.text,
                        }
                        for v in policy.versions
                        if v.number in numbers
                    ],
                }
            ]
        }
        self.call("POST", "/v1/admin/versions", json=body)


@pytest.fixture(scope="module")
def tracker() -> Iterator[Tracker]:
    with tempfile.TemporaryDirectory() as folder:
        found = Tracker(Path(folder))
        try:
            yield found
        finally:
            found.close()


def site_answers(policy: Policy, day: date) -> dict[str, Any]:
    """What every published artefact of the site says of the policy on ``day``."""
    plan = site.plan(
        Catalog({policy.slug: policy}, "0" * 40), day, drafts=False, index_page="index.md"
    )
    view = plan.views[0]
    builder = PageBuilder(plan, banner_days=14, feed=True, redlines=Redlines())

    def page(uri: str) -> str:
        spec = plan.pages[uri]
        html = builder.decorate(spec, f"<h1>{spec.title}</h1>", lambda u: u, lambda u: u)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    doc = versions.build(plan, lambda u: u, site_url=None)["policies"][0]
    atom = ET.fromstring(feed.build(plan, lambda u: u, site_name="S", site_url=None))
    contents = {
        int(m.group(1)): e.findtext("{http://www.w3.org/2005/Atom}content") or ""
        for e in atom.iter("{http://www.w3.org/2005/Atom}entry")
        if (
            m := re.search(r"version (\d+)", e.findtext("{http://www.w3.org/2005/Atom}title") or "")
        )
    }
    current_page = page(site.current_uri(policy.slug))
    index = page("index.md")
    history = page(site.history_uri(policy.slug))
    return {
        "view_states": [view.status(v).value for v in policy.versions],
        "view_current": view.current.number if view.current else None,
        "view_upcoming": [v.number for v in view.upcoming],
        "json_states": [v["status"] for v in doc["versions"]],
        "json_current": doc["current_version"],
        "json_upcoming": doc["upcoming_versions"],
        "json_overtaken_by": [v["overtaken_by"] for v in doc["versions"]],
        "banner_upcoming": [
            int(n) for n in re.findall(r"Version (\d+) takes effect on", current_page)
        ],
        "index_upcoming": [int(n) for n in re.findall(r"version (\d+) , effective", index)],
        "history_overtaken": [
            int(n) for n in re.findall(r"never \(replaced by version (\d+)", history)
        ],
        "version_pages_overtaken_by": [
            int(m.group(1))
            if (
                m := re.search(
                    r"Never took effect: replaced by version (\d+)",
                    page(site.version_uri(policy.slug, v.number)),
                )
            )
            else None
            for v in policy.versions
        ],
        "feed_overtaken_by": {
            n: int(m.group(1)) if (m := re.search(r"replaced by version (\d+)", text)) else None
            for n, text in contents.items()
        },
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=steps,
    rest=st.lists(steps, min_size=1, max_size=4),
    notice_days=st.sampled_from([0, 7, 30]),
    offset=st.integers(-1, 90),
)
def test_every_answer_agrees_on_every_day(
    tracker: Tracker, first: Step, rest: list[Step], notice_days: int, offset: int
) -> None:
    slug = f"p{uuid.uuid4().hex[:10]}"
    policy = history(slug, first, rest, notice_days)
    ref = Reference(policy)
    day = START.date() + timedelta(days=offset)
    numbers = [v.number for v in policy.versions]

    # The site: every page and file.
    answers = site_answers(policy, day)
    states = [ref.state(n, day) for n in numbers]
    upcoming = ref.upcoming(day)
    overtaken_by = [ref.replaced_by(n) for n in numbers]
    assert answers["view_states"] == states
    assert answers["json_states"] == states
    assert answers["view_current"] == answers["json_current"] == ref.in_force(day)
    assert answers["view_upcoming"] == answers["json_upcoming"] == upcoming
    assert answers["json_overtaken_by"] == overtaken_by
    assert answers["version_pages_overtaken_by"] == overtaken_by
    assert answers["history_overtaken"] == [b for b in reversed(overtaken_by) if b is not None]
    if ref.in_force(day) is not None:
        assert answers["banner_upcoming"] == upcoming
        assert answers["index_upcoming"] == upcoming
    for n, by in answers["feed_overtaken_by"].items():
        assert by == overtaken_by[n - 1]

    # The tracker: a user accepts version 1, then the rest is published (the fan-out
    # gives notices); status, notices and the hosted page are read on ``day``.
    tracker.clock.now = datetime.combine(day, START.timetz())
    tracker.publish(policy, range(1, 2))
    user = f"u-{slug}"
    tracker.call("POST", "/v1/acceptances", json={"user_id": user, "policy": slug, "version": 1})
    tracker.publish(policy, range(2, len(numbers) + 1))
    status = tracker.call("GET", f"/v1/users/{user}/status?policy={slug}")["policies"][0]
    assert status["current_version"] == ref.in_force(day)
    assert (status["upcoming"] or {}).get("version") == (upcoming[0] if upcoming else None)
    accept_by = ref.accept_by(1)
    assert status["accept_by"] == (accept_by.isoformat() if accept_by else None)
    in_force = ref.in_force(day)
    must = accept_by is not None and accept_by <= day and in_force is not None
    assert status["state"] == ("major_change" if must else "accepted")
    assert status["needs_acceptance"] is must
    for notice in status["notices"]:
        governs = ref.governs_from(notice["to_version"])
        assert notice["effective"] == (governs.isoformat() if governs else None)

    # The hosted page asks for the version in force exactly when status says so.
    link = tracker.call(
        "POST",
        "/v1/acceptance-links",
        key=tracker.app_key,
        json={"user_id": user, "return_url": RETURN, "policies": [slug]},
    )
    page = tracker.client.get(str(link["url"]).removeprefix("http://testserver"))
    assert page.status_code == 200, page.text
    fields = read_form(page.text).fields
    if must:
        assert ("policy", slug) in fields and ("version", str(in_force)) in fields
    else:
        assert "nothing for you to accept" in page.text


def test_a_german_source_is_german_on_the_site_and_in_the_tracker(
    tracker: Tracker, tmp_path: Path
) -> None:
    """A policy written in German (``language: de``) with English and French texts, posted as
    CI posts the site's versions.json: the tracker stores the language the site gives it, and
    status in each language of the site's switcher points at that language's page, which
    says it is in that language (the source's own language: no translation, the source is
    the text)."""
    repo = german_repo(tmp_path / "repo", start=START)
    catalog = read_catalog(repo.path, classify=suggest)
    day = START.date() + timedelta(days=5)
    tracker.clock.now = datetime.combine(day, START.timetz())
    tracker.call("POST", "/v1/admin/versions", json=publish_document(catalog, day))

    plan = site.plan(catalog, day, drafts=False, index_page="index.md")
    (view,) = plan.views
    (on_site,) = versions.build(plan, lambda u: u, site_url=None)["policies"]
    (stored,) = [
        p for p in tracker.call("GET", "/v1/policies")["policies"] if p["slug"] == "privacy"
    ]
    assert on_site["language"] == stored["language"] == view.source_language == "de"
    assert [(a.language, a.source) for a in view.alternates] == [
        ("de", True),
        ("en", False),
        ("fr", False),
    ]
    for alternate in view.alternates:
        # the site's page in that language says it is in it
        spec = plan.pages[site.current_uri(alternate.slug)]
        head = languages_in_head('<html lang="en"><head></head>', spec, lambda u: u)
        assert f'<html lang="{alternate.language}"' in head
        answer = tracker.call(
            "GET", f"/v1/users/reader/status?policy=privacy&locale={alternate.language}"
        )
        translation = answer["policies"][0]["translation"]
        if alternate.source:
            assert translation is None
        else:
            page = site.current_uri(alternate.slug).removesuffix(".md") + "/"
            assert translation["language"] == alternate.language
            assert translation["url"].endswith("/" + page)
