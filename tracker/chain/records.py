"""The hash chain: linking records and verifying a stream of them.

``hash(n) = SHA-256(prev_hash(n) || SHA-256(canonical(n)))`` with ``prev_hash(1)`` all zeros.
Hashing the body's digest rather than the body lets an evidence bundle prove that a user's
records sit in the chain up to a checkpoint with 32 bytes per record in between, without
carrying anyone else's data.

Verification is a fold over records in sequence order: it holds one record at a time, so it
runs in flat memory over any number of records.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tracker.chain.canonical import (
    PERSONAL,
    PSEUDONYM_PREFIX,
    CanonicalError,
    body,
    commit,
    commitments,
)
from tracker.chain.checkpoint import Checkpoint

GENESIS = "0" * 64


def link(prev_hash: str, body_digest: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + body_digest).hexdigest()


@dataclass
class ChainRecord:
    """One record as stored: chain fields, hashed data, and personal values with their salts."""

    seq: int
    type: str
    data: dict[str, Any]
    commitments: dict[str, str | None]
    prev_hash: str
    hash: str
    personal: dict[str, Any] = field(default_factory=dict)
    salts: dict[str, str] = field(default_factory=dict)

    def body(self, *, check: bool = True) -> bytes:
        return body(self.seq, self.type, self.data, self.commitments, check=check)

    def body_digest(self, *, check: bool = True) -> bytes:
        return hashlib.sha256(self.body(check=check)).digest()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def seal(record: ChainRecord, prev_hash: str) -> ChainRecord:
    """Set the record's previous hash and its own hash (the record's seq is already set)."""
    record.prev_hash = prev_hash
    record.hash = link(prev_hash, record.body_digest())
    return record


def personal_problem(record: ChainRecord) -> str | None:
    """Why the record's personal values do not match their commitments, or None."""
    expected = PERSONAL.get(record.type)
    if expected is None:
        return f"unknown record type {record.type!r}"
    if set(record.commitments) != set(expected):
        return f"commitments are for {sorted(record.commitments)}, expected {sorted(expected)}"
    for name in expected:
        value = record.personal.get(name)
        committed = record.commitments[name]
        salt = record.salts.get(name)
        if value is None:
            continue  # absent from the start, purged or erased: nothing left to check
        if committed is None:
            return f"{name} has a value but none was committed when it was recorded"
        if salt is None:
            if name == "user_id" and isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX):
                continue  # erased: the pseudonym replaced the id and its salt
            return f"{name} has a value but its salt is gone"
        try:
            ok = hmac.compare_digest(commit(name, value, salt, check=False), committed)
        except (CanonicalError, ValueError):
            return f"{name} or its salt cannot be encoded"
        if not ok:
            return f"{name} does not match its commitment (the value or its salt was altered)"
    return None


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


@dataclass(frozen=True)
class Report:
    records: int
    last_seq: int
    head_hash: str
    anchor: Checkpoint | None
    problem: Problem | None
    latest_checkpoint: int | None = None
    #: Events committed but not sealed yet: outside what was verified, and not a fault.
    pending: int = 0
    #: The checkpoint the chain matches when no trusted key could check who signed it (then
    #: ``anchor`` is None: anyone who can write to the database could have signed it).
    unchecked: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def anchored(self) -> bool:
        return self.ok and self.anchor is not None

    @property
    def message(self) -> str:
        text = self._message()
        if self.problem is None and self.pending:
            text += (
                f"; {self.pending} more event(s) are recorded but not yet sealed into the "
                "chain (pending)"
            )
        return text

    def _message(self) -> str:
        if self.problem is not None:
            where = f"record {self.problem.seq}" if self.problem.seq else "the log"
            return f"FAILED at {where}: {self.problem.reason}"
        if self.records == 0:
            return "the audit log is empty: nothing to verify"
        if self.anchor is None and self.unchecked is not None:
            return (
                f"chain intact up to sequence {self.last_seq} and matches checkpoint "
                f"{self.unchecked.label}, but its signature could not be checked against a "
                "trusted key (set POLICY_TRACKER_AUDIT_SIGNING_KEY or pass --public-key): "
                "truncation or a full rewrite cannot be ruled out"
            )
        if self.anchor is None:
            return (
                f"chain intact up to sequence {self.last_seq}, but no checkpoint anchors it: "
                "truncation or a full rewrite cannot be ruled out "
                "(run `policy-tracker checkpoint` and keep the file elsewhere)"
            )
        text = (
            f"verified up to sequence {self.last_seq}, anchored by checkpoint {self.anchor.label}"
        )
        later = self.last_seq - self.anchor.sequence
        if later:
            text += f"; the {later} later record(s) are chained but not yet checkpointed"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "anchored": self.anchored,
            "records": self.records,
            "last_sequence": self.last_seq,
            "head_hash": self.head_hash,
            "pending": self.pending,
            "checkpoint": self.anchor.to_json() if self.anchor else None,
            "problem": (
                {"sequence": self.problem.seq, "reason": self.problem.reason}
                if self.problem
                else None
            ),
            "message": self.message,
        }


