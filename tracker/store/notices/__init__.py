"""Notices, webhook endpoints and the transactional outbox.

A *notice* tells one user that a minor or major version affects them; the outbox holds one
row per webhook message (``outbox_messages``) and one per message and endpoint
(``webhook_deliveries``), written in the same transaction as the event they announce.

``tables`` (the rows), ``outbox`` (messages and deliveries), ``fanout`` (when versions are
stored), ``acceptance`` (when a user accepts) and ``queries`` (reading and acknowledging).
A notice as the API answers it is ``tracker.answers.notices``.
"""

from tracker.store.notices.acceptance import (
    acceptance_values,
    after_acceptance,
    close_answered,
    on_acceptance,
)
from tracker.store.notices.fanout import lock_fan_out, on_versions_created
from tracker.store.notices.outbox import announce, enqueue, subscribers
from tracker.store.notices.queries import (
    NOTICE_STATES,
    acknowledge,
    notice_stats,
    pending_notices,
    pending_sql,
    user_notices,
)
from tracker.store.notices.tables import (
    EVENT_TYPES,
    NOTICE_BATCH,
    SIGNIFICANT,
    AttemptRow,
    DeliveryRow,
    EndpointRow,
    MessageRow,
    NoticeRow,
)

__all__ = [
    "EVENT_TYPES",
    "NOTICE_BATCH",
    "NOTICE_STATES",
    "SIGNIFICANT",
    "AttemptRow",
    "DeliveryRow",
    "EndpointRow",
    "MessageRow",
    "NoticeRow",
    "acceptance_values",
    "acknowledge",
    "after_acceptance",
    "announce",
    "close_answered",
    "enqueue",
    "lock_fan_out",
    "notice_stats",
    "on_acceptance",
    "on_versions_created",
    "pending_notices",
    "pending_sql",
    "subscribers",
    "user_notices",
]
