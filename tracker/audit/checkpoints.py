"""Sealing the chain and signing its head: the checkpoints an auditor keeps elsewhere."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from tracker.chain.checkpoint import Checkpoint, load_signing_key, sign
from tracker.errors import TrackerError
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import CheckpointRow
from tracker.store.chain import (
    head,
)
from tracker.store.sealer import PASS_SIZE, flush, seal_pending


def trusted_key(settings: Settings) -> Ed25519PublicKey | None:
    """The public half of the configured signing key, if there is one."""
    if not settings.audit_signing_key.strip():
        return None
    return load_signing_key(settings.audit_signing_key).public_key()


def seal(store: Store) -> int:
    """Seal events left pending (a writer that died before its pass); how many."""
    shas: dict[int, str] = {}
    total = 0
    while True:
        n = store.write(lambda session: seal_pending(session.connection(), shas))
        total += n
        if n < PASS_SIZE:
            return total


def settle(store: Store) -> int:
    """Wait for this process's sealer, then seal anything still pending."""
    flush(store.engine)
    if store.dialect == "sqlite":
        return 0  # SQLite writers seal inline
    return seal(store)


def checkpoint(store: Store, settings: Settings, now: datetime) -> Checkpoint:
    """Seal pending events, sign the chain's head and keep the checkpoint in the database."""
    key = load_signing_key(settings.audit_signing_key)
    settle(store)
    with store.read() as session:
        seq, hash_ = head(session)
    if seq == 0:
        raise TrackerError("the audit log is empty: there is nothing to checkpoint yet")
    cp = sign(key, seq, hash_, now)

    def work(session: Session) -> None:
        session.add(
            CheckpointRow(
                sequence=cp.sequence,
                head_hash=cp.head_hash,
                time=cp.time,
                public_key=cp.public_key,
                signature=cp.signature,
            )
        )

    store.write(work)
    return cp
