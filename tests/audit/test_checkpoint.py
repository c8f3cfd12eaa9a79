"""Checkpoints: signed, exported, imported; malformed, edited and foreign ones refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tracker.chain.checkpoint import (
    CheckpointError,
    SigningKeyError,
    load,
    load_public_key,
    load_signing_key,
    parse,
    sign,
)

SEED = bytes(range(32))
NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_round_trip(tmp_path: Path) -> None:
    key = load_signing_key(base64.b64encode(SEED).decode())
    cp = sign(key, 42, "ab" * 32, NOW)
    path = tmp_path / "cp.json"
    path.write_text(cp.dumps())
    again = load(path, trusted=key.public_key())
    assert again == cp
    assert again.to_json()["time"] == "2026-01-02T03:04:05.678901Z"


def test_pem_keys(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "audit-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    loaded = load_signing_key(str(pem))
    assert loaded.public_key() == key.public_key()
    assert load_public_key(str(pem)) == key.public_key()


@pytest.mark.parametrize(
    "value,message",
    [
        ("", "no audit signing key"),
        ("not base64!", "neither a PEM file nor base64"),
        (base64.b64encode(b"short").decode(), "must be 32 bytes"),
        ("/nonexistent/key.pem", "cannot read"),
    ],
)
def test_bad_keys_are_refused(value: str, message: str) -> None:
    with pytest.raises(SigningKeyError, match=message):
        load_signing_key(value)


def _good() -> dict[str, object]:
    return sign(Ed25519PrivateKey.from_private_bytes(SEED), 7, "cd" * 32, NOW).to_json()


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: d.update(sequence=8), "signature does not match"),
        (lambda d: d.update(head_hash="ce" + "cd" * 31), "signature does not match"),
        (lambda d: d.update(time="2026-01-02T03:04:06.678901Z"), "signature does not match"),
        (lambda d: d.update(sequence="7"), "non-negative integer"),
        (lambda d: d.update(head_hash="xyz"), "64 lowercase hex"),
        (lambda d: d.update(time="yesterday"), "RFC 3339"),
        (lambda d: d.update(signature="@@"), "base64"),
        (lambda d: d.update(key_id="0" * 16), "key_id does not belong"),
        (lambda d: d.pop("signature"), "missing fields signature"),
        (lambda d: d.update(extra=1), "unknown fields extra"),
        (lambda d: d.update(format="x"), "format is 'x'"),
    ],
)
def test_edited_or_malformed_checkpoints_are_refused(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _good()
    edit(data)
    with pytest.raises(CheckpointError, match=message):
        parse(data)


def test_a_checkpoint_from_another_key_is_refused() -> None:
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(CheckpointError, match="not by the trusted key"):
        parse(_good(), trusted=other)


def test_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load(bad)
    bad.write_text(json.dumps([1]))
    with pytest.raises(CheckpointError, match="not a JSON object"):
        load(bad)
    with pytest.raises(CheckpointError, match="cannot read"):
        load(tmp_path / "missing.json")
