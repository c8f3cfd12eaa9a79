"""The readable half of an evidence bundle, checked against its chained half.

Each record of a bundle carries ``event``, what the HTML page shows (type, policy, version,
time, IP address, user agent…), beside the chained fields that the hashes prove. Every
readable value that repeats a chained one must equal it. Policy names and version numbers
are not in the chain (it holds ids and the text's SHA-256): they are checked against the
``versions[]`` entry of that SHA-256 and against each other (one name per policy id), so an
edited label shows unless every copy of it was edited alike. A notice's acknowledgement is
checked against the chained ``notice_ack`` record of the same notice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker.chain.canonical import rfc3339
from tracker.chain.records import ChainRecord

# (readable key of an event, chained data key) of what an event record repeats in clear.
_DATA = (
    ("type", "kind"),
    ("sha256", "version_sha256"),
    ("method", "method"),
    ("api_key_id", "api_key_id"),
    ("locale", "locale"),
)
_PERSONAL = ("user_id", "ip", "user_agent", "context")


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (``1``, ``1.0`` and ``True`` differ)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _instant(value: Any) -> str | None:
    """A readable time (ISO 8601 with an offset) in the chain's form, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return rfc3339(parsed) if parsed.tzinfo is not None else None


class Labels:
    """The policy name shown for each policy id; the first one seen is the reference."""

    def __init__(self) -> None:
        self.names: dict[Any, tuple[str, Any]] = {}

    def check(self, policy_id: Any, name: Any, where: str) -> str | None:
        seen = self.names.setdefault(policy_id, (where, name))
        if _same(seen[1], name):
            return None
        return f"{where} shows policy {name!r}, but {seen[0]} of the same policy shows {seen[1]!r}"


def check(data: dict[str, Any], records: Sequence[ChainRecord]) -> tuple[list[str], int]:
    """The bundle's readable fields that differ from what its records chain (``records``
    parsed from ``data["records"]``, in the same order); and how many acknowledged notices
    no chained record proves."""
    problems = _versions(data["versions"], data.get("site_url"))
    by_sha: dict[Any, list[dict[str, Any]]] = {}
    for v in data["versions"]:
        by_sha.setdefault(v.get("sha256"), []).append(v)
    labels = Labels()
    acks: dict[Any, ChainRecord] = {}
    for raw, r in zip(data["records"], records, strict=True):
        shown = raw.get("event")
        where = f"record {r.seq}"
        if not isinstance(shown, dict):
            problems.append(f"{where}: its readable event is missing")
        elif r.type == "event":
            problems.extend(_event(where, shown, r, by_sha, labels))
        elif not _same(shown, {"type": r.type, **r.data}):
            problems.append(f"{where}: its readable entry differs from the chained one")
        if r.type == "notice_ack":
            acks[r.data.get("notice_id")] = r
    unproven = _notices(data.get("notices"), data["user_id"], acks, labels, problems)
    return problems, unproven


def _event(
    where: str,
    shown: dict[str, Any],
    r: ChainRecord,
    by_sha: dict[Any, list[dict[str, Any]]],
    labels: Labels,
) -> list[str]:
    out = []
    for key, chained in _DATA:
        if not _same(shown.get(key), r.data.get(chained)):
            out.append(
                f"{where}: the readable {key} {shown.get(key)!r} is not the chained "
                f"{r.data.get(chained)!r}"
            )
    for key in _PERSONAL:
        if not _same(shown.get(key), r.personal.get(key)):
            out.append(f"{where}: the readable {key} is not the chained one")
    if _instant(shown.get("recorded_at")) != r.data.get("recorded_at"):
        out.append(
            f"{where}: the readable time {shown.get('recorded_at')!r} is not the chained "
            f"{r.data.get('recorded_at')!r}"
        )
    policy, number = shown.get("policy"), shown.get("version")
    sha = r.data.get("version_sha256")
    if sha is None and number is not None:
        out.append(f"{where}: shows version {number!r}, but no version is chained")
    entries = by_sha.get(sha, []) if sha is not None else []
    if entries and not any(
        _same(v.get("policy"), policy) and _same(v.get("version"), number) for v in entries
    ):
        v = entries[0]
        out.append(
            f"{where}: shows {policy!r} version {number!r}, but the text it names is "
            f"{v.get('policy')!r} version {v.get('version')!r} in versions[]"
        )
    problem = labels.check(r.data.get("policy_id"), policy, where)
    if problem:
        out.append(problem)
    return out


def _versions(versions: list[dict[str, Any]], site_url: Any) -> list[str]:
    """Each entry's label well-formed and its URL the one of its label; one text a label."""
    out = []
    texts: dict[tuple[Any, ...], tuple[int, Any]] = {}
    for i, v in enumerate(versions):
        policy, number = v.get("policy"), v.get("version")
        if not isinstance(policy, str) or not isinstance(number, int) or isinstance(number, bool):
            out.append(f"versions[{i}]: policy must be a name and version a number")
            continue
        label = (policy, number)
        first = texts.setdefault(label, (i, v.get("sha256")))
        if first[1] != v.get("sha256"):
            out.append(
                f"versions[{first[0]}] and versions[{i}] give {policy} version {number} "
                "different texts"
            )
        url = v.get("url")
        if url is not None and isinstance(site_url, str):
            expected = f"{site_url.rstrip('/')}/{policy}/v{number}/"
            if url != expected:
                out.append(f"versions[{i}]: its url {url!r} is not {expected!r}")
    return out


def _notices(
    notices: Any,
    user_id: str,
    acks: dict[Any, ChainRecord],
    labels: Labels,
    problems: list[str],
) -> int:
    """Check the notices against the chained acknowledgements; how many are unproven."""
    if notices is None:
        notices = []
    if not isinstance(notices, list) or not all(isinstance(n, dict) for n in notices):
        problems.append("the bundle's notices are not a list of objects")
        return 0
    by_id = {n.get("id"): n for n in notices}
    unproven = 0
    for i, n in enumerate(notices):
        where = f"notices[{i}]"
        if n.get("user_id") != user_id:
            problems.append(f"{where} belongs to another user")
        r = acks.get(n.get("id"))
        if r is None:
            if n.get("acknowledged_at") is not None:
                unproven += 1
            continue
        if _instant(n.get("acknowledged_at")) != r.data.get("acknowledged_at"):
            problems.append(
                f"{where}: acknowledged at {n.get('acknowledged_at')!r}, but record {r.seq} "
                f"chains {r.data.get('acknowledged_at')!r}"
            )
        if not _same(n.get("acknowledged_by"), r.data.get("api_key_id")):
            problems.append(
                f"{where}: acknowledged by key {n.get('acknowledged_by')!r}, but record "
                f"{r.seq} chains {r.data.get('api_key_id')!r}"
            )
        problem = labels.check(r.data.get("policy_id"), n.get("policy"), where)
        if problem:
            problems.append(problem)
    for notice_id, r in acks.items():
        if notice_id not in by_id:
            problems.append(
                f"record {r.seq} acknowledges notice {notice_id!r}, which is not in the notices"
            )
    return unproven
