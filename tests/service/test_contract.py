"""One type per request and answer: the OpenAPI document, the server's validation and the
client's models all come from ``tracker.contract``."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import annotated_types
import pytest
from pydantic import BaseModel, Field

from tests.api import Api
from tests.service.helpers import payload, policy, version
from tracker.client import _core as client_core
from tracker.client import errors as client_errors
from tracker.client import models as client_models
from tracker.contract import BatchStatusRequest, EventRequest, fields, refusals
from tracker.contract import responses as answers
from tracker.contract.openapi import components
from tracker.inputs import has_control
from tracker.service.openapi import REQUESTS, openapi_document


def _max_length(model: type[BaseModel], name: str) -> int:
    """The limit as the type states it (on the field or inside its optional)."""
    info = model.model_fields[name]
    found = [m.max_length for m in info.metadata if isinstance(m, annotated_types.MaxLen)]
    for arm in getattr(info.annotation, "__args__", ()):
        for meta in getattr(arm, "__metadata__", ()):
            found += [
                m.max_length for m in getattr(meta, "metadata", ()) if hasattr(m, "max_length")
            ]
    assert found, name
    return int(found[0])


def _string(schema: dict[str, Any]) -> dict[str, Any]:
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"), schema)


def test_every_request_schema_is_its_type() -> None:
    served = openapi_document()["components"]["schemas"]
    for model in REQUESTS:
        assert served[model.__name__] == components([model], [])[model.__name__]


def test_the_client_parses_into_the_contracts_types() -> None:
    assert client_models.Event is answers.Event
    assert client_models.Notice is answers.Notice
    assert client_models.PolicyStatus is answers.PolicyStatus
    assert issubclass(client_models.UserStatus, answers.UserStatus)
    assert issubclass(client_models.RecordResult, answers.EventResult)


class Narrow(EventRequest):
    """The acceptance with one limit changed, in this one place."""

    user_agent: Annotated[str, Field(max_length=10)] | None = None


def test_a_limit_changed_in_the_type_changes_document_server_and_client() -> None:
    schema = components([Narrow], [])["Narrow"]["properties"]["user_agent"]
    assert _string(schema)["maxLength"] == 10
    body = {"user_id": "u", "policy": "p", "version": 1, "user_agent": "x" * 11}
    with pytest.raises(refusals.Refused) as server:
        refusals.parse(Narrow, json.dumps(body))
    assert (server.value.field, server.value.message) == (
        "user_agent",
        "must be at most 10 characters",
    )
    with pytest.raises(client_errors.ValidationError) as client:
        client_core.body(Narrow, **body)
    assert client.value.field == "user_agent"
    assert client.value.message == str(server.value)
    assert client_core.body(Narrow, **{**body, "user_agent": "x" * 10})["user_agent"] == "x" * 10


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_document_server_and_client_state_the_same_limit(api: Api) -> None:
    limit = _max_length(EventRequest, "user_agent")
    served = api.get("/openapi.json", key=None).json()
    field = served["components"]["schemas"]["EventRequest"]["properties"]["user_agent"]
    assert _string(field)["maxLength"] == limit
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    body = {"user_id": "u1", "policy": "privacy", "version": 1}
    r = api.post("/v1/acceptances", json={**body, "user_agent": "x" * (limit + 1)})
    assert r.status_code == 422, r.text
    problem = r.json()
    with pytest.raises(client_errors.ValidationError) as client:
        client_core.body(EventRequest, **body, user_agent="x" * (limit + 1))
    assert (client.value.field, client.value.message) == (problem["field"], problem["detail"])
    assert problem["detail"] == f"user_agent: must be at most {limit} characters"
    r = api.post("/v1/acceptances", json={**body, "user_agent": "x" * limit})
    assert r.status_code == 201, r.text
    answer = client_models.RecordResult.from_response(r.json(), replayed=False)
    assert answer.event.user_agent == "x" * limit


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_statuses_the_document_promises(api: Api) -> None:
    r = api.delete("/v1/policies")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["allow"] == "GET, HEAD" and r.json()["code"] == "method_not_allowed"
    r = api.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api.delete("/v1/admin/users/a%01b")
    assert r.status_code == 422 and r.json()["field"] == "user_id"
    api.post("/v1/admin/versions", json=payload(policy("privacy", version(1, "major"))))
    body = {"user_id": "u1", "policy": "privacy", "version": 1}
    r = api.post("/v1/acceptances", json=body, headers={"Idempotency-Key": "not printable"})
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    # The pattern the document states is the one the server enforces.
    header = next(
        p
        for p in openapi_document()["paths"]["/v1/acceptances"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert header["schema"]["pattern"] == "^[!-~]+$"
    r = api.post("/v1/acceptances", json=body, headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201
    r = api.post("/v1/acceptances", json=body, headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true"
    responses = openapi_document()["paths"]["/v1/acceptances"]["post"]["responses"]
    assert "Idempotent-Replayed" in responses["201"]["headers"]


def test_the_types_refuse_the_control_characters_the_input_rules_name() -> None:
    shown = re.compile(fields.SHOWN)
    differ = [
        hex(cp)
        for cp in range(0x10000)
        if (shown.fullmatch(chr(cp)) is None) != has_control(chr(cp))
    ]
    assert not differ


def test_a_user_id_in_a_path_is_checked_as_in_a_body() -> None:
    for value in ["u1\n", "", "x" * 256, "a\u202eb", "ok", "x" * 255]:
        try:
            path: str | None = refusals.user_id(value)
        except refusals.Refused as exc:
            path = exc.message
        try:
            body = refusals.parse(BatchStatusRequest, json.dumps({"user_ids": [value]}))
            in_body: str | None = body.user_ids[0]
        except refusals.Refused as exc:
            in_body = exc.message
        assert path == in_body, value
