"""Calendar dates in the publisher's time zone (plugin option ``timezone``).

A version's instant stays UTC (``versions.json`` and the feed's timestamps say so); the day
a reader sees ("Last updated", "Published", "Effective", the feed's "Effective …") is the
day in the zone the publisher names. An effective date that the reader worked out from the
publication (the day itself, or a notice period after it) moves with it; one an editor
declared (``Policy-Effective``) is a calendar date already and stays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.policy import Catalog, Policy, Version


def resolve_zone(name: str, *, where: str = "plugin option 'timezone'") -> ZoneInfo:
    """The zone of an IANA name, or a one-line error."""
    try:
        if not name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{where}: unknown time zone {name!r}; use an IANA name such as "
            "Europe/Paris or America/Los_Angeles (default UTC)"
        ) from None


def localise(catalog: Catalog, zone: ZoneInfo) -> Catalog:
    """``catalog`` with each version's instant in ``zone`` (same instant, local calendar)."""
    if zone.key == "UTC":
        return catalog
    policies = {slug: _policy(p, zone) for slug, p in catalog.policies.items()}
    return replace(catalog, policies=policies)


def _policy(policy: Policy, zone: ZoneInfo) -> Policy:
    worked_out = {0, policy.settings.notice_days}
    gaps = tuple(
        replace(
            gap,
            withdrawn=gap.withdrawn.astimezone(zone),
            restored=gap.restored.astimezone(zone) if gap.restored else None,
        )
        for gap in policy.gaps
    )
    versions = tuple(_version(v, zone, worked_out) for v in policy.versions)
    return replace(policy, versions=versions, gaps=gaps)


def _version(version: Version, zone: ZoneInfo, worked_out: set[int]) -> Version:
    utc_day = version.published.astimezone(UTC).date()
    local = version.published.astimezone(zone)
    shift = local.date() - utc_day
    effective = version.effective
    if shift and (effective - utc_day).days in worked_out:
        effective = effective + shift
    return replace(version, published=local, effective=effective)
