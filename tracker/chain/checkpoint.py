"""Signed checkpoints: an Ed25519 signature over (sequence, head hash, time).

A checkpoint published outside the database (a git repository, a ticket, an e-mail to the
DPO) pins the chain: records up to its sequence cannot be removed or rewritten without the
verifier noticing, even by someone who can write to the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tracker.chain.canonical import canonical_json, rfc3339
from tracker.errors import TrackerError

FORMAT = "policy-tracker/checkpoint/1"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = {"format", "sequence", "head_hash", "time", "key_id", "public_key", "signature"}


class CheckpointError(TrackerError):
    code = "bad_checkpoint"


class SigningKeyError(TrackerError):
    code = "bad_signing_key"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def load_signing_key(value: str) -> Ed25519PrivateKey:
    """An Ed25519 key from a PEM file path or a base64 32-byte seed (the setting's value)."""
    value = value.strip()
    if not value:
        raise SigningKeyError(
            "no audit signing key: set POLICY_TRACKER_AUDIT_SIGNING_KEY to a PEM file "
            "(openssl genpkey -algorithm ed25519 -out audit-key.pem) or a base64 32-byte seed"
        )
    path = Path(value).expanduser()
    if value.startswith("-----BEGIN") or path.suffix == ".pem" or path.is_file():
        try:
            data = value.encode() if value.startswith("-----BEGIN") else path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(
                f"cannot read the audit signing key {path}: {exc.strerror}"
            ) from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(
                f"the audit signing key {path} is not a PEM private key: {exc}"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"the audit signing key {path} is not an Ed25519 key")
        return key
    seed = _raw_key(
        value,
        "the audit signing key is neither a PEM file nor base64",
        "the audit signing key seed must be 32 bytes",
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key(value: str) -> Ed25519PublicKey:
    """A public key from base64 (raw 32 bytes), a PEM public key file, or a private key."""
    path = Path(value).expanduser()
    if path.is_file():
        data = path.read_bytes()
        if b"PRIVATE KEY" not in data:
            try:
                key = serialization.load_pem_public_key(data)
            except ValueError as exc:
                raise SigningKeyError(f"{path} is not a PEM public key: {exc}") from None
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyError(f"{path} is not an Ed25519 public key")
            return key
        return load_signing_key(value).public_key()
    raw = _raw_key(
        value,
        "the public key is neither a file nor base64",
        "an Ed25519 public key is 32 bytes",
    )
    return Ed25519PublicKey.from_public_bytes(raw)


def _raw_key(value: str, not_base64: str, wrong_size: str) -> bytes:
    """The 32 bytes of a raw Ed25519 key (seed or public key) written in base64."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError(not_base64) from None
    if len(raw) != 32:
        raise SigningKeyError(f"{wrong_size}, not {len(raw)}")
    return raw


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    head_hash: str
    time: datetime
    public_key: str  # base64 of the raw 32 bytes
    signature: str  # base64

    @property
    def key_id(self) -> str:
        return hashlib.sha256(base64.b64decode(self.public_key)).hexdigest()[:16]

    @property
    def label(self) -> str:
        return f"#{self.sequence} of {rfc3339(self.time)} (key {self.key_id})"

    def statement(self) -> bytes:
        return statement(self.sequence, self.head_hash, self.time, self.key_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sequence": self.sequence,
            "head_hash": self.head_hash,
            "time": rfc3339(self.time),
            "key_id": self.key_id,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def statement(sequence: int, head_hash: str, time: datetime, kid: str) -> bytes:
    """The signed bytes: canonical JSON of format, sequence, head hash, time and key id."""
    return canonical_json(
        {
            "format": FORMAT,
            "sequence": sequence,
            "head_hash": head_hash,
            "time": rfc3339(time),
            "key_id": kid,
        }
    )


def sign(key: Ed25519PrivateKey, sequence: int, head_hash: str, time: datetime) -> Checkpoint:
    public = key.public_key()
    signature = key.sign(statement(sequence, head_hash, time, key_id(public)))
    return Checkpoint(
        sequence=sequence,
        head_hash=head_hash,
        time=time,
        public_key=base64.b64encode(_raw(public)).decode(),
        signature=base64.b64encode(signature).decode(),
    )


def parse(
    data: Any, *, trusted: Ed25519PublicKey | None = None, where: str = "checkpoint"
) -> Checkpoint:
    """A checkpoint from its JSON form, its signature checked; refuses anything else.

    With ``trusted``, a checkpoint signed by any other key is refused too.
    """
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: not a JSON object")
    if data.get("format") != FORMAT:
        raise CheckpointError(f"{where}: format is {data.get('format')!r}, expected {FORMAT!r}")
    unknown = set(data) - _FIELDS
    if unknown:
        raise CheckpointError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    missing = _FIELDS - set(data)
    if missing:
        raise CheckpointError(f"{where}: missing fields {', '.join(sorted(missing))}")
    seq = data["sequence"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise CheckpointError(f"{where}: sequence must be a non-negative integer")
    head = data["head_hash"]
    if not isinstance(head, str) or not _HASH.match(head):
        raise CheckpointError(f"{where}: head_hash must be 64 lowercase hex digits")
    try:
        time = datetime.strptime(str(data["time"]), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise CheckpointError(f"{where}: time must be RFC 3339 UTC with microseconds") from None
    try:
        raw = base64.b64decode(str(data["public_key"]), validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        signature = base64.b64decode(str(data["signature"]), validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{where}: public_key or signature is not valid base64") from None
    cp = Checkpoint(seq, head, time, str(data["public_key"]), str(data["signature"]))
    if data["key_id"] != cp.key_id:
        raise CheckpointError(f"{where}: key_id does not belong to its public key")
    if rfc3339(time) != data["time"]:
        raise CheckpointError(f"{where}: time is not in canonical form")
    try:
        public.verify(signature, cp.statement())
    except InvalidSignature:
        raise CheckpointError(
            f"{where}: the signature does not match its contents (edited by hand?)"
        ) from None
    if trusted is not None and _raw(trusted) != raw:
        raise CheckpointError(
            f"{where}: signed by key {cp.key_id}, not by the trusted key {key_id(trusted)}"
        )
    return cp


def load(path: Path, *, trusted: Ed25519PublicKey | None = None) -> Checkpoint:
    """A checkpoint from a JSON file; malformed, edited or foreign ones are refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"checkpoint {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path} is not valid JSON: {exc}") from None
    return parse(data, trusted=trusted, where=f"checkpoint {path}")
