"""The OpenAPI document: Schemathesis against the running app (no 5xx, responses match their
schemas), every route documented, docs/api.md generated from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.routing import Route

from tests.service.helpers import payload, policy, version
from tracker.service.openapi import openapi_document
from tracker.service.routes import API_ROUTES


@pytest.fixture
def api_schema(server: str, keys: dict[str, str]) -> schemathesis.BaseSchema:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    body = payload(
        policy("privacy", version(1, "major"), version(2, "minor")),
        policy("legal/terms", version(1, "major")),
    )
    assert httpx.post(f"{server}/v1/admin/versions", json=body, headers=admin).status_code == 201
    accepted = {"user_id": "u1", "policy": "privacy", "version": 1}
    httpx.post(f"{server}/v1/acceptances", json=accepted, headers=admin)
    return schemathesis.openapi.from_url(f"{server}/openapi.json")


def _checker(operation: Any, headers: dict[str, str]) -> Any:
    # A publish is only valid when each sha256 is the hash of its text, and a webhook URL
    # when its host is public or in webhook_allowed_hosts (the server's settings), which a
    # schema cannot say, nor that an acceptance's original accepted_at is not in the future
    # (the server's clock); every other operation must accept schema-valid data.
    content_checked = {
        ("POST", "/v1/admin/versions"),
        ("POST", "/v1/admin/webhooks"),
        ("POST", "/v1/acceptances"),
    }
    excluded: list[schemathesis.CheckFunction] = (
        [positive_data_acceptance]
        if (operation.method.upper(), operation.path) in content_checked
        else []
    )

    @given(case=operation.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return check


def test_api_conforms_to_its_openapi_document(
    api_schema: schemathesis.BaseSchema, keys: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    failures: list[str] = []
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 17
    for operation in operations:
        try:
            _checker(operation, headers)()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _template(path: str) -> str:
    return (
        path.replace("{slug:path}", "{slug}")
        .replace("{user_id:path}", "{user_id}")
        .replace(":int}", "}")
    )


def test_every_route_is_documented() -> None:
    documented = {
        (path, method.upper())
        for path, ops in openapi_document()["paths"].items()
        for method in ops
    }
    for route in API_ROUTES:
        assert isinstance(route, Route)
        if route.path == "/openapi.json":
            continue
        for method in route.methods or ():
            if method == "HEAD":
                continue
            assert (_template(route.path), method) in documented, route.path


def test_api_reference_is_generated_from_the_document() -> None:
    from tracker.service.apidoc import render

    docs = Path(__file__).parents[2] / "docs" / "api.md"
    assert docs.read_text(encoding="utf-8") == render(), (
        "docs/api.md is stale: run python -m tracker.service.apidoc > docs/api.md"
    )
