"""The tracker's Python client: ``TrackerClient`` (blocking) and ``AsyncTrackerClient``.

with TrackerClient("https://tracker.example", api_key) as tracker:
    if tracker.status(user_id).needs_acceptance:
        ...
"""

from tracker.client._core import Retry
from tracker.client.aio import AsyncTrackerClient
from tracker.client.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TrackerClientError,
    TransportError,
    ValidationError,
)
from tracker.client.models import (
    AcceptanceLink,
    Event,
    EventsPage,
    Notice,
    PolicyStatus,
    RecordResult,
    Upcoming,
    UserStatus,
)
from tracker.client.sync import TrackerClient

__all__ = [
    "AcceptanceLink",
    "AsyncTrackerClient",
    "AuthError",
    "ConflictError",
    "Event",
    "EventsPage",
    "NotFoundError",
    "Notice",
    "PolicyStatus",
    "RateLimitedError",
    "RecordResult",
    "Retry",
    "ServerError",
    "TrackerClient",
    "TrackerClientError",
    "TransportError",
    "Upcoming",
    "UserStatus",
    "ValidationError",
]
