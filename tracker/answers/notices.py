"""A notice as the API answers it (plain data: ids resolved through the catalog snapshot),
from a ``NoticeRow`` or a row of the pending-notices lookup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker.languages import english_name, serving_language
from tracker.store.catalog import Snapshot
from tracker.store.notices import SIGNIFICANT, NoticeRow
from tracker.store.status import utc


def translation_url(site_url: str, language: str, slug: str, number: int) -> str:
    """The page of version ``number`` of a policy's translation into ``language``."""
    return f"{site_url.rstrip('/')}/{language}/{slug}/v{number}/"


def redline_url(site_url: str, slug: str, old: int, new: int) -> str:
    """The site's redline page from version ``old`` to ``new`` (root-relative without a site)."""
    return f"{site_url.rstrip('/')}/{slug}/changes/{old}-{new}/"


def translated_redline(
    snapshot: Snapshot, policy_id: int, old: int, new: int, locale: str, site_url: str
) -> dict[str, Any] | None:
    """A notice's redline in the user's language: the language of ``locale`` the policy has
    a translation in (None when it has none), the redline between its texts of versions
    ``old`` and ``new`` on the site, or null and a note saying why there is none and that
    ``redline_url`` (the source's, named by its language) is the one to follow. None too when
    the source serves ``locale`` (it is in that language). A withdrawn text is not offered, as
    in status (``tracker.service.localised``): a language still translated serves ``locale``
    first; when only a withdrawn one does, it has no redline and the note says so."""
    policy = snapshot.policy_by_id(policy_id)
    source = policy.language
    by_language = snapshot.translations.get(policy_id, {})
    live = [tag for tag, texts in by_language.items() if texts[-1].withdrawn_at is None]
    language = serving_language(live, locale, source)
    if language is None:
        language = serving_language(by_language, locale, source)
        if language is None:
            return None
        why = f"the {english_name(language)} text was withdrawn"
        return _no_redline(language, source, old, new, why)
    texts = by_language[language]
    before = [t for t in texts if t.translates == old]
    after = [t for t in texts if t.translates == new]
    a, b = (before[-1].number if before else None), (after[-1].number if after else None)
    # The site builds a translation's redlines between consecutive versions and from each
    # to its latest (tracker.publish.site.PolicyView.redline_pairs).
    if a is not None and b is not None and a < b and (b == a + 1 or b == texts[-1].number):
        url = f"{site_url.rstrip('/')}/{language}/{policy.slug}/changes/{a}-{b}/"
        return {"language": language, "redline_url": url, "note": None}
    name = english_name(language)
    if b is None:
        why = f"the {name} text has not been updated to version {new} yet"
    elif a is None:
        why = f"there is no {name} text of version {old}"
    else:
        why = f"the site has no {name} redline between these texts"
    return _no_redline(language, source, old, new, why)


def _no_redline(language: str, source: str, old: int, new: int, why: str) -> dict[str, Any]:
    """A notice's translation without a redline in ``language``: the note says ``why``, and
    that the redline linked is the source's, in ``source``'s language."""
    note = (
        f"No {english_name(language)} redline from version {old} to version {new}: {why}; "
        f"the {english_name(source)} redline is linked (redline_url)."
    )
    return {"language": language, "redline_url": None, "note": note}


def notice_state(row: NoticeRow) -> str:
    if row.acknowledged_at is not None:
        return "acknowledged"
    return row.closed_reason or "pending"


def notice_dict(row: NoticeRow, snapshot: Snapshot, site_url: str = "") -> dict[str, Any]:
    return _notice_dict(
        snapshot,
        site_url,
        (row.id, row.user_id, row.policy_id, row.from_version_id, row.to_version_id),
        row.significance,
        row.acceptance_required,
        notice_state(row),
        row.created_at,
        row.acknowledged_at,
        row.acknowledged_by,
    )


def _notice_dict(
    snapshot: Snapshot,
    site_url: str,
    ids: tuple[int, str, int, int, int],
    significance: str,
    acceptance_required: bool,
    state: str,
    created_at: datetime,
    acknowledged_at: datetime | None = None,
    acknowledged_by: int | None = None,
) -> dict[str, Any]:
    notice_id, user_id, policy_id, from_version_id, to_version_id = ids
    policy = snapshot.policy_by_id(policy_id)
    old = snapshot.version_by_id(from_version_id)
    new = snapshot.version_by_id(to_version_id)
    covered = [
        v
        for v in policy.versions
        if old.number < v.number <= new.number and v.significance in SIGNIFICANT and v.summary
    ]
    return {
        "id": notice_id,
        "user_id": user_id,
        "policy": policy.slug,
        "title": policy.title,
        "from_version": old.number,
        "to_version": new.number,
        "significance": significance,
        "summary": "; ".join(v.summary for v in covered),
        "effective": policy.takes_effect(new).isoformat(),
        "acceptance_required": acceptance_required,
        "redline_url": redline_url(site_url, policy.slug, old.number, new.number),
        "state": state,
        "created_at": created_at.isoformat(),
        "acknowledged_at": acknowledged_at.isoformat() if acknowledged_at else None,
        "acknowledged_by": acknowledged_by,
    }


def pending_dict(snapshot: Snapshot, site_url: str, row: Sequence[Any]) -> dict[str, Any]:
    """A pending notice from a row of ``pending_sql``'s columns."""
    nid, uid, pid, from_v, to_v, sig, required, created = row
    ids = (nid, uid, pid, from_v, to_v)
    return _notice_dict(snapshot, site_url, ids, sig, bool(required), "pending", utc(created))
