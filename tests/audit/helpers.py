"""Publishing a policy and recording events through the API, for audit tests."""

from __future__ import annotations

import base64
from typing import Any

from tests.service.helpers import payload, policy, version

SEED = base64.b64encode(bytes(range(32))).decode()
"""The audit signing key of the audit tests (a base64 seed)."""


def publish(api: Any, *versions: int) -> None:
    body = payload(policy("privacy", *(version(n, "major") for n in versions or (1,))))
    r = api.post("/v1/admin/versions", json=body)
    assert r.status_code in (200, 201), r.text


def accept(api: Any, user: str, number: int = 1, **extra: Any) -> dict[str, Any]:
    body = {"user_id": user, "policy": "privacy", "version": number, **extra}
    r = api.post("/v1/acceptances", json=body)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())
