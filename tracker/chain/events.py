"""An event row's place in the chain: what of it is hashed, and its record read back.

``event_data`` and ``event_bytes`` give the bytes an event's hash covers (the writer in
``tracker.store.chain`` and the sealer in ``tracker.store.sealer`` use them);
``event_record`` turns a row of the chain's event columns back into a record to verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.chain.canonical import body, event_body, rfc3339
from tracker.chain.records import ChainRecord


def event_data(values: Mapping[Any, Any], sha256: str | None) -> dict[str, Any]:
    """What of an event (its row's columns by name) is hashed in clear (personal fields are
    committed to instead)."""
    return _with_translation(
        {
            "kind": values["kind"],
            "policy_id": values["policy_id"],
            "version_id": values["version_id"],
            "version_sha256": sha256,
            "method": values["method"],
            "api_key_id": values["api_key_id"],
            "locale": values["locale"],
            "recorded_at": rfc3339(values["created_at"]),
        },
        values.get("translation_version_id"),
        values.get("translation_sha256"),
    )


def _with_translation(data: dict[str, Any], tid: Any, sha256: Any) -> dict[str, Any]:
    """An event bound to a text in the user's language also hashes which one (the version
    of the translation) and its SHA-256; any other event has neither key, so events written
    before translations existed hash as they did."""
    if tid is not None or sha256 is not None:
        data["translation_version_id"] = tid
        data["translation_sha256"] = sha256
    return data


def event_bytes(seq: int, data: dict[str, Any], commits: Mapping[str, Any]) -> bytes:
    """The canonical body of an event record (``canonical.body``), formatted directly when
    its values have the usual types (always, for rows the tracker wrote)."""
    try:
        return event_body(seq, commits, **data)
    except TypeError:
        return body(seq, "event", data, commits)


def event_record(r: Any, shas: dict[int, str]) -> ChainRecord:
    """A chain record from a row of ``tracker.store.chain.EVENT_COLUMNS``."""
    salts = {}
    for name, salt in (
        ("user_id", r[15]),
        ("ip", r[16]),
        ("user_agent", r[17]),
        ("context", r[18]),
    ):
        if salt is not None:
            salts[name] = salt
    return ChainRecord(
        seq=r[0],
        type="event",
        data=_with_translation(
            {
                "kind": r[4],
                "policy_id": r[5],
                "version_id": r[6],
                "version_sha256": shas.get(r[6]) if r[6] is not None else None,
                "method": r[7],
                "api_key_id": r[8],
                "locale": r[9],
                "recorded_at": rfc3339(r[10]),
            },
            r[19],
            r[20],
        ),
        commitments=r[3] or {},
        prev_hash=r[1],
        hash=r[2],
        personal={"user_id": r[11], "ip": r[12], "user_agent": r[13], "context": r[14]},
        salts=salts,
    )
