"""A user's status as the API answers it: must this user (re-)accept each policy?

``policy_status`` holds the rules (see docs/api.md); ``StatusEncoder`` writes the bytes the
status endpoints send, from the consent and pending-notice rows ``tracker.store.status``
reads (the routed endpoints and both fast paths alike, so they send the same bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tracker.answers.notices import pending_dict
from tracker.store.catalog import PolicyInfo, Snapshot
from tracker.store.notices import pending_notices
from tracker.store.status import (
    Consent,
    ConsentTuple,
    IsoConsent,
    PendingRow,
    PostgresRead,
    consent_rows,
    driver_cursor,
    one_user_rows_sqlite,
    utc,
)


def policy_status(
    policy: PolicyInfo, consent: Consent, today: date, snapshot: Snapshot
) -> dict[str, Any]:
    """The status answer for one policy (see docs/api.md for the rules)."""
    line = policy.timeline(today)
    current = policy.versions[line.current - 1] if line.current is not None else None
    # The next version to take effect (of several due the same day, the one that governs;
    # never one a later version overtakes: it never takes effect).
    upcoming = policy.versions[line.next_up - 1] if line.next_up is not None else None
    accepted = (
        snapshot.version_by_id(consent.accepted_version_id)
        if consent.accepted_version_id is not None
        else None
    )
    accepted_number = accepted.number if accepted is not None else None
    needs: bool
    accept_by: date | None = None
    if consent.last_kind in ("declined", "withdrawn"):
        state, needs = consent.last_kind, True
    elif accepted_number is None:
        state, needs = "never_accepted", True
    else:
        majors = [
            v for v in policy.versions if v.number > accepted_number and v.significance == "major"
        ]
        # A major change comes into force with its version or with a later one that
        # overtakes it; the first such day, whichever major version sets it, is the deadline.
        if majors:
            accept_by = min(line.takes_effect(v.number) for v in majors)
        if accept_by is not None and accept_by <= today:
            state, needs = "major_change", True
        else:
            state, needs = "accepted", False
    if current is None or not policy.acceptance_required or policy.withdrawn:
        needs = False
    return {
        "policy": policy.slug,
        "title": policy.title,
        "acceptance_required": policy.acceptance_required,
        "current_version": current.number if current else None,
        "accepted_version": accepted_number,
        "accepted_at": consent.accepted_at.isoformat() if consent.accepted_at else None,
        "state": state,
        "needs_acceptance": needs,
        "accept_by": accept_by.isoformat() if accept_by else None,
        "upcoming": (
            {
                "version": upcoming.number,
                "significance": upcoming.significance,
                "effective": upcoming.effective_on.isoformat(),
                "summary": upcoming.summary,
            }
            if upcoming
            else None
        ),
    }


def iso_utc(value: datetime | str | None) -> str | None:
    """``accepted_at`` as the driver gives it → ``datetime.isoformat()`` of it in UTC.

    SQLite's text (SQLAlchemy's storage format, naive UTC, microseconds always written) is
    rewritten without a ``datetime``: a batch formats tens of thousands of them.
    """
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        fraction = "" if value.endswith("000000") else value[19:]
        return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
    at = utc(value)
    return at.isoformat() if at is not None else None


_Parts = tuple[bytes, bytes]


@dataclass(frozen=True)
class InLocale:
    """What status in a reader's language (``?locale=``, ``tracker.service.localised``) adds
    to an answer, encoded once per catalog, day, locale and site: each policy's
    ``translation`` (the bytes that close its status, by policy id), each pending notice's
    (``redline``: from the policy id and the notice's two version numbers) and the answer's
    ``locale`` (the bytes that close it). The answer is the one without a locale with
    these keys added last, as ``orjson`` would write that object."""

    translations: dict[int, bytes]
    redline: Callable[[int, int, int], dict[str, Any] | None]
    end: bytes

    def closing(self, policy_id: int) -> bytes:
        return self.translations.get(policy_id, b',"translation":null}')


def in_locale(
    locale: str,
    translations: dict[int, dict[str, Any] | None],
    redline: Callable[[int, int, int], dict[str, Any] | None],
) -> InLocale:
    """``InLocale`` from each policy's translation (by policy id)."""
    closing = {pid: b',"translation":' + orjson.dumps(t) + b"}" for pid, t in translations.items()}
    return InLocale(closing, redline, b'],"locale":' + orjson.dumps(locale) + b"}")


class StatusEncoder:
    """Status answers as JSON (what the API sends), for one catalog snapshot and day.

    Users in the same situation share one answer but for ``accepted_at`` and ``notices``,
    so each (policy, situation) is encoded once, as the bytes before and after
    ``accepted_at``; an answer costs a few byte-string joins per user and policy. Only the
    catalog is memoised here: consents and notices are read for every answer.
    """

    def __init__(self, snapshot: Snapshot, today: date, site_url: str = ""):
        self.snapshot = snapshot
        self.today = today
        self.site_url = site_url
        self.seen: dict[tuple[int, str | None, int | None, int | None], _Parts] = {}
        #: The policies a status answer lists: those with at least one version.
        self.listed = [p for p in snapshot.policies if p.versions]

    def notices(
        self, rows: Sequence[PendingRow], locale: InLocale | None = None
    ) -> list[dict[str, Any]]:
        """Pending notices as the answer gives them, from the store's rows (in a locale,
        each with its redline in that language)."""
        found = [pending_dict(self.snapshot, self.site_url, row) for row in rows]
        if locale is not None:
            for row, notice in zip(rows, found, strict=True):
                span = (row[2], notice["from_version"], notice["to_version"])
                notice["translation"] = locale.redline(*span)
        return found

    def parts(
        self, policy: PolicyInfo, kind: str | None, last: int | None, acc: int | None
    ) -> _Parts:
        key = (policy.id, kind, last, acc)
        found = self.seen.get(key)
        if found is None:
            answer = policy_status(
                policy, Consent(kind, last, acc, None), self.today, self.snapshot
            )
            keys = list(answer)
            cut = keys.index("accepted_at")
            head = orjson.dumps({k: answer[k] for k in keys[:cut]})
            tail = orjson.dumps({k: answer[k] for k in keys[cut + 1 :]})
            found = (head[:-1] + b',"accepted_at":', b"," + tail[1:-1] + b',"notices":')
            self.seen[key] = found
        return found

    def user(
        self,
        user_id: str,
        policies: Sequence[PolicyInfo],
        consents: dict[tuple[str, int], ConsentTuple],
        pending: dict[tuple[str, int], list[dict[str, Any]]],
        locale: InLocale | None = None,
    ) -> bytes:
        """``{"user_id": …, "policies": [status, …]}`` of one user."""
        out = [b'{"user_id":', orjson.dumps(user_id), b',"policies":[']
        seen = self.seen
        sep = b""
        for p in policies:
            key = (user_id, p.id)
            row = consents.get(key)
            if row is None:
                kind = last = acc = accepted_at = None
            else:
                kind, last, acc, accepted_at = row
            parts = seen.get((p.id, kind, last, acc)) or self.parts(p, kind, last, acc)
            text = iso_utc(accepted_at) if accepted_at is not None else None
            at = b"null" if text is None else f'"{text}"'.encode()
            notices = pending.get(key) if pending else None
            close = b"}" if locale is None else locale.closing(p.id)
            end = orjson.dumps(notices) + close if notices else b"[]" + close
            out += (sep, parts[0], at, parts[1], end)
            sep = b","
        out.append(b"]}" if locale is None else locale.end)
        return b"".join(out)

    def users(
        self,
        user_ids: Sequence[str],
        policies: Sequence[PolicyInfo],
        consents: dict[str, dict[int, IsoConsent]],
        pending: dict[str, dict[int, list[dict[str, Any]]]],
        locale: InLocale | None = None,
    ) -> list[bytes]:
        """``user`` of many users, from consents grouped by user whose ``accepted_at`` is
        already its JSON string (as ``sql_postgresql.STATUS_READ`` gives it): a batch's hot
        loop, where a policy the user has no row and no notice for is one constant piece."""
        seen = self.seen
        blank: list[tuple[PolicyInfo, bytes, bytes]] = []
        for p in policies:
            head, tail = self.parts(p, None, None, None)
            close = b"}" if locale is None else locale.closing(p.id)
            blank.append((p, close, head + b"null" + tail + b"[]" + close))
        finish = b"]}" if locale is None else locale.end
        nobody = b",".join(piece for _, _, piece in blank) + finish
        dumps = orjson.dumps
        out: list[bytes] = []
        for uid in user_ids:
            start = b'{"user_id":' + dumps(uid) + b',"policies":['
            rows = consents.get(uid)
            notes = pending.get(uid)
            if rows is None and notes is None:
                out.append(start + nobody)
                continue
            pieces = []
            for p, close, empty in blank:
                row = rows.get(p.id) if rows is not None else None
                notices = notes.get(p.id) if notes is not None else None
                if row is None:
                    if not notices:
                        pieces.append(empty)
                        continue
                    kind = last = acc = at = None
                else:
                    kind, last, acc, at = row
                head, tail = seen.get((p.id, kind, last, acc)) or self.parts(p, kind, last, acc)
                end = dumps(notices) + close if notices else b"[]" + close
                pieces.append(head + (b"null" if at is None else at.encode()) + tail + end)
            out.append(start + b",".join(pieces) + finish)
        return out


_encoder: StatusEncoder | None = None


def encoder_for(snapshot: Snapshot, today: date, site_url: str = "") -> StatusEncoder:
    """The encoder of this snapshot and day, kept until either changes."""
    global _encoder
    found = _encoder
    if (
        found is None
        or found.snapshot is not snapshot
        or found.today != today
        or found.site_url != site_url
    ):
        found = _encoder = StatusEncoder(snapshot, today, site_url)
    return found


def user_statuses(
    session: Session,
    snapshot: Snapshot,
    user_ids: Sequence[str],
    today: date,
    policy: PolicyInfo | None = None,
    site_url: str = "",
    locale: InLocale | None = None,
) -> list[bytes]:
    """``{user_id, policies: [status, …]}`` for each user, in the order given, as JSON.

    Each policy's status carries the user's pending ``notices`` (``tracker.store.notices``).
    Both are read in the session's transaction, so they agree with each other. In a
    ``locale``, each policy and notice also carries its ``translation``.
    """
    if not user_ids:
        return []
    policy_id = policy.id if policy else None
    with driver_cursor(session) as (cursor, dialect):
        consents = consent_rows(cursor, dialect, user_ids, policy_id)
        rows = pending_notices(cursor, dialect, user_ids, policy_id)
    encoder = encoder_for(snapshot, today, site_url)
    pending = {key: encoder.notices(found, locale) for key, found in rows.items()}
    policies = [policy] if policy else encoder.listed
    return [encoder.user(uid, policies, consents, pending, locale) for uid in user_ids]


def one_user_status_sqlite(
    cursor: Any,
    snapshot: Snapshot,
    user_id: str,
    today: date,
    policy: PolicyInfo | None = None,
    site_url: str = "",
    locale: InLocale | None = None,
) -> bytes:
    """``user_statuses`` of one user on SQLite, in a single statement outside any
    transaction (an autocommit ``cursor``): the same answer in fewer round trips."""
    consents, rows = one_user_rows_sqlite(cursor, user_id, policy.id if policy else None)
    encoder = encoder_for(snapshot, today, site_url)
    pending = {key: encoder.notices(found, locale) for key, found in rows.items()}
    listed = [policy] if policy else encoder.listed
    return encoder.user(user_id, listed, consents, pending, locale)


def postgres_statuses(
    encoder: StatusEncoder,
    found: PostgresRead,
    user_ids: Sequence[str],
    policy: PolicyInfo | None,
    locale: InLocale | None = None,
) -> list[bytes]:
    """``user_statuses`` from what one ``sql_postgresql.STATUS_READ`` statement found. A
    row naming a version the snapshot does not know raises ``StaleCatalog``."""
    notices = encoder.notices
    pending = {
        uid: {pid: notices(rows, locale) for pid, rows in by.items()}
        for uid, by in found.pending.items()
    }
    listed = [policy] if policy is not None else encoder.listed
    return encoder.users(user_ids, listed, found.consents, pending, locale)