class Verifier:
    """Feed records in sequence order, then ``finish()``; stops at the first bad record."""

    def __init__(self, checkpoints: Sequence[Checkpoint] = ()):
        self.expected = 1
        self.prev = GENESIS
        self.records = 0
        self.problem: Problem | None = None
        self.anchor: Checkpoint | None = None
        self.checkpoints: dict[int, list[Checkpoint]] = {}
        for cp in checkpoints:
            self.checkpoints.setdefault(cp.sequence, []).append(cp)
        self.latest = max((cp.sequence for cp in checkpoints), default=None)

    def feed(self, record: ChainRecord) -> bool:
        if self.problem is not None:
            return False
        reason = self._check(record)
        if reason is not None:
            self.problem = Problem(
                record.seq if record.seq == self.expected else self.expected, reason
            )
            return False
        self.prev = record.hash
        self.expected += 1
        self.records += 1
        return True

    def _check(self, r: ChainRecord) -> str | None:
        if r.seq != self.expected:
            if r.seq > self.expected:
                return (
                    f"sequence {self.expected} is missing (next found: {r.seq}); "
                    "a record was deleted or renumbered"
                )
            return f"sequence {r.seq} appears again or out of order after {self.expected - 1}"
        if r.prev_hash != self.prev:
            return (
                "its previous hash does not match the hash of the record before it: "
                "a record was altered and re-hashed, inserted or removed"
            )
        try:
            actual = link(self.prev, r.body_digest(check=False))
        except (CanonicalError, ValueError) as exc:
            return f"its contents cannot be encoded: {exc}"
        if not hmac.compare_digest(actual, r.hash):
            return "its contents do not match its hash: the record was edited"
        reason = personal_problem(r)
        if reason is not None:
            return reason
        for cp in self.checkpoints.get(r.seq, ()):
            if cp.head_hash != r.hash:
                return (
                    f"its hash differs from the one signed in checkpoint {cp.label}: "
                    "the log was rewritten"
                )
            self.anchor = cp
        return None

    def finish(self) -> Report:
        last = self.expected - 1
        if self.problem is None and self.latest is not None and self.latest > last:
            cp = self.checkpoints[self.latest][0]
            self.problem = Problem(
                last + 1,
                f"the log ends at sequence {last} but checkpoint {cp.label} covers "
                f"sequence {cp.sequence}: records were removed from the end (truncated)",
            )
        return Report(
            records=self.records,
            last_seq=last if self.problem is None else self.expected - 1,
            head_hash=self.prev,
            anchor=self.anchor,
            problem=self.problem,
            latest_checkpoint=self.latest,
        )


def verify(records: Iterable[ChainRecord], checkpoints: Sequence[Checkpoint] = ()) -> Report:
    """Verify records in sequence order against the checkpoints (streaming)."""
    verifier = Verifier(checkpoints)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.finish()


def merge_personal(record: ChainRecord, values: Mapping[str, Any]) -> None:
    for name in PERSONAL.get(record.type, ()):
        record.personal[name] = values.get(name)


def make(seq: int, kind: str, data: dict[str, Any], personal: Mapping[str, Any]) -> ChainRecord:
    """A new record with fresh salts and commitments (not yet sealed)."""
    commits, salts = commitments(kind, personal)
    record = ChainRecord(seq, kind, data, commits, GENESIS, GENESIS, salts=salts)
    merge_personal(record, personal)
    return record
