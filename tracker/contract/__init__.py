"""The API contract: one typed definition of each request and answer.

From these types come the OpenAPI document (``tracker.service.openapi``), the server's
validation (``tracker.service.validate.parse``) and the client's models
(``tracker.client.models``). Only pydantic is imported here: the contract sits below both
the service and the client.
"""

from tracker.contract.requests import (
    AcceptanceLinkRequest,
    BatchStatusRequest,
    EventRequest,
    EventRequestOptionalVersion,
    KeyAppRequest,
    NewApiKeyRequest,
    PublishPolicy,
    PublishRequest,
    PublishTranslation,
    PublishTranslationVersion,
    PublishVersion,
    ReacceptanceRequest,
    WebhookRequest,
)

__all__ = [
    "AcceptanceLinkRequest",
    "BatchStatusRequest",
    "EventRequest",
    "EventRequestOptionalVersion",
    "KeyAppRequest",
    "NewApiKeyRequest",
    "PublishPolicy",
    "PublishRequest",
    "PublishTranslation",
    "PublishTranslationVersion",
    "PublishVersion",
    "ReacceptanceRequest",
    "WebhookRequest",
]
