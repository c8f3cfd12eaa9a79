"""Building publish payloads and a controllable clock for service tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.policy import normalise_text, sha256_text

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def version(
    number: int,
    significance: str = "minor",
    *,
    effective: date | None = None,
    published: datetime | None = None,
    body: str | None = None,
    title: str = "Privacy Policy",
    summary: str = "",
) -> dict[str, Any]:
    published = published or T0 - timedelta(days=100 - number)
    text = normalise_text(title, body if body is not None else f"Version {number} text.\n")
    return {
        "number": number,
        "commit": f"{number:040x}",
        "published": published.isoformat(),
        "effective": (effective or published.date()).isoformat(),
        "significance": significance,
        "summary": summary or f"v{number}",
        "title": title,
        "sha256": sha256_text(text),
        "text": text,
    }


def policy(slug: str, *versions: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": settings.pop("title", slug.title()),
        "versions": list(versions),
        **settings,
    }


def payload(*policies: dict[str, Any]) -> dict[str, Any]:
    return {"policies": list(policies)}
