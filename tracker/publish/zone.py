"""Calendar dates in the publisher's time zone (plugin option ``timezone``).

A version's instant stays UTC (``versions.json`` and the feed's timestamps say so); the day
a reader sees ("Last updated", "Published", "Effective", the feed's "Effective …") is the
day in the zone the publisher names. The history is read in that zone
(``read_catalog(zone=…)``, as the tracker reads it with ``POLICY_TRACKER_TIMEZONE``), so an
effective date worked out from the publication (the day itself, or a notice period after
it) is already a day there; one an editor declared (``Policy-Effective``) is a calendar date
and stays. Here the instants are shown in the zone.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from tracker.policy import Catalog, Policy
from tracker.settings import resolve_zone

__all__ = ["localise", "resolve_zone"]


def localise(catalog: Catalog, zone: ZoneInfo) -> Catalog:
    """``catalog`` with each version's instant in ``zone`` (same instant, local calendar)."""
    if zone.key == "UTC":
        return catalog
    policies = {slug: _policy(p, zone) for slug, p in catalog.policies.items()}
    return replace(catalog, policies=policies)


def _policy(policy: Policy, zone: ZoneInfo) -> Policy:
    gaps = tuple(
        replace(
            gap,
            withdrawn=gap.withdrawn.astimezone(zone),
            restored=gap.restored.astimezone(zone) if gap.restored else None,
        )
        for gap in policy.gaps
    )
    versions = tuple(replace(v, published=v.published.astimezone(zone)) for v in policy.versions)
    return replace(policy, versions=versions, gaps=gaps)
