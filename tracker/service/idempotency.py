"""``Idempotency-Key`` semantics shared by every write endpoint that accepts the header.

The same key with the same request replays the stored response; the same key with another
request is a 409. The check and the stored response share the write's transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.errors import Conflict
from tracker.service.http import Call, Reply
from tracker.service.problems import FieldError
from tracker.store.models import IdempotencyRow

Outcome = tuple[int, dict[str, Any], bool]  # (status, response, replayed)

#: What the OpenAPI document says of the header (``^[!-~]+$``).
_KEY = re.compile("[!-~]+")


@dataclass(frozen=True)
class Idempotency:
    api_key_id: int
    key: str | None
    request_hash: str

    @classmethod
    def from_call(cls, call: Call, body: Any) -> Idempotency:
        key = call.header("idempotency-key")
        if key is not None and not 1 <= len(key) <= 255:
            raise FieldError("Idempotency-Key", "must be 1 to 255 characters")
        if key is not None and not _KEY.fullmatch(key):
            raise FieldError("Idempotency-Key", "must be printable ASCII without spaces")
        # Hash the request only when there is a key to bind it to.
        request_hash = (
            hashlib.sha256(
                json.dumps(
                    [call.request.url.path, body], sort_keys=True, separators=(",", ":")
                ).encode()
            ).hexdigest()
            if key is not None
            else ""
        )
        return cls(call.key.id, key, request_hash)

    def replay(self, session: Session) -> Outcome | None:
        """The stored outcome of an earlier request with this key, if there was one."""
        if self.key is None:
            return None
        stored = session.get(IdempotencyRow, (self.api_key_id, self.key))
        if stored is None:
            return None
        if stored.request_hash != self.request_hash:
            raise Conflict(
                "this Idempotency-Key was used with a different request; "
                "use a new key for a new request",
                code="idempotency_key_reused",
            )
        return stored.status, stored.response, True

    def remember(
        self, session: Session, status: int, response: dict[str, Any], now: datetime
    ) -> Outcome:
        """Store the outcome under the key (when there is one) and return it."""
        if self.key is not None:
            session.add(
                IdempotencyRow(
                    api_key_id=self.api_key_id,
                    key=self.key,
                    request_hash=self.request_hash,
                    status=status,
                    response=response,
                    created_at=now,
                )
            )
            session.flush()
        return status, response, False


def reply(outcome: Outcome) -> Reply:
    status, response, replayed = outcome
    return Reply(response, status, {"Idempotent-Replayed": "true"} if replayed else None)
