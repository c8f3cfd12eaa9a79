"""Build an OpenAPI 3.1 document from the contract's types and a table of operations.

The table (``tracker.service.openapi``) holds what the types cannot: paths, summaries,
descriptions, scopes, the statuses each operation answers. Schemas come from the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from tracker.contract.responses import Problem

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path, query or header
    schema: Any  # a type, or a JSON schema
    description: str = ""
    required: bool | None = None

    def to_json(self) -> dict[str, Any]:
        schema = self.schema if isinstance(self.schema, dict) else schema_of(self.schema)
        out: dict[str, Any] = {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path" if self.required is None else self.required,
            "schema": schema,
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    answer: type[BaseModel] | None
    scope: str | None = "read"
    status: int = 200
    body: type[BaseModel] | None = None
    params: Sequence[Param] = ()
    #: Other statuses: a problem with this description, or a full response object.
    errors: Mapping[str, str | dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    #: Response headers of the success statuses.
    headers: Mapping[str, Any] = field(default_factory=dict)
    #: Another success status (a repeat, a replay) with its description.
    also: Mapping[str, str] = field(default_factory=dict)
    content: Mapping[str, Any] | None = None
    tags: Sequence[str] = ()


class _Schemas(GenerateJsonSchema):
    """Pydantic's schemas without a ``title`` on every property (generators name types
    from the component names)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_of(tp: Any) -> dict[str, Any]:
    """The JSON schema of a scalar type (a parameter's)."""
    schema: dict[str, Any] = TypeAdapter(tp).json_schema(schema_generator=_Schemas)
    schema.pop("title", None)
    return schema


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


AUTH_ERRORS = {
    "401": "missing, unknown or revoked API key",
    "403": "the API key lacks the scope",
}
BODY_ERRORS = {
    "400": "malformed JSON",
    "413": "the body is larger than the limit",
    "422": "an invalid field (named in `field`)",
}


def _path_item(op: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    if op.content is not None:
        ok["content"] = dict(op.content)
    elif op.answer is not None:
        ok["content"] = {"application/json": {"schema": _ref(op.answer)}}
    if op.headers:
        ok["headers"] = dict(op.headers)
    responses: dict[str, Any] = {str(op.status): ok}
    for status, description in op.also.items():
        responses[status] = {**ok, "description": description}
    errors: dict[str, str | dict[str, Any]] = {}
    if op.scope is not None:
        errors.update(AUTH_ERRORS)
    if op.body is not None:
        errors.update(BODY_ERRORS)
    errors.update(op.errors)
    for status, spec in sorted(errors.items()):
        responses[status] = _problem(spec) if isinstance(spec, str) else spec
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    scope = f"Scope: `{op.scope}`." if op.scope else ""
    text = "\n\n".join(part for part in (op.description, scope) if part)
    if text:
        out["description"] = text
    if op.tags:
        out["tags"] = list(op.tags)
    out["parameters"] = [p.to_json() for p in op.params]
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    out["responses"] = responses
    if op.scope is None:
        out["security"] = []
    else:
        out["x-scope"] = op.scope
    return out


def components(
    requests: Sequence[type[BaseModel]], answers: Sequence[type[BaseModel]]
) -> dict[str, Any]:
    """Every model's schema: requests as validated, answers as serialised."""
    models = [(m, "validation") for m in requests] + [
        (m, "serialization") for m in (Problem, *answers)
    ]
    _, found = models_json_schema(
        models,  # type: ignore[arg-type]
        ref_template=REF,
        schema_generator=_Schemas,
    )
    schemas: dict[str, Any] = found.get("$defs", {})
    return dict(sorted(schemas.items()))


def document(
    operations: Sequence[Operation],
    *,
    info: Mapping[str, Any],
    requests: Sequence[type[BaseModel]],
    answers: Sequence[type[BaseModel]],
    webhooks: Mapping[str, Any],
    extra_schemas: Mapping[str, Any],
    servers: Sequence[Mapping[str, Any]],
    tags: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _path_item(op)
    schemas = {**components(requests, answers), **extra_schemas}
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": dict(info),
        "servers": [dict(s) for s in servers],
        "tags": [dict(t) for t in tags],
        "paths": paths,
        "webhooks": dict(webhooks),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    if not tags:
        del doc["tags"]
    return doc
