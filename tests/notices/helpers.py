"""Publishing the ``privacy`` policy and accepting it through the API, for notice tests."""

from __future__ import annotations

from typing import Any

from tests.api import Api
from tests.service.helpers import payload, policy


def publish(api: Api, *versions: dict[str, Any], **kw: Any) -> Any:
    r = api.post("/v1/admin/versions", json=payload(policy("privacy", *versions, **kw)))
    assert r.status_code in (200, 201), r.text
    return r


def accept(api: Api, user: str, number: int) -> None:
    body = {"user_id": user, "policy": "privacy", "version": number}
    assert api.post("/v1/acceptances", json=body, key="write").status_code in (200, 201)
