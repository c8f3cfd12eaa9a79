"""The direct event formatter writes exactly the bytes of the general canonical encoder."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.chain.canonical import CanonicalError, body, commit, event_body
from tracker.chain.events import event_bytes

texts = st.none() | st.text()
ints = st.none() | st.integers()
commits = st.fixed_dictionaries(
    {name: st.none() | st.text() for name in ("user_id", "ip", "user_agent", "context")}
)
events = st.fixed_dictionaries(
    {
        "kind": texts,
        "policy_id": ints,
        "version_id": ints,
        "version_sha256": texts,
        "method": texts,
        "api_key_id": ints,
        "locale": texts,
        "recorded_at": texts,
    }
)


@given(seq=st.integers(min_value=0), data=events, commitments=commits)
def test_the_direct_formatter_writes_the_canonical_bytes(
    seq: int, data: dict[str, Any], commitments: dict[str, Any]
) -> None:
    assert event_body(seq, commitments, **data) == body(seq, "event", data, commitments)


@pytest.mark.parametrize(
    ("field", "value"),
    [("policy_id", 1.0), ("policy_id", True), ("kind", 3), ("locale", ["en"]), ("method", b"x")],
)
def test_an_unusual_type_is_left_to_the_general_encoder(field: str, value: Any) -> None:
    """The formatter refuses it, and ``event_bytes`` hands it to ``body``, which encodes
    it by the rules or refuses it (floats, bytes)."""
    data: dict[str, Any] = dict.fromkeys(
        ("kind", "policy_id", "version_id", "version_sha256", "method", "api_key_id", "locale")
    )
    data.update(recorded_at="2026-01-05T09:00:00.000000Z", **{field: value})
    commitments = dict.fromkeys(("user_id", "ip", "user_agent", "context"))
    with pytest.raises(TypeError):
        event_body(1, commitments, **data)
    try:
        expected = body(1, "event", data, commitments)
    except CanonicalError:
        with pytest.raises(CanonicalError):
            event_bytes(1, data, commitments)
    else:
        assert event_bytes(1, data, commitments) == expected
    with pytest.raises(TypeError):  # commitments to other fields
        event_body(1, {"user_id": None}, **{**data, field: None})


@given(value=st.text(), salt=st.binary(min_size=16, max_size=16))
def test_a_string_is_committed_to_as_the_encoder_writes_it(value: str, salt: bytes) -> None:
    import hashlib
    import hmac

    from tracker.chain.canonical import canonical_json

    expected = hmac.new(
        salt, b"ip\x00" + canonical_json(value, floats=True), hashlib.sha256
    ).hexdigest()
    assert commit("ip", value, salt.hex()) == expected
