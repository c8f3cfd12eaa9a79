"""Random chains for property tests (pure: no database)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tracker.chain.canonical import rfc3339
from tracker.chain.records import GENESIS, ChainRecord, make, seal

T0 = datetime(2025, 1, 1, tzinfo=UTC)

texts = st.text(min_size=1, max_size=12)
context = st.none() | st.dictionaries(
    st.text(max_size=5),
    st.integers()
    | st.text(max_size=5)
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False),
    max_size=3,
)
event_data = st.fixed_dictionaries(
    {
        "personal": st.fixed_dictionaries(
            {
                "user_id": texts,
                "ip": st.none() | st.ip_addresses().map(str),
                "user_agent": st.none() | texts,
                "context": context,
            }
        ),
        "kind": st.sampled_from(["accepted", "declined", "withdrawn"]),
        "version_id": st.none() | st.integers(1, 10**6),
        "locale": st.none() | st.sampled_from(["en", "fr-FR", "ünï"]),
        "seconds": st.integers(0, 10**8),
    }
)


def build(items: list[dict[str, Any]]) -> list[ChainRecord]:
    records: list[ChainRecord] = []
    prev = GENESIS
    for i, item in enumerate(items, start=1):
        data = {
            "id": i,
            "kind": item["kind"],
            "policy_id": 1,
            "version_id": item["version_id"],
            "version_sha256": None if item["version_id"] is None else "ab" * 32,
            "method": "api",
            "api_key_id": 1,
            "locale": item["locale"],
            "recorded_at": rfc3339(T0 + timedelta(seconds=item["seconds"], microseconds=i)),
        }
        record = seal(make(i, "event", data, item["personal"]), prev)
        prev = record.hash
        records.append(record)
    return records


chains = st.lists(event_data, min_size=1, max_size=12).map(build)


def clone(records: list[ChainRecord]) -> list[ChainRecord]:
    return copy.deepcopy(records)
